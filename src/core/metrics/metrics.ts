/**
 * The metrics engine: FID and KID between generated samples and the dataset, in the feature space of
 * a pluggable extractor, reported as StyleGAN2-ADA metric lines.
 *
 * Metric names record the sample count and the extractor: `fid2k_lenet` = FID of 2,000 generated
 * samples (seeds 0…1999, so every evaluation uses the same latents) against the first 2,000 dataset
 * images, in LeNet features; `kid2k_full_lenet` compares against the whole dataset. Runs are only
 * comparable under the same name. `modes2k_lenet` is mode coverage: the same 2,000 samples classified
 * by the extractor (a classifier of the run's data) against the dataset's class histogram (modes.ts).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError, throwIfAborted } from '../errors';
import type { Dataset } from '../data/dataset';
import { loadCheckpoint, loadCheckpointDataset, type CheckpointInfo, type InspectGenerator } from '../checkpoints/index';
import { appendMetricLine } from '../runs/runDir';
import type { TrainingOptions } from '../config/options';
import type { MetricLine } from '../../shared/runTypes';
import { describeExtractor, type FeatureExtractor } from './extractor';
import { FeatureStats } from './featureStats';
import { fidFromStats } from './fid';
import { kernelInceptionDistance, type KidOptions } from './kid';
import { METRIC_KINDS, makeMetricLine, metricName, parseMetricName, type MetricKind, type MetricSpec } from './metricNames';
import { datasetSource, generatorSource, type SampleSource } from './sampleSources';
import { acquireExtractor, checkExtractorNames, type AcquiredExtractor, type ExtractorOptions } from './extractorsByName';
import { assertClassifierOf, classCounts, modeCoverage, modeResults, type ModeCoverage } from './modes';


// ------------------------------------------------------------------------------------------------
// Feature statistics

export interface FeatureProgress {
  phase: 'real' | 'generated';
  done: number;
  total: number;
}

/** Streams `n` samples of `source` through `extractor` into `stats`. */
export async function accumulateFeatures(
  source: SampleSource, n: number, extractor: FeatureExtractor, stats: FeatureStats,
  opts: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  await samplePass(source, n, extractor, { ...opts, stats });
}

/**
 * One pass over `n` samples of `source` (each rendered once): features into `stats` and/or the
 * extractor's classes counted into `counts` (one slot per class).
 */
export async function samplePass(
  source: SampleSource, n: number, extractor: FeatureExtractor,
  opts: { stats?: FeatureStats; counts?: number[]; batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<void> {
  const { stats, counts } = opts;
  const classifier = extractor.classifier;
  if (counts && !classifier) throw new Error(`samplePass: extractor '${extractor.name}' is not a classifier`);
  const bs = Math.max(1, opts.batchSize ?? 64);
  const R = source.resolution, C = source.channels;
  for (let start = 0; start < n; start += bs) {
    throwIfAborted(opts.signal, 'the metric');
    const count = Math.min(bs, n - start);
    const data = await source.render(start, count, opts.signal);
    const x = tf.tensor4d(data, [count, R, R, C]);
    let f: tf.Tensor2D | undefined;
    try {
      if (stats) {
        f = await extractor.features(x);
        if (f.shape[0] !== count || f.shape[1] !== stats.dim) {
          throw new Error(`Feature extractor '${extractor.name}' returned [${f.shape}] for ${count} images; expected [${count},${stats.dim}].`);
        }
        stats.append((await f.data()) as Float32Array, count);
      }
      if (counts && classifier) {
        const labels = await classifier.classify(x);
        if (labels.length !== count) throw new Error(`Classifier '${extractor.name}' returned ${labels.length} classes for ${count} images.`);
        classCounts(labels, classifier.classes, counts);
      }
    } finally {
      x.dispose();
      f?.dispose();
    }
    opts.onProgress?.(start + count, n);
    await new Promise<void>((r) => setImmediate(r)); // let cancellation and progress messages through
  }
}

/** Real-feature statistics per dataset object, keyed by extractor id, count and capture. */
const realCache = new WeakMap<Dataset, Map<string, FeatureStats>>();

async function realStats(ds: Dataset, n: number, extractor: FeatureExtractor, captureAll: boolean, opts: ComputeMetricsOptions): Promise<FeatureStats> {
  let perDs = realCache.get(ds);
  if (!perDs) realCache.set(ds, (perDs = new Map()));
  const key = (cap: boolean) => `${extractor.id}|${n}|${cap}`;
  const hit = perDs.get(key(true)) ?? (captureAll ? undefined : perDs.get(key(false)));
  if (hit && opts.cacheReal !== false) return hit;
  const stats = new FeatureStats(extractor.dim, { captureAll });
  await accumulateFeatures(datasetSource(ds), n, extractor, stats, {
    batchSize: opts.batchSize, signal: opts.signal, onProgress: (done, total) => opts.onProgress?.({ phase: 'real', done, total }),
  });
  if (opts.cacheReal !== false) perDs.set(key(captureAll), stats);
  return stats;
}

/** The dataset's class counts (the first n images, classified by the extractor), cached like realStats. */
const realCountCache = new WeakMap<Dataset, Map<string, number[]>>();

async function realCounts(ds: Dataset, n: number, extractor: FeatureExtractor, opts: ComputeMetricsOptions): Promise<number[]> {
  let perDs = realCountCache.get(ds);
  if (!perDs) realCountCache.set(ds, (perDs = new Map()));
  const key = `${extractor.id}|${n}`;
  const hit = perDs.get(key);
  if (hit && opts.cacheReal !== false) return hit;
  const counts = new Array<number>(extractor.classifier!.classes).fill(0);
  await samplePass(datasetSource(ds), n, extractor, {
    counts, batchSize: opts.batchSize, signal: opts.signal, onProgress: (done, total) => opts.onProgress?.({ phase: 'real', done, total }),
  });
  if (opts.cacheReal !== false) perDs.set(key, counts);
  return counts;
}

// ------------------------------------------------------------------------------------------------
// computeMetrics

export interface ComputeMetricsOptions {
  /** Generator to sample (seeds 0…numGen−1); or give `samples`. */
  G?: InspectGenerator;
  samples?: SampleSource;
  dataset: Dataset;
  extractor: FeatureExtractor;
  numGen: number;
  /** Real images: the first N of the dataset (default min(numGen, dataset.length)); 'full' = all. */
  numReal?: number | 'full';
  metrics: MetricKind[];
  kid?: KidOptions;
  /** Images per extractor batch (64). */
  batchSize?: number;
  /** Reuse real-feature statistics computed earlier for the same dataset object (default true). */
  cacheReal?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: FeatureProgress | { phase: 'kid'; done: number; total: number }) => void;
}

export interface MetricsResult {
  /** Metric name → value, e.g. { fid2k_lenet: 12.3, kid2k_lenet: 0.004, modes2k_lenet: 9 } (modes: classes covered). */
  results: Record<string, number>;
  /** Mode-coverage metric name → its class histogram, max share and KL (modes.ts). */
  modes: Record<string, ModeCoverage>;
  /** Seconds for the whole call. */
  totalTime: number;
  /** Seconds attributable to each metric (shared feature extraction counted in each). */
  times: Record<string, number>;
  numGen: number;
  numReal: number;
  extractor: string;
}

/** Computes the requested metrics for one generator (or sample source) against the dataset. */
export async function computeMetrics(opts: ComputeMetricsOptions): Promise<MetricsResult> {
  const t0 = performance.now();
  const { dataset: ds, extractor } = opts;
  const kinds = [...new Set(opts.metrics)];
  if (kinds.length === 0) throw new UserError('No metrics requested.', 'Ask for fid, kid and/or modes.');
  for (const k of kinds) if (!METRIC_KINDS.includes(k)) throw new UserError(`Unknown metric kind '${k}'.`, 'Use fid, kid or modes.');
  if (!Number.isInteger(opts.numGen) || opts.numGen < 2) throw new UserError(`Invalid number of generated samples ${opts.numGen}: use an integer ≥ 2.`);
  const full = opts.numReal === 'full';
  const numReal = opts.numReal === 'full' ? ds.length : Math.min(opts.numReal ?? opts.numGen, ds.length);
  if (!Number.isInteger(numReal)) throw new UserError(`Invalid number of real images ${String(opts.numReal)}: use an integer or 'full'.`);
  if (numReal < 2) throw new UserError(`Metrics need at least 2 real images; the dataset has ${ds.length} (asked for ${String(opts.numReal ?? opts.numGen)}).`);
  const source = opts.samples ?? (opts.G ? generatorSource(opts.G) : undefined);
  if (!source) throw new Error('computeMetrics: pass G or samples');
  if (source.resolution !== ds.resolution || source.channels !== ds.channels) {
    throw new UserError(`Generated images are ${source.resolution}×${source.resolution}×${source.channels} but the dataset is ${ds.resolution}×${ds.resolution}×${ds.channels}.`,
      'Evaluate against the dataset at the resolution and channels the network was trained with.');
  }
  const wantModes = kinds.includes('modes');
  if (wantModes) assertClassifierOf(extractor.name, extractor.classifier, ds, metricName('modes', opts.numGen, extractor.name, full));
  const wantFeatures = kinds.some((k) => k !== 'modes');
  const needAll = kinds.includes('kid');
  const real = wantFeatures ? await realStats(ds, numReal, extractor, needAll, opts) : undefined;
  const realClassCounts = wantModes ? await realCounts(ds, numReal, extractor, opts) : undefined;
  // One pass over the generated samples feeds every metric of the group (rendering dominates).
  const gen = wantFeatures ? new FeatureStats(extractor.dim, { captureAll: needAll }) : undefined;
  const genCounts = wantModes ? new Array<number>(extractor.classifier!.classes).fill(0) : undefined;
  await samplePass(source, opts.numGen, extractor, {
    stats: gen, counts: genCounts,
    batchSize: opts.batchSize, signal: opts.signal, onProgress: (done, total) => opts.onProgress?.({ phase: 'generated', done, total }),
  });
  const featureTime = (performance.now() - t0) / 1000;
  const results: Record<string, number> = {};
  const modes: Record<string, ModeCoverage> = {};
  const times: Record<string, number> = {};
  for (const kind of kinds) {
    const t1 = performance.now();
    const name = metricName(kind, opts.numGen, extractor.name, full);
    if (kind === 'modes') {
      modes[name] = modeCoverage(genCounts!, realClassCounts!);
      results[name] = modes[name].covered;
    } else if (kind === 'fid') {
      results[name] = fidFromStats(gen!, real!);
    } else {
      throwIfAborted(opts.signal, 'the metric');
      results[name] = kernelInceptionDistance(gen!.all(), gen!.count, real!.all(), real!.count, extractor.dim, {
        ...opts.kid, onProgress: (done, total) => opts.onProgress?.({ phase: 'kid', done, total }),
      });
    }
    times[name] = featureTime + (performance.now() - t1) / 1000;
  }
  return { results, modes, totalTime: (performance.now() - t0) / 1000, times, numGen: opts.numGen, numReal, extractor: extractor.name };
}

/**
 * One StyleGAN2-ADA metric line per metric of `r`, for snapshot `snapshotPkl`. A modes metric's line
 * holds all its numbers (modeResults: covered, _maxshare, _kl, _class0…).
 */
export function metricLines(r: MetricsResult, snapshotPkl: string, timestamp = Date.now() / 1000): MetricLine[] {
  return Object.entries(r.results).map(([name, v]) => {
    const m = r.modes?.[name];
    return makeMetricLine(name, m ? modeResults(name, m) : v, r.times[name] ?? r.totalTime, snapshotPkl, timestamp);
  });
}

// ------------------------------------------------------------------------------------------------
// Datasets of runs, snapshots

/** The dataset a run trained on, as its options describe it (resolution, channels, maxImages, x-flips). */
export function loadRunDataset(options: TrainingOptions, runDir: string): Promise<Dataset> {
  return loadCheckpointDataset({
    runDir, resolution: options.model.resolution, channels: options.model.channels, options,
    dataset: { path: options.data, maxImages: options.maxImages, xflip: options.datasetXflip },
  });
}

/** Progress of computeMetricLines: one feature pass per (extractor, sample count) group of metrics. */
export interface MetricLinesProgress {
  phase: 'real' | 'generated' | 'kid';
  done: number;
  total: number;
  /** Index of this pass and how many there are. */
  group: number;
  groups: number;
  /** Metric names this pass computes. */
  metrics: string[];
}

export interface MetricLinesOptions extends ExtractorOptions {
  kid?: KidOptions;
  batchSize?: number;
  onProgress?: (p: MetricLinesProgress) => void;
  /** Each extractor once it is ready, with its description (also logged through onLog). */
  onExtractor?: (extractor: FeatureExtractor, description: string) => void;
}

/** Overall fraction 0…1 of a computeMetricLines progress event (real ≈ 45%, generated ≈ 50%, KID 5% of a pass). */
export function metricLinesFraction(p: Pick<MetricLinesProgress, 'phase' | 'done' | 'total' | 'group' | 'groups'>): number {
  const f = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 1;
  const within = p.phase === 'real' ? 0.45 * f : p.phase === 'generated' ? 0.45 + 0.5 * f : 0.95 + 0.05 * f;
  return Math.min(1, (p.group + within) / Math.max(1, p.groups));
}

/**
 * Evaluates `metricNames` (e.g. ['fid2k_lenet', 'kid2k_lenet']) for generator `G` against `dataset`
 * and returns one StyleGAN2-ADA MetricLine per name, in order. Metrics that share extractor and
 * sample counts share one feature pass. Each extractor is logged with its description (LeNet: its
 * held-out accuracy, cached or not). (The training loop calls this with G_ema in memory.)
 */
export async function computeMetricLines(
  G: InspectGenerator | SampleSource, dataset: Dataset, metricNames: string[], snapshotPkl: string, opts: MetricLinesOptions = {},
): Promise<MetricLine[]> {
  const gen = 'render' in G ? { samples: G } : { G };
  const specs = metricNames.map(parseMetricName);
  const groups = new Map<string, MetricSpec[]>();
  for (const s of specs) {
    const k = `${s.extractor}|${s.numGen}|${s.full}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const byName = new Map<string, MetricLine>();
  // One acquisition per extractor name, shared by its groups (a feature model is loaded once).
  const acquired = new Map<string, AcquiredExtractor>();
  const all = [...groups.values()];
  try {
    for (const [gi, group] of all.entries()) {
      const { extractor: exName, numGen, full } = group[0];
      let a = acquired.get(exName);
      if (!a) {
        a = await acquireExtractor(exName, opts);
        acquired.set(exName, a);
        const d = describeExtractor(a.extractor);
        opts.onLog?.(`Feature extractor ${d}`);
        opts.onExtractor?.(a.extractor, d);
      }
      const names = group.map((s) => s.name);
      const r = await computeMetrics({
        ...gen, dataset, extractor: a.extractor, numGen, numReal: full ? 'full' : undefined,
        metrics: group.map((s) => s.kind), kid: opts.kid, batchSize: opts.batchSize, signal: opts.signal,
        onProgress: (p) => opts.onProgress?.({ phase: p.phase, done: p.done, total: p.total, group: gi, groups: all.length, metrics: names }),
      });
      for (const line of metricLines(r, snapshotPkl)) byName.set(line.metric, line);
    }
  } finally {
    for (const a of acquired.values()) a.release();
  }
  return specs.map((s) => byName.get(s.name)!);
}

export interface SnapshotMetricsOptions extends MetricLinesOptions {
  /** Use this dataset instead of the one in the snapshot's options. */
  dataset?: Dataset;
  /** Also append each line to <runDir>/metric-<name>.jsonl. */
  append?: boolean;
  /** Where the generated samples come from (default: G_ema loaded on this thread); the inference process's threads. */
  generator?: (snapshot: string) => Promise<{ info: CheckpointInfo; samples: SampleSource; dispose(): void | Promise<void> }>;
}

/**
 * Evaluates `metricNames` for the G_ema of a snapshot (our folder or an official .pkl) against the
 * run's dataset (from the snapshot's options or the pickle's training_set_kwargs); returns one
 * MetricLine per name (snapshot_pkl = the folder or file name).
 */
export async function computeSnapshotMetrics(snapshotDir: string, metricNames: string[], opts: SnapshotMetricsOptions = {}): Promise<MetricLine[]> {
  checkExtractorNames(metricNames, opts); // bad names fail before anything is loaded
  if (metricNames.length === 0) return [];
  const dir = path.resolve(snapshotDir);
  const nets = opts.generator ? await opts.generator(dir) : await loadCheckpoint(dir, { which: 'G_ema', signal: opts.signal });
  try {
    const ds = opts.dataset ?? (await loadCheckpointDataset(nets.info));
    const lines = await computeMetricLines('samples' in nets ? nets.samples : nets.G, ds, metricNames, path.basename(dir), opts);
    if (opts.append) for (const line of lines) await appendMetricLine(path.dirname(dir), line);
    return lines;
  } finally {
    await nets.dispose();
  }
}
