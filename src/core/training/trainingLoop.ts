/**
 * The training loop: options in, a run folder out (StyleGAN2-ADA's training_loop shape).
 * Its only links to the outside are the hooks (progress, log) and an AbortSignal; it never knows
 * whether it runs in a terminal, a test or the extension's child process.
 *
 * Per tick: one stats.jsonl line, status.json; every `snapshotTicks` ticks (and at the end):
 * fakes<kimg>.png from the fixed seeds and a network snapshot. A stop request saves a snapshot;
 * a NaN/Inf loss saves the last good state and ends the run as failed with the term and step.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeOptions, TrainingOptions } from '../config/options';
import { isUserError, UserError } from '../errors';
import { initBackend, BackendInfo } from '../backend/backend';
import { Dataset, getBatch, getImage, loadDataset } from '../data/dataset';
import { makeGrid, writePngAtomic } from '../image/grid';
import { renderSeeds } from '../analysis/samples';
import { computeMetricLines, parseMetricName } from '../metrics/metrics';
import { appendLog, appendMetricLine, appendStatsLine, createRunDir, fakesName, RUN_FILES, snapshotName, StatusWriter, writeTrainingOptions } from '../runs/runDir';
import { writeFileAtomic } from '../runs/fsAtomic';
import { readRun, readRunOptions } from '../runs/readers';
import { Rng } from '../util/rng';
import { StatsCollector, makeStatsLine } from './stats';
import { GanTrainer, NonFiniteLossError } from './trainer';
import { loadTrainerState, saveSnapshot } from './snapshot';
import type { StatsLine } from '../../shared/runTypes';
import type { TrainProgress } from '../../shared/protocol/worker';

export type { TrainProgress };

export interface TrainHooks {
  onStarted?(info: { runDir: string; runName: string; backend: BackendInfo; totalKimg: number }): void;
  /** At most every `progressIntervalMs` and at every tick. */
  onProgress?(p: TrainProgress): void;
  onLog?(line: string): void;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** Where metric feature extractors (the MNIST LeNet) are cached; default ~/.cache/gan-inspector. */
  cacheDir?: string;
}

export interface TrainResult {
  runDir: string | null;
  state: 'finished' | 'stopped' | 'failed';
  error?: string;
  userError?: boolean;
  latestSnapshot: string | null;
  /** kimg reached (undefined when the run never started training). */
  curKimg?: number;
}

/** Grid seeds: the fixed latents of reals/fakes grids (seed i for cell i, as the viewer shows them). */
export function gridSeeds(opts: TrainingOptions): number[] {
  return Array.from({ length: opts.gridSize * opts.gridSize }, (_, i) => i);
}

/** Trains a new run (or resumes `resumeDir`) until done, stopped, or failed. Never throws for run errors after the folder exists. */
export async function train(options: TrainingOptions | null, hooks: TrainHooks = {}, resumeDir?: string): Promise<TrainResult> {
  const log = (line: string) => hooks.onLog?.(line);
  let runDir: string | null = null;
  let status: StatusWriter | null = null;
  let trainer: GanTrainer | null = null;
  let latestSnapshot: string | null = null;
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
    if (resumeDir) {
      const r = await prepareResume(resumeDir);
      opts = r.options;
      resumeFrom = r.snapshotDir;
      runDir = path.resolve(resumeDir);
    } else {
      if (!options) throw new Error('train: options or resumeDir required');
      opts = options;
    }

    for (const name of opts.metrics) parseMetricName(name); // bad metric names fail before a run folder exists
    const backend = await initBackend(opts.backend);
    const backendLine = `Backend: ${backend.name} ${backend.version} (${backend.threads} thread${backend.threads === 1 ? '' : 's'})${backend.notes.length ? ' — ' + backend.notes.join('; ') : ''}`;

    // ---- Run folder: training_options.json first (the contract every viewer reads).
    if (!runDir) {
      const created = await createRunDir(opts.outdir, describeOptions(opts));
      runDir = created.dir;
      await writeTrainingOptions(runDir, opts, { name: backend.name, version: backend.version, threads: backend.threads, notes: backend.notes });
    }
    const totalKimg = opts.kimg;
    status = new StatusWriter(runDir, { totalKimg, state: 'running' });
    await status.update({ state: 'running', lastError: null, pid: process.pid });
    hooks.onStarted?.({ runDir, runName: path.basename(runDir), backend, totalKimg });
    logFile(resumeFrom ? `Resuming ${runDir} from ${path.basename(resumeFrom)}` : `Run folder: ${runDir}`);
    logFile(backendLine);

    // ---- Data.
    const m = opts.model;
    const t0 = Date.now();
    const ds = await loadDataset(opts.data, { resolution: m.resolution, channels: m.channels as 1 | 3, maxImages: opts.maxImages, xflip: opts.datasetXflip });
    logFile(`Dataset: ${ds.name} (${ds.source}), ${ds.count} images at ${m.resolution}×${m.resolution}×${m.channels}, loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const w of ds.warnings) logFile(`Warning: ${w}`);

    // ---- Networks.
    trainer = new GanTrainer(opts);
    logFile(`G: ${trainer.G.params.numParams()} parameters, D: ${trainer.D.params.numParams()} parameters (GGDR ${opts.ggdr.enabled ? `on: weight ${opts.ggdr.weight}, res ${opts.ggdr.res}` : 'off'})`);
    let tick = 0;
    if (resumeFrom) {
      const meta = await loadTrainerState(trainer, resumeFrom);
      tick = meta.tick;
      latestSnapshot = path.basename(resumeFrom);
      await truncateStatsAfter(runDir, meta.nimg / 1000);
    } else {
      await writeGrid(path.join(runDir, RUN_FILES.reals), realsGrid(ds, opts), opts);
      await writeFakes(trainer, opts, path.join(runDir, RUN_FILES.fakesInit));
      latestSnapshot = snapshotName(0);
      await saveSnapshot(runDir, latestSnapshot, trainer, { tick: 0, backend });
      // StyleGAN2-ADA writes fakes000000.png at the start too; viewers pair it with snapshot 000000.
      await writeFakes(trainer, opts, path.join(runDir, fakesName(0)));
    }
    await status.update({ latestSnapshot, curKimg: trainer.nimg / 1000, tick });

    // ---- Loop.
    const collector = new StatsCollector();
    const batch = m.batch;
    const totalNimg = Math.round(totalKimg * 1000);
    let tickStartNimg = trainer.nimg;
    let tickStartTime = Date.now();
    const startTime = Date.now();
    let maintenanceSec = 0;
    let lastProgress = 0;
    let lastLosses: Record<string, number> = {};
    let secPerKimg = 0;
    const progressEvery = hooks.progressIntervalMs ?? 2000;
    let stopped = false;

    while (trainer.nimg < totalNimg) {
      if (hooks.signal?.aborted) { stopped = true; break; }
      const reals = realsBatch(ds, opts, trainer.step);
      let stats;
      try {
        stats = await trainer.trainStep(reals);
      } finally {
        reals.dispose();
      }
      for (const [k, v] of Object.entries(stats)) collector.report(k, v);
      lastLosses = summarize(stats);
      const done = trainer.nimg >= totalNimg;
      const now = Date.now();
      if (done || trainer.nimg >= tickStartNimg + m.kimgPerTick * 1000) {
        // ---- Tick maintenance.
        tick++;
        const tickSec = (now - tickStartTime) / 1000;
        secPerKimg = tickSec / Math.max((trainer.nimg - tickStartNimg) / 1000, 1e-9);
        const mt0 = Date.now();
        const snap = done || tick % m.snapshotTicks === 0;
        if (snap) {
          await writeFakes(trainer, opts, path.join(runDir, fakesName(trainer.nimg / 1000)));
          latestSnapshot = snapshotName(trainer.nimg / 1000);
          await saveSnapshot(runDir, latestSnapshot, trainer, { tick, backend });
          if (opts.metrics.length) await evaluateMetrics(trainer, ds, opts, runDir, latestSnapshot, hooks, logFile);
        }
        const line = tickStats(collector, { tick, kimg: trainer.nimg / 1000, totalSec: (now - startTime) / 1000, tickSec, secPerKimg, maintenanceSec });
        await appendStatsLine(runDir, line);
        maintenanceSec = (Date.now() - mt0) / 1000;
        await status.update({ curKimg: trainer.nimg / 1000, tick, latestSnapshot, secPerKimg });
        logFile(`tick ${tick}  kimg ${(trainer.nimg / 1000).toFixed(3)}  sec/kimg ${secPerKimg.toFixed(1)}  ` +
          Object.entries(lastLosses).map(([k, v]) => `${k.replace('Loss/', '')} ${v.toFixed(3)}`).join('  '));
        tickStartNimg = trainer.nimg;
        tickStartTime = Date.now();
        lastProgress = 0;
      }
      if (Date.now() - lastProgress >= progressEvery) {
        lastProgress = Date.now();
        const left = (totalNimg - trainer.nimg) / 1000;
        hooks.onProgress?.({ runDir, curKimg: trainer.nimg / 1000, totalKimg, tick, secPerKimg, etaSec: secPerKimg > 0 ? left * secPerKimg : -1, losses: lastLosses });
      }
      await new Promise((r) => setImmediate(r)); // let IPC messages and signals in between steps
    }

    if (stopped) {
      // Keep the work since the last snapshot: save one more unless we are exactly at it.
      const name = snapshotName(trainer.nimg / 1000);
      if (name !== latestSnapshot) {
        await saveSnapshot(runDir, name, trainer, { tick, backend });
        latestSnapshot = name;
      }
      await status.update({ state: 'stopped', curKimg: trainer.nimg / 1000, latestSnapshot });
      logFile(`Stopped at kimg ${(trainer.nimg / 1000).toFixed(3)}; latest snapshot ${latestSnapshot}`);
      return { runDir, state: 'stopped', latestSnapshot, curKimg: trainer.nimg / 1000 };
    }
    await status.update({ state: 'finished', curKimg: trainer.nimg / 1000, latestSnapshot });
    logFile(`Finished: ${(trainer.nimg / 1000).toFixed(3)} kimg. Latest snapshot ${latestSnapshot}.`);
    return { runDir, state: 'finished', latestSnapshot, curKimg: trainer.nimg / 1000 };
  } catch (e) {
    let message = isUserError(e) ? e.message : (e as Error)?.stack ?? String(e);
    if (e instanceof NonFiniteLossError && runDir && trainer) {
      // The failing update was not applied: the current state is the last good one.
      try {
        const name = snapshotName(trainer.nimg / 1000);
        if (name !== latestSnapshot) {
          await saveSnapshot(runDir, name, trainer, { tick: 0, backend: { name: tf.getBackend() } });
          latestSnapshot = name;
        }
      } catch (saveErr) {
        message += ` (saving the last good state failed: ${(saveErr as Error).message})`;
      }
      message = `Training diverged: ${e.term} became ${e.value} at step ${e.step}. The last good state is saved as ${latestSnapshot}. Try a lower learning rate or a larger R1 gamma.`;
    }
    logFile(`Error: ${message}`);
    if (status) await status.update({ state: 'failed', lastError: message, latestSnapshot }).catch(() => undefined);
    return { runDir, state: 'failed', error: message, userError: isUserError(e) || e instanceof NonFiniteLossError, latestSnapshot, curKimg: trainer ? trainer.nimg / 1000 : undefined };
  } finally {
    trainer?.dispose();
    await status?.flush();
    await logAppends;
  }
}

/** Appends metric-<name>.jsonl lines for the snapshot just written (G_ema, as StyleGAN2-ADA evaluates). */
async function evaluateMetrics(t: GanTrainer, ds: Dataset, opts: TrainingOptions, runDir: string, snapshot: string, hooks: TrainHooks, logFile: (l: string) => void): Promise<void> {
  const lines = await computeMetricLines(t.G_ema, ds, opts.metrics, snapshot, { cacheDir: hooks.cacheDir, onLog: logFile, signal: hooks.signal });
  for (const line of lines) {
    await appendMetricLine(runDir, line);
    logFile(`metric ${line.metric} at ${snapshot}: ${Object.entries(line.results).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')} (${line.total_time_str})`);
  }
}

/** The options and newest loadable snapshot of a run to resume. */
async function prepareResume(dir: string): Promise<{ options: TrainingOptions; snapshotDir: string }> {
  const run = await readRun(path.resolve(dir));
  if (run.origin !== 'gan-inspector') {
    throw new UserError(`${dir} was not written by GAN Inspector and cannot be resumed here.`, 'Resume runs created by GAN Inspector; official runs need the official code.');
  }
  // readRun reports a "running" status whose process is gone as stopped, so 'running' here means alive.
  if (run.state === 'running') {
    throw new UserError(`${run.name} is still running.`, 'Stop it first, or wait for it to finish.');
  }
  const snap = [...run.snapshots].reverse().find((s) => s.loadable);
  if (!snap) throw new UserError(`${run.name} has no loadable snapshot to resume from.`, 'Start a new run instead.');
  const opts = await readRunOptions(dir);
  if (opts.kind !== 'gan-inspector') throw new UserError(`${run.name}: training_options.json cannot be read (${'error' in opts ? opts.error : opts.kind}).`);
  return { options: opts.file.options, snapshotDir: snap.path };
}

/** Drops stats lines past `kimg` (work after the snapshot we resume from, which will be redone). */
async function truncateStatsAfter(runDir: string, kimg: number): Promise<void> {
  const file = path.join(runDir, RUN_FILES.stats);
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch { return; }
  const keep = text.split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      const v = (JSON.parse(l) as StatsLine)['Progress/kimg'];
      return !(typeof v === 'object' && v.mean > kimg + 1e-9);
    } catch { return false; } // a torn last line from the interruption
  });
  await writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
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
