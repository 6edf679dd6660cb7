/**
 * The training loop: options in, a run folder out (StyleGAN2-ADA's training_loop shape).
 * Its only links to the outside are the hooks (progress, log) and an AbortSignal; it never knows
 * whether it runs in a terminal, a test or the extension's child process.
 *
 * Per tick: one stats.jsonl line, status.json; every `snapshotTicks` ticks (and at the end):
 * fakes<kimg>.png from the fixed seeds and a network snapshot (+ metrics at the `metricsKimg`
 * cadence). A stop request saves a snapshot holding the partial tick, so --resume continues it
 * exactly. A NaN/Inf loss or gradient rolls the step back, saves that state if every tensor of it
 * is finite, and ends the run as failed naming the term, the step and the last good snapshot.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeOptions, type TrainingOptions } from '../config/options';
import { initBackend, type BackendInfo } from '../backend/backend';
import { type Dataset, getBatch, getImage, loadDataset } from '../data/dataset';
import { makeGrid, writePngAtomic } from '../image/grid';
import { renderSeeds } from '../analysis/samples';
import { checkMetricsForDataset, computeMetricLines, parseMetricName } from '../metrics/index';
import type { FeatureExtractor } from '../metrics/extractor';
import { LENET_DEFAULTS } from '../metrics/lenet';
import { appendLog, appendMetricLine, appendStatsLine, createRunDir, fakesName, metricFileName, RUN_FILES, snapshotName, StatusWriter, writeTrainingOptions } from '../runs/runDir';
import { removeStaleTemps } from '../runs/fsAtomic';
import { resumeTarget } from '../runs/resumeTarget';
import { acquireRunLock, type RunLock } from '../runs/runLock';
import { fsUserError } from '../runs/fsErrors';
import { trimStatsAfter } from '../runs/statsTrim';
import { shellQuote } from '../util/shellQuote';
import { Rng } from '../util/rng';
import { StatsCollector, makeStatsLine } from './stats';
import { GanTrainer, NonFiniteLossError } from './trainer';
import { ParallelTrainer, ReplicaFailedError } from './parallel/parallelTrainer';
import { resolveWorkers, withWorkers } from '../config/workers';
import { type LoopState, NonFiniteStateError, saveSnapshot, type SnapshotInfo } from './snapshot';
import { loadResumeSnapshot } from './resumeSnapshot';
import type { StatsLine } from '../../shared/runTypes';
import type { TrainProgress } from '../../shared/protocol/worker';

export type { TrainProgress };

export interface TrainHooks {
  onStarted?(info: { runDir: string; runName: string; backend: BackendInfo; totalKimg: number; workers?: number }): void;
  /** At most every `progressIntervalMs` and at every tick. */
  onProgress?(p: TrainProgress): void;
  onLog?(line: string): void;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** Where metric feature extractors (the MNIST LeNet) are cached; default ~/.cache/gan-inspector. */
  cacheDir?: string;
  /** Feature extractors to use by name instead of loading them (e.g. one LeNet shared by several runs). */
  extractors?: FeatureExtractor[];
}

export interface TrainResult {
  runDir: string | null;
  state: 'finished' | 'stopped' | 'failed';
  error?: string;
  userError?: boolean;
  latestSnapshot: string | null;
  /** kimg reached (undefined when the run never started training). */
  curKimg?: number;
  /** Things every surface must say (e.g. "the newest snapshot is broken, resumed from an older one"). */
  notices?: string[];
}

/** Grid seeds: the fixed latents of reals/fakes grids (seed i for cell i, as the viewer shows them). */
export function gridSeeds(opts: TrainingOptions): number[] {
  return Array.from({ length: opts.gridSize * opts.gridSize }, (_, i) => i);
}

/**
 * Whether a regular (tick) snapshot at `nimg` computes metrics, and from which nimg the next one
 * is due: at the first snapshot at/after each multiple of `metricsKimg` (counted in whole images)
 * and always at the final one; `metricsKimg` 0 means every snapshot.
 */
export function metricsDue(nimg: number, final: boolean, metricsKimg: number, nextNimg: number): { due: boolean; next: number } {
  const every = Math.round(metricsKimg * 1000);
  if (every <= 0) return { due: true, next: nextNimg };
  if (nimg >= nextNimg) return { due: true, next: firstMetricsNimg(nimg, metricsKimg) };
  return { due: final, next: nextNimg };
}

/** First nimg at which metrics are due after `nimg` (for a start, or a resume from an older snapshot). */
function firstMetricsNimg(nimg: number, metricsKimg: number): number {
  const every = Math.round(metricsKimg * 1000);
  return every <= 0 ? 0 : (Math.floor(nimg / every) + 1) * every;
}

/** What train() does: a new run with these options, or a resume of run folder `resumeDir` with its own options. */
export type TrainRequest = { options: TrainingOptions; resumeDir?: undefined } | { resumeDir: string; options?: undefined };

/** Trains a new run (or resumes `resumeDir`) until done, stopped, or failed. Never throws for run errors after the folder exists. */
export async function train(request: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  const resumeDir = request.resumeDir;
  const log = (line: string) => hooks.onLog?.(line);
  let runDir: string | null = null;
  let status: StatusWriter | null = null;
  let trainer: GanTrainer | null = null;
  /** The worker threads of data-parallel training (null: the step runs on this thread). */
  let par: ParallelTrainer | null = null;
  let latestSnapshot: string | null = null;
  let backend: BackendInfo | null = null;
  let tick = 0;
  /** Loop state for a snapshot taken now (set once the loop runs). */
  let loopState: (() => LoopState) | null = null;
  let lock: RunLock | null = null;
  /** A resume writes status.json only once it has loaded its snapshot: a failed resume leaves it as it was. */
  let statusTouched = false;
  const notices: string[] = [];
  // log.txt lines are appended one after another (concurrent appendFile calls can land out of order).
  let logAppends: Promise<void> = Promise.resolve();
  const logFile = (line: string) => {
    log(line);
    const dir = runDir;
    if (dir) logAppends = logAppends.then(() => appendLog(dir, line)).catch(() => undefined);
  };
  try {
    // ---- Options: fresh, or those of the run being resumed.
    let opts: TrainingOptions;
    let resumeFrom: string | null = null;
    let resumeCandidates: string[] = [];
    let resumeSkipped: Array<{ name: string; reason: string }> = [];
    if (request.resumeDir !== undefined) {
      // Its state and snapshots are read under the writer lock: whoever held the run before us may have moved it on.
      const r = await resumeTarget(request.resumeDir, {
        beforeRead: (dir) => {
          lock = acquireRunLock(dir, 'resume', (why) => log(`Took over the writer lock of ${path.basename(dir)}: ${why}.`));
        },
      });
      opts = r.options;
      resumeFrom = r.snapshotDir;
      resumeCandidates = r.candidates;
      resumeSkipped = r.skipped;
      runDir = r.runDir;
    } else {
      opts = request.options;
    }

    // ---- Everything that can reject the inputs runs before a run folder exists: a bad metric
    // name, backend or --data leaves nothing behind.
    for (const name of opts.metrics) parseMetricName(name);
    const be = backend = await initBackend(opts.backend);
    const backendLine = `Backend: ${be.name} ${be.version} (${be.threads} thread${be.threads === 1 ? '' : 's'})${be.notes.length ? ' — ' + be.notes.join('; ') : ''}`;
    // The worker count is resolved once and recorded (when > 1), so a resume continues with the same one.
    const workersPlan = resolveWorkers(opts, be, resumeDir ? 1 : 0);
    opts = withWorkers(opts, workersPlan.workers);
    const m = opts.model;
    const t0 = Date.now();
    const ds = await loadDataset(opts.data, { resolution: m.resolution, channels: m.channels as 1 | 3, maxImages: opts.maxImages, xflip: opts.datasetXflip });
    checkMetricsForDataset(opts.metrics, ds, hooks.extractors); // modes2k_lenet on non-MNIST data fails here, not at the first snapshot
    const dataLines = [
      `Dataset: ${ds.name} (${ds.source}), ${ds.count} images at ${m.resolution}×${m.resolution}×${m.channels}, loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      ...ds.warnings.map((w) => `Warning: ${w}`),
      ...metricSizeNotes(opts.metrics, ds.count).map((w) => `Warning: ${w}`),
    ];

    // ---- Run folder: training_options.json first (the contract every viewer reads).
    if (!runDir) {
      const created = await createRunDir(opts.outdir, describeOptions(opts));
      runDir = created.dir;
      lock = acquireRunLock(runDir, 'train');
      await writeTrainingOptions(runDir, opts, { name: be.name, version: be.version, threads: be.threads, notes: be.notes }, { dataPath: ds.path });
    }
    const totalKimg = opts.kimg;
    status = new StatusWriter(runDir, { totalKimg, state: 'running' });
    if (!resumeFrom) {
      await status.update({ state: 'running', lastError: null, pid: process.pid });
      statusTouched = true;
    } else {
      // Leftovers of writers that crashed in this folder (we hold its lock: no live writer owns them).
      const removed = await removeStaleTemps(runDir, { deadWriters: true });
      if (removed.length) log(`Removed ${removed.length} temp file(s) left by a crashed writer: ${removed.join(', ')}`);
    }
    hooks.onStarted?.({ runDir, runName: path.basename(runDir), backend: be, totalKimg, workers: workersPlan.workers });
    logFile(resumeFrom ? `Resuming ${runDir} from ${path.basename(resumeFrom)}` : `Run folder: ${runDir}`);
    logFile(backendLine);
    for (const l of dataLines) logFile(l);
    if (workersPlan.workers > 1) logFile(workersPlan.note);

    // ---- Networks.
    trainer = new GanTrainer(opts);
    const tr = trainer;
    logFile(`G: ${tr.G.params.numParams()} parameters, D: ${tr.D.params.numParams()} parameters (GGDR ${opts.ggdr.enabled ? `on: weight ${opts.ggdr.weight}, res ${opts.ggdr.res}` : 'off'})`);
    const collector = new StatsCollector();
    let resumedLoop: LoopState | undefined;
    if (resumeFrom) {
      // Newest snapshot first; a broken one is moved aside and the next older one used — and every surface says so.
      const loaded = await loadResumeSnapshot(tr, runDir, resumeCandidates, resumeSkipped);
      const meta = loaded.meta;
      resumeFrom = loaded.snapshotDir;
      if (loaded.notice) {
        notices.push(loaded.notice);
        logFile(`Warning: ${loaded.notice}`);
      }
      tick = meta.tick;
      resumedLoop = meta.loop;
      latestSnapshot = path.basename(resumeFrom);
      const trim = await trimStatsAfter(path.join(runDir, RUN_FILES.stats), meta.nimg / 1000);
      if (trim.moved) logFile(`stats.jsonl: ${trim.moved} line(s) after ${latestSnapshot} will be redone; moved to ${trim.rejectedFile} (${trim.kept} kept as they were).`);
      await status.update({ state: 'running', lastError: null, pid: process.pid, notice: notices.length ? notices.join(' ') : null });
      statusTouched = true;
    } else {
      await writeGrid(path.join(runDir, RUN_FILES.reals), realsGrid(ds, opts), opts);
      await writeFakes(tr, opts, path.join(runDir, RUN_FILES.fakesInit));
      const name = snapshotName(0);
      await saveSnapshot(runDir, name, tr, { tick: 0, backend: be, loop: { tickStartNimg: 0, tickElapsedSec: 0, totalSec: 0, maintenanceSec: 0, pendingStats: {}, metricsNextNimg: firstMetricsNimg(0, opts.metricsKimg) } });
      latestSnapshot = name;
      // StyleGAN2-ADA writes fakes000000.png at the start too; viewers pair it with snapshot 000000.
      await writeFakes(tr, opts, path.join(runDir, fakesName(0)));
    }
    await status.update({ latestSnapshot, curKimg: tr.nimg / 1000, tick });
    // Data-parallel workers start from the state just written (or resumed).
    if (workersPlan.workers > 1) par = await ParallelTrainer.start(tr, workersPlan.workers, be.name);

    // ---- Loop state: fresh, or where the resumed snapshot left the tick (older snapshots: a new tick).
    const totalNimg = Math.round(totalKimg * 1000);
    const now0 = Date.now();
    let tickStartNimg = resumedLoop?.tickStartNimg ?? tr.nimg;
    let tickStartTime = now0 - (resumedLoop?.tickElapsedSec ?? 0) * 1000;
    const startTime = now0 - (resumedLoop?.totalSec ?? 0) * 1000;
    let maintenanceSec = resumedLoop?.maintenanceSec ?? 0;
    let metricsNext = resumedLoop?.metricsNextNimg ?? firstMetricsNimg(tr.nimg, opts.metricsKimg);
    if (resumedLoop) collector.load(resumedLoop.pendingStats);
    loopState = () => ({
      tickStartNimg, tickElapsedSec: (Date.now() - tickStartTime) / 1000, totalSec: (Date.now() - startTime) / 1000,
      maintenanceSec, pendingStats: collector.save(), metricsNextNimg: metricsNext,
    });
    let lastProgress = 0;
    let lastLosses: Record<string, number> = {};
    let secPerKimg = 0;
    const progressEvery = hooks.progressIntervalMs ?? 2000;
    let stopped = false;

    while (tr.nimg < totalNimg) {
      if (hooks.signal?.aborted) { stopped = true; break; }
      const reals = realsBatch(ds, opts, tr.step);
      let stats;
      try {
        stats = await (par ?? tr).trainStep(reals);
      } finally {
        reals.dispose();
      }
      for (const [k, v] of Object.entries(stats)) collector.report(k, v);
      lastLosses = summarize(stats);
      const done = tr.nimg >= totalNimg;
      const now = Date.now();
      if (done || tr.nimg >= tickStartNimg + m.kimgPerTick * 1000) {
        // ---- Tick maintenance.
        await par?.sync(); // the workers' state into tr (and a check that every worker holds the same)
        tick++;
        const tickSec = (now - tickStartTime) / 1000;
        secPerKimg = tickSec / Math.max((tr.nimg - tickStartNimg) / 1000, 1e-9);
        const mt0 = Date.now();
        const snap = done || tick % m.snapshotTicks === 0;
        if (snap) {
          await writeFakes(tr, opts, path.join(runDir, fakesName(tr.nimg / 1000)));
          const name = snapshotName(tr.nimg / 1000);
          const metrics = opts.metrics.length ? metricsDue(tr.nimg, done, opts.metricsKimg, metricsNext) : { due: false, next: metricsNext };
          metricsNext = metrics.next;
          // The tick's stats line follows this snapshot, so a resume from it starts a fresh tick.
          await saveSnapshot(runDir, name, tr, {
            tick, backend: be,
            loop: { tickStartNimg: tr.nimg, tickElapsedSec: 0, totalSec: (now - startTime) / 1000, maintenanceSec, pendingStats: {}, metricsNextNimg: metricsNext },
          });
          latestSnapshot = name;
          if (metrics.due) await evaluateMetrics(tr, ds, opts, runDir, name, hooks, logFile);
        }
        const line = tickStats(collector, { tick, kimg: tr.nimg / 1000, totalSec: (now - startTime) / 1000, tickSec, secPerKimg, maintenanceSec });
        await appendStatsLine(runDir, line);
        maintenanceSec = (Date.now() - mt0) / 1000;
        await status.update({ curKimg: tr.nimg / 1000, tick, latestSnapshot, secPerKimg });
        // The tick's means, as in its stats.jsonl line (the last step's values are noisy).
        const tickMean = (k: string, last: number) => {
          const st = line[k];
          return typeof st === 'object' ? st.mean : last;
        };
        logFile(`tick ${tick}  kimg ${(tr.nimg / 1000).toFixed(3)}  sec/kimg ${secPerKimg.toFixed(1)}  ` +
          Object.entries(lastLosses).map(([k, v]) => `${k.replace('Loss/', '')} ${tickMean(k, v).toFixed(3)}`).join('  '));
        tickStartNimg = tr.nimg;
        tickStartTime = Date.now();
        lastProgress = 0;
      }
      if (Date.now() - lastProgress >= progressEvery) {
        lastProgress = Date.now();
        const left = (totalNimg - tr.nimg) / 1000;
        hooks.onProgress?.({ runDir, curKimg: tr.nimg / 1000, totalKimg, tick, secPerKimg, etaSec: secPerKimg > 0 ? left * secPerKimg : -1, losses: lastLosses });
      }
      await new Promise((r) => setImmediate(r)); // let IPC messages and signals in between steps
    }

    if (stopped) {
      await par?.sync();
      // Keep the work since the last snapshot, with the partial tick's stats: save one more unless we are exactly at it.
      const name = snapshotName(tr.nimg / 1000);
      if (name !== latestSnapshot) {
        await saveSnapshot(runDir, name, tr, { tick, backend: be, loop: loopState() });
        latestSnapshot = name;
      }
      await status.update({ state: 'stopped', curKimg: tr.nimg / 1000, latestSnapshot });
      logFile(`Stopped at kimg ${(tr.nimg / 1000).toFixed(3)}; latest snapshot ${latestSnapshot}`);
      return { runDir, state: 'stopped', latestSnapshot, curKimg: tr.nimg / 1000, notices };
    }
    await status.update({ state: 'finished', curKimg: tr.nimg / 1000, latestSnapshot });
    logFile(`Finished: ${(tr.nimg / 1000).toFixed(3)} kimg. Latest snapshot ${latestSnapshot}.`);
    return { runDir, state: 'finished', latestSnapshot, curKimg: tr.nimg / 1000, notices };
  } catch (e) {
    const fsErr = fsUserError(e, {
      doing: runDir ? `writing ${path.basename(runDir)}` : 'creating the run folder', option: '--outdir',
      then: runDir && latestSnapshot
        ? `The run stopped; its latest good snapshot is ${latestSnapshot}; resume with: gan-inspector train --resume ${shellQuote(runDir)}`
        : undefined,
    });
    const workerFailed = e instanceof ReplicaFailedError;
    let message = fsErr ? fsErr.message : workerFailed
      ? `${e.message}. The step was not applied and nothing was written; the latest good snapshot is ${latestSnapshot ?? 'none'}` +
        (runDir && latestSnapshot ? `; resume with: gan-inspector train --resume ${shellQuote(runDir)}` : '') + '.'
      : (e as Error)?.stack ?? String(e);
    const diverged = e instanceof NonFiniteLossError || e instanceof NonFiniteStateError;
    if (diverged && par) await par.sync().catch(() => undefined); // the rolled-back state, to save below
    if (diverged && runDir && trainer) {
      message = await divergenceMessage(e, runDir, trainer, { tick, backend: backend ?? { name: tf.getBackend() }, loop: loopState?.() }, latestSnapshot, (n) => { latestSnapshot = n; });
    }
    logFile(`Error: ${message}`);
    if (status && statusTouched) await status.update({ state: 'failed', lastError: message, latestSnapshot }).catch(() => undefined);
    return { runDir, state: 'failed', error: message, userError: !!fsErr || diverged || workerFailed, latestSnapshot, curKimg: trainer ? trainer.nimg / 1000 : undefined, notices };
  } finally {
    await par?.dispose();
    trainer?.dispose();
    await status?.flush();
    await logAppends;
    lock?.release();
  }
}

/**
 * The failure message of a diverged run, after saving the in-memory state when it is a good one:
 * a NonFiniteLossError rolled the failing step back, so the trainer holds the state after the step
 * before; it is written only if every tensor of it is finite (saveSnapshot checks), else the last
 * snapshot on disk is named.
 */
async function divergenceMessage(
  e: NonFiniteLossError | NonFiniteStateError, runDir: string, t: GanTrainer,
  info: SnapshotInfo,
  latest: string | null, setLatest: (name: string) => void,
): Promise<string> {
  const kimg = (t.nimg / 1000).toFixed(3);
  const onDisk = latest ? `the last good snapshot is ${latest}` : 'no snapshot was saved';
  const hint = 'Try lower learning rates (--glr/--dlr) or a larger R1 gamma (--gamma).';
  if (e instanceof NonFiniteStateError) {
    return `Training diverged by step ${t.step} (kimg ${kimg}): the state to snapshot is not finite: ${e.message}. It was not saved; ${onDisk}. ${hint}`;
  }
  const what = e.kind === 'gradient'
    ? `the ${e.phase} gradient became ${e.value} (Σg² over the phase's gradients; g² overflowing float32 counts)`
    : e.kind === 'state' ? `${e.term} became ${e.value} after ${e.phase}'s update` : `${e.term} became ${e.value}`;
  let where: string;
  try {
    const name = snapshotName(t.nimg / 1000);
    if (name === latest) {
      where = `The step was rolled back; the last good state is ${name} (already on disk).`;
    } else {
      await saveSnapshot(runDir, name, t, info);
      setLatest(name);
      where = `The step was rolled back and the last good state (after step ${t.step - 1}, every tensor checked finite) is saved as ${name}.`;
    }
  } catch (saveErr) {
    where = saveErr instanceof NonFiniteStateError
      ? `The state before it is not finite either (${saveErr.message}), so it was not saved; ${onDisk}.`
      : `Saving the state before it failed (${(saveErr as Error).message}); ${onDisk}.`;
  }
  return `Training diverged at step ${e.step} (kimg ${kimg}): ${what}. ${where} ${hint}`;
}

/**
 * FID fits a Gaussian to the real features: with fewer images than feature dimensions its covariance
 * is singular and the value means little. Said before training, not discovered in the numbers.
 */
export function metricSizeNotes(metrics: readonly string[], count: number): string[] {
  const notes: string[] = [];
  for (const name of metrics) {
    const spec = parseMetricName(name);
    const dim = spec.extractor === 'lenet' ? LENET_DEFAULTS.features : undefined;
    if (spec.kind === 'fid' && dim !== undefined && count < dim) {
      notes.push(`${spec.name}: the dataset has ${count} image${count === 1 ? '' : 's'}, fewer than the ${dim} feature dimensions FID needs for a meaningful covariance; its values will not be comparable.`);
    } else if (count < 2) {
      notes.push(`${spec.name}: the dataset has ${count} image; the metric needs at least 2.`);
    }
  }
  return notes;
}

/** Appends metric-<name>.jsonl lines for the snapshot just written (G_ema, as StyleGAN2-ADA evaluates). */
async function evaluateMetrics(t: GanTrainer, ds: Dataset, opts: TrainingOptions, runDir: string, snapshot: string, hooks: TrainHooks, logFile: (l: string) => void): Promise<void> {
  const lines = await computeMetricLines(t.G_ema, ds, opts.metrics, snapshot, { cacheDir: hooks.cacheDir, extractors: hooks.extractors, onLog: logFile, signal: hooks.signal });
  for (const line of lines) {
    // Logged first: if the append fails (disk full, metric-*.jsonl is a folder) the value is still in log.txt and the message.
    logFile(`metric ${line.metric} at ${snapshot}: ${Object.entries(line.results).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')} (${line.total_time_str})`);
    try {
      await appendMetricLine(runDir, line);
    } catch (e) {
      throw fsUserError(e, { doing: `appending to ${metricFileName(line.metric)}`, then: `The computed value (${line.metric} ${Object.values(line.results)[0]} at ${snapshot}) is in log.txt.` }) ?? e;
    }
  }
}

function realsBatch(ds: Dataset, opts: TrainingOptions, step: number): tf.Tensor4D {
  const rng = Rng.for(opts.seed, 'data', step);
  const n = opts.model.batch, R = opts.model.resolution, C = opts.model.channels;
  const idx = Array.from({ length: n }, () => rng.int(ds.length));
  return tf.tensor4d(getBatch(ds, idx), [n, R, R, C]);
}

function realsGrid(ds: Dataset, opts: TrainingOptions): Uint8Array[] {
  const rng = Rng.for(opts.seed, 'reals-grid');
  return Array.from({ length: opts.gridSize * opts.gridSize }, () => getImage(ds, rng.int(ds.length)));
}

async function writeGrid(file: string, images: Uint8Array[], opts: TrainingOptions): Promise<void> {
  await writePngAtomic(file, makeGrid(images, opts.model.resolution, opts.model.channels as 1 | 3, opts.gridSize));
}

async function writeFakes(t: GanTrainer, opts: TrainingOptions, file: string): Promise<void> {
  const { images } = await renderSeeds(t.G_ema, gridSeeds(opts), { noiseMode: 'const' });
  await writeGrid(file, images, opts);
}

/** Latest scalar of each loss for progress messages. */
function summarize(stats: Record<string, number | Float32Array>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (!k.startsWith('Loss/') || k.startsWith('Loss/scores')) continue;
    out[k] = typeof v === 'number' ? v : v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
  }
  return out;
}

function tickStats(c: StatsCollector, t: { tick: number; kimg: number; totalSec: number; tickSec: number; secPerKimg: number; maintenanceSec: number }): StatsLine {
  c.report('Progress/tick', t.tick);
  c.report('Progress/kimg', t.kimg);
  c.report('Timing/total_sec', t.totalSec);
  c.report('Timing/sec_per_tick', t.tickSec);
  c.report('Timing/sec_per_kimg', t.secPerKimg);
  c.report('Timing/maintenance_sec', t.maintenanceSec);
  c.report('Timing/total_hours', t.totalSec / 3600);
  c.report('Resources/cpu_mem_gb', process.memoryUsage().rss / 2 ** 30);
  c.report('Resources/num_tensors', tf.memory().numTensors);
  return makeStatsLine(c.drain());
}
