/**
 * Picks and starts the tfjs compute backend: tensorflow (tfjs-node, optional) → webgpu (Dawn via the
 * `webgpu` package, needs a hardware adapter under 'auto') → wasm (XNNPACK, works everywhere) → cpu (plain JS).
 * The chosen cpu/wasm backend gets the fast conv-gradient kernels from ./kernels.
 * On a GPU-less Linux machine webgpu can run on a private Mesa lavapipe (scripts/setup-webgpu.sh,
 * docs/webgpu.md): see webgpu.ts and webgpuMesa.ts (findWebgpuMesa / webgpuEnv).
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { BackendName } from '../config/options';
import { errorMessage, firstLine, packageVersion, setBackendQuietly, type Attempt } from './attempt';
import { registerFastKernels } from './kernels';
import { disposeWebgpu, tryWebgpu } from './webgpu';

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
  disposeWebgpu();
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
