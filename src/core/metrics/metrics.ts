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
import { type Dataset, getBatch } from '../data/dataset';
import { renderSeeds, type SeedRenderer } from '../analysis/samples';
import { loadCheckpoint, loadCheckpointDataset, type CheckpointInfo, type InspectGenerator } from '../checkpoints/index';
import { appendMetricLine } from '../runs/runDir';
import type { TrainingOptions } from '../config/options';
import type { MetricLine } from '../../shared/runTypes';
import { describeExtractor, type FeatureExtractor } from './extractor';
import { FeatureStats } from './featureStats';
import { fidFromStats } from './fid';
import { kernelInceptionDistance, type KidOptions } from './kid';
import { LENET_CLASSIFIES, loadOrTrainLenet, type LenetExtractor, type LenetProgress } from './lenet';
import { loadModelExtractor, type DownloadProgress } from './tfjsModel';
import { validateFeatureModel, type FeatureModelSpec } from './featureModelSpec';
import { assertClassifierOf, classCounts, modeCoverage, modeResults, type ModeCoverage } from './modes';

export { validateFeatureModel, type FeatureModelSpec };

export type MetricKind = 'fid' | 'kid' | 'modes';
export const METRIC_KINDS: readonly MetricKind[] = ['fid', 'kid', 'modes'];

/** A parsed metric name. */
export interface MetricSpec {
  name: string;
  kind: MetricKind;
  numGen: number;
  /** Real set = the whole dataset (name has `_full`), else the first numGen images. */
  full: boolean;
  extractor: string;
}

const NAME_RE = /^(fid|kid|modes)(\d+)(k?)(_full)?_([A-Za-z0-9][A-Za-z0-9_.-]*)$/;

/** Count as it appears in names: 2000 → '2k', 500 → '500'. */
function countLabel(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : `${n}`;
}

/** The metric name for a kind, generated-sample count and extractor, e.g. ('fid', 2000, 'lenet') → 'fid2k_lenet'. */
export function metricName(kind: MetricKind, numGen: number, extractor: string, full = false): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(extractor)) throw new UserError(`Invalid feature extractor name '${extractor}'.`, 'Use letters, digits, "_", "." or "-".');
  return `${kind}${countLabel(numGen)}${full ? '_full' : ''}_${extractor}`;
}

/** Parses 'fid2k_lenet', 'kid500_lenet', 'fid10k_full_inception_v3', 'modes2k_lenet'. */
export function parseMetricName(name: string): MetricSpec {
  const m = NAME_RE.exec(name.trim());
  if (!m) {
    throw new UserError(`Unknown metric '${name}'.`,
      "Metric names look like fid2k_lenet, kid2k_lenet or modes2k_lenet: fid|kid|modes, the number of generated samples (2k = 2000), optional _full (all dataset images), then the feature extractor.");
  }
  const numGen = Number(m[2]) * (m[3] ? 1000 : 1);
  if (!Number.isSafeInteger(numGen) || numGen < 2) throw new UserError(`Metric '${name}' asks for fewer than 2 generated samples.`, 'Use a count like fid2k_lenet (2,000 samples).');
  const kind = m[1] as MetricKind, full = !!m[4], extractor = m[5];
  return { name: metricName(kind, numGen, extractor, full), kind, numGen, full, extractor }; // canonical: fid2000_x → fid2k_x
}

/** StyleGAN2-ADA's dnnlib.util.format_time: '42s', '3m 05s', '2h 01m 09s', '1d 03h 00m'. */
export function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${p2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${p2(Math.floor(s / 60) % 60)}m ${p2(s % 60)}s`;
  return `${Math.floor(s / 86400)}d ${p2(Math.floor(s / 3600) % 24)}h ${p2(Math.floor(s / 60) % 60)}m`;
}

/**
 * One metric-<name>.jsonl line in StyleGAN2-ADA's format (key order included). `value` is the
 * metric's value, or all its results (the metric's own key first) when it reports several.
 */
export function makeMetricLine(metric: string, value: number | Record<string, number>, totalTime: number, snapshotPkl: string, timestamp = Date.now() / 1000): MetricLine {
  return {
    results: typeof value === 'number' ? { [metric]: value } : { ...value },
    metric,
    total_time: totalTime,
    total_time_str: formatTime(totalTime),
    num_gpus: 1,
    snapshot_pkl: snapshotPkl,
    timestamp,
  };
}

// ------------------------------------------------------------------------------------------------
// Sample sources

/** Images to evaluate, produced on demand. */
export interface SampleSource {
  resolution: number;
  channels: number;
  /** Samples start … start+count−1 as [count,H,W,C] float32 in [-1,1]. */
  render(start: number, count: number, signal?: AbortSignal): Promise<Float32Array>;
}

/** Samples per generator forward pass in metrics (fixed: 'random' noise is seeded per pass). */
const GEN_CHUNK = 32;

/**
 * Generated samples of `G`: sample i is seed i (latentsForSeeds), rendered at ψ = 1 with per-pass
 * seeded random noise and quantised to 8 bits like a saved image, so the same samples come back on
 * every evaluation. `render` (the inference process's threads) renders them instead of G on this thread.
 */
export function generatorSource(G: InspectGenerator): SampleSource;
export function generatorSource(G: Pick<InspectGenerator, 'resolution' | 'imgChannels' | 'cDim'>, render: SeedRenderer): SampleSource;
export function generatorSource(G: Pick<InspectGenerator, 'resolution' | 'imgChannels' | 'cDim'>, render?: SeedRenderer): SampleSource {
  const R = G.resolution, C = G.imgChannels;
  const draw = render ?? ((seeds, o) => renderSeeds(G as InspectGenerator, seeds, o));
  return {
    resolution: R,
    channels: C,
    async render(start, count, signal) {
      const out = new Float32Array(count * R * R * C);
      const seeds = Array.from({ length: count }, (_, i) => start + i);
      // Passes of GEN_CHUNK samples, the one at sample s seeded start + s; conditional models: sample i has class i mod c_dim (an even class mix).
      const r = await draw(seeds, { batchSize: GEN_CHUNK, noiseMode: 'random', noiseSeed: start, signal, label: (j) => (start + j) % Math.max(1, G.cDim) });
      r.images.forEach((img, i) => {
        const o = i * R * R * C;
        for (let j = 0; j < img.length; j++) out[o + j] = img[j] / 127.5 - 1;
      });
      return out;
    },
  };
}

/** Dataset images `indices[start…]` (indices default to 0, 1, 2, … of [0, ds.length)). */
export function datasetSource(ds: Dataset, indices?: number[]): SampleSource {
  return {
    resolution: ds.resolution,
    channels: ds.channels,
    async render(start, count) {
      const idx = Array.from({ length: count }, (_, i) => (indices ? indices[start + i] : start + i));
      return getBatch(ds, idx);
    },
  };
}

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
// Extractors by name, datasets of runs, snapshots

export interface ExtractorOptions {
  /** Cache folder for the LeNet weights (and downloaded models); default ~/.cache/gan-inspector. */
  cacheDir?: string;
  /** Cache folder for downloaded feature models only (default: cacheDir); the extension passes its global storage. */
  modelCacheDir?: string;
  /** Extractors other than the built-in 'lenet', matched by name. */
  extractors?: FeatureExtractor[];
  /** A TF.js model to load for metric names whose extractor is `featureModel.name`. */
  featureModel?: FeatureModelSpec;
  onLog?: (line: string) => void;
  onLenetProgress?: (p: LenetProgress) => void;
  onDownloadProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

const lenets = new Map<string, Promise<LenetExtractor>>();

/** An extractor and how to let go of it (LeNet and given extractors are shared; a loaded feature model is disposed). */
export interface AcquiredExtractor {
  extractor: FeatureExtractor;
  release(): void;
}

/**
 * The extractor called `name`: a given one, the configured feature model (loaded now, from its
 * cached download when there is one), or the built-in LeNet (trained once per cache folder, then reused).
 */
export async function acquireExtractor(name: string, opts: ExtractorOptions = {}): Promise<AcquiredExtractor> {
  const shared = (extractor: FeatureExtractor): AcquiredExtractor => ({ extractor, release: () => undefined });
  const given = opts.extractors?.find((e) => e.name === name);
  if (given) return shared(given);
  if (name === 'lenet') {
    const key = opts.cacheDir ? path.resolve(opts.cacheDir) : '<default cache>';
    let p = lenets.get(key);
    if (!p) {
      p = loadOrTrainLenet({ cacheDir: opts.cacheDir, onLog: opts.onLog, onProgress: opts.onLenetProgress, signal: opts.signal });
      lenets.set(key, p);
      p.catch(() => lenets.delete(key)); // a failed or cancelled training is retried next time
    }
    return shared(await p);
  }
  if (opts.featureModel && opts.featureModel.name === name) {
    const fm = validateFeatureModel(opts.featureModel);
    const ex = await loadModelExtractor(fm.source, {
      name: fm.name, cacheDir: opts.modelCacheDir ?? opts.cacheDir, signal: opts.signal, onLog: opts.onLog, onDownloadProgress: opts.onDownloadProgress,
    });
    let released = false;
    return { extractor: ex, release: () => { if (!released) { released = true; ex.dispose(); } } };
  }
  throw unknownExtractor(name, opts);
}

/** Throws the UserError of an unknown extractor name before anything is loaded, unless every name can be resolved. */
export function checkExtractorNames(metricNames: string[], opts: ExtractorOptions = {}): void {
  for (const n of metricNames) {
    const ex = parseMetricName(n).extractor;
    if (ex !== 'lenet' && !opts.extractors?.some((e) => e.name === ex) && opts.featureModel?.name !== ex) throw unknownExtractor(ex, opts);
  }
  if (opts.featureModel && metricNames.some((n) => parseMetricName(n).extractor === opts.featureModel!.name)) validateFeatureModel(opts.featureModel);
}

/**
 * Throws the UserError of a metric that is undefined on `ds` before anything is computed: a modes
 * metric whose extractor does not classify the run's data (modes2k_lenet needs --data mnist).
 * `extractors` are given extractors, matched by name as in acquireExtractor.
 */
export function checkMetricsForDataset(metricNames: readonly string[], ds: Pick<Dataset, 'source' | 'name'>, extractors?: readonly FeatureExtractor[]): void {
  for (const n of metricNames) {
    const spec = parseMetricName(n);
    if (spec.kind !== 'modes') continue;
    const given = extractors?.find((e) => e.name === spec.extractor);
    assertClassifierOf(spec.extractor, given ? given.classifier : spec.extractor === 'lenet' ? LENET_CLASSIFIES : undefined, ds, spec.name);
  }
}

function unknownExtractor(name: string, opts: ExtractorOptions): UserError {
  const configured = opts.featureModel ? ` (the configured feature model is called '${opts.featureModel.name}')` : '';
  return new UserError(`No feature extractor called '${name}'${configured}.`,
    `Use 'lenet' (built in), or give a TF.js image model (model.json path or URL) under the name '${name}': ` +
    `the ganInspector.metrics.featureModel setting {"source": …, "name": "${name}"}, or --feature-model PATH|URL --feature-model-name ${name}.`);
}

/** Like acquireExtractor, without the release: a feature model it loads must be disposed by the caller. */
export async function resolveExtractor(name: string, opts: ExtractorOptions = {}): Promise<FeatureExtractor> {
  return (await acquireExtractor(name, opts)).extractor;
}

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
