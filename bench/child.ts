/**
 * Child-process side of `npm run bench`: each measurement runs in a fresh Node process so backends,
 * heaps and peak RSS do not leak between measurements.
 *   node --import tsx bench/child.ts <mode> '<json args>' <result.json>
 * Modes: train, kernels, matmul, samples, viewer, stats, webview, fid, officialLoad, officialInfer, baseline. The result (plus maxRssMB) is written to <result.json>.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../src/core/backend/backend';
import { builtinKernel } from '../src/core/backend/kernels';
import { type BackendName, resolveOptions } from '../src/core/config/options';
import { isUserError } from '../src/core/errors';
import { Generator } from '../src/core/networks/generator';
import { GanTrainer } from '../src/core/training/trainer';
import { renderSeeds } from '../src/core/analysis/samples';
import { loadDataset } from '../src/core/data/dataset';
import { clusterFeatures } from '../src/core/analysis/kmeans';
import { tfDotEngine } from '../src/core/analysis/kmeansTf';
import { makeGrid } from '../src/core/image/grid';
import { encodePng } from '../src/core/image/codec';
import { readStats, streamJsonl } from '../src/core/runs/jsonlRead';
import { JsonlTailer } from '../src/core/runs/jsonlTail';
import { asStatsLine } from '../src/shared/jsonl';
import { DEFAULT_HISTORY_CAP, LossDataSource } from '../src/host/loss/lossDataSource';
import type { StatsLine } from '../src/shared/runTypes';
import type { ChartInfo, LossPageGlobals } from './lossWebviewPage';
import { median, BENCH_TRAINING } from './common';

type Json = Record<string, unknown>;

/** Wall and process-CPU seconds of f (CPU includes V8's helper threads). */
function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

async function timedAsync<T>(f: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

/** initBackend, turning "not available" into a skip reason. */
async function startBackend(name: BackendName): Promise<{ info: BackendInfo } | { skipped: string }> {
  try {
    return { info: await initBackend(name) };
  } catch (e) {
    if (isUserError(e)) return { skipped: e.message.replace(/\s+/g, ' ') };
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------
// train: GanTrainer throughput, GGDR on and off

interface ConvCall { x: number[]; dy: number[]; filterShape: number[]; strides: unknown; pad: unknown; dataFormat: string; dimRoundingMode?: string }

/** Wraps the active backend's Conv2DBackpropFilter to record the shapes it is called with. */
function captureConvFilterGrads(backendName: string): { calls: Map<string, { call: ConvCall; count: number }>; on: boolean } {
  const rec = { calls: new Map<string, { call: ConvCall; count: number }>(), on: false };
  const k = tf.getKernel('Conv2DBackpropFilter', backendName)!;
  tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (rec.on) {
        const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        const a = args.attrs as unknown as Omit<ConvCall, 'x' | 'dy'>;
        const call: ConvCall = { x: [...x.shape], dy: [...dy.shape], filterShape: [...a.filterShape], strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
        const key = JSON.stringify(call);
        const e = rec.calls.get(key);
        if (e) e.count++; else rec.calls.set(key, { call, count: 1 });
      }
      return k.kernelFunc(args);
    },
  });
  return rec;
}

/**
 * Times one (possibly async) training step up to the completion of its last queued op: reading back
 * a G_ema variable (updated last) waits for a GPU backend's in-order queue to drain.
 */
async function timedStep(trainer: GanTrainer, reals: tf.Tensor4D): Promise<{ wall: number; cpu: number }> {
  const probe = trainer.G_ema.params.trainable()[0];
  return timedAsync(async () => {
    await trainer.trainStep(reals);
    await probe.data();
  });
}

/** A progress line on stderr: the driver reports the last one if this child is killed. */
function progress(o: Json): void {
  process.stderr.write(`PROGRESS ${JSON.stringify(o)}\n`);
}

/**
 * Times GanTrainer.trainStep, GGDR on then off. `warmup`/`timed`/`r1Steps` are maxima: each
 * configuration gets budgetSec/2 and runs fewer steps (at least 1 warm-up, 1 plain, 1 R1) when the
 * steps seen so far say the maxima would not fit.
 */
async function train(a: TrainArgs): Promise<Json> {
  const b = await startBackend(a.backend);
  if ('skipped' in b) return b;
  try {
    return await trainOn(b.info, a);
  } catch (e) {
    // A backend that starts but cannot run the trainer (it throws a UserError, e.g. a missing kernel) counts as not available.
    if (isUserError(e)) return { backend: b.info, skipped: `backend started (${b.info.notes.join('; ') || b.info.version}) but GanTrainer.trainStep failed: ${e.message.replace(/\s+/g, ' ')}` };
    throw e;
  }
}

interface TrainArgs {
  backend: BackendName; warmup: number; timed: number; r1Steps: number; budgetSec: number; realsFile: string;
  /** Warm-up steps of the second (GGDR off) configuration; 0 starts it at step 1 (kernels are warm from the first). */
  warmupSecond?: number;
  captureConvShapes?: boolean;
}

async function trainOn(info: BackendInfo, a: TrainArgs): Promise<Json> {
  progress({ backend: info });
  const capture = a.captureConvShapes ? captureConvFilterGrads(info.name) : null;
  const runs: Json = {};
  const t0 = performance.now();
  for (const ggdr of [true, false]) {
    const cfgStart = performance.now();
    const cfgBudget = ggdr ? a.budgetSec / 2 : a.budgetSec - (cfgStart - t0) / 1000; // the second config gets what the first left
    const left = () => cfgBudget - (performance.now() - cfgStart) / 1000;
    const opts = resolveOptions({ ...BENCH_TRAINING, backend: a.backend, ggdr: { enabled: ggdr } });
    const m = opts.model;
    const per = m.batch * m.resolution * m.resolution * m.channels;
    const raw = new Float32Array(fs.readFileSync(a.realsFile).buffer.slice(0));
    const reals: tf.Tensor4D[] = [];
    for (let i = 0; i + per <= raw.length; i += per) reals.push(tf.tensor4d(raw.subarray(i, i + per), [m.batch, m.resolution, m.resolution, m.channels]));
    const interval = m.r1Gamma > 0 ? m.r1Interval : 0;
    if (interval && Math.max(a.warmup, 1) + a.timed > interval) throw new Error(`warmup + timed must stay below the R1 interval ${interval}`);
    const trainer = new GanTrainer(opts);
    const batch = (i: number) => reals[i % reals.length];
    // Warm-up: step 0 runs lazy R1, so R1 is warmed up too. Stop early when a third of the budget is gone.
    const warmup = ggdr ? a.warmup : (a.warmupSecond ?? a.warmup);
    if (warmup === 0) trainer.step = 1; // skip step 0's R1: the timed plain steps come first
    const warm: number[] = [];
    for (let i = 0; i < warmup && (i === 0 || left() > (2 / 3) * cfgBudget); i++) {
      warm.push((await timedStep(trainer, batch(i))).wall);
      progress({ ggdr, warmupStep: i, sec: warm[i] });
    }
    const nWarm = warm.length;
    // A plain step costs about the last plain warm-up step, or the (cold, R1) step 0 / 1.5, or the first config's plain step.
    const prev = (runs.ggdr as Json | undefined)?.plainStepMedianSec as number | undefined;
    const estPlain = nWarm > 1 ? warm[nWarm - 1] : nWarm === 1 ? warm[0] / 1.5 : prev ?? 1;
    const fits = (plainSteps: number, r1Steps: number) => plainSteps * estPlain + r1Steps * 1.5 * estPlain <= left();
    let nTimed = a.timed;
    while (nTimed > 1 && !fits(nTimed, 1)) nTimed--;
    const tensorsBefore = tf.memory().numTensors;
    const plain: number[] = [], plainCpu: number[] = [];
    for (let i = 0; i < nTimed; i++) {
      const rec = capture && ggdr && i === 0;
      if (rec) capture!.on = true;
      const t = await timedStep(trainer, batch(trainer.step));
      if (rec) capture!.on = false;
      plain.push(t.wall); plainCpu.push(t.cpu);
      progress({ ggdr, plainStep: i, sec: t.wall });
    }
    const plainCalls = capture && ggdr ? [...capture.calls.values()] : null;
    capture?.calls.clear();
    const r1: number[] = [], r1Cpu: number[] = [];
    const medPlain = median(plain);
    for (let k = 0; k < (interval ? a.r1Steps : 0) && (k === 0 || left() > 1.5 * medPlain); k++) {
      trainer.step = interval * (k + 1); // the next lazy-R1 step
      const rec = capture && ggdr && k === 0;
      if (rec) capture!.on = true;
      const t = await timedStep(trainer, batch(k));
      if (rec) capture!.on = false;
      r1.push(t.wall); r1Cpu.push(t.cpu);
      progress({ ggdr, r1Step: k, sec: t.wall });
    }
    const r1Calls = capture && ggdr ? [...capture.calls.values()] : null;
    capture?.calls.clear();
    const tensorsAfter = tf.memory().numTensors;
    const params = { G: trainer.G.params.numParams(), D: trainer.D.params.numParams() };
    trainer.dispose();
    tf.dispose(reals);
    runs[ggdr ? 'ggdr' : 'noggdr'] = {
      params, steps: { warmup: nWarm, timed: plain.length, r1: r1.length }, warmupStepSec: warm,
      plainStepSec: plain, plainStepCpuSec: plainCpu, r1StepSec: r1, r1StepCpuSec: r1Cpu,
      ...summarize(plain, r1, interval, m.batch), cpu: summarize(plainCpu, r1Cpu, interval, m.batch),
      tensorLeakPerStep: (tensorsAfter - tensorsBefore) / Math.max(1, plain.length + r1.length),
      ...(plainCalls ? { convFilterGradCalls: { plainStep: plainCalls, r1Step: r1Calls } } : {}),
    };
  }
  return { backend: info, runs, protocol: { warmup: a.warmup, timed: a.timed, r1Steps: a.r1Steps, budgetSec: a.budgetSec } };
}

/** Amortised step time: median plain step + (median R1 step − median plain step) / interval. */
export function summarize(plain: number[], r1: number[], interval: number, batch: number) {
  const p = median(plain);
  const r = r1.length ? median(r1) : p;
  const secPerStep = interval ? p + (r - p) / interval : p;
  const imagesPerSec = batch / secPerStep;
  return { plainStepMedianSec: p, r1StepMedianSec: r, secPerStep, imagesPerSec, secPerKimg: 1000 / imagesPerSec };
}

// ------------------------------------------------------------------------------------------------
// kernels: cpu Conv2DBackpropFilter, built-in vs replacement

async function kernels(a: { calls: Array<{ call: ConvCall; countPlain: number; countR1: number }> }): Promise<Json> {
  const b = await startBackend('cpu');
  if ('skipped' in b) return b;
  const builtin = builtinKernel('Conv2DBackpropFilter', 'cpu');
  if (!builtin) return { skipped: 'tfjs has no built-in cpu Conv2DBackpropFilter' };
  const backend = tf.backend() as unknown as { readSync(id: object): Float32Array; disposeData(id: object): void };
  const runBuiltin = (x: tf.Tensor, dy: tf.Tensor, attrs: Json) => {
    const out = builtin.kernelFunc({ inputs: { x, dy }, backend: tf.backend(), attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
    const v = backend.readSync(out.dataId).slice();
    backend.disposeData(out.dataId);
    return v;
  };
  const runOurs = (x: tf.Tensor, dy: tf.Tensor, attrs: Json) => {
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return v;
  };
  const attrsOf = (c: ConvCall) => ({ strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dimRoundingMode: c.dimRoundingMode, filterShape: c.filterShape });
  const withBatch = (shape: number[], n: number) => [n, ...shape.slice(1)];
  /** Times one call shape: ours at full size (median of 3 after a warm-up), the built-in once at batch nb, scaled. */
  const measure = (c: ConvCall, nb: number) => {
    const n = c.x[0];
    const x = tf.randomNormal(c.x), dy = tf.randomNormal(c.dy);
    const attrs = attrsOf(c);
    runOurs(x, dy, attrs);
    const ours = median([0, 1, 2].map(() => timed(() => runOurs(x, dy, attrs)).wall));
    const xs = tf.slice(x, 0, withBatch(c.x, nb)), dys = tf.slice(dy, 0, withBatch(c.dy, nb));
    const tb = timed(() => runBuiltin(xs, dys, attrs));
    // Same values? (on the reduced batch)
    const a1 = tb.value, a2 = runOurs(xs, dys, attrs);
    let maxAbs = 0, maxRef = 0;
    for (let i = 0; i < a1.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(a1[i] - a2[i])); maxRef = Math.max(maxRef, Math.abs(a1[i])); }
    tf.dispose([x, dy, xs, dys]);
    const fh = c.filterShape[0], fw = c.filterShape[1], ci = c.filterShape[2], co = c.filterShape[3];
    const macs = n * c.dy[1] * c.dy[2] * fh * fw * ci * co;
    return { x: c.x, dy: c.dy, filterShape: c.filterShape, macs, oursSec: ours, builtinSecMeasured: tb.wall, builtinBatch: nb, builtinSec: tb.wall * (n / nb), speedup: (tb.wall * (n / nb)) / ours, maxRelDiff: maxAbs / Math.max(maxRef, 1e-30) };
  };
  // The built-in loops over the batch. Its per-image cost is lower at batch 1 (the operands stay in
  // cache), so it runs at batch 4 and is scaled by N/4; check N/4 scaling on the cheapest 3×3 shape.
  const NB = 4;
  const macsOf = (c: ConvCall) => c.dy[0] * c.dy[1] * c.dy[2] * c.filterShape.reduce((s, v) => s * v, 1);
  const threeByThree = a.calls.filter((e) => e.call.filterShape[0] === 3);
  const smallest = [...(threeByThree.length ? threeByThree : a.calls)].sort((p, q) => macsOf(p.call) - macsOf(q.call))[0].call;
  const lin = (() => {
    const x = tf.randomNormal(smallest.x), dy = tf.randomNormal(smallest.dy);
    const attrs = attrsOf(smallest);
    const xb = tf.slice(x, 0, withBatch(smallest.x, NB)), dyb = tf.slice(dy, 0, withBatch(smallest.dy, NB));
    runBuiltin(xb, dyb, attrs); // warm-up (V8 JIT of the built-in's loops) before any timing
    const tb = median([0, 1, 2].map(() => timed(() => runBuiltin(xb, dyb, attrs)).wall));
    const tn = timed(() => runBuiltin(x, dy, attrs)).wall;
    tf.dispose([x, dy, xb, dyb]);
    return { shape: smallest.x, batchMeasured: NB, builtinSecAtBatch: tb, builtinSecFull: tn, ratio: tn / tb, linearRatio: smallest.x[0] / NB };
  })();
  const shapes = a.calls.map((e) => ({ ...measure(e.call, Math.min(NB, e.call.x[0])), countPlain: e.countPlain, countR1: e.countR1 }));
  const sum = (f: (s: (typeof shapes)[number]) => number) => shapes.reduce((acc, s) => acc + f(s), 0);
  const perPlain = { ours: sum((s) => s.countPlain * s.oursSec), builtin: sum((s) => s.countPlain * s.builtinSec) };
  const perR1 = { ours: sum((s) => s.countR1 * s.oursSec), builtin: sum((s) => s.countR1 * s.builtinSec) };
  return { backend: b.info, linearity: lin, shapes, perPlainStep: perPlain, perR1Step: perR1 };
}

// ------------------------------------------------------------------------------------------------
// matmul: the backend's own matMul peak

async function matmul(a: { backend: BackendName; sizes: number[]; reps: number }): Promise<Json> {
  const b = await startBackend(a.backend);
  if ('skipped' in b) return b;
  const out: Json[] = [];
  for (const n of a.sizes) {
    const x = tf.randomNormal([n, n]), y = tf.randomNormal([n, n]);
    const once = () => { const z = tf.matMul(x, y); z.dataSync(); z.dispose(); };
    once();
    const ts = Array.from({ length: a.reps }, () => timed(once).wall);
    const best = Math.min(...ts);
    out.push({ n, bestSec: best, medianSec: median(ts), gflops: (2 * n ** 3) / best / 1e9 });
    tf.dispose([x, y]);
  }
  return { backend: b.info, results: out, bestGflops: Math.max(...out.map((r) => r.gflops as number)) };
}

// ------------------------------------------------------------------------------------------------
// samples: sample grids and K-means on a fresh mnist32 G_ema

async function samples(a: { backend: BackendName; counts: number[]; reps: number; clusterSeeds: number }): Promise<Json> {
  const b = await startBackend(a.backend);
  if ('skipped' in b) return b;
  const opts = resolveOptions({ ...BENCH_TRAINING, backend: a.backend });
  const G = new Generator(opts.model, opts.seed, 'G_ema'); // what GanTrainer's G_ema starts as
  const seeds = (n: number) => Array.from({ length: n }, (_, i) => i);
  await renderSeeds(G, seeds(16)); // warm-up
  const grid: Json[] = [];
  for (const n of a.counts) {
    const render: number[] = [], full: number[] = [];
    for (let r = 0; r < a.reps; r++) {
      const t = await timedAsync(() => renderSeeds(G, seeds(n)));
      render.push(t.wall);
      const g = timed(() => encodePng(makeGrid(t.value.images, opts.model.resolution, 1, Math.ceil(Math.sqrt(n)), { pad: 0 })));
      full.push(t.wall + g.wall);
    }
    grid.push({ samples: n, renderSeedsSec: median(render), renderPlusPngSec: median(full), all: render });
  }
  // K-means on the generator's features at every block resolution (the cluster command's defaults: k=6, cosine).
  const res = G.resolutions;
  const rendered = await timedAsync(() => renderSeeds(G, seeds(a.clusterSeeds), { noiseMode: 'const', featureRes: res }));
  const kmeans: Json[] = [];
  for (const r of res) {
    const batch = rendered.value.features.get(r)!;
    const t = timed(() => clusterFeatures(batch, { k: 6, metric: 'cosine', seed: 0, maxPixels: 20000, dotEngine: tfDotEngine }));
    kmeans.push({ res: r, pixels: batch.n * batch.h * batch.w, channels: batch.c, sec: t.wall, iterations: t.value.iterations, converged: t.value.converged, fitPixels: t.value.fitPixels });
  }
  G.dispose();
  return { backend: b.info, grid, kmeans: { seeds: a.clusterSeeds, renderWithFeaturesSec: rendered.wall, perRes: kmeans } };
}

// ------------------------------------------------------------------------------------------------
// viewer: the checkpoint viewer's and segmentation panel's requests through the real inference process

/** Architecture fields of mnist32 a cached snapshot must have (anything else: retrain). */
const VIEWER_MODEL_KEYS = ['resolution', 'channels', 'zDim', 'wDim', 'mappingLayers', 'channelBase', 'channelMax'] as const;

/**
 * The latest snapshot of a short mnist32 run under `cacheDir`/runs (trained here on wasm when there is
 * none, or the one there is not a loadable mnist32 snapshot of this code's networks).
 */
async function viewerSnapshot(cacheDir: string, kimg: number): Promise<{ snapshot: string; trainedNow: boolean; trainSec?: number }> {
  const { checkSnapshotFolder } = await import('../src/core/runs/snapshotCheck');
  const { snapshotCompatProblem } = await import('../src/core/runs/snapshotCompat');
  const runs = `${cacheDir}/runs`;
  const want = resolveOptions({ ...BENCH_TRAINING });
  const cached = (): string | null => {
    if (!fs.existsSync(runs)) return null;
    for (const run of fs.readdirSync(runs).sort().reverse()) {
      const snaps = fs.readdirSync(`${runs}/${run}`).filter((n) => /^network-snapshot-\d/.test(n)).sort();
      if (snaps.length) return `${runs}/${run}/${snaps[snaps.length - 1]}`;
    }
    return null;
  };
  const usable = async (snap: string): Promise<boolean> => {
    try {
      const meta = JSON.parse(fs.readFileSync(`${snap}/snapshot.json`, 'utf8')) as { options: Json & { preset?: string; model: Json }; kimg: number };
      return meta.options.preset === 'mnist32' && meta.kimg > 0 && VIEWER_MODEL_KEYS.every((k) => meta.options.model[k] === want.model[k]) &&
        (await checkSnapshotFolder(snap)).loadable && snapshotCompatProblem(meta.options, (meta as Json).weightsManifest) === null;
    } catch {
      return false;
    }
  };
  const have = cached();
  if (have && await usable(have)) return { snapshot: have, trainedNow: false };
  fs.rmSync(runs, { recursive: true, force: true });
  const { train: trainRun } = await import('../src/core/training/trainingLoop');
  progress({ phase: 'training a short mnist32 run', kimg });
  const t0 = performance.now();
  // No metrics (the preset records FID/KID): only the snapshot matters here.
  const r = await trainRun({ options: resolveOptions({ ...BENCH_TRAINING, kimg, outdir: runs, backend: 'wasm', metrics: [], model: { ...BENCH_TRAINING.model, kimgPerTick: kimg } }) });
  if (r.state !== 'finished' || !r.runDir || !r.latestSnapshot) throw new Error(`viewer bench: training the mnist32 snapshot failed: ${r.error ?? r.state}`);
  return { snapshot: `${r.runDir}/${r.latestSnapshot}`, trainedNow: true, trainSec: (performance.now() - t0) / 1000 };
}

/**
 * What the checkpoint viewer and segmentation panel ask the inference process (src/worker/inferenceProcess.ts,
 * bundled as esbuild.mjs does), forced onto the wasm backend, on a short mnist32 snapshot: the 16-sample
 * grid (first render incl. checkpoint load, then re-renders after ψ changes), segmentation of 16 samples
 * at every block resolution, and the panel's default request. Wall times are round trips from this process
 * (what a panel waits for); `ms` is the process's own time for the job.
 */
async function viewerBench(a: { cacheDir: string; kimg: number; psiReps: number; segReps: number; seeds: number; fitPixels: number }): Promise<Json> {
  fs.mkdirSync(a.cacheDir, { recursive: true });
  const snap = await viewerSnapshot(a.cacheDir, a.kimg);
  const esbuild = await import('esbuild');
  const workerPath = `${a.cacheDir}/inference.js`;
  const tb = performance.now();
  await esbuild.build({
    entryPoints: [`${__dirname}/../src/worker/inferenceProcess.ts`], outfile: workerPath, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: ['@tensorflow/*', 'webgpu', 'mnist'], logLevel: 'error',
  });
  // Its inference threads (one per core by default) start from the bundle next to it, as in dist/.
  await esbuild.build({
    entryPoints: [`${__dirname}/../src/worker/inferenceWorkerThread.ts`], outfile: `${a.cacheDir}/inferenceWorkerThread.js`, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: ['@tensorflow/*', 'webgpu', 'mnist'], logLevel: 'error',
  });
  const bundleSec = (performance.now() - tb) / 1000;
  const { InferenceClient } = await import('../src/host/inference/inferenceClient');
  const log: string[] = [];
  const c = new InferenceClient({ workerPath, backend: 'wasm', log: (l) => log.push(l) });
  const seeds = Array.from({ length: a.seeds }, (_, i) => i);
  const rt = async <T>(f: () => Promise<T>) => { const t0 = performance.now(); const value = await f(); return { value, ms: performance.now() - t0 }; };
  try {
    progress({ phase: 'inference process start' });
    const start = await rt(() => c.stats());
    if (!/^wasm\b/.test(start.value.backend)) throw new Error(`the inference process runs on '${start.value.backend}', not wasm`);
    const gen = { snapshot: snap.snapshot, which: 'G_ema' as const, noiseMode: 'const' as const, noiseSeed: 0 };
    progress({ phase: 'first render' });
    const first = await rt(() => c.call('render', { ...gen, psi: 1, seeds }));
    if (!first.value.loaded || first.value.images.length !== a.seeds) throw new Error(`first render: loaded ${first.value.loaded}, ${first.value.images.length} images`);
    const psi: Array<{ psi: number; ms: number; processMs: number }> = [];
    for (let i = 0; i < a.psiReps; i++) {
      const v = Math.round((0.95 - 0.05 * i) * 100) / 100;
      progress({ phase: 'render after a ψ change', psi: v });
      const r = await rt(() => c.call('render', { ...gen, psi: v, seeds }));
      if (r.value.loaded) throw new Error('a ψ change reloaded the checkpoint');
      psi.push({ psi: v, ms: r.ms, processMs: r.value.ms });
    }
    const seg = { snapshot: snap.snapshot, seeds, k: 6, metric: 'cosine' as const, psi: 1, kmeansSeed: 0, maxPixels: a.fitPixels };
    const perRes: Json[] = [];
    for (const res of [4, 8, 16, 32]) {
      const runs: Array<{ ms: number; processMs: number }> = [];
      let sampled = false, fitPixels = 0, totalPixels = 0;
      for (let i = 0; i < a.segReps; i++) {
        progress({ phase: 'segment', res, rep: i });
        const r = await rt(() => c.call('segment', { ...seg, resolutions: [res], withDecoder: false, reals: 0 }));
        const m = r.value.maps[0];
        if (m.res !== res) throw new Error(`segment at ${res}: got a map at ${m.res}`);
        ({ sampled, fitPixels, totalPixels } = m);
        runs.push({ ms: r.ms, processMs: r.value.ms });
      }
      perRes.push({ res, runs, medianMs: median(runs.map((x) => x.ms)), medianProcessMs: median(runs.map((x) => x.processMs)), sampled, fitPixels, totalPixels });
    }
    // The panel's default: every block above 4×4, D's GGDR decoder on the fakes and on as many reals.
    const panelRuns: Array<{ ms: number; processMs: number }> = [];
    let realsNote: string | undefined, meanCosine = NaN, decoderRes = 0, realsCount = 0;
    for (let i = 0; i < a.segReps + 1; i++) {
      progress({ phase: 'panel default segmentation', rep: i });
      const r = await rt(() => c.call('segment', { ...seg, resolutions: [8, 16, 32], withDecoder: true, reals: a.seeds }));
      if (!r.value.decoder) throw new Error(`panel default: no decoder result (${r.value.decoderNote})`);
      realsNote = r.value.decoder.realsNote;
      realsCount = r.value.decoder.reals?.images.length ?? 0;
      meanCosine = r.value.decoder.meanCosine;
      decoderRes = r.value.decoder.res;
      panelRuns.push({ ms: r.ms, processMs: r.value.ms });
    }
    const end = await c.stats();
    const meta = JSON.parse(fs.readFileSync(`${snap.snapshot}/snapshot.json`, 'utf8')) as { kimg: number; options: { model: Json; ggdr: Json } };
    return {
      backend: end.backend, seeds: a.seeds, fitPixels: a.fitPixels, bundleSec,
      snapshot: { path: snap.snapshot, kimg: meta.kimg, resolution: meta.options.model.resolution, ggdrRes: meta.options.ggdr.res, trainedNow: snap.trainedNow, trainSec: snap.trainSec },
      processStartMs: start.ms,
      firstRender: { ms: first.ms, processMs: first.value.ms },
      psiRender: { runs: psi, medianMs: median(psi.map((x) => x.ms)), medianProcessMs: median(psi.map((x) => x.processMs)) },
      segment: perRes,
      panelDefault: {
        resolutions: [8, 16, 32], decoderRes, reals: realsCount, realsNote, meanCosine,
        firstMs: panelRuns[0].ms, firstProcessMs: panelRuns[0].processMs,
        warm: panelRuns.slice(1), medianMs: median(panelRuns.slice(1).map((x) => x.ms)), medianProcessMs: median(panelRuns.slice(1).map((x) => x.processMs)),
      },
      processTensorMB: end.numBytes / 2 ** 20, checkpointLoads: end.totalLoads, processLog: log.slice(-5),
    };
  } finally {
    c.dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// stats: loss-panel data path

async function stats(a: { file: string; how: 'readStats' | 'readStatsKeep' | 'streamColumns' | 'lossDataSource' | 'tailer' }): Promise<Json> {
  const size = fs.statSync(a.file).size;
  const t0 = performance.now();
  const t = await timedAsync(async (): Promise<Json> => {
    switch (a.how) {
      case 'readStats': {
        const r = await readStats(a.file);
        return { records: r.lines.length, skipped: r.skipped };
      }
      case 'readStatsKeep': {
        const keep = new Set(['Loss/G/loss', 'Loss/D/loss']);
        const r = await readStats(a.file, { keep: (n) => keep.has(n) });
        return { records: r.lines.length, skipped: r.skipped, kept: [...keep] };
      }
      case 'streamColumns': {
        // Two curves kept as growable Float64Array columns: memory = 16 B per line, independent of line width.
        let g = new Float64Array(1 << 16), d = new Float64Array(1 << 16), n = 0;
        const r = await streamJsonl<StatsLine>(a.file, asStatsLine, (l) => {
          if (n === g.length) { const g2 = new Float64Array(2 * n); g2.set(g); g = g2; const d2 = new Float64Array(2 * n); d2.set(d); d = d2; }
          const gl = l['Loss/G/loss'], dl = l['Loss/D/loss'];
          g[n] = typeof gl === 'object' ? gl.mean : NaN;
          d[n] = typeof dl === 'object' ? dl.mean : NaN;
          n++;
        });
        return { records: n, skipped: r.skipped };
      }
      case 'tailer': {
        const tl = new JsonlTailer<StatsLine>(a.file, asStatsLine);
        let records = 0, skipped = 0;
        for (;;) {
          const p = await tl.poll();
          records += p.records.length; skipped += p.skipped;
          if (p.records.length === 0 && p.skipped === 0) break;
        }
        return { records, skipped };
      }
      case 'lossDataSource': {
        // The loss-curves panel's path: JsonlTailer.pollBatches (1 MB reads) into typed-array columns, at most
        // DEFAULT_HISTORY_CAP rows sent (min/max-decimated past it), in 5000-row chunks. "First paint data" =
        // the first chunk serialised as postMessage would, timed from the start; then the rest is serialised too.
        const dir = a.file.slice(0, a.file.lastIndexOf('/'));
        const src = new LossDataSource(dir);
        const u = await src.poll();
        let sentBytes = JSON.stringify(u.stats[0]).length;
        const firstPaintSec = (performance.now() - t0) / 1000;
        for (const c of u.stats.slice(1)) sentBytes += JSON.stringify(c).length;
        return {
          records: src.sourceRowCount, rowsSent: src.rowCount, historyCap: DEFAULT_HISTORY_CAP, bucketRows: u.stats[0]?.bucketRows ?? 0,
          chunks: u.stats.length, columns: Object.keys(u.stats[0]?.columns ?? {}).length, firstPaintSec, sentMB: sentBytes / 2 ** 20,
        };
      }
    }
  });
  return { file: a.file, bytes: size, how: a.how, ...t.value, sec: t.wall, cpuSec: t.cpu, mbPerSec: size / 1e6 / t.wall };
}

// ------------------------------------------------------------------------------------------------
// webview: the loss-curves panel in headless Chromium (bench/lossWebviewPage.ts)

type BenchWin = LossPageGlobals & { document: { querySelector(s: string): { dataset: Record<string, string> } | null } };

/**
 * The real loss webview bundle on `dir`'s stats.jsonl (`lines` lines): page load (navigation start) until
 * every chart is drawn with all rows, then full redraws — Reset zoom (every chart's data re-set), a group's
 * log-scale toggle (that chart rebuilt, every other re-set), a width change (every chart resized) — `reps`
 * times each, page clock. historyCap as LossDataSource's (default: as shipped, decimated past 50k rows).
 */
async function webviewBench(a: { dir: string; lines: number; historyCap?: number; reps: number }): Promise<Json> {
  const { CHROMIUM, buildLossBundle, openLossPage } = await import('./lossWebviewPage');
  if (!CHROMIUM) return { skipped: 'no Chromium found (/usr/bin/chromium; set GAN_CHROMIUM to its path)' };
  const { chromium } = await import('playwright-core');
  const tb = performance.now();
  const bundle = await buildLossBundle();
  const bundleSec = (performance.now() - tb) / 1000;
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  const lp = await openLossPage({ dir: a.dir, bundle, browser, keepPosts: true, source: a.historyCap ? { historyCap: a.historyCap } : undefined });
  try {
    const t0 = performance.now();
    await lp.goto();
    const drawnAtMs = await lp.waitForRows(a.lines, 280_000);
    const wallMs = performance.now() - t0;
    const page = lp.page;
    const first = await page.evaluate((drawnAt) => {
      const w = globalThis as unknown as BenchWin;
      return {
        charts: w.__lossPage.charts(), points: w.__lossPage.points(), plotted: Number(w.document.querySelector('#row-count')!.dataset.plotted),
        messages: w.__messages.length, renders: w.__rowCounts.filter((r) => r.t <= drawnAt).length,
        firstStatsAtMs: w.__messages.find((m) => m.name === 'stats')?.t, lastStatsAtMs: w.__messages.filter((m) => m.name === 'stats').pop()?.t,
      };
    }, drawnAtMs);
    const ids = Object.keys(first.charts);
    const logId = ids.includes('loss-g') ? 'loss-g' : ids[0];
    const redraw = { resetZoomMs: [] as number[], logOnMs: [] as number[], logOffMs: [] as number[], resizeMs: [] as number[] };
    for (let r = 0; r < a.reps; r++) {
      redraw.resetZoomMs.push(await page.evaluate(() => (globalThis as unknown as BenchWin).__lossPage.resetZoom()));
      redraw.logOnMs.push(await page.evaluate((id) => (globalThis as unknown as BenchWin).__lossPage.toggleLog(id), logId));
      redraw.logOffMs.push(await page.evaluate((id) => (globalThis as unknown as BenchWin).__lossPage.toggleLog(id), logId));
      redraw.resizeMs.push(await page.evaluate((w) => (globalThis as unknown as BenchWin).__lossPage.resize(w), r % 2 ? 1100 : 800));
    }
    // Every chart still shows every plotted row over the full range, and nothing went wrong in the page.
    const after = await page.evaluate(() => (globalThis as unknown as BenchWin).__lossPage.charts());
    for (const [id, c] of Object.entries(after)) {
      if (c.rows !== first.plotted || c.zoomed || !(c.xMin <= c.dataMin && c.xMax >= c.dataMax)) throw new Error(`webview chart ${id} after the redraws: ${JSON.stringify(c)} (plotted ${first.plotted})`);
    }
    if (lp.pageErrors.length || lp.invalid.length) throw new Error(`webview errors: ${[...lp.pageErrors, ...lp.invalid].join('; ').slice(0, 300)}`);
    // The harness's own transport (CDP page.evaluate + JSON.parse + postMessage of the same texts), on a blank page.
    const blank = await browser.newPage();
    const tt = performance.now();
    for (const text of lp.posted) await blank.evaluate((t) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(JSON.parse(t), '*'), text);
    await blank.evaluate(() => new Promise((r) => setTimeout(r, 0))); // the queued message events
    const transportMs = performance.now() - tt;
    await blank.close();
    const pump = lp.pumps[0];
    const sum = (f: (c: ChartInfo) => number) => Object.values(first.charts).reduce((n, c) => n + f(c), 0);
    return {
      chromium: browser.version(), lines: a.lines, bytes: fs.statSync(`${a.dir}/stats.jsonl`).size, historyCap: a.historyCap ?? DEFAULT_HISTORY_CAP, rowsPlotted: first.plotted,
      series: sum((c) => c.series), charts: ids.length, linesDrawn: sum((c) => c.lines), points: first.points, bundleSec,
      host: { pollMs: pump.pollMs, postMs: pump.postMs, chunks: pump.chunks, sentMB: pump.sentBytes / 2 ** 20 }, transportMs,
      page: { messages: first.messages, renders: first.renders, firstStatsAtMs: first.firstStatsAtMs, lastStatsAtMs: first.lastStatsAtMs },
      drawnAtMs, wallMs, reps: a.reps, redraw,
      redrawMedianMs: { resetZoom: median(redraw.resetZoomMs), logToggle: median([...redraw.logOnMs, ...redraw.logOffMs]), resize: median(redraw.resizeMs) },
    };
  } finally {
    await lp.close();
    await browser.close();
  }
}

// ------------------------------------------------------------------------------------------------
// fid: FID of a fresh mnist32 G_ema against MNIST with the LeNet extractor (src/core/metrics)

/** The parts of src/core/metrics the FID measurement needs; loaded at run time since that module is still changing. */
interface MetricsApi {
  resolveExtractor(name: string, o: { signal?: AbortSignal }): Promise<{ name: string; id: string; dim: number; fromCache?: boolean; info?: { trainTimeSec: number; accuracy: number } }>;
  computeMetrics(o: Json): Promise<{ results: Record<string, number>; totalTime: number; numGen: number; numReal: number }>;
}

function metricsApi(): MetricsApi | string {
  try {
    const mod = require('../src/core/metrics/index'); // eslint-disable-line @typescript-eslint/no-require-imports -- loaded at run time (see MetricsApi): a load failure becomes this benchmark's result, not a crash
    if (typeof mod.computeMetrics !== 'function' || typeof mod.resolveExtractor !== 'function') return 'src/core/metrics/metrics.ts lacks computeMetrics / resolveExtractor';
    return { computeMetrics: mod.computeMetrics, resolveExtractor: mod.resolveExtractor };
  } catch (e) {
    return `src/core/metrics failed to load (${(e as Error).message.split('\n')[0]})`;
  }
}

/** FID of a fresh mnist32 G_ema against MNIST via the product's computeMetrics (LeNet features). */
async function fidBench(a: { backend: BackendName; samples: number; trainBudgetSec: number }): Promise<Json> {
  const api = metricsApi();
  if (typeof api === 'string') return { skipped: api };
  const b = await startBackend(a.backend);
  if ('skipped' in b) return b;
  // The extractor is trained once and cached (~/.cache/gan-inspector); a first run trains it only if that fits the budget.
  let ext;
  try {
    ext = await timedAsync(() => api.resolveExtractor('lenet', { signal: AbortSignal.timeout(Math.round(Math.max(1, a.trainBudgetSec) * 1000)) }));
  } catch (e) {
    if ((e as Error).message !== 'cancelled') throw e;
    return { skipped: `the LeNet feature extractor is not cached yet and training it (≈2 min here) did not fit the bench's remaining time (${Math.round(a.trainBudgetSec)} s); it is cached once trained (by any metric run, or \`npm run bench\` with time left)` };
  }
  const ex = ext.value;
  const opts = resolveOptions({ ...BENCH_TRAINING, backend: a.backend });
  const m = opts.model;
  const G = new Generator(m, opts.seed, 'G_ema');
  const ds = await loadDataset('mnist', { resolution: m.resolution, channels: 1 });
  let realDone = 0;
  const t0 = performance.now();
  const r = await api.computeMetrics({
    G, dataset: ds, extractor: ex, numGen: a.samples, metrics: ['fid'],
    onProgress: (p: { phase: string; done: number; total: number }) => { if (p.phase === 'real' && p.done === p.total) realDone = performance.now(); },
  });
  const end = performance.now();
  G.dispose();
  const realSec = realDone ? (realDone - t0) / 1000 : NaN;
  return {
    backend: b.info, samples: a.samples, numReal: r.numReal, results: r.results, totalSec: r.totalTime,
    extractor: { name: ex.name, id: ex.id, dim: ex.dim, fromCache: ex.fromCache, loadSec: ext.wall, trainTimeSec: ex.info?.trainTimeSec, accuracy: ex.info?.accuracy },
    realFeaturesSec: realSec, perSnapshotSec: (end - (realDone || t0)) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------
// officialLoad / officialInfer: official StyleGAN2-ADA / GGDR .pkl checkpoints (src/core/official, src/core/checkpoints)

type OfficialLoadHow = 'parse' | 'all' | 'gema' | 'build' | 'buildD';

/**
 * One way of reading an official pickle, in this fresh process (peak RSS = this child's maxRSS):
 * parse = structure only (`metadataOnly`); all = every network's tensors (G, G_ema, D, augment_pipe);
 * gema = G_ema's tensors only; build = loadCheckpoint (G_ema read and built as tfjs networks on `backend`);
 * buildD = loadCheckpoint with D (and its GGDR decoder) too.
 */
async function officialLoad(a: { file: string; how: OfficialLoadHow; backend?: BackendName }): Promise<Json> {
  let backend: BackendInfo | undefined;
  if (a.how === 'build' || a.how === 'buildD') {
    const b = await startBackend(a.backend ?? 'wasm');
    if ('skipped' in b) return b;
    backend = b.info;
  }
  const bytes = fs.statSync(a.file).size;
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  let bytesRead = 0;
  const onProgress = (done: number) => { bytesRead = done; };
  const t = await timedAsync(async (): Promise<Json> => {
    if (a.how === 'build' || a.how === 'buildD') {
      const { loadCheckpoint } = await import('../src/core/checkpoints/index');
      const ck = await loadCheckpoint(a.file, { which: 'G_ema', withD: a.how === 'buildD' });
      const r = { resolution: ck.info.resolution, channels: ck.info.channels, cDim: ck.info.cDim, ggdrRes: ck.info.ggdrRes, tensorMB: tf.memory().numBytes / 2 ** 20 };
      ck.dispose();
      return r;
    }
    const { readOfficialCheckpoint } = await import('../src/core/official/pickle/index');
    const networks = a.how === 'gema' ? ['G_ema' as const] : ['G' as const, 'G_ema' as const, 'D' as const, 'augment_pipe' as const];
    const ck = await readOfficialCheckpoint(a.file, { networks, metadataOnly: a.how === 'parse', onProgress });
    // Count what was materialised (all tensors' elements) so the read cannot be optimised away and the result says what it holds.
    let tensors = 0, elements = 0;
    const walk = (m: { params: Json; buffers: Json; modules: Json } | undefined | null) => {
      if (!m) return;
      for (const t of [...Object.values(m.params), ...Object.values(m.buffers)] as Array<{ data: { length: number } } | null>) {
        if (t) { tensors++; elements += t.data.length; }
      }
      for (const c of Object.values(m.modules)) walk(c as never);
    };
    for (const k of ['G', 'G_ema', 'D', 'augmentPipe'] as const) walk(ck[k] as never);
    return { networks: (['G', 'G_ema', 'D', 'augmentPipe'] as const).filter((k) => ck[k]), tensors, elementsRead: elements };
  });
  return { file: a.file, bytes, how: a.how, backend, ...t.value, bytesRead: bytesRead || undefined, sec: t.wall, cpuSec: t.cpu, rssBeforeMB: rssBefore };
}

/**
 * Inference cost of an official G_ema on `backend` (wasm): renderSeeds of full images and of features only up
 * to `featRes` (`maxRes`), `batch` seeds per pass: a warm-up batch (seeds 0…batch−1), then `reps` timed batches
 * of the next seeds; sec/image = median batch / batch. Then, when `segSeeds`, segmentNetworks of that many seeds
 * at `segRes` (k = 6, cosine, 20 000 fit pixels): it renders full images (the panel's sample row) with the
 * features, timed until its first clustering step and to the end. `dump`: the warm-up batch's float32 image
 * (NCHW, as the official code's) for the cross-check against the PyTorch peer.
 */
async function officialInfer(a: { file: string; backend: BackendName; batch: number; reps: number; featRes?: number; segSeeds?: number; segRes?: number[]; dump?: string }): Promise<Json> {
  const b = await startBackend(a.backend);
  if ('skipped' in b) return b;
  const { loadCheckpoint } = await import('../src/core/checkpoints/index');
  const { segmentNetworks } = await import('../src/core/analysis/segmentSnapshot');
  progress({ phase: 'load', file: a.file });
  const load = await timedAsync(() => loadCheckpoint(a.file, { which: 'G_ema' }));
  const ck = load.value;
  const G = ck.G;
  const seeds = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  try {
    if (a.dump) {
      const z = G.latents(seeds(0, a.batch));
      const w = G.mapping(z, 1);
      const out = G.synthesis(w, { noiseMode: 'const', keepFeatures: [] });
      const nchw = tf.transpose(out.image!, [0, 3, 1, 2]);
      fs.writeFileSync(a.dump, Buffer.from(((await nchw.data()) as Float32Array).buffer));
      tf.dispose([z, w, nchw, out.image!, ...out.features.values()]);
    }
    const protocol = async (what: string, opts: { maxRes?: number; featureRes?: number[] }) => {
      progress({ phase: what, warmup: true });
      const warm = await timedAsync(() => renderSeeds(G, seeds(0, a.batch), { batchSize: a.batch, noiseMode: 'const', ...opts }));
      const wall: number[] = [], cpu: number[] = [];
      for (let i = 0; i < a.reps; i++) {
        progress({ phase: what, rep: i });
        const t = await timedAsync(() => renderSeeds(G, seeds(a.batch * (i + 1), a.batch), { batchSize: a.batch, noiseMode: 'const', ...opts }));
        wall.push(t.wall); cpu.push(t.cpu);
      }
      return { batch: a.batch, warmupSec: warm.wall, batchSec: wall, batchCpuSec: cpu, secPerImage: median(wall) / a.batch, cpuSecPerImage: median(cpu) / a.batch };
    };
    const full = await protocol('full', {});
    const features = a.featRes ? { maxRes: a.featRes, ...(await protocol('features', { maxRes: a.featRes, featureRes: [a.featRes] })) } : undefined;
    let segment: Json | undefined;
    if (a.segSeeds) {
      progress({ phase: 'segment' });
      const marks: Array<{ message: string; sec: number; cpuSec: number }> = [];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await segmentNetworks({ G, D: null, info: ck.info }, {
        seeds: seeds(0, a.segSeeds), resolutions: a.segRes, k: 6, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 20000,
        onProgress: (message) => {
          if (/^generating samples \d/.test(message)) return;
          const cu = process.cpuUsage(c0);
          marks.push({ message, sec: (performance.now() - t0) / 1000, cpuSec: (cu.user + cu.system) / 1e6 });
        },
      });
      const sec = (performance.now() - t0) / 1000;
      const cu = process.cpuUsage(c0);
      const firstCluster = marks.find((m) => m.message.startsWith('clustering'));
      segment = {
        seeds: a.segSeeds, resolutions: r.resolutions.map((x) => x.res), images: r.images.length, imageRes: r.resolution, sec, cpuSec: (cu.user + cu.system) / 1e6,
        renderSec: firstCluster?.sec ?? NaN, renderCpuSec: firstCluster?.cpuSec ?? NaN, clusterSec: sec - (firstCluster?.sec ?? NaN), fitPixels: r.resolutions.map((x) => x.fitPixels), marks,
      };
    }
    return {
      backend: b.info, file: a.file, loadSec: load.wall,
      model: { resolution: G.resolution, channels: G.imgChannels, zDim: G.zDim, cDim: G.cDim, resolutions: G.resolutions },
      full, features, segment, tensorMB: tf.memory().numBytes / 2 ** 20,
    };
  } finally {
    ck.dispose();
  }
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const [mode, argJson, outFile] = process.argv.slice(2);
  const args = JSON.parse(argJson) as never;
  let result: Json;
  switch (mode) {
    case 'train': result = await train(args); break;
    case 'kernels': result = await kernels(args); break;
    case 'matmul': result = await matmul(args); break;
    case 'samples': result = await samples(args); break;
    case 'stats': result = await stats(args); break;
    case 'webview': result = await webviewBench(args); break;
    case 'fid': result = await fidBench(args); break;
    case 'viewer': result = await viewerBench(args); break;
    case 'officialLoad': result = await officialLoad(args); break;
    case 'officialInfer': result = await officialInfer(args); break;
    case 'baseline': { // RSS of a child with the same imports and nothing else (and the backend started, when named)
      const backend = (args as { backend?: BackendName }).backend;
      result = backend ? { backend: await startBackend(backend) } : {};
      break;
    }
    default: throw new Error(`unknown bench child mode '${mode}'`);
  }
  result.maxRssMB = process.resourceUsage().maxRSS / 1024;
  fs.writeFileSync(outFile, JSON.stringify(result));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
