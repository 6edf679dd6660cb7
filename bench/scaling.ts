/**
 * Data-parallel scaling of training (issue #13): mnist32 GGDR training images/s with 1, 2, … worker
 * threads on wasm (src/core/training/parallel), and the PyTorch peer (bench/torch/ggdr_peer.py) at the
 * same thread counts (torch.set_num_threads(N)), in paired rounds (order alternating), medians of the
 * per-round values. `npm run bench -- --only scaling` runs this alone (≈3–4 min on 2 cores).
 *
 * Ours, per measurement (a fresh child process: `node --import tsx bench/scaling.ts child '<json>' out.json`):
 * warm-up steps 0–2 (step 0 is a lazy-R1 step), then steps 3–18 timed one by one (one of them, step 16,
 * is the R1 step); sec/step = median plain step + (R1 step − median plain step) / 16, as the main bench
 * and the peer compute it. CPU time is the whole process's (every worker thread included).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { load1, median, pythonHas, REPO, runProcess, runPython, BENCH_TRAINING } from './common';
import { trainingStepFlops } from './flops';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form parsed JSON, read field by field

export interface ScalingArgs {
  workers: number[];
  rounds: number;
  realsFile: string;
  tmp: string;
  log: (s: string) => void;
  quick?: boolean;
}

/** One measurement of ours in a fresh process. */
async function runOurs(workers: number, a: ScalingArgs): Promise<Json> {
  const out = path.join(a.tmp, `scaling-${workers}-${process.hrtime.bigint()}.json`);
  const args = { workers, realsFile: a.realsFile, warmup: a.quick ? 1 : 3, timed: a.quick ? 16 : 16 };
  const r = await runProcess(process.execPath, ['--import', 'tsx', path.join(REPO, 'bench', 'scaling.ts'), 'child', JSON.stringify(args), out], { timeoutSec: 600 });
  if (r.code !== 0 || !fs.existsSync(out)) return { error: `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}` };
  const v = JSON.parse(fs.readFileSync(out, 'utf8')) as Json;
  fs.rmSync(out, { force: true });
  return { ...v, load1After: load1() };
}

/** One measurement of the PyTorch peer (GGDR on only) at `threads`. */
async function runPeer(threads: number, a: ScalingArgs, model: Json, ggdr: Json): Promise<Json> {
  const cfgFile = path.join(a.tmp, `scaling-peer-${threads}.json`);
  fs.writeFileSync(cfgFile, JSON.stringify({ model, ggdr, threads, seed: 0, warmup: a.quick ? 1 : 3, timed: a.quick ? 2 : 10, r1Steps: a.quick ? 1 : 2, ggdrConfigs: [true] }));
  const env = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const o = await runPython<Json>('bench/torch/ggdr_peer.py', ['--config', cfgFile, '--reals', a.realsFile], { timeoutSec: 300, env });
  if (!o.ok) return { error: o.error };
  const g = o.value.runs.ggdr;
  return { threads: o.value.threads, torch: o.value.torch, imagesPerSec: g.imagesPerSec, cpuImagesPerSec: g.cpu?.imagesPerSec, secPerStep: g.secPerStep, params: g.params, load1After: load1() };
}

/**
 * How many cores this machine gives right now: a fixed CPU-bound loop (no memory traffic) in 1 thread,
 * then in `threads` threads at once; capacity = threads × t(1) / t(threads) (2.0 on 2 free cores; on a
 * machine shared with other processes less). Data-parallel speed-up cannot exceed it.
 */
export async function probeCapacity(threads: number): Promise<{ threads: number; oneSec: number; allSec: number; capacity: number }> {
  const code = `const { parentPort } = require('node:worker_threads');
    const t0 = performance.now(); let x = 0.5;
    for (let i = 0; i < 6e7; i++) x = x * 1.0000001 + 1e-9 * (i & 7);
    parentPort.postMessage({ sec: (performance.now() - t0) / 1000, x });`;
  const run = async (n: number) => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', () => { void w.terminate(); resolve(); });
      w.once('error', reject);
    })));
    return (performance.now() - t0) / 1000;
  };
  const oneSec = await run(1), allSec = await run(threads);
  return { threads, oneSec, allSec, capacity: (threads * oneSec) / allSec };
}

/** The section: per round, ours at every worker count and the peer at the same thread counts, alternating the order. */
export async function scalingSection(a: ScalingArgs, problems: string[]): Promise<Json> {
  const { resolveOptions } = await import('../src/core/config/options');
  const opts = resolveOptions({ ...BENCH_TRAINING });
  const flops = trainingStepFlops(opts).flops.stepAmortised;
  const torch = await pythonHas('torch');
  const rounds: Json[] = [];
  for (let r = 0; r < a.rounds; r++) {
    const round: Json = { ours: {}, peer: {}, loadStart: load1(), capacity: await probeCapacity(Math.max(...a.workers)) };
    const jobs: Array<() => Promise<void>> = [];
    for (const w of a.workers) {
      jobs.push(async () => { a.log(`scaling round ${r + 1}: ours, ${w} worker${w === 1 ? '' : 's'}`); round.ours[w] = await runOurs(w, a); });
      if (torch.ok) jobs.push(async () => { a.log(`scaling round ${r + 1}: PyTorch peer, ${w} thread${w === 1 ? '' : 's'}`); round.peer[w] = await runPeer(w, a, opts.model, { weight: opts.ggdr.weight, res: opts.ggdr.res }); });
    }
    if (r % 2 === 1) jobs.reverse();
    for (const j of jobs) await j();
    for (const [w, v] of Object.entries(round.ours) as Array<[string, Json]>) if (v.error) problems.push(`scaling: ours with ${w} workers: ${v.error}`);
    for (const [w, v] of Object.entries(round.peer) as Array<[string, Json]>) if (v.error) problems.push(`scaling: peer with ${w} threads: ${v.error}`);
    rounds.push(round);
  }
  const ok = (v: Json | undefined) => v && !v.error;
  const table = a.workers.map((w) => {
    const ips = rounds.filter((r) => ok(r.ours[w])).map((r) => r.ours[w].imagesPerSec as number);
    const cpuIps = rounds.filter((r) => ok(r.ours[w])).map((r) => r.ours[w].cpuImagesPerSec as number);
    const base = rounds.filter((r) => ok(r.ours[w]) && ok(r.ours[a.workers[0]])).map((r) => r.ours[w].imagesPerSec / r.ours[a.workers[0]].imagesPerSec);
    const peer = rounds.filter((r) => ok(r.peer[w])).map((r) => r.peer[w].imagesPerSec as number);
    const vsPeer = rounds.filter((r) => ok(r.ours[w]) && ok(r.peer[w])).map((r) => r.ours[w].imagesPerSec / r.peer[w].imagesPerSec);
    const speedup = median(base);
    return {
      workers: w, imagesPerSec: median(ips), imagesPerSecRange: [Math.min(...ips), Math.max(...ips)], cpuImagesPerSec: median(cpuIps),
      gflops: median(ips) / opts.model.batch * flops / 1e9,
      speedup, efficiency: speedup / (w / a.workers[0]),
      peerImagesPerSec: median(peer), oursOverPeer: median(vsPeer), oursOverPeerRange: vsPeer.length ? [Math.min(...vsPeer), Math.max(...vsPeer)] : [],
    };
  });
  const capacity = median(rounds.map((r) => r.capacity.capacity as number));
  return { preset: 'mnist32', ggdr: true, batch: opts.model.batch, flopsPerStep: flops, torch: torch.ok ? torch.version : `skipped: ${torch.reason}`, rounds, table, capacity };
}

/** BENCH.md lines of the section. */
export function scalingMarkdown(s: Json): string {
  if (!s?.table) return '';
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const lines = [
    '## Data-parallel training (mnist32, GGDR on, wasm, batch 16)', '',
    `Median of ${s.rounds.length} paired round(s); ours = worker threads (src/core/training/parallel), peer = PyTorch ${s.torch} with torch.set_num_threads(N). Load average per round: ${s.rounds.map((r: Json) => f(r.loadStart, 1)).join(', ')}. ` +
    `Cores the machine gave at the start of each round (a CPU-bound loop in ${s.rounds[0]?.capacity?.threads ?? '?'} threads vs 1; the ceiling of any speed-up): ${s.rounds.map((r: Json) => f(r.capacity?.capacity)).join(', ')} (median ${f(s.capacity)}).`, '',
    '| workers / threads | ours images/s (range) | speed-up vs 1 | efficiency | ours GFLOPS | ours CPU-time images/s | PyTorch images/s | ours / PyTorch (range) |',
    '|---|---|---|---|---|---|---|---|',
    ...s.table.map((t: Json) => `| ${t.workers} | ${f(t.imagesPerSec, 1)} (${f(t.imagesPerSecRange[0], 1)}–${f(t.imagesPerSecRange[1], 1)}) | ${f(t.speedup)}× | ${f(100 * t.efficiency, 0)}% | ${f(t.gflops, 1)} | ${f(t.cpuImagesPerSec, 1)} | ${f(t.peerImagesPerSec, 1)} | ${f(t.oursOverPeer)} (${t.oursOverPeerRange.length ? `${f(t.oursOverPeerRange[0])}–${f(t.oursOverPeerRange[1])}` : '—'}) |`),
    '',
    `GFLOPS: ${f(s.flopsPerStep / 1e9)} GFLOP per amortised step (bench/flops.ts) ÷ sec/step. CPU-time images/s: per second of the process's CPU time (all threads).`,
    '',
  ];
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------
// child: one measurement

async function child(a: { workers: number; realsFile: string; warmup: number; timed: number }): Promise<Json> {
  const { initBackend } = await import('../src/core/backend/backend');
  const { resolveOptions } = await import('../src/core/config/options');
  const { GanTrainer } = await import('../src/core/training/trainer');
  const { ParallelTrainer } = await import('../src/core/training/parallel/parallelTrainer');
  const be = await initBackend('wasm');
  const opts = resolveOptions({ ...BENCH_TRAINING, backend: 'wasm', metrics: [] });
  const m = opts.model;
  const per = m.batch * m.resolution * m.resolution * m.channels;
  const raw = new Float32Array(fs.readFileSync(a.realsFile).buffer.slice(0));
  const reals: tf.Tensor4D[] = [];
  for (let i = 0; i + per <= raw.length; i += per) reals.push(tf.tensor4d(raw.subarray(i, i + per), [m.batch, m.resolution, m.resolution, m.channels]));
  const trainer = new GanTrainer(opts);
  const t0 = performance.now();
  const par = a.workers > 1 ? await ParallelTrainer.start(trainer, a.workers, 'wasm') : null;
  const startSec = (performance.now() - t0) / 1000;
  const stepper = par ?? trainer;
  const interval = m.r1Interval;
  const plain: number[] = [], plainCpu: number[] = [];
  let r1 = NaN, r1Cpu = NaN;
  try {
    for (let i = 0; i < a.warmup + a.timed; i++) {
      const step = trainer.step;
      const c0 = process.cpuUsage(), w0 = performance.now();
      await stepper.trainStep(reals[step % reals.length]);
      const wall = (performance.now() - w0) / 1000, c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6;
      if (i < a.warmup) continue;
      if (step % interval === 0) { r1 = wall; r1Cpu = cpu; } else { plain.push(wall); plainCpu.push(cpu); }
    }
  } finally {
    await par?.dispose();
    trainer.dispose();
  }
  const amort = (p: number[], r: number) => { const mp = median(p); return Number.isFinite(r) ? mp + (r - mp) / interval : mp; };
  const secPerStep = amort(plain, r1), cpuPerStep = amort(plainCpu, r1Cpu);
  return {
    workers: a.workers, backend: `${be.name} ${be.version}`, startSec, plainStepSec: plain, r1StepSec: r1, plainStepCpuSec: plainCpu, r1StepCpuSec: r1Cpu,
    secPerStep, imagesPerSec: m.batch / secPerStep, cpuImagesPerSec: m.batch / cpuPerStep, secPerKimg: 1000 * secPerStep / m.batch,
  };
}

if (require.main === module && process.argv[2] === 'child') {
  (async () => {
    const result = await child(JSON.parse(process.argv[3]));
    fs.writeFileSync(process.argv[4], JSON.stringify(result));
    process.exit(0);
  })().catch((e) => { console.error(e?.stack ?? e); process.exit(1); });
}

/** BENCH.md of `--only scaling`. */
export function scalingOnlyMarkdown(r: Json): string {
  const mc = r.machine;
  const f = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
  const out = ['# GAN Inspector benchmarks (data-parallel scaling section only)', '',
    `Generated by \`npm run bench -- --only scaling\`${r.quick ? ' **--quick**' : ''} in ${f(r.totalSec, 0)} s on ${mc.cpuModel} (${mc.cores} cores, ${mc.memGB} GB RAM), Node ${mc.node}, ${mc.date}; ` +
    `load average (1 min) ${f(r.load.start[0])} → ${f(r.load.end?.[0])}.`, '', scalingMarkdown(r.scaling)];
  if (r.problems?.length) out.push('## Problems', '', ...r.problems.map((p: string) => `- ${p}`), '');
  return out.join('\n');
}

/** Worker counts of the table: 1, 2, 4, … up to the cores (and the batch); `--scaling-workers 1,2,4` overrides. */
export function scalingWorkerCounts(cores: number, batch: number, spec?: string): number[] {
  if (spec) return spec.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= batch);
  const out: number[] = [];
  for (let w = 1; w <= Math.min(cores, batch); w *= 2) out.push(w);
  return out;
}

/** 4 batches of real MNIST digits (as the main bench's training section uses) in a float32 file. */
export async function writeMnistReals(file: string): Promise<void> {
  const { resolveOptions } = await import('../src/core/config/options');
  const { getBatch, loadDataset } = await import('../src/core/data/dataset');
  const { Rng } = await import('../src/core/util/rng');
  const m = resolveOptions({ ...BENCH_TRAINING }).model;
  const ds = await loadDataset('mnist', { resolution: m.resolution, channels: 1 });
  const rng = new Rng(7);
  const batches = Array.from({ length: 4 }, () => getBatch(ds, Array.from({ length: m.batch }, () => rng.int(ds.length))));
  fs.writeFileSync(file, Buffer.concat(batches.map((b) => Buffer.from(b.buffer))));
}
