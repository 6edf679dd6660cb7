/**
 * Picks and starts the tfjs compute backend: tensorflow (tfjs-node, optional) → webgpu (Dawn via the
 * `webgpu` package, needs a hardware adapter under 'auto') → wasm (XNNPACK, works everywhere) → cpu (plain JS).
 * The chosen cpu/wasm backend gets the fast conv-gradient kernels from ./kernels.
 * On a GPU-less Linux machine webgpu can run on a private Mesa lavapipe (scripts/setup-webgpu.sh,
 * docs/webgpu.md): see findWebgpuMesa / webgpuEnv.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors';
import type { BackendName } from '../config/options';
import { registerFastKernels } from './kernels';

export type ActiveBackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** What initBackend chose and why. */
export interface BackendInfo {
  name: ActiveBackendName;
  requested: BackendName;
  version: string;           // package version of the backend
  threads: number;           // CPU threads the backend computes on (1 for webgpu: the GPU does the work)
  notes: string[];           // e.g. why 'auto' skipped tensorflow/webgpu, which GPU adapter is used
}

export interface InitBackendOptions {
  /**
   * Folder holding tfjs-backend-wasm's .wasm binaries (see WASM_BINARIES). Default: next to this
   * (bundled) module if they were copied there, else @tensorflow/tfjs-backend-wasm/dist in node_modules.
   */
  wasmDir?: string;
}

/** The .wasm files the wasm backend may load; a bundler that inlines tfjs-backend-wasm must copy them. */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

const TFJS_NODE_HINT = 'Install it with `npm install @tensorflow/tfjs-node` (on a machine with internet access, in the ' +
  'folder that holds this tool\'s node_modules), or use `--backend wasm`, which works everywhere.';

type Attempt = { ok: true; info: Omit<BackendInfo, 'requested' | 'notes'>; notes?: string[] } | { ok: false; reason: string; hint?: string };

let current: BackendInfo | undefined;

/**
 * Starts the requested backend ('auto' tries tensorflow → webgpu → wasm → cpu) and makes it tfjs's
 * active backend. Calling it again with the same request returns the running backend.
 * Throws UserError when an explicitly requested backend cannot run.
 */
export async function initBackend(requested: BackendName, opts: InitBackendOptions = {}): Promise<BackendInfo> {
  if (opts.wasmDir !== undefined && (requested === 'wasm' || requested === 'auto')) resolveWasmDir(opts.wasmDir); // bad dir → UserError, even if wasm already runs
  if (current && current.requested === requested && tf.getBackend() === current.name) return { ...current, notes: [...current.notes] };
  const notes: string[] = [];
  const finish = (a: Extract<Attempt, { ok: true }>): BackendInfo => {
    const info: BackendInfo = { ...a.info, requested, notes: [...notes, ...(a.notes ?? [])] };
    if (info.name === 'cpu' || info.name === 'wasm') registerFastKernels(info.name);
    silenceCpuBanner();
    current = info;
    return { ...info, notes: [...info.notes] };
  };
  const explicit = (name: ActiveBackendName, a: Attempt): BackendInfo => {
    if (a.ok) return finish(a);
    throw new UserError(`The '${name}' backend is not available: ${a.reason}.`, a.hint);
  };
  switch (requested) {
    case 'tensorflow': return explicit('tensorflow', await tryTensorflow());
    case 'webgpu': return explicit('webgpu', await tryWebgpu(false));
    case 'wasm': return explicit('wasm', await tryWasm(opts.wasmDir));
    case 'cpu': return finish(await tryCpu());
    case 'auto': {
      for (const [name, attempt] of [
        ['tensorflow', () => tryTensorflow()],
        ['webgpu', () => tryWebgpu(true)],
        ['wasm', () => tryWasm(opts.wasmDir)],
      ] as const) {
        const a = await attempt();
        if (a.ok) return finish(a);
        notes.push(`${name} skipped: ${a.reason}`);
      }
      return finish(await tryCpu());
    }
    default:
      throw new UserError(`Unknown backend '${String(requested)}'.`, 'Use one of: auto, tensorflow, webgpu, wasm, cpu.');
  }
}

/** The backend initBackend last started, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current && { ...current, notes: [...current.notes] };
}

/**
 * Releases what keeps Node alive or holds native resources: for webgpu, removes the tfjs backend,
 * destroys the GPUDevice and deletes navigator.gpu. Harmless for the other backends.
 */
export async function disposeBackend(): Promise<void> {
  if (webgpu) {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // disposes its buffers; unsets it if active
    webgpu.device?.destroy();
    webgpu.restore();
    webgpu = undefined;
  }
  current = undefined;
}

// ------------------------------------------------------------------------------------------------
// tensorflow (tfjs-node)

async function tryTensorflow(): Promise<Attempt> {
  let mod: { version?: Record<string, string> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional dependency, loaded only when this backend is tried
    mod = require('@tensorflow/tfjs-node');
  } catch (e) {
    const msg = errorMessage(e);
    const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && msg.includes("'@tensorflow/tfjs-node'");
    return missing
      ? { ok: false, reason: '@tensorflow/tfjs-node is not installed', hint: TFJS_NODE_HINT }
      : { ok: false, reason: `@tensorflow/tfjs-node failed to load (${firstLine(msg)})`, hint: `Reinstall it (\`npm install @tensorflow/tfjs-node\`); its native TensorFlow library must match this OS/CPU. Or use \`--backend wasm\`.` };
  }
  if (!(await setBackendQuietly('tensorflow'))) {
    return { ok: false, reason: '@tensorflow/tfjs-node loaded but its backend failed to initialise', hint: TFJS_NODE_HINT };
  }
  const version = mod.version?.['tfjs-node'] ?? packageVersion('@tensorflow/tfjs-node');
  // TensorFlow sizes its intra-op thread pool to the machine's cores by default.
  return { ok: true, info: { name: 'tensorflow', version, threads: os.availableParallelism() } };
}

// ------------------------------------------------------------------------------------------------
// webgpu (Dawn through the `webgpu` npm package)

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

/** Env var naming a private lavapipe folder made by scripts/setup-webgpu.sh (default: .webgpu-mesa/ at the package root). */
export const WEBGPU_MESA_ENV = 'GAN_INSPECTOR_WEBGPU_MESA';

/** A Mesa lavapipe tree unpacked by scripts/setup-webgpu.sh. */
export interface WebgpuMesa {
  dir: string;       // the folder (.webgpu-mesa)
  icd: string;       // its Vulkan ICD manifest, lvp_icd.json
  libDir: string;    // folder of libvulkan_lvp.so, libvulkan.so.1 and the newer libdrm it needs
  packages: string[]; // Debian package=version lines it was made from
}

/**
 * The private lavapipe folder: $GAN_INSPECTOR_WEBGPU_MESA if set, else `.webgpu-mesa/` in the nearest
 * folder above this module that holds a package.json (the repository / installed tool). undefined when
 * there is none (Linux only). Throws UserError when the env var names an unusable folder.
 */
export function findWebgpuMesa(): WebgpuMesa | undefined {
  const r = locateWebgpuMesa();
  if (r.problem) throw new UserError(r.problem, WEBGPU_MESA_HINT);
  return r.mesa;
}

const WEBGPU_MESA_HINT = `Point ${WEBGPU_MESA_ENV} at the .webgpu-mesa folder made by \`bash scripts/setup-webgpu.sh\`, or unset it.`;

function locateWebgpuMesa(): { mesa?: WebgpuMesa; problem?: string } {
  if (process.platform !== 'linux') return {};
  const explicit = process.env[WEBGPU_MESA_ENV];
  if (explicit) {
    const r = readWebgpuMesa(path.resolve(explicit));
    return typeof r === 'string' ? { problem: `${WEBGPU_MESA_ENV}=${explicit} is not usable: ${r}` } : { mesa: r };
  }
  for (let d = __dirname, i = 0; i < 6; i++, d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) {
      const r = readWebgpuMesa(path.join(d, '.webgpu-mesa'));
      return typeof r === 'string' ? {} : { mesa: r };
    }
    if (path.dirname(d) === d) break;
  }
  return {};
}

/** Reads a lavapipe folder; a string says what is wrong with it. */
function readWebgpuMesa(dir: string): WebgpuMesa | string {
  const ready = path.join(dir, 'ready'), icd = path.join(dir, 'lvp_icd.json');
  if (!fs.existsSync(ready)) return `${ready} is missing (setup did not finish)`;
  let lib: string;
  try {
    lib = (JSON.parse(fs.readFileSync(icd, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '';
  } catch (e) {
    return `${icd} is unreadable (${firstLine(errorMessage(e))})`;
  }
  const lvp = path.resolve(dir, lib); // the Vulkan loader resolves a relative library_path against the manifest's folder
  if (!lib || !fs.existsSync(lvp)) return `the driver ${lvp} named by ${icd} is missing`;
  const libDir = path.dirname(lvp);
  if (!fs.existsSync(path.join(libDir, 'libvulkan.so.1'))) return `the Vulkan loader ${path.join(libDir, 'libvulkan.so.1')} is missing`;
  return { dir, icd, libDir, packages: fs.readFileSync(ready, 'utf8').split('\n').filter(Boolean) };
}

/** `list` (a ':'-separated path list) with `item` in front, unless it is already in it. */
function prependPathList(item: string, list: string | undefined): string {
  const parts = (list ?? '').split(':').filter(Boolean);
  return parts.includes(item) ? parts.join(':') : [item, ...parts].join(':');
}

/**
 * Environment variables a child process needs so that Dawn finds the private lavapipe: merge them into
 * the env of any Node process that may start the webgpu backend (backend 'webgpu' or 'auto'), e.g.
 * `fork(worker, { env: { ...process.env, ...webgpuEnv() } })`. LD_LIBRARY_PATH must be there when the
 * process starts (the dynamic loader reads it once); initBackend can also activate the folder from
 * inside a process started without it (see activateWebgpuMesa), so this is the cleaner, not the only way.
 * {} when there is no private folder (then the system's Vulkan drivers are used as they are).
 */
export function webgpuEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const mesa = findWebgpuMesa();
  if (!mesa) return {};
  return {
    [WEBGPU_MESA_ENV]: mesa.dir,
    LD_LIBRARY_PATH: prependPathList(mesa.libDir, base.LD_LIBRARY_PATH),
    // ADD, not VK_DRIVER_FILES: a machine that also has a real GPU keeps its drivers (Dawn prefers them).
    VK_ADD_DRIVER_FILES: prependPathList(mesa.icd, base.VK_ADD_DRIVER_FILES),
  };
}

/** glibc's RTLD_NODELETE (missing from os.constants.dlopen): dlclose leaves the library loaded. */
const RTLD_NODELETE = 0x1000;
/** LD_LIBRARY_PATH as the process started with it (what the dynamic loader uses), before any code changes process.env. */
const STARTUP_LD_LIBRARY_PATH = process.env.LD_LIBRARY_PATH ?? '';
let activatedMesa: string | undefined;

/**
 * Makes the private lavapipe visible to Dawn inside this already running process: adds its ICD to
 * VK_ADD_DRIVER_FILES (the Vulkan loader reads it when Dawn creates its instance) and, unless the process
 * was started with webgpuEnv()'s LD_LIBRARY_PATH, preloads the private libvulkan.so.1 and libdrm*.so.N.
 * Preloading uses process.dlopen with RTLD_NODELETE: Node rejects them as addons ("did not
 * self-register") and dlcloses them, but they stay loaded, so Dawn's dlopen("libvulkan.so.1") and
 * lavapipe's need for the newer libdrm.so.2 resolve to them by soname. Returns a problem or undefined.
 */
function activateWebgpuMesa(mesa: WebgpuMesa): string | undefined {
  // Every time: the env may have been changed since, and each new Dawn instance reads it afresh.
  process.env.VK_ADD_DRIVER_FILES = prependPathList(mesa.icd, process.env.VK_ADD_DRIVER_FILES);
  if (activatedMesa === mesa.dir) return undefined;
  if (!STARTUP_LD_LIBRARY_PATH.split(':').includes(mesa.libDir)) {
    // Sorted: libdrm.so.2 comes before libdrm_amdgpu.so.1, which needs it. Vulkan layers are not needed.
    let pending = fs.readdirSync(mesa.libDir).filter((f) => /^lib.+\.so\.\d+$/.test(f) && !f.startsWith('libVkLayer')).sort();
    const errors = new Map<string, string>();
    // Retry until no progress, in case a library needs another one later in the list.
    for (let progress = true; pending.length && progress;) {
      progress = false;
      for (const f of [...pending]) {
        try {
          process.dlopen({ exports: {} }, path.join(mesa.libDir, f), os.constants.dlopen.RTLD_NOW! | RTLD_NODELETE);
        } catch (e) {
          const msg = errorMessage(e);
          if (!msg.includes('did not self-register')) { errors.set(f, firstLine(msg)); continue; }
        }
        pending = pending.filter((p) => p !== f);
        progress = true;
      }
    }
    if (pending.length) return `could not load ${pending.map((f) => `${f} (${errors.get(f)})`).join(', ')} from ${mesa.libDir}`;
  }
  activatedMesa = mesa.dir;
  return undefined;
}

/** Why 'auto' passes over CPU adapters: measured on the mnist32 demo, 2-core machine (docs/webgpu.md). */
const SOFTWARE_SLOWER = 'trains a GAN ~17× slower than wasm (docs/webgpu.md); use `--backend webgpu` to force it';

/**
 * Whether Vulkan drivers other than the private lavapipe may exist: ICD manifests in the loader's
 * standard folders or named by the user's VK_* variables. Without them Dawn could only find lavapipe.
 */
function otherVulkanDriversPresent(mesa: WebgpuMesa): boolean {
  const env = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'].flatMap((v) => (process.env[v] ?? '').split(':'));
  if (env.some((f) => f && path.resolve(f) !== mesa.icd)) return true;
  const dataDirs = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const configDirs = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dirs = [...configDirs, '/etc', ...dataDirs, process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local/share')]
    .filter(Boolean).map((d) => path.join(d, 'vulkan', 'icd.d'));
  return dirs.some((d) => {
    try { return fs.readdirSync(d).some((f) => f.endsWith('.json')); } catch { return false; }
  });
}

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

async function tryWebgpu(auto: boolean): Promise<Attempt> {
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
    await disposeBackend();
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

/** Whether the dynamic loader can find libvulkan.so.1 (Dawn's only way to a GPU on Linux). */
function vulkanLoaderPresent(): boolean {
  const dirs = new Set<string>((process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean));
  for (const d of ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, `/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`]) dirs.add(d);
  try {
    for (const f of fs.readdirSync('/etc/ld.so.conf.d')) {
      for (const line of fs.readFileSync(path.join('/etc/ld.so.conf.d', f), 'utf8').split('\n')) {
        if (line.startsWith('/')) dirs.add(line.trim());
      }
    }
  } catch { /* no ld.so.conf.d: the default dirs above remain */ }
  return [...dirs].some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

// ------------------------------------------------------------------------------------------------
// wasm

/** The folder the wasm binaries load from: explicit, else bundled copy next to this module, else node_modules. */
export function resolveWasmDir(explicit?: string): string {
  const has = (d: string) => WASM_BINARIES.every((f) => fs.existsSync(path.join(d, f)));
  if (explicit !== undefined) {
    const d = path.resolve(explicit);
    const missing = WASM_BINARIES.filter((f) => !fs.existsSync(path.join(d, f)));
    if (missing.length) {
      throw new UserError(`The wasm backend's binaries are missing from ${d}: ${missing.join(', ')}.`,
        'Copy them from node_modules/@tensorflow/tfjs-backend-wasm/dist/ into that folder, or leave wasmDir unset.');
    }
    return d;
  }
  const candidates = [__dirname];
  try {
    candidates.push(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch { /* package not resolvable from here (bundled without node_modules): only the bundle dir remains */ }
  const found = candidates.find(has);
  if (!found) {
    throw new UserError(`Cannot find the wasm backend's binaries (${WASM_BINARIES[0]} …); looked in: ${candidates.join(', ')}.`,
      'Reinstall the tool (npm ci), or copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm next to the bundled script.');
  }
  return found;
}

async function tryWasm(wasmDir?: string): Promise<Attempt> {
  let dir: string;
  try {
    dir = resolveWasmDir(wasmDir);
  } catch (e) {
    if (wasmDir !== undefined) throw e; // an explicit, wrong wasmDir is a configuration error, not a fallback
    return { ok: false, reason: errorMessage(e) };
  }
  let mod: { setWasmPaths(prefix: string): void; getThreadsCount(): number; version_wasm: string };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- registers the backend on load: only when wasm is tried
    mod = require('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed to load (${firstLine(errorMessage(e))})`, hint: 'Reinstall the tool (npm ci).' };
  }
  if (!tf.findBackend('wasm')) mod.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep); // a prefix: must end in a separator
  if (!(await setBackendQuietly('wasm'))) {
    return { ok: false, reason: `the WebAssembly module in ${dir} failed to initialise`, hint: 'Check that the .wasm files match @tensorflow/tfjs-backend-wasm ' + mod.version_wasm + ', or use `--backend cpu`.' };
  }
  // tfjs disables wasm threads under Node (tfjs issue #3830), so this is 1 today.
  return { ok: true, info: { name: 'wasm', version: mod.version_wasm, threads: mod.getThreadsCount() } };
}

// ------------------------------------------------------------------------------------------------
// cpu

async function tryCpu(): Promise<Extract<Attempt, { ok: true }>> {
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend failed to initialise');
  return { ok: true, info: { name: 'cpu', version: tf.version['tfjs-backend-cpu'], threads: 1 } };
}

// ------------------------------------------------------------------------------------------------
// helpers

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its first
 * tensor write. It only checks its own `firstUse` field, so clear that; tf.enableProdMode() would
 * also hide it but mutes every tfjs warning (and buys no speed: DEBUG checks are already off).
 */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** tf.setBackend, but a failed init is reported by us, not by tfjs's console.warn of the stack. */
async function setBackendQuietly(name: string): Promise<boolean> {
  const warn = console.warn;
  const captured: unknown[][] = [];
  console.warn = (...args: unknown[]) => { captured.push(args); };
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  } finally {
    console.warn = warn;
    // Pass through warnings unrelated to the failed init.
    for (const args of captured) if (!String(args[0]).startsWith('Initialization of backend')) warn(...args);
  }
}

function packageVersion(pkg: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a package.json named at run time
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
