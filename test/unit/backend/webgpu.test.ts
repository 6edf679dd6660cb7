// The webgpu backend on the private Mesa lavapipe made by scripts/setup-webgpu.sh (.webgpu-mesa/).
// Without that folder (CI does not run the script) the lavapipe tests skip and say why.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeBackend, initBackend } from '../../../src/core/backend/backend';
import { isSoftwareAdapter, WEBGPU_SYNC_READ_ERROR } from '../../../src/core/backend/webgpu';
import { findWebgpuMesa, webgpuEnv, WEBGPU_MESA_ENV } from '../../../src/core/backend/webgpuMesa';
import { isUserError } from '../../../src/core/errors';
import { resolveOptions } from '../../../src/core/config/options';
import { GanTrainer } from '../../../src/core/training/trainer';
import { Rng } from '../../../src/core/util/rng';

const ROOT = path.resolve(__dirname, '../../..');
const BACKEND_TS = path.join(ROOT, 'src/core/backend/backend.ts');
const MESA = findWebgpuMesa();
const NO_MESA = 'no private Mesa lavapipe (.webgpu-mesa/ is missing): run `bash scripts/setup-webgpu.sh` (Debian 12, needs bookworm-backports) to run the webgpu tests';
const canResolve = (id: string) => { try { require.resolve(id); return true; } catch { return false; } };
const HAS_TFJS_NODE = canResolve('@tensorflow/tfjs-node');

/** Skips the test (with the reason) when the private lavapipe is absent; true when it did. */
function skipWithoutMesa(t: TestContext): boolean {
  if (MESA) return false;
  t.skip(NO_MESA);
  return true;
}

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

/** max |a−b| / max |b|: agreement relative to the reference's scale. */
function relMaxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

test('webgpuEnv gives a child process the private lavapipe (or nothing without it)', () => {
  const env = webgpuEnv({ LD_LIBRARY_PATH: '/opt/x' });
  if (!MESA) { assert.deepEqual(env, {}); return; }
  assert.equal(env[WEBGPU_MESA_ENV], MESA.dir);
  assert.equal(env.LD_LIBRARY_PATH, `${MESA.libDir}:/opt/x`);
  assert.equal(env.VK_ADD_DRIVER_FILES, MESA.icd);
  // Merging twice does not grow the lists.
  assert.deepEqual(webgpuEnv({ ...env }), env);
});

test('a wrong GAN_INSPECTOR_WEBGPU_MESA is a clear UserError, and webgpu refuses to start', async () => {
  const saved = process.env[WEBGPU_MESA_ENV];
  process.env[WEBGPU_MESA_ENV] = path.join(ROOT, 'no-such-mesa-folder');
  try {
    assert.throws(() => webgpuEnv(), (e: unknown) => isUserError(e) && /not usable: .*ready is missing/.test((e as Error).message) && /setup-webgpu\.sh/.test((e as Error).message));
    await assert.rejects(initBackend('webgpu'), (e: unknown) => isUserError(e) && /not usable/.test((e as Error).message));
  } finally {
    if (saved === undefined) delete process.env[WEBGPU_MESA_ENV]; else process.env[WEBGPU_MESA_ENV] = saved;
  }
});

test('software adapters are recognised from their adapter info', () => {
  assert.ok(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7' }));
  assert.ok(isSoftwareAdapter({ vendor: 'google', device: 'swiftshader' }));
  assert.ok(isSoftwareAdapter({ vendor: 'x' }, true));
  assert.ok(!isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA: 550.54' }));
  assert.ok(!isSoftwareAdapter(undefined));
});

test("'auto' passes over lavapipe (slower than wasm) and says so, with and without probing Dawn", { skip: HAS_TFJS_NODE && 'tfjs-node is installed: auto picks it first' }, async (t) => {
  if (skipWithoutMesa(t)) return;
  // Lavapipe is the only Vulkan driver here: skipped without starting Dawn.
  const info = await initBackend('auto');
  assert.equal(info.name, 'wasm');
  assert.match(info.notes.join('\n'), /webgpu skipped: the only Vulkan driver is the private lavapipe in .*CPU implementation.*slower than wasm/);
  await disposeBackend();
  // Another ICD manifest (a second copy of lavapipe's) makes auto ask Dawn, which reports a software adapter.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-icd-'));
  const icd = path.join(dir, 'other_icd.json');
  const manifest = JSON.parse(fs.readFileSync(MESA!.icd, 'utf8')) as { ICD: { library_path: string } };
  manifest.ICD.library_path = path.resolve(MESA!.dir, manifest.ICD.library_path);
  fs.writeFileSync(icd, JSON.stringify(manifest));
  const saved = process.env.VK_ADD_DRIVER_FILES;
  process.env.VK_ADD_DRIVER_FILES = [icd, saved].filter(Boolean).join(':');
  try {
    const info2 = await initBackend('auto');
    assert.equal(info2.name, 'wasm');
    assert.match(info2.notes.join('\n'), /webgpu skipped: the only WebGPU adapter is a CPU implementation \(mesa software llvmpipe.*slower than wasm/);
    assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined, 'navigator.gpu left behind');
  } finally {
    if (saved === undefined) delete process.env.VK_ADD_DRIVER_FILES; else process.env.VK_ADD_DRIVER_FILES = saved;
    fs.rmSync(dir, { recursive: true, force: true });
    await disposeBackend();
  }
});

test('webgpu runs on lavapipe; conv2d forward and both gradients agree with wasm to 1e-4', async (t) => {
  if (skipWithoutMesa(t)) return;
  // x [2,12,12,8] * w [3,3,8,16] → y [2,6,6,16] (stride 2, same); loss = Σ y·dy so ∂loss/∂y = dy.
  const xs = randomArray(2 * 12 * 12 * 8, 1), ws = randomArray(3 * 3 * 8 * 16, 2), dys = randomArray(2 * 6 * 6 * 16, 3);
  const run = async () => {
    const x = tf.tensor4d(xs, [2, 12, 12, 8]), w = tf.tensor4d(ws, [3, 3, 8, 16]), dy = tf.tensor4d(dys, [2, 6, 6, 16]);
    const y = tf.conv2d(x, w, 2, 'same');
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), dy)))([x, w]);
    const out = { y: await y.data() as Float32Array, dx: await dx.data() as Float32Array, dw: await dw.data() as Float32Array };
    tf.dispose([x, w, dy, y, dx, dw]);
    return out;
  };
  await initBackend('wasm');
  const ref = await run();
  const info = await initBackend('webgpu');
  try {
    assert.equal(info.name, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    assert.match(info.notes.join('\n'), new RegExp(`private lavapipe in ${MESA!.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(info.notes.join('\n'), /webgpu adapter: mesa software llvmpipe/);
    const before = tf.memory().numTensors;
    const got = await run();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    for (const k of ['y', 'dx', 'dw'] as const) {
      const r = relMaxDiff(got[k], ref[k]);
      assert.ok(r <= 1e-4, `${k}: max |webgpu − wasm| / max |wasm| = ${r}`);
    }
    // A synchronous read cannot work in Node: a clear error instead of "OffscreenCanvas is not defined".
    // (Large enough that tfjs computes it on the GPU rather than forwarding a tiny op to the CPU.)
    const a = tf.ones([32, 32]), z = tf.matMul(a, a);
    assert.throws(() => z.dataSync(), (e: unknown) => isUserError(e) && (e as Error).message.startsWith(WEBGPU_SYNC_READ_ERROR) && /await tensor\.data\(\)/.test((e as Error).message));
    assert.deepEqual(Array.from(await z.data()), Array(32 * 32).fill(32));
    tf.dispose([a, z]);
  } finally {
    await disposeBackend();
  }
});

test('a GanTrainer step on webgpu (tiny preset) runs, leaks no tensors and matches wasm to 1e-3', async (t) => {
  if (skipWithoutMesa(t)) return;
  const opts = resolveOptions({ preset: 'tiny' });
  const n = opts.model.batch, R = opts.model.resolution;
  const realValues = randomArray(n * R * R, 4);
  /** One step from the same seed and reals; losses averaged per term. */
  const step = async () => {
    const trainer = new GanTrainer(opts);
    const reals = tf.tensor4d(realValues, [n, R, R, 1]);
    try {
      const held = tf.memory().numTensors;
      // `await` also covers a synchronous trainStep (older trainer versions).
      const stats = await trainer.trainStep(reals);
      assert.equal(tf.memory().numTensors, held, 'the step leaked tensors');
      assert.equal(trainer.step, 1);
      const losses: Record<string, number> = {};
      for (const [k, v] of Object.entries(stats)) {
        const vals = typeof v === 'number' ? [v] : Array.from(v);
        assert.ok(vals.every(Number.isFinite), `${k} not finite`);
        if (k.startsWith('Loss/')) losses[k] = vals.reduce((a, b) => a + b, 0) / vals.length;
      }
      return losses;
    } finally {
      trainer.dispose();
      reals.dispose();
    }
  };
  await initBackend('wasm');
  const ref = await step();
  await initBackend('webgpu');
  try {
    const got = await step();
    assert.deepEqual(Object.keys(got).sort(), Object.keys(ref).sort());
    assert.ok('Loss/D/ggdr' in got && 'Loss/r1_penalty' in got, 'GGDR and R1 ran in step 0');
    for (const k of Object.keys(ref)) {
      const rel = Math.abs(got[k] - ref[k]) / Math.max(Math.abs(ref[k]), 1e-6);
      assert.ok(rel <= 1e-3, `${k}: webgpu ${got[k]} vs wasm ${ref[k]} (relative ${rel})`);
    }
  } finally {
    await disposeBackend();
  }
});

test('a child started with webgpuEnv() runs webgpu on the private loader and exits after disposeBackend', (t) => {
  if (skipWithoutMesa(t)) return;
  const script = `
    const tf = require('@tensorflow/tfjs');
    const { initBackend, disposeBackend } = require(${JSON.stringify(BACKEND_TS)});
    (async () => {
      const info = await initBackend('webgpu');
      const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
      const y = tf.matMul(tf.ones([4, 8]), tf.ones([8, 2]));
      const vals = Array.from(await y.data());
      await disposeBackend();
      console.log(JSON.stringify({ name: info.name, vals, loaderFromMesa: maps.includes(${JSON.stringify(MESA?.libDir ?? '')} + '/libvulkan.so.1') }));
      // No process.exit: Node must leave on its own once disposeBackend has released Dawn.
    })();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT, encoding: 'utf8', timeout: 25_000, env: { ...process.env, ...webgpuEnv() },
  });
  assert.equal(r.error, undefined, `child did not exit by itself: ${String(r.error)}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; vals: number[]; loaderFromMesa: boolean };
  assert.deepEqual(out, { name: 'webgpu', vals: Array(8).fill(8), loaderFromMesa: true });
});
