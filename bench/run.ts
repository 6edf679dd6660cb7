/**
 * `npm run bench`: performance of GAN Inspector against a PyTorch peer, as ratios, in one run.
 * Writes bench-output/bench.json and bench-output/BENCH.md. See bench/README.md.
 *
 * Options: --quick (few steps, small files; for checking the bench itself), --stats-mb N (size of the
 * big stats.jsonl, default 1024), --budget-sec N (time budget, default 560), --out DIR (default bench-output),
 * --only stats|webview|viewer|official|scaling|inference (just the loss-panel stats.jsonl section, just the loss webview in headless Chromium,
 * just the checkpoint viewer / segmentation requests through the inference process on wasm, or just the official
 * .pkl checkpoints' load / render costs (env OFFICIAL_PAPER256_PKL, OFFICIAL_GGDR_DIR), or just the data-parallel
 * training scaling table (bench/scaling.ts; --scaling-workers 1,2,4 --scaling-rounds N), or just the parallel inference
 * of a paper256 generator (bench/inference.ts; --inference-workers 1,2 --inference-rounds N); writes to
 * bench-output/<section>-only unless --out is given).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions, type BackendName } from '../src/core/config/options';
import { getBatch, loadDataset } from '../src/core/data/dataset';
import { MNIST_BIN_NAME } from '../src/core/data/mnist';
import { Rng } from '../src/core/util/rng';
import { load1, machineInfo, median, pythonHas, REPO, runChild, runPython, type ChildOutcome, BENCH_TRAINING } from './common';
import { trainingStepFlops } from './flops';
import { CHROMIUM } from './lossWebviewPage';
import { renderMarkdown, renderOnlyMarkdown } from './report';
import { writeStatsFile } from './statsFile';
import { inferenceMarkdown, inferenceOnlyMarkdown, inferenceSection } from './inference';
import { scalingMarkdown, scalingOnlyMarkdown, scalingSection, scalingWorkerCounts, writeMnistReals } from './scaling';

const T0 = performance.now();
const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(n);
const opt = (n: string) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
const QUICK = flag('--quick');
const ONLY_SECTIONS = ['stats', 'webview', 'viewer', 'official', 'scaling', 'inference'] as const;
type OnlySection = (typeof ONLY_SECTIONS)[number];
const ONLY = opt('--only') as OnlySection | undefined;
if (ONLY !== undefined && !ONLY_SECTIONS.includes(ONLY)) throw new Error(`--only takes ${ONLY_SECTIONS.map((x) => `'${x}'`).join(', ')} (got '${ONLY}')`);
// A partial run must not overwrite the full bench's output.
const OUT_DIR = path.resolve(REPO, opt('--out') ?? (ONLY ? `bench-output/${ONLY}-only` : 'bench-output'));
const BIG_STATS_MB = Number(opt('--stats-mb') ?? (QUICK ? 32 : 1024));
/** Wall-clock budget of the whole bench; the optional big pieces (1 GB stats file, 5k-sample FID) shrink to fit it. */
const BUDGET_SEC = Number(opt('--budget-sec') ?? 600);
const FID_SAMPLES = QUICK ? 500 : 5000;
/** Redraw repetitions per webview case (the medians are reported). */
const WEBVIEW_REPS = QUICK ? 3 : 5;
const elapsed = () => (performance.now() - T0) / 1000;

/**
 * Steps per measurement (maxima): warm-up (includes step 0's lazy R1), timed plain steps, timed R1
 * steps; budgetSec caps a backend's two configurations together (fewer steps, at least 1+1+1, when slow).
 */
interface Protocol { warmup: number; warmupSecond?: number; timed: number; r1Steps: number; budgetSec: number }
const PROTOCOL: Record<'fast' | 'slow' | 'peer', Protocol> = QUICK
  ? { fast: { warmup: 1, timed: 2, r1Steps: 1, budgetSec: 40 }, slow: { warmup: 1, warmupSecond: 0, timed: 1, r1Steps: 1, budgetSec: 60 }, peer: { warmup: 1, timed: 2, r1Steps: 1, budgetSec: 0 } }
  : { fast: { warmup: 3, timed: 10, r1Steps: 2, budgetSec: 90 }, slow: { warmup: 1, warmupSecond: 0, timed: 2, r1Steps: 1, budgetSec: 100 }, peer: { warmup: 3, timed: 10, r1Steps: 2, budgetSec: 0 } };
/** Backends in the order measured; cpu (and webgpu on a software adapter) are slow, so they get the short protocol. */
const BACKENDS: Array<{ name: BackendName; protocol: Protocol }> = [
  { name: 'tensorflow', protocol: PROTOCOL.fast },
  { name: 'webgpu', protocol: { ...PROTOCOL.slow, budgetSec: PROTOCOL.fast.budgetSec } },
  { name: 'cpu', protocol: PROTOCOL.slow },
  { name: 'wasm', protocol: PROTOCOL.fast }, // last: right before the peer, the pair whose ratio matters most
];
/**
 * Extra paired rounds (ours ↔ peer, back to back, alternating which goes first) for the fast backends.
 * This machine's speed drifts by ±25% over minutes (shared VM), so one measurement of each side,
 * minutes apart, gives ratios off by as much; the reported ratio is the median over the rounds.
 */
const EXTRA_ROUNDS = Number(opt('--ratio-rounds') ?? (QUICK ? 0 : 2));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form parsed JSON, read field by field

const log = (s: string) => console.log(`[bench ${elapsed().toFixed(0).padStart(3)}s load ${load1().toFixed(1)}] ${s}`);

function outcome<T>(o: ChildOutcome<T>): T | { error: string } {
  return o.ok ? o.value : { error: o.error };
}

/** `--only stats|webview|viewer|official`: one section alone (with the whole budget). */
async function sectionOnly(section: OnlySection) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-inspector-bench-'));
  const result: Json = { machine: machineInfo(), quick: QUICK, only: section, load: { start: os.loadavg() } };
  const problems: string[] = [];
  try {
    if (section === 'stats') {
      result.stats = await statsSection(tmp, problems, 0);
    } else if (section === 'viewer') {
      result.viewer = await viewerSection(tmp, problems);
    } else if (section === 'official') {
      result.official = await officialSection(tmp, problems);
    } else if (section === 'inference') {
      result.inference = await inferenceBenchSection(tmp, problems);
    } else if (section === 'scaling') {
      const realsFile = path.join(tmp, 'reals.f32');
      await writeMnistReals(realsFile);
      result.scaling = await scalingSection(scalingArgs(realsFile, tmp, 3), problems);
    } else {
      result.webview = await webviewSection(tmp, problems);
      // The decimated big-file case on a file of its own (in the full bench it reuses the stats section's).
      if (!result.webview.skipped) {
        const dir = path.join(tmp, 'big');
        fs.mkdirSync(dir);
        log(`webview: generating a ${BIG_STATS_MB} MB stats.jsonl`);
        const have = writeStatsFile(path.join(dir, 'stats.jsonl'), { bytes: BIG_STATS_MB * 2 ** 20 });
        await webviewBigCase(tmp, problems, result.webview, dir, have, 0);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish(result, problems, () => (section === 'scaling' ? scalingOnlyMarkdown(result) : section === 'inference' ? inferenceOnlyMarkdown(result) : renderOnlyMarkdown(result, section)));
}

/**
 * Parallel inference (bench/inference.ts) on the paper256 pickle: 1 inference thread and the cores
 * (`--inference-workers 1,2` overrides), `--inference-rounds` rounds (default 1; --quick: 1 rep each).
 */
async function inferenceBenchSection(tmp: string, problems: string[]): Promise<Json> {
  const p256 = paper256Pkl();
  if ('notRun' in p256) return { notRun: p256.notRun };
  const spec = opt('--inference-workers');
  const workers = spec ? spec.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1) : [...new Set([1, os.availableParallelism()])];
  log(`inference: paper256 grid and segmentation at ${workers.join(', ')} inference thread(s)`);
  return inferenceSection({ file: p256.file, workers, rounds: Number(opt('--inference-rounds') ?? 1), reps: QUICK ? 1 : 2, tmp, log }, problems);
}

/** The data-parallel scaling section's settings (bench/scaling.ts). */
function scalingArgs(realsFile: string, tmp: string, rounds: number) {
  const workers = scalingWorkerCounts(os.availableParallelism(), resolveOptions({ ...BENCH_TRAINING }).model.batch, opt('--scaling-workers'));
  return { workers, rounds: Number(opt('--scaling-rounds') ?? (QUICK ? 1 : rounds)), realsFile, tmp, log, quick: QUICK };
}

/** Stamps the end of the run into `result`, writes bench.json and BENCH.md, prints the table and any problems. */
function finish(result: Json, problems: string[], render: () => string): void {
  result.load.end = os.loadavg();
  result.totalSec = (performance.now() - T0) / 1000;
  result.problems = problems;
  fs.writeFileSync(path.join(OUT_DIR, 'bench.json'), JSON.stringify(result, null, 2) + '\n');
  const md = render(); // after the stamps above: the report shows the total time and the end load
  fs.writeFileSync(path.join(OUT_DIR, 'BENCH.md'), md);
  console.log('\n' + md);
  log(`wrote ${path.relative(REPO, OUT_DIR)}/bench.json and BENCH.md`);
  if (problems.length) {
    console.error(`bench: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

async function main() {
  if (ONLY) return sectionOnly(ONLY);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-inspector-bench-'));
  const result: Json = { machine: machineInfo(), quick: QUICK, load: { start: os.loadavg() } };
  const problems: string[] = [];
  try {
    // ---- Inputs: real MNIST batches, shared by our trainer and the peer.
    const opts = resolveOptions({ ...BENCH_TRAINING });
    const m = opts.model;
    // The first MNIST load of this process (cold; the digits are cached per process afterwards).
    const tm = performance.now();
    const ds = await loadDataset('mnist', { resolution: m.resolution, channels: 1 });
    const binPath = path.join(REPO, 'src', 'core', 'data', MNIST_BIN_NAME); // where the loader looks under tsx
    result.mnistLoad = { sec: (performance.now() - tm) / 1000, images: ds.count, resolution: m.resolution, from: fs.existsSync(binPath) ? MNIST_BIN_NAME : "the 'mnist' package's JSON files" };
    const rng = new Rng(7);
    const realsFile = path.join(tmp, 'reals.f32');
    const batches = Array.from({ length: 4 }, () => getBatch(ds, Array.from({ length: m.batch }, () => rng.int(ds.length))));
    fs.writeFileSync(realsFile, Buffer.concat(batches.map((b) => Buffer.from(b.buffer))));
    result.preset = { name: 'mnist32', model: m, ggdr: opts.ggdr };
    const flops = { ggdr: trainingStepFlops(resolveOptions({ ...BENCH_TRAINING, ggdr: { enabled: true } })), noggdr: trainingStepFlops(resolveOptions({ ...BENCH_TRAINING, ggdr: { enabled: false } })) };
    result.flops = flops;

    // ---- Training throughput per backend.
    const training: Json = {};
    const runOurs = async (b: (typeof BACKENDS)[number], captureConvShapes: boolean): Promise<Json> => {
      const o = await runChild<Json>('train', { backend: b.name, ...b.protocol, realsFile, captureConvShapes }, { timeoutSec: 3 * b.protocol.budgetSec + 120, tmpDir: tmp });
      if (!o.ok) problems.push(`training ${b.name}: ${o.error}${o.progress ? ` (last progress: ${JSON.stringify(o.progress).slice(0, 300)})` : ''}`);
      return { ...outcome(o), ...(o.ok ? {} : { lastProgress: o.progress }), childWallSec: o.wallSec, load1After: load1() };
    };
    for (const b of BACKENDS) {
      log(`training: ${b.name}`);
      training[b.name] = await runOurs(b, b.name === 'cpu');
    }
    result.training = training;
    const available = BACKENDS.map((b) => b.name).filter((n) => training[n].runs);

    // ---- PyTorch peer, with the thread count(s) the tfjs side uses.
    const torch = await pythonHas('torch');
    const runPeer = async (threads: number, profileFlops: boolean): Promise<Json> => {
      const cfgFile = path.join(tmp, `peer-${threads}.json`);
      fs.writeFileSync(cfgFile, JSON.stringify({ model: m, ggdr: { weight: opts.ggdr.weight, res: opts.ggdr.res }, threads, seed: 0, ...PROTOCOL.peer }));
      const env = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
      const o = await runPython<Json>('bench/torch/ggdr_peer.py', ['--config', cfgFile, '--reals', realsFile, ...(profileFlops ? ['--profile-flops'] : [])], { timeoutSec: 300, env });
      if (!o.ok) problems.push(`torch peer (${threads} threads): ${o.error}`);
      return { ...outcome(o), load1After: load1() };
    };
    const threadCounts = [...new Set(available.map((n) => training[n].backend.threads as number))];
    const peer: Json = { runs: {} };
    if (!torch.ok) {
      peer.skipped = torch.reason;
    } else {
      peer.torch = torch.version;
      for (const threads of threadCounts) {
        log(`torch peer: ${threads} thread(s)`);
        peer.runs[threads] = await runPeer(threads, true);
      }
    }
    result.peer = peer;

    // ---- Parameter counts must match exactly; ratios ours/peer.
    const ratios: Json = {};
    const pairRatio = (ours: Json, theirs: Json) => Object.fromEntries(['ggdr', 'noggdr'].map((cfg) => [cfg, {
      wall: ours.runs[cfg].imagesPerSec / theirs.runs[cfg].imagesPerSec, cpu: ours.runs[cfg].cpu.imagesPerSec / theirs.runs[cfg].cpu.imagesPerSec,
      ours: ours.runs[cfg].imagesPerSec, peer: theirs.runs[cfg].imagesPerSec,
    }]));
    for (const n of available) {
      const threads = training[n].backend.threads as number;
      const p = peer.runs[threads];
      if (!p?.runs) continue;
      for (const cfg of ['ggdr', 'noggdr']) {
        const ours = training[n].runs[cfg], theirs = p.runs[cfg];
        for (const k of ['G', 'D'] as const) {
          if (ours.params[k] !== theirs.params[k]) problems.push(`parameter count mismatch (${cfg}, ${k}): ours ${ours.params[k]} vs peer ${theirs.params[k]}`);
        }
      }
      const rounds: Json[] = [{ order: 'main pass', ...pairRatio(training[n], p) }];
      const b = BACKENDS.find((x) => x.name === n)!;
      for (let i = 0; b.protocol === PROTOCOL.fast && i < EXTRA_ROUNDS; i++) {
        const peerFirst = i % 2 === 0;
        log(`paired round ${i + 2}: ${peerFirst ? `torch peer → ${n}` : `${n} → torch peer`}`);
        const first = peerFirst ? await runPeer(threads, false) : await runOurs(b, false);
        const second = peerFirst ? await runOurs(b, false) : await runPeer(threads, false);
        const [ours, theirs] = peerFirst ? [second, first] : [first, second];
        if (ours.runs && theirs.runs) rounds.push({ order: peerFirst ? 'peer first' : 'ours first', ...pairRatio(ours, theirs) });
      }
      ratios[n] = { rounds };
      for (const cfg of ['ggdr', 'noggdr']) {
        const wall = rounds.map((r) => r[cfg].wall as number), cpu = rounds.map((r) => r[cfg].cpu as number);
        ratios[n][cfg] = { wall: median(wall), cpu: median(cpu), wallMin: Math.min(...wall), wallMax: Math.max(...wall), rounds: rounds.length, peerThreads: threads };
      }
    }
    result.ratios = ratios;

    // ---- Matmul peaks: numpy (1 thread = the tfjs side's, and all cores), torch.mm, tfjs wasm / cpu matMul.
    log('matmul peaks');
    const peaks: Json = {};
    const np = await pythonHas('numpy');
    const sizes = QUICK ? '512,1024' : '512,1024,2048';
    if (np.ok) {
      for (const threads of [...new Set([1, ...threadCounts, os.availableParallelism()])]) {
        const env = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
        const o = await runPython<Json>('bench/torch/matmul_peak.py', ['--threads', String(threads), '--sizes', sizes, ...(torch.ok ? ['--torch'] : [])], { timeoutSec: 120, env });
        peaks[`numpy${threads}`] = outcome(o);
        if (!o.ok) problems.push(`numpy peak (${threads} threads): ${o.error}`);
      }
    } else {
      peaks.numpySkipped = np.reason;
    }
    for (const [name, s] of [['wasm', [512, 1024]], ['cpu', [256, 512]]] as const) {
      const o = await runChild<Json>('matmul', { backend: name, sizes: s, reps: QUICK ? 2 : 4 }, { timeoutSec: 120, tmpDir: tmp });
      peaks[`tfjs_${name}`] = outcome(o);
      if (!o.ok) problems.push(`tfjs ${name} matmul: ${o.error}`);
    }
    result.peaks = peaks;

    // ---- cpu Conv2DBackpropFilter: built-in vs our replacement, on the shapes one training step uses.
    const calls = training.cpu?.runs?.ggdr?.convFilterGradCalls;
    if (calls) {
      log('cpu Conv2DBackpropFilter: built-in vs replacement');
      const merged = new Map<string, { call: Json; countPlain: number; countR1: number }>();
      for (const [kind, list] of [['plain', calls.plainStep], ['r1', calls.r1Step]] as const) {
        for (const e of list as Array<{ call: Json; count: number }>) {
          const key = JSON.stringify(e.call);
          const cur = merged.get(key) ?? { call: e.call, countPlain: 0, countR1: 0 };
          if (kind === 'plain') cur.countPlain += e.count; else cur.countR1 += e.count;
          merged.set(key, cur);
        }
      }
      const o = await runChild<Json>('kernels', { calls: [...merged.values()] }, { timeoutSec: 300, tmpDir: tmp });
      result.kernels = outcome(o);
      if (!o.ok) problems.push(`kernels: ${o.error}`);
    } else {
      result.kernels = { skipped: 'the cpu training run did not record its Conv2DBackpropFilter calls' };
    }

    // ---- Sample grids and K-means on a fresh mnist32 G_ema (default backend).
    log('sample grids + K-means');
    {
      const o = await runChild<Json>('samples', { backend: 'auto', counts: [16, 64], reps: 3, clusterSeeds: 8 }, { timeoutSec: 180, tmpDir: tmp });
      result.samples = outcome(o);
      if (!o.ok) problems.push(`samples: ${o.error}`);
    }

    // ---- The checkpoint viewer and segmentation panel through the real inference process, on wasm.
    result.viewer = await viewerSection(tmp, problems);

    // ---- Loss-panel data path, then FID; both shrink (and extrapolate) to stay within the budget.
    const perSample = (result.samples?.grid?.find((g: Json) => g.samples === 64)?.renderSeedsSec ?? 1) / 64;
    const fidEstimate = (n: number) => 15 + n * perSample * 1.5; // generate + LeNet features of n fakes and n reals (measured ≈1.2×)
    result.webview = await webviewSection(tmp, problems);
    const webview = result.webview;
    result.stats = await statsSection(tmp, problems, fidEstimate(FID_SAMPLES),
      webview.skipped ? undefined : (dir, stage) => webviewBigCase(tmp, problems, webview, dir, stage, fidEstimate(FID_SAMPLES)));
    result.fid = await fidSection(tmp, problems, perSample, fidEstimate);

    // ---- Official StyleGAN2-ADA / GGDR .pkl checkpoints: load cost, wasm render cost, the official code as the peer.
    // Last and outside the budget (≈2–3 min), so the budgeted pieces above measure what they did before it existed.
    result.official = await officialSection(tmp, problems);

    // ---- Data-parallel training: images/s at 1, 2, … workers and the peer at as many threads (also outside the budget).
    result.scaling = await scalingSection(scalingArgs(realsFile, tmp, 2), problems);

    // ---- Parallel inference: the viewer's grid and the segmentation of a paper256 generator at 1 and N inference threads (also outside the budget).
    result.inference = await inferenceBenchSection(tmp, problems);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish(result, problems, () => renderMarkdown(result) + '\n' + scalingMarkdown(result.scaling) + '\n' + inferenceMarkdown(result.inference));
}

/**
 * @param onBigFile called with the big file's folder (and its last stage: lines, bytes, runs) before it is
 *   deleted: the webview section's decimated big-file case reuses it.
 */
async function statsSection(tmp: string, problems: string[], reserveSec: number, onBigFile?: (dir: string, stage: Json) => Promise<void>): Promise<Json> {
  const out: Json = {};
  const base = await runChild<Json>('baseline', {}, { timeoutSec: 60, tmpDir: tmp });
  out.baselineRssMB = base.ok ? base.value.maxRssMB : null;
  // 100k stats lines (one per tick: 100k points on every curve).
  const smallDir = path.join(tmp, 'small');
  fs.mkdirSync(smallDir);
  const smallLines = QUICK ? 10000 : 100000;
  const small = writeStatsFile(path.join(smallDir, 'stats.jsonl'), { lines: smallLines });
  out.small = { ...small, runs: {} };
  for (const how of ['readStats', 'lossDataSource']) {
    log(`stats: ${smallLines} lines, ${how}`);
    const o = await runChild<Json>('stats', { file: path.join(smallDir, 'stats.jsonl'), how }, { timeoutSec: 120, tmpDir: tmp });
    out.small.runs[how] = outcome(o);
    if (!o.ok) problems.push(`stats ${how}: ${o.error}`);
  }
  fs.rmSync(smallDir, { recursive: true, force: true });
  // The big file: 256 MB first; then grown to BIG_STATS_MB (1 GB) and measured again if the rates
  // just seen say that fits the budget, else the 256 MB numbers are extrapolated linearly.
  const modes = ['streamColumns', 'readStatsKeep', 'lossDataSource'];
  const bigDir = path.join(tmp, 'big');
  fs.mkdirSync(bigDir);
  const file = path.join(bigDir, 'stats.jsonl');
  out.requestedMB = BIG_STATS_MB;
  out.big = [];
  let have: { lines: number; bytes: number } | undefined;
  for (const mb of [...new Set([Math.min(256, BIG_STATS_MB), BIG_STATS_MB])]) {
    if (have) {
      const prev = out.big[out.big.length - 1];
      const genRate = prev.bytes / 2 ** 20 / prev.generateSec;
      const est = (mb - prev.bytes / 2 ** 20) / genRate + modes.reduce((acc, how) => acc + mb / (prev.runs[how]?.mbPerSec ?? 20) * 1.048576 + 3, 0);
      const left = BUDGET_SEC - elapsed() - reserveSec;
      if (est > left) {
        out.note = `growing the file to ${mb} MB and reading it 3 ways would take ≈${Math.round(est)} s at the rates measured on ${Math.round(prev.bytes / 2 ** 20)} MB, ` +
          `but ≈${Math.max(0, Math.round(left))} s of the ${BUDGET_SEC} s budget were left: the ${Math.round(prev.bytes / 2 ** 20)} MB times are extrapolated linearly`;
        break;
      }
    }
    log(`stats: ${have ? 'growing' : 'generating'} a ${mb} MB stats.jsonl`);
    const t = performance.now();
    have = writeStatsFile(file, { bytes: mb * 2 ** 20 }, have);
    const stage: Json = { ...have, targetMB: mb, generateSec: (performance.now() - t) / 1000, runs: {} };
    for (const how of modes) {
      log(`stats: ${mb} MB, ${how}`);
      const o = await runChild<Json>('stats', { file, how }, { timeoutSec: 300, tmpDir: tmp, nodeArgs: ['--max-old-space-size=8192'] });
      stage.runs[how] = outcome(o);
      if (!o.ok) problems.push(`stats ${mb} MB ${how}: ${o.error}`);
    }
    out.big.push(stage);
  }
  if (onBigFile && out.big.length) await onBigFile(bigDir, out.big[out.big.length - 1]);
  fs.rmSync(bigDir, { recursive: true, force: true });
  return out;
}

/**
 * The loss-curves webview (real bundle, headless Chromium, bench/lossWebviewPage.ts) on a 100k-line
 * trainer-shaped stats.jsonl: every line drawn (history cap above the line count), and as shipped
 * (min/max-decimated past DEFAULT_HISTORY_CAP rows). Load until every chart is drawn, then full redraws.
 */
async function webviewSection(tmp: string, problems: string[]): Promise<Json> {
  if (!CHROMIUM) return { skipped: 'no Chromium found (looked for /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome; set GAN_CHROMIUM to its path): the loss webview cannot be loaded' };
  const dir = path.join(tmp, 'webview');
  fs.mkdirSync(dir);
  const lines = QUICK ? 20000 : 100000;
  const file = writeStatsFile(path.join(dir, 'stats.jsonl'), { lines });
  const out: Json = { chromium: CHROMIUM, lines, bytes: file.bytes, cases: [] };
  for (const [label, historyCap] of [['every line', 2 * lines], ['as shipped', undefined]] as const) {
    log(`webview: ${lines} lines, ${label}`);
    const o = await runChild<Json>('webview', { dir, lines, historyCap, reps: WEBVIEW_REPS }, { timeoutSec: 240, tmpDir: tmp });
    out.cases.push({ case: `${lines} lines, ${label}`, ...outcome(o) });
    if (!o.ok) problems.push(`webview ${label}: ${o.error}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/** The webview on the big stats.jsonl in `dir` (as shipped: decimated), if that fits the budget (≈ its LossDataSource read + 20 s). */
async function webviewBigCase(tmp: string, problems: string[], out: Json, dir: string, stage: Json, reserveSec: number): Promise<void> {
  const mb = Math.round(stage.bytes / 2 ** 20);
  const est = (stage.runs?.lossDataSource?.sec ?? stage.bytes / 2 ** 20 / 40) + 20;
  const left = BUDGET_SEC - elapsed() - reserveSec;
  if (est > left) {
    out.bigNote = `the ${mb} MB case would take ≈${Math.round(est)} s but ≈${Math.max(0, Math.round(left))} s of the ${BUDGET_SEC} s budget were left`;
    return;
  }
  log(`webview: ${mb} MB (${stage.lines} lines), as shipped`);
  const o = await runChild<Json>('webview', { dir, lines: stage.lines, reps: WEBVIEW_REPS }, { timeoutSec: 300, tmpDir: tmp });
  out.cases.push({ case: `${mb} MB (${stage.lines} lines), as shipped`, ...outcome(o) });
  if (!o.ok) problems.push(`webview ${mb} MB: ${o.error}`);
}

/** Where the viewer section keeps its short mnist32 run (reused by later benches) and the inference bundle. */
const VIEWER_CACHE = path.join(REPO, 'bench-output', 'viewer-cache');

/**
 * The checkpoint viewer's and segmentation panel's requests through the real inference process, forced onto
 * the fallback backend (wasm), on a short mnist32 snapshot (trained into VIEWER_CACHE once, then reused):
 * 16-sample grid (first render with checkpoint load, re-renders after ψ changes), segmentation of 16 samples
 * at 4/8/16/32, and the panel's default request (8/16/32 + D's decoder on fakes and 16 reals).
 */
async function viewerSection(tmp: string, problems: string[]): Promise<Json> {
  log('viewer: grid renders and segmentation through the inference process (wasm)');
  const args = { cacheDir: VIEWER_CACHE, kimg: 0.032, psiReps: QUICK ? 3 : 7, segReps: QUICK ? 1 : 3, seeds: 16, fitPixels: 20000 /* the panel's FIT_PIXELS */ };
  const o = await runChild<Json>('viewer', args, { timeoutSec: 240, tmpDir: tmp });
  if (!o.ok) problems.push(`viewer: ${o.error}${o.progress ? ` (last progress: ${JSON.stringify(o.progress)})` : ''}`);
  return { ...outcome(o), childWallSec: o.wallSec };
}

/** The official GGDR fixture run's last pickle (../shared, next to the repository; never copied into it). */
const OFFICIAL_FIXTURE_PKL = path.resolve(REPO, '..', 'shared', 'fixtures', 'official-ggdr-pkl', 'training-runs', '00000-mnist32-cifar-kimg5-batch16', 'network-snapshot-000005.pkl');
/** Where a paper256-size pickle made with the official code is looked for when OFFICIAL_PAPER256_PKL is not set. */
const OFFICIAL_PAPER256_DEFAULT = '/work/scratch/official/pkls/paper256/network-snapshot-000000.pkl';
/** Where a CPU-runnable checkout of the official GGDR code is looked for when OFFICIAL_GGDR_DIR is not set. */
const OFFICIAL_GGDR_DEFAULT = '/work/scratch/official/GGDR';
const PAPER256_HOWTO = 'set OFFICIAL_PAPER256_PKL to a paper256 .pkl; make one with the official code as ../shared/fixtures/official-ggdr-pkl/README.md describes';
/** The ways of reading a pickle, each in a fresh child (bench/child.ts officialLoad). */
const OFFICIAL_LOADS = ['parse', 'all', 'gema', 'build', 'buildD'] as const;

/** The official checkpoint to bench, or why not. */
function paper256Pkl(): { file: string; from: string } | { notRun: string } {
  const env = process.env.OFFICIAL_PAPER256_PKL;
  if (env) {
    const file = path.resolve(env);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return { notRun: `OFFICIAL_PAPER256_PKL=${env} is not a file; ${PAPER256_HOWTO}` };
    return { file, from: 'OFFICIAL_PAPER256_PKL' };
  }
  if (fs.existsSync(OFFICIAL_PAPER256_DEFAULT)) return { file: OFFICIAL_PAPER256_DEFAULT, from: `the default path (OFFICIAL_PAPER256_PKL not set)` };
  return { notRun: PAPER256_HOWTO };
}

/** The official GGDR checkout the PyTorch peer imports `legacy` / `dnnlib` from, or why the peer cannot run. */
async function officialPeerDir(): Promise<{ dir: string; from: string; torch: string } | { notRun: string }> {
  const env = process.env.OFFICIAL_GGDR_DIR;
  const dir = env ? path.resolve(env) : fs.existsSync(OFFICIAL_GGDR_DEFAULT) ? OFFICIAL_GGDR_DEFAULT : undefined;
  if (!dir) return { notRun: `OFFICIAL_GGDR_DIR is not set (and ${OFFICIAL_GGDR_DEFAULT} does not exist): point it at a CPU-runnable checkout of the official GGDR code (naver-ai/GGDR)` };
  const missing = ['legacy.py', 'dnnlib', 'torch_utils'].filter((x) => !fs.existsSync(path.join(dir, x)));
  if (missing.length) return { notRun: `${dir}${env ? ' (OFFICIAL_GGDR_DIR)' : ''} is not an official GGDR / StyleGAN2-ADA checkout: no ${missing.join(', ')}` };
  const torch = await pythonHas('torch');
  if (!torch.ok) return { notRun: torch.reason };
  return { dir, from: env ? 'OFFICIAL_GGDR_DIR' : 'the default path (OFFICIAL_GGDR_DIR not set)', torch: torch.version };
}

/** Reads a file once (to /dev/null) so every measurement starts with it in the page cache. */
function warmPageCache(file: string): number {
  const t = performance.now();
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try { while (fs.readSync(fd, buf, 0, buf.length, null) > 0) { /* discard */ } } finally { fs.closeSync(fd); }
  return (performance.now() - t) / 1000;
}

/** Max |a − b| and max |b| of two raw float32 files of the same length. */
function compareF32(a: string, b: string): { maxAbs: number; maxRef: number; n: number } | { error: string } {
  const x = new Float32Array(fs.readFileSync(a).buffer.slice(0)), y = new Float32Array(fs.readFileSync(b).buffer.slice(0));
  if (x.length !== y.length) return { error: `ours has ${x.length} values, the official ${y.length}` };
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < x.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i])); maxRef = Math.max(maxRef, Math.abs(y[i])); }
  return { maxAbs, maxRef, n: x.length };
}

/**
 * Official StyleGAN2-ADA / GGDR pickles: the fixture's (8.5 MB, 32 px) and a paper256-size one (302 MB, 256 px):
 * load time and peak RSS of each way of reading (fresh child each, `reps` times), the wasm backend's seconds per
 * image (full resolution; features up to 64 px only) and the segmentation of 8 samples at 8–64 px, then the same
 * work by the official code in PyTorch (bench/torch/official_peer.py) for the ours/official ratios.
 */
async function officialSection(tmp: string, problems: string[]): Promise<Json> {
  const reps = QUICK ? 1 : 3;
  const out: Json = { reps, files: [] };
  const peerDir = await officialPeerDir();
  out.peer = 'notRun' in peerDir ? { notRun: peerDir.notRun } : peerDir;
  const base = await runChild<Json>('baseline', {}, { timeoutSec: 60, tmpDir: tmp });
  const baseWasm = await runChild<Json>('baseline', { backend: 'wasm' }, { timeoutSec: 60, tmpDir: tmp });
  out.baselineRssMB = base.ok ? base.value.maxRssMB : null;
  out.baselineWasmRssMB = baseWasm.ok ? baseWasm.value.maxRssMB : null;
  const p256 = paper256Pkl();
  const targets: Array<{ name: string; file?: string; from?: string; notRun?: string; infer: Json }> = [
    fs.existsSync(OFFICIAL_FIXTURE_PKL)
      ? { name: 'fixture', file: OFFICIAL_FIXTURE_PKL, from: '../shared fixture', infer: { batch: 8, reps: QUICK ? 2 : 3 } }
      : { name: 'fixture', notRun: `the official fixture is not at ${OFFICIAL_FIXTURE_PKL}`, infer: {} },
    'notRun' in p256
      ? { name: 'paper256', notRun: p256.notRun, infer: {} }
      : { name: 'paper256', file: p256.file, from: p256.from, infer: { batch: 2, reps: QUICK ? 2 : 3, featRes: 64, segSeeds: 8, segRes: [8, 16, 32, 64] } },
  ];
  for (const tg of targets) {
    if (!tg.file) { out.files.push({ name: tg.name, notRun: tg.notRun }); continue; }
    const entry: Json = { name: tg.name, file: tg.file, from: tg.from, bytes: fs.statSync(tg.file).size, loads: {} };
    out.files.push(entry);
    entry.pageCacheWarmSec = warmPageCache(tg.file);
    // ---- Reading: each way in a fresh child, `reps` times; medians of the times, the highest peak RSS.
    for (const how of OFFICIAL_LOADS) {
      log(`official ${tg.name}: read '${how}' ×${reps}`);
      const runs: Json[] = [];
      for (let i = 0; i < reps; i++) {
        const o = await runChild<Json>('officialLoad', { file: tg.file, how, backend: 'wasm' }, { timeoutSec: 300, tmpDir: tmp });
        if (!o.ok) { problems.push(`official ${tg.name} read '${how}': ${o.error}`); runs.push({ error: o.error }); break; }
        if (o.value.skipped) { runs.push(o.value); break; }
        runs.push(o.value);
      }
      const good = runs.filter((x) => typeof x.sec === 'number');
      entry.loads[how] = good.length
        ? { runs: good, sec: median(good.map((x) => x.sec)), cpuSec: median(good.map((x) => x.cpuSec)), maxRssMB: Math.max(...good.map((x) => x.maxRssMB)),
            bytesRead: good[0].bytesRead, tensors: good[0].tensors, networks: good[0].networks, tensorMB: good[0].tensorMB, resolution: good[0].resolution }
        : runs[runs.length - 1];
    }
    // ---- Rendering on wasm, then the official code on the same pickle and seeds right after (the machine drifts).
    log(`official ${tg.name}: wasm renders${tg.infer.segSeeds ? ` + segmentation of ${tg.infer.segSeeds} samples` : ''}`);
    const oursDump = path.join(tmp, `official-${tg.name}-ours.f32`), peerDump = path.join(tmp, `official-${tg.name}-peer.f32`);
    const o = await runChild<Json>('officialInfer', { file: tg.file, backend: 'wasm', ...tg.infer, dump: oursDump }, { timeoutSec: 900, tmpDir: tmp });
    if (!o.ok) problems.push(`official ${tg.name} wasm render: ${o.error}${o.progress ? ` (last progress: ${JSON.stringify(o.progress)})` : ''}`);
    entry.ours = { ...outcome(o), childWallSec: o.wallSec, load1After: load1() };
    if ('notRun' in peerDir) continue;
    const threads = (o.ok && o.value.backend?.threads) || 1;
    log(`official ${tg.name}: PyTorch peer (official G_ema, ${threads} thread${threads === 1 ? '' : 's'})`);
    const env = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const args = ['--ggdr-dir', peerDir.dir, '--pkl', tg.file, '--threads', String(threads), '--batch', String(tg.infer.batch), '--reps', String(tg.infer.reps), '--dump', peerDump,
      ...(tg.infer.featRes ? ['--feat-res', String(tg.infer.featRes)] : []), ...(tg.infer.segSeeds ? ['--seg-seeds', String(tg.infer.segSeeds)] : [])];
    const p = await runPython<Json>('bench/torch/official_peer.py', args, { timeoutSec: 600, env });
    if (!p.ok) problems.push(`official ${tg.name} PyTorch peer: ${p.error}`);
    entry.peer = { ...outcome(p), load1After: load1() };
    if (o.ok && p.ok && fs.existsSync(oursDump) && fs.existsSync(peerDump)) {
      const c = compareF32(oursDump, peerDump);
      entry.crossCheck = { what: `seeds 0–${tg.infer.batch - 1} (ψ 1, noise const, float32 before clamping)`, ...c };
      if ('error' in c) problems.push(`official ${tg.name}: ours vs official images: ${c.error}`);
      else if (c.maxAbs > 1e-2 * Math.max(1, c.maxRef)) problems.push(`official ${tg.name}: ours and the official G_ema disagree (max |Δ| ${c.maxAbs.toExponential(2)}, max |official| ${c.maxRef.toFixed(2)}): not the same work`);
    }
    // ours ÷ official (time; > 1: ours slower), wall and CPU time.
    if (o.ok && p.ok) {
      const ours = o.value, th = p.value;
      const pair = (a?: number, b?: number) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
      const all = entry.loads.all;
      entry.ratios = {
        loadAll: { wall: pair(all?.sec, th.loadSec), cpu: pair(all?.cpuSec, th.loadCpuSec) },
        build: { wall: pair(entry.loads.build?.sec, th.loadSec), cpu: pair(entry.loads.build?.cpuSec, th.loadCpuSec) },
        full: { wall: pair(ours.full?.secPerImage, th.full?.secPerImage), cpu: pair(ours.full?.cpuSecPerImage, th.full?.cpuSecPerImage) },
        features: { wall: pair(ours.features?.secPerImage, th.features?.secPerImage), cpu: pair(ours.features?.cpuSecPerImage, th.features?.cpuSecPerImage) },
        segmentRender: { wall: pair(ours.segment?.renderSec, th.segmentRender?.sec), cpu: pair(ours.segment?.renderCpuSec, th.segmentRender?.cpuSec) },
      };
    }
    for (const f of [oursDump, peerDump]) fs.rmSync(f, { force: true });
  }
  return out;
}

async function fidSection(tmp: string, problems: string[], perSample: number, estimate: (n: number) => number): Promise<Json> {
  const dir = path.join(REPO, 'src', 'core', 'metrics');
  if (!fs.existsSync(path.join(dir, 'fid.ts'))) return { skipped: 'src/core/metrics has no FID implementation yet' };
  const left = BUDGET_SEC - elapsed();
  // As many samples as fit (at least 500), extrapolated linearly to FID_SAMPLES when fewer.
  let n = FID_SAMPLES;
  while (n > 500 && estimate(n) > left) n = Math.max(500, Math.floor(n / 2 / 250) * 250);
  log(`FID: ${n} samples (LeNet features)`);
  const o = await runChild<Json>('fid', { backend: 'auto', samples: n, trainBudgetSec: Math.max(5, left - estimate(n)) }, { timeoutSec: Math.round(Math.max(60, left + 120)), tmpDir: tmp });
  if (!o.ok) { problems.push(`fid: ${o.error}`); return { error: o.error }; }
  const v = o.value;
  if (v.skipped) return v;
  const scale = FID_SAMPLES / n;
  return { ...v, target: FID_SAMPLES, perSampleEstimateSec: perSample,
    ...(n < FID_SAMPLES ? { extrapolated: `measured ${n} samples, scaled ×${scale} to ${FID_SAMPLES}`, perSnapshotSecAtTarget: v.perSnapshotSec * scale, realFeaturesSecAtTarget: v.realFeaturesSec * scale } : {}) };
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
