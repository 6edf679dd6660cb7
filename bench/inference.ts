/**
 * Parallel inference (issue #13): the checkpoint viewer's grid and the segmentation panel's request for
 * 8 samples of a 256-px paper256 official generator, through the real inference process
 * (src/worker/inferenceProcess.ts + its threads, bundled as esbuild.mjs does) on wasm, with 1 inference
 * thread (the process's own: no pool) and with N (`--inference-workers 1,2`; default 1 and the cores).
 * `npm run bench -- --only inference` runs it alone (≈3–4 min on 2 cores).
 *
 * Per worker count, a fresh inference process: its start, the first grid (the pickle read once and G_ema
 * built in every thread, then 8 full-resolution images), warm grids (same request again: no cache of
 * results, so the same work), segmentation of the 8 samples at 8/16/32/64 px (G's features; K-means stays
 * on the process's main thread), and once the panel's request with D's GGDR decoder (D on the main
 * thread). Wall times are round trips from this process (what a panel waits for). The images and maps of
 * N threads are compared with 1 thread's (they must be identical). Rounds alternate the order of the
 * worker counts (this shared machine drifts); the tables show medians, each run's load average is kept.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load1, median, REPO } from './common';
import { probeCapacity } from './scaling';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form parsed JSON, read field by field

export interface InferenceBenchArgs {
  file: string;
  workers: number[];
  rounds: number;
  reps: number;
  tmp: string;
  log: (s: string) => void;
}

const SEEDS = Array.from({ length: 8 }, (_, i) => i);
const SEG_RES = [8, 16, 32, 64];

/** Bundles the inference process and its thread side by side (the process finds the thread next to it). */
async function bundle(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  fs.mkdirSync(dir, { recursive: true });
  for (const [entry, out] of [['inferenceProcess', 'inference'], ['inferenceWorkerThread', 'inferenceWorkerThread']]) {
    await esbuild.build({
      entryPoints: [path.join(REPO, 'src', 'worker', `${entry}.ts`)], outfile: path.join(dir, `${out}.js`), bundle: true, platform: 'node', format: 'cjs',
      target: 'node20', external: ['@tensorflow/*', 'webgpu', 'mnist'], logLevel: 'error',
    });
  }
  return path.join(dir, 'inference.js');
}

/** One fresh inference process with `workers` threads: the measurements, and the first grid's and segmentation's outputs for the identity check. */
async function measure(workerPath: string, workers: number, a: InferenceBenchArgs): Promise<{ m: Json; outputs: Json }> {
  const { InferenceClient } = await import('../src/host/inference/inferenceClient');
  const logLines: string[] = [];
  const c = new InferenceClient({ workerPath, backend: 'wasm', workers, log: (l) => logLines.push(l) });
  const rt = async <T>(f: () => Promise<T>) => { const l0 = load1(); const t0 = performance.now(); const value = await f(); return { value, sec: (performance.now() - t0) / 1000, load1: [l0, load1()] }; };
  try {
    const start = await rt(() => c.stats());
    if (!/^wasm\b/.test(start.value.backend)) throw new Error(`the inference process runs on '${start.value.backend}', not wasm`);
    const gen = { snapshot: a.file, which: 'G_ema' as const, psi: 1, noiseMode: 'const' as const, noiseSeed: 0, seeds: SEEDS };
    a.log(`inference ${workers} worker(s): first grid (load + 8 images)`);
    const first = await rt(() => c.call('render', gen));
    const grids: Json[] = [];
    for (let i = 0; i < a.reps; i++) {
      a.log(`inference ${workers} worker(s): grid ${i + 1}/${a.reps}`);
      const r = await rt(() => c.call('render', gen));
      grids.push({ sec: r.sec, processSec: r.value.ms / 1000, load1: r.load1 });
    }
    const seg = { snapshot: a.file, seeds: SEEDS, resolutions: SEG_RES, k: 6, metric: 'cosine' as const, psi: 1, kmeansSeed: 0, maxPixels: 20000, withDecoder: false, reals: 0 };
    const segs: Json[] = [];
    let segOut: Json | undefined;
    for (let i = 0; i < a.reps; i++) {
      a.log(`inference ${workers} worker(s): segmentation ${i + 1}/${a.reps}`);
      const marks: Array<{ message: string; sec: number }> = [];
      const t0 = performance.now();
      const r = await rt(() => c.call('segment', seg, { onProgress: (p) => marks.push({ message: p.message, sec: (performance.now() - t0) / 1000 }) }));
      const clusterStart = marks.find((m) => m.message.startsWith('clustering'))?.sec;
      segs.push({ sec: r.sec, processSec: r.value.ms / 1000, renderSec: clusterStart, clusterSec: clusterStart !== undefined ? r.sec - clusterStart : undefined, load1: r.load1 });
      segOut ??= { images: r.value.images, maps: r.value.maps };
    }
    a.log(`inference ${workers} worker(s): segmentation with D's decoder`);
    const dec = await rt(() => c.call('segment', { ...seg, resolutions: [8, 16, 32], withDecoder: true }));
    const st = await c.stats();
    return {
      m: {
        workers, backend: st.backend, processStartSec: start.sec, threadsRunning: st.workers?.threads.length ?? 0,
        firstGrid: { sec: first.sec, processSec: first.value.ms / 1000, loaded: first.value.loaded, load1: first.load1 },
        grid: { runs: grids, medianSec: median(grids.map((g) => g.sec)) },
        segment: { runs: segs, medianSec: median(segs.map((g) => g.sec)), medianRenderSec: median(segs.map((g) => g.renderSec)), medianClusterSec: median(segs.map((g) => g.clusterSec)) },
        withDecoder: { sec: dec.sec, decoderRes: dec.value.decoder?.res ?? null, note: dec.value.decoderNote ?? null, load1: dec.load1 },
        tensorMB: st.numBytes / 2 ** 20, processLog: logLines.filter((l) => /Inference process \d+/.test(l)),
      },
      outputs: { grid: first.value.images.map((i) => i.src), segment: segOut, decoder: dec.value.decoder },
    };
  } finally {
    c.dispose();
  }
}

export async function inferenceSection(a: InferenceBenchArgs, problems: string[]): Promise<Json> {
  // Inside the repository, so the bundles' external @tensorflow/* resolve from its node_modules.
  const workerPath = await bundle(path.join(REPO, 'bench-output', 'inference-bundle'));
  const rounds: Json[] = [];
  let reference: Json | undefined;
  const identical: Record<number, boolean> = {};
  for (let r = 0; r < a.rounds; r++) {
    const round: Json = { loadStart: load1(), capacity: await probeCapacity(Math.max(...a.workers)), runs: {} };
    const order = r % 2 ? [...a.workers].reverse() : a.workers;
    for (const w of order) {
      try {
        const { m, outputs } = await measure(workerPath, w, a);
        round.runs[w] = m;
        if (w === a.workers[0]) reference ??= outputs;
        (round.outputs ??= {})[w] = outputs;
      } catch (e) {
        const msg = (e as Error)?.message ?? String(e);
        problems.push(`inference with ${w} worker(s): ${msg.split('\n')[0]}`);
        round.runs[w] = { error: msg };
      }
    }
    for (const w of a.workers) {
      const o = round.outputs?.[w], ref = round.outputs?.[a.workers[0]];
      if (!o || !ref || w === a.workers[0]) continue;
      const same = JSON.stringify(o) === JSON.stringify(ref);
      identical[w] = (identical[w] ?? true) && same;
      if (!same) problems.push(`inference: ${w} threads gave other images or maps than ${a.workers[0]} (round ${r + 1})`);
    }
    delete round.outputs;
    rounds.push(round);
  }
  const ok = (v: Json | undefined) => v && !v.error;
  const table = a.workers.map((w) => {
    const runs = rounds.map((r) => r.runs[w]).filter(ok);
    return {
      workers: w,
      firstGridSec: median(runs.map((m) => m.firstGrid.sec)),
      gridSec: median(runs.map((m) => m.grid.medianSec)),
      segmentSec: median(runs.map((m) => m.segment.medianSec)),
      segmentRenderSec: median(runs.map((m) => m.segment.medianRenderSec)),
      segmentClusterSec: median(runs.map((m) => m.segment.medianClusterSec)),
      withDecoderSec: median(runs.map((m) => m.withDecoder.sec)),
      load1: runs.flatMap((m) => [m.firstGrid.load1[0], m.withDecoder.load1[1]]),
      identical: w === a.workers[0] ? null : identical[w] ?? null,
    };
  });
  return { file: a.file, bytes: fs.statSync(a.file).size, seeds: SEEDS.length, segRes: SEG_RES, reps: a.reps, cores: os.availableParallelism(), rounds, table };
}

/** BENCH.md lines of the section. */
export function inferenceMarkdown(s: Json): string {
  if (!s?.table) return s?.notRun ? `## Parallel inference\n\nNot run: ${s.notRun}\n` : '';
  const f = (x: number | null | undefined, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
  const base = s.table[0];
  return [
    `## Parallel inference (paper256 official G_ema, ${s.seeds} samples, wasm)`, '',
    `${path.basename(s.file)} (${(s.bytes / 2 ** 20).toFixed(0)} MB). Median of ${s.rounds.length} round(s) × ${s.reps} rep(s), each worker count in a fresh inference process. ` +
    `Load average at each round's start: ${s.rounds.map((r: Json) => f(r.loadStart, 1)).join(', ')}; cores the machine gave then (CPU-bound loop, N threads vs 1): ${s.rounds.map((r: Json) => f(r.capacity?.capacity)).join(', ')}.`, '',
    '| inference threads | first grid (load + render) s | grid s | speed-up | segmentation 8–64 px s (render + K-means) | speed-up | + D\'s decoder s | identical to 1 thread | load average during |',
    '|---|---|---|---|---|---|---|---|---|',
    ...s.table.map((t: Json) => `| ${t.workers} | ${f(t.firstGridSec, 1)} | ${f(t.gridSec, 1)} | ${f(base.gridSec / t.gridSec)}× | ${f(t.segmentSec, 1)} (${f(t.segmentRenderSec, 1)} + ${f(t.segmentClusterSec, 1)}) | ${f(base.segmentSec / t.segmentSec)}× | ${f(t.withDecoderSec, 1)} | ${t.identical === null ? '(reference)' : t.identical ? 'yes' : '**no**'} | ${t.load1.length ? `${f(Math.min(...t.load1), 1)}–${f(Math.max(...t.load1), 1)}` : '—'} |`),
    '',
    'Grid: the viewer\'s 8 full-resolution (256 px) images. Segmentation: G\'s features at 8/16/32/64 px of the same 8 samples (the 8 images are rendered too: the panel shows them), K-means (k 6, 10 restarts) on the process\'s main thread. ' +
    '"+ D\'s decoder": the panel\'s request with D\'s GGDR decoder on the fakes (D runs on the main thread, not split).',
    '',
  ].join('\n');
}

/** BENCH.md of `--only inference`. */
export function inferenceOnlyMarkdown(r: Json): string {
  const mc = r.machine;
  const f = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
  const out = ['# GAN Inspector benchmarks (parallel inference section only)', '',
    `Generated by \`npm run bench -- --only inference\`${r.quick ? ' **--quick**' : ''} in ${f(r.totalSec, 0)} s on ${mc.cpuModel} (${mc.cores} cores, ${mc.memGB} GB RAM), Node ${mc.node}, ${mc.date}; ` +
    `load average (1 min) ${f(r.load.start[0])} → ${f(r.load.end?.[0])}.`, '', inferenceMarkdown(r.inference)];
  if (r.problems?.length) out.push('## Problems', '', ...r.problems.map((p: string) => `- ${p}`), '');
  return out.join('\n');
}
