import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import * as tf from '@tensorflow/tfjs';
import { initBackend, disposeBackend, resolveWasmDir, WASM_BINARIES } from '../../../src/core/backend/backend';
import { fastKernelsRegistered } from '../../../src/core/backend/kernels';
import { isUserError } from '../../../src/core/errors';

const ROOT = path.resolve(__dirname, '../../..');
const BACKEND_TS = path.join(ROOT, 'src/core/backend/backend.ts');
const canResolve = (id: string) => { try { require.resolve(id); return true; } catch { return false; } };
const HAS_TFJS_NODE = canResolve('@tensorflow/tfjs-node');

test("'auto' falls through to wasm here and says why it skipped tensorflow and webgpu", { skip: HAS_TFJS_NODE && 'tfjs-node is installed' }, async () => {
  const info = await initBackend('auto');
  assert.equal(info.name, 'wasm');
  assert.equal(info.requested, 'auto');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.ok(info.threads >= 1);
  assert.equal(info.notes.length, 2, info.notes.join(' | '));
  assert.match(info.notes[0], /^tensorflow skipped: .*tfjs-node is not installed/);
  assert.match(info.notes[1], /^webgpu skipped: .*(adapter|Vulkan)/);
  assert.ok(fastKernelsRegistered('wasm'));
  // A second call with the same request returns the running backend.
  assert.deepEqual(await initBackend('auto'), info);
});

test("explicit 'tensorflow' without tfjs-node throws an actionable UserError", { skip: HAS_TFJS_NODE && 'tfjs-node is installed' }, async () => {
  await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
    assert.ok(isUserError(e));
    const m = (e as Error).message;
    assert.match(m, /not installed/);
    assert.match(m, /npm install @tensorflow\/tfjs-node/);
    assert.match(m, /--backend wasm/);
    return true;
  });
});

test("explicit 'webgpu' either runs on a real adapter or fails clearly and cleans up its globals", async () => {
  const g = globalThis as Record<string, unknown>;
  const hadNavigator = 'navigator' in g;
  try {
    const info = await initBackend('webgpu');
    assert.equal(info.name, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    const y = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    assert.deepEqual(Array.from(await y.data()), [4, 6]);
    await disposeBackend();
  } catch (e) {
    assert.ok(isUserError(e), `not a UserError: ${String(e)}`);
    assert.match((e as Error).message, /no WebGPU adapter|Vulkan|webgpu/);
    assert.match((e as Error).message, /lavapipe/);
    assert.match((e as Error).message, /--backend wasm/);
  }
  assert.equal('navigator' in g, hadNavigator, 'navigator left behind');
  assert.equal('GPUBufferUsage' in g, false, 'Dawn globals left behind');
});

test("'cpu' always works and gets the fast filter-gradient kernel", async () => {
  const info = await initBackend('cpu');
  assert.deepEqual({ ...info, version: '' }, { name: 'cpu', requested: 'cpu', version: '', threads: 1, notes: [] });
  assert.equal(info.version, tf.version['tfjs-backend-cpu']);
  assert.equal(tf.getBackend(), 'cpu');
  assert.ok(fastKernelsRegistered('cpu'));
});

test('a wrong wasmDir is a UserError naming the missing files', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-wasm-'));
  try {
    await assert.rejects(initBackend('wasm', { wasmDir: empty }), (e: unknown) =>
      isUserError(e) && WASM_BINARIES.every((f) => (e as Error).message.includes(f)));
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
  assert.ok(WASM_BINARIES.every((f) => fs.existsSync(path.join(resolveWasmDir(), f))));
});

/** A small conv net: 3×3 conv → lrelu → 3×3 stride-2 conv → lrelu → 1×1 conv → mean square. */
function lossAndGrads(x: Float32Array, ws: Float32Array[]): { loss: number; grads: Float32Array[] } {
  const shapes: Array<[number, number, number, number]> = [[3, 3, 3, 8], [3, 3, 8, 12], [1, 1, 12, 4]];
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [2, 9, 9, 3]);
    const wt = ws.map((w, i) => tf.tensor4d(w, shapes[i]));
    const f = (a: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor) => {
      let h = tf.leakyRelu(tf.conv2d(a as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), 0.2);
      h = tf.leakyRelu(tf.conv2d(h, w2 as tf.Tensor4D, 2, 'same'), 0.2);
      return tf.mean(tf.square(tf.conv2d(h, w3 as tf.Tensor4D, 1, 'valid')));
    };
    const { value, grads } = tf.valueAndGrads(f)([xt, ...wt]);
    return { loss: value.dataSync()[0], grads: grads.map((g) => Float32Array.from(g.dataSync())) };
  });
}

test('a small conv net gives the same loss and gradients on wasm and cpu', async () => {
  let seed = 7;
  const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  const x = rand(2 * 9 * 9 * 3);
  const ws = [rand(3 * 3 * 3 * 8), rand(3 * 3 * 8 * 12), rand(12 * 4)];
  await initBackend('cpu');
  const ref = lossAndGrads(x, ws);
  await initBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  const got = lossAndGrads(x, ws);
  assert.ok(Math.abs(got.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${got.loss} vs ${ref.loss}`);
  got.grads.forEach((g, i) => {
    const scale = Math.max(...ref.grads[i].map(Math.abs));
    const err = Math.max(...g.map((v, j) => Math.abs(v - ref.grads[i][j]))) / scale;
    assert.ok(err < 1e-4, `gradient ${i}: rel err ${err}`);
  });
});

test("initBackend silences tfjs's 'Hi, looks like you are running TensorFlow.js in Node.js' banner", () => {
  const run = (code: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout + r.stderr;
  };
  // Control: plain tfjs on cpu prints it, so the check below can fail.
  assert.match(run(`const tf = require('@tensorflow/tfjs'); tf.setBackend('cpu').then(() => tf.tensor([1]).dataSync());`), /Hi, looks like you are running TensorFlow\.js/);
  const out = run(`const tf = require('@tensorflow/tfjs'); require(${JSON.stringify(BACKEND_TS)}).initBackend('cpu').then(() => console.log('sum', tf.sum(tf.tensor([1, 2])).dataSync()[0]));`);
  assert.match(out, /sum 3/);
  assert.doesNotMatch(out, /Hi, looks like/);
});

test('wasm finds its .wasm files when the code is bundled by esbuild (tfjs external or inlined)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-bundle-'));
  try {
    // The entry records which .wasm file the backend reads, then runs one conv.
    const entry = path.join(dir, 'entry.js');
    fs.writeFileSync(entry, `
      const fs = require('node:fs');
      const seen = [];
      const read = fs.readFileSync;
      fs.readFileSync = function (p, ...rest) { if (String(p).endsWith('.wasm')) seen.push(String(p)); return read.call(fs, p, ...rest); };
      const tf = require('@tensorflow/tfjs');
      const { initBackend } = require(${JSON.stringify(BACKEND_TS)});
      initBackend('wasm').then((info) => {
        const y = tf.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 1]), 1, 'same');
        console.log(JSON.stringify({ name: info.name, seen, sum: tf.sum(y).dataSync()[0] }));
      });`);
    const build = (outdir: string, external: string[]) =>
      esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(outdir, 'main.js'), external, logLevel: 'error' });
    const runBundle = (outdir: string) => JSON.parse(execFileSync(process.execPath, [path.join(outdir, 'main.js')], {
      encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'],
    }).trim().split('\n').pop()!) as { name: string; seen: string[]; sum: number };

    // (a) as esbuild.mjs builds dist/: tfjs packages external → binaries come from node_modules.
    const a = path.join(dir, 'a');
    build(a, ['@tensorflow/*', 'webgpu']);
    const ra = runBundle(a);
    assert.equal(ra.name, 'wasm');
    assert.equal(ra.sum, 100);
    assert.ok(ra.seen.length > 0 && ra.seen.every((p) => p.startsWith(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'))), ra.seen.join());

    // (b) tfjs-backend-wasm inlined into the bundle, binaries copied next to it → loaded from there.
    const b = path.join(dir, 'b');
    build(b, ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-webgpu', 'webgpu']);
    for (const f of WASM_BINARIES) fs.copyFileSync(path.join(resolveWasmDir(), f), path.join(b, f));
    const rb = runBundle(b);
    assert.equal(rb.name, 'wasm');
    assert.equal(rb.sum, 100);
    assert.ok(rb.seen.length > 0 && rb.seen.every((p) => path.dirname(p) === b), rb.seen.join());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
