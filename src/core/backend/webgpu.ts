/**
 * The webgpu backend: tfjs-backend-webgpu on Dawn through the `webgpu` npm package, on a hardware
 * adapter (or, asked for explicitly, the private lavapipe of webgpuMesa.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors';
import { errorMessage, firstLine, packageVersion, setBackendQuietly, type Attempt } from './attempt';
import { activateWebgpuMesa, locateWebgpuMesa, otherVulkanDriversPresent, vulkanLoaderPresent, WEBGPU_MESA_HINT } from './webgpuMesa';

interface GpuAdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }
interface GpuAdapterLike {
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean; // older spelling, before it moved into info
  requestDevice(desc?: object): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike { destroy(): void }
interface GpuLike { requestAdapter(opts?: object): Promise<GpuAdapterLike | null> }
interface WebgpuModule { create(flags: string[]): GpuLike; globals: Record<string, unknown> }

/** Globals installed for Dawn and how to take them back out. */
let webgpu: { device?: GpuDeviceLike; restore(): void } | undefined;
/**
 * Every Dawn instance this process created, kept for its lifetime: dawn.node's AsyncRunner schedules
 * ProcessEvents callbacks that use the instance without owning it, so a GPU object garbage-collected
 * while one is pending crashes Node (SIGSEGV in CallbackTaskManager::Flush, seen ~1 run in 8).
 */
const dawnInstances = new Set<GpuLike>();

const LAVAPIPE_HINT = 'WebGPU needs a GPU with a Vulkan driver (Linux), Metal (macOS) or D3D12 (Windows). On Linux ' +
  'without a GPU it can run on Mesa ≥ 25 lavapipe: run `bash scripts/setup-webgpu.sh` (Debian 12; unpacks it into ' +
  '.webgpu-mesa/, see docs/webgpu.md); older distro Mesa is rejected by Dawn. Use `--backend wasm` meanwhile.';

/** Why 'auto' passes over CPU adapters: measured on the mnist32 demo, 2-core machine (docs/webgpu.md). */
const SOFTWARE_SLOWER = 'trains a GAN ~17× slower than wasm (docs/webgpu.md); use `--backend webgpu` to force it';

/** Whether an adapter is a CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): no GPU behind it. */
export function isSoftwareAdapter(info: GpuAdapterInfoLike | undefined, isFallbackAdapter?: boolean): boolean {
  if (isFallbackAdapter || info?.isFallbackAdapter) return true;
  const text = [info?.architecture, info?.device, info?.description].filter(Boolean).join(' ');
  return /\b(software|cpu)\b|llvmpipe|lavapipe|swiftshader|microsoft basic render/i.test(text);
}

async function loadWebgpuModule(): Promise<WebgpuModule> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native dependency, loaded only when WebGPU is tried
    return require('webgpu') as WebgpuModule;
  } catch (e) {
    // `webgpu` is an ES module; Node < 20.19 cannot require() it.
    if ((e as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw e;
    // new Function keeps bundlers/tsx from rewriting import() into require().
    const dynamicImport = new Function('url', 'return import(url)') as (url: string) => Promise<WebgpuModule>;
    return dynamicImport(pathToFileURL(require.resolve('webgpu')).href);
  }
}

/** Installs Dawn's WebGPU globals and navigator.gpu; returns a function that removes them again. */
function installWebgpuGlobals(mod: WebgpuModule, gpu: GpuLike): () => void {
  const g = globalThis as Record<string, unknown>;
  const added = Object.keys(mod.globals).filter((k) => !(k in g));
  Object.assign(g, mod.globals);
  const navDesc = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  // Node ≥ 21 has a read-only navigator getter: replace the property instead of assigning into it.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true, enumerable: true });
  return () => {
    for (const k of added) delete g[k];
    if (navDesc) Object.defineProperty(globalThis, 'navigator', navDesc);
    else delete g.navigator;
  };
}

/** Starts tfjs's webgpu backend on Dawn; under 'auto' a CPU-only adapter (lavapipe, SwiftShader…) is passed over. */
export async function tryWebgpu(auto: boolean): Promise<Attempt> {
  if (webgpu && tf.findBackend('webgpu')) {
    if (await setBackendQuietly('webgpu')) return { ok: true, info: { name: 'webgpu', version: packageVersion('@tensorflow/tfjs-backend-webgpu'), threads: 1 } };
  }
  const { mesa, problem: mesaProblem } = locateWebgpuMesa();
  if (mesaProblem) return { ok: false, reason: mesaProblem, hint: WEBGPU_MESA_HINT };
  const notes: string[] = [];
  if (mesa && auto && !otherVulkanDriversPresent(mesa)) {
    // The private lavapipe would be the only adapter: skip it without starting Dawn (saves ~0.5 s and
    // Dawn's stderr warnings on every 'auto' start).
    return { ok: false, reason: `the only Vulkan driver is the private lavapipe in ${mesa.dir}, a CPU implementation, which ${SOFTWARE_SLOWER}` };
  }
  if (mesa) {
    const problem = activateWebgpuMesa(mesa);
    if (problem) return { ok: false, reason: `the private lavapipe in ${mesa.dir} did not load: ${problem}`, hint: 'Rebuild it with `bash scripts/setup-webgpu.sh --force`, or start this process with webgpuEnv() (docs/webgpu.md). Use `--backend wasm` meanwhile.' };
    notes.push(`webgpu uses the private lavapipe in ${mesa.dir}`);
  } else if (auto && process.platform === 'linux' && !vulkanLoaderPresent()) {
    // Skip Dawn entirely: it would only print "Couldn't load Vulkan" to stderr and find no adapter.
    return { ok: false, reason: 'no Vulkan loader (libvulkan.so.1), so no WebGPU adapter', hint: LAVAPIPE_HINT };
  }
  let mod: WebgpuModule;
  try {
    mod = await loadWebgpuModule();
  } catch (e) {
    return { ok: false, reason: `the 'webgpu' package (Dawn bindings) is not installed or failed to load (${firstLine(errorMessage(e))})`, hint: `Install it with \`npm install webgpu @tensorflow/tfjs-backend-webgpu\`. ${LAVAPIPE_HINT}` };
  }
  const gpu = mod.create([]);
  dawnInstances.add(gpu);
  const restore = installWebgpuGlobals(mod, gpu);
  const fail = (reason: string): Attempt => { restore(); return { ok: false, reason, hint: LAVAPIPE_HINT }; };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return fail(`requesting a WebGPU adapter failed (${firstLine(errorMessage(e))})`);
  }
  if (!adapter) {
    const why = mesa ? ` (not even the private lavapipe in ${mesa.dir}; rebuild it with \`bash scripts/setup-webgpu.sh --force\`)`
      : process.platform === 'linux' && !vulkanLoaderPresent() ? ' (this system has no Vulkan loader, libvulkan.so.1)' : '';
    return fail(`no WebGPU adapter was found${why}`);
  }
  const i = adapter.info ?? {};
  const desc = [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' ') || 'unknown adapter';
  if (auto && isSoftwareAdapter(i, adapter.isFallbackAdapter)) {
    restore();
    return { ok: false, reason: `the only WebGPU adapter is a CPU implementation (${desc}), which ${SOFTWARE_SLOWER}` };
  }
  let device: GpuDeviceLike;
  try {
    // The limits tfjs-backend-webgpu asks for: the adapter's maxima, so large tensors fit.
    const limits = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize',
      'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];
    device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: Object.fromEntries(limits.map((l) => [l, adapter!.limits[l]])),
    });
  } catch (e) {
    return fail(`the WebGPU adapter refused to create a device (${firstLine(errorMessage(e))})`);
  }
  let backendMod: { WebGPUBackend: new (device: GpuDeviceLike, info?: unknown) => tf.KernelBackend };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- registers its kernels on load: only when WebGPU is tried
    backendMod = require('@tensorflow/tfjs-backend-webgpu'); // registers its kernels (and a factory, replaced below)
  } catch (e) {
    device.destroy();
    return fail(`@tensorflow/tfjs-backend-webgpu failed to load (${firstLine(errorMessage(e))})`);
  }
  // Our own factory around the device we own, so disposeBackend can destroy it.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => guardSyncReads(new backendMod.WebGPUBackend(device, adapter!.info)), 3);
  webgpu = { device, restore };
  if (!(await setBackendQuietly('webgpu'))) {
    disposeWebgpu();
    return { ok: false, reason: 'the tfjs WebGPU backend failed to initialise on this adapter', hint: LAVAPIPE_HINT };
  }
  return { ok: true, info: { name: 'webgpu', version: packageVersion('@tensorflow/tfjs-backend-webgpu'), threads: 1 }, notes: [...notes, `webgpu adapter: ${desc}`] };
}

/** Start of the error a synchronous read (dataSync/arraySync) of a webgpu tensor gives under Node. */
export const WEBGPU_SYNC_READ_ERROR = 'The webgpu backend cannot read a tensor synchronously (dataSync/arraySync) in Node';

/**
 * tfjs-backend-webgpu's readSync needs a browser OffscreenCanvas, and Dawn in Node has no blocking
 * GPU→CPU read (a buffer map completes only when the event loop runs). Turn the resulting
 * "OffscreenCanvas is not defined" into an error that says what to do.
 */
function guardSyncReads(backend: tf.KernelBackend): tf.KernelBackend {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return backend;
  const readSync = backend.readSync.bind(backend);
  (backend as unknown as { hasReadSyncWarned: boolean }).hasReadSyncWarned = true; // its "sync reads are slow" warning would precede our error
  backend.readSync = (dataId: object) => {
    try {
      return readSync(dataId);
    } catch (e) {
      if (!(e instanceof ReferenceError && e.message.includes('OffscreenCanvas'))) throw e;
      throw new UserError(`${WEBGPU_SYNC_READ_ERROR}: Dawn has no blocking GPU read-back there, so the calling code must use \`await tensor.data()\`.`,
        'Use `--backend wasm` for this command.');
    }
  };
  return backend;
}

/** Removes the webgpu backend, destroys the GPUDevice and takes Dawn's globals back out (no-op when not started). */
export function disposeWebgpu(): void {
  if (!webgpu) return;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // disposes its buffers; unsets it if active
  webgpu.device?.destroy();
  webgpu.restore();
  webgpu = undefined;
}
