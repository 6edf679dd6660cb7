/**
 * Shared setup of the inference tests: a tiny run trained for real in a temp folder, and an
 * InferenceClient on the real child process, bundled from source with esbuild the way esbuild.mjs
 * does (tfjs external), so no prior build is needed and start-up is seconds faster than tsx.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions, type TrainingOverrides } from '../../../src/core/config/options';
import { train } from '../../../src/core/training/trainingLoop';
import { readRun } from '../../../src/core/runs/readRun';
import { decodeImage } from '../../../src/core/image/codec';
import { InferenceClient } from '../../../src/host/inference/inferenceClient';
import { TEST_BACKEND } from '../engine/testBackend';

export { TEST_BACKEND };

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PROCESS_SOURCE = path.join(ROOT, 'src', 'worker', 'inferenceProcess.ts');

let bundle: Promise<string> | undefined;
/** Bundles src/worker/inferenceProcess.ts into test-output/ (inside the repo, so node_modules resolves). */
export function processBundle(): Promise<string> {
  return (bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const out = path.join(ROOT, 'test-output', 'unit-inference', `inference-${process.pid}.js`);
    await esbuild.build({
      entryPoints: [PROCESS_SOURCE], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
      external: ['@tensorflow/*', 'webgpu', 'mnist'], logLevel: 'error',
    });
    process.once('exit', () => fs.rmSync(out, { force: true }));
    return out;
  })());
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Trains the tiny preset for 16 images (ticks of 8: snapshots at 0, 0.008, 0.016 kimg); returns the run and its snapshots. */
export async function trainTinyRun(outdir: string, over: TrainingOverrides = {}): Promise<{ runDir: string; snapshots: string[] }> {
  const r = await train({ options: resolveOptions({ preset: 'tiny', kimg: 0.016, outdir, backend: TEST_BACKEND, ...over, model: { kimgPerTick: 0.008, ...(over.model ?? {}) } }) });
  if (r.state !== 'finished' || !r.runDir) throw new Error(`training failed: ${r.error}`);
  const run = await readRun(r.runDir, { checkPid: false });
  return { runDir: r.runDir, snapshots: run.snapshots.filter((s) => s.loadable).map((s) => s.path) };
}

export async function newClient(log?: string[]): Promise<InferenceClient> {
  return new InferenceClient({
    workerPath: await processBundle(),
    backend: TEST_BACKEND,
    log: (l) => log?.push(l),
  });
}

/** Decodes a data:image/png;base64 URL. */
export function decodeDataUrl(src: string) {
  const b64 = src.replace(/^data:image\/png;base64,/, '');
  return decodeImage(Buffer.from(b64, 'base64'), 'sample');
}
