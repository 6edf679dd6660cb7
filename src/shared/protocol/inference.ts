/**
 * Messages between the extension host and the inference child process (`dist/inference.js`, forked
 * with an IPC channel like the training worker), carried by rpc.ts's MessageHandler: requests with
 * ids, replies, and events (progress, per-snapshot results, cancellation). Plus the small pure helpers
 * both ends and the webviews share: seed lists, label-map encoding. No vscode, no tfjs, no DOM, no fs.
 *
 * Every heavy request carries a `jobId` chosen by the host; `cancel {jobId}` aborts it (queued or
 * running, at the next batch boundary) and its reply is an error whose text is CANCELLED_MESSAGE.
 */
import type { MetricLine } from '../runTypes';
import { asMetricLine } from '../jsonl';
import type { RpcApi, RpcValidators } from './rpc';
import { isObj } from './schema';

/** Reply text of a cancelled job (hosts map it to a cancellation, not an error). */
export const CANCELLED_MESSAGE = 'cancelled';
/** Most seeds one grid / segmentation batch may have. */
export const MAX_SEEDS = 256;
/** Most clusters (labels travel as bytes, and more than this is unreadable anyway). */
export const MAX_K = 20;
export const MAX_INTERP_STEPS = 32;
/** Truncation ψ range offered (ψ > 1 extrapolates away from w_avg). */
export const PSI_MIN = -1;
export const PSI_MAX = 2;
/** Most metric names one computeMetrics job may ask for. */
export const MAX_METRICS = 24;
/** Syntax of a metric name (fid2k_lenet, kid5k_full_inception_v3, modes2k_lenet); the process parses it fully. */
export const METRIC_NAME_RE = /^(fid|kid|modes)\d+k?(_full)?_[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type NetworkName = 'G' | 'G_ema';
export type NoiseModeName = 'const' | 'random';
export type MetricName = 'cosine' | 'euclidean';
/** Interpolation of z between two seeds: straight line, or spherical (keeps |z| like a Gaussian sample). */
export type InterpMode = 'lerp' | 'slerp';

//#region payloads

/** What generation depends on; changing any of these re-renders (the checkpoint stays loaded). */
export interface GenParams {
  snapshot: string;
  which: NetworkName;
  /** Truncation ψ: w = w_avg + ψ·(w − w_avg). */
  psi: number;
  noiseMode: NoiseModeName;
  /** Seed of 'random' noise (same seed → same noise). */
  noiseSeed: number;
  /** Class of conditional models (official pickles with c_dim > 0); default 0. */
  label?: number;
}

/** One generated image. */
export interface SampleImage {
  seed: number;
  /** data:image/png;base64,… */
  src: string;
}

export interface RenderResult {
  images: SampleImage[];
  resolution: number;
  channels: number;
  /** Generation time (ms), without loading. */
  ms: number;
  /** True when this request had to read the checkpoint from disk. */
  loaded: boolean;
  backend: string;
}

export interface InterpResult {
  /** Interpolation position t in [0,1] of each image, and the image. */
  frames: Array<{ t: number; src: string }>;
  mode: InterpMode;
  ms: number;
}

/** One clustering (of G's features, or of D's decoder output) over the whole batch. */
export interface ClusterMap {
  res: number;
  k: number;
  /** [N,res,res] cluster ids as base64 bytes (see encodeLabels). */
  labels: string;
  /** Fraction of the batch's pixels per cluster id. */
  shares: number[];
  /** True when K-means was fitted on a seeded sample of the pixels, then every pixel assigned. */
  sampled: boolean;
  fitPixels: number;
  totalPixels: number;
}

export interface DecoderResult {
  res: number;
  /** D's decoder output on the fakes, labelled with G's centroids at `res` (same colours as G's maps there). */
  fakesWithG: ClusterMap;
  /** D's decoder output on the fakes, clustered on its own. */
  fakesOwn: ClusterMap;
  /** Mean per-pixel cosine similarity between D's prediction and G's features on the fakes. */
  meanCosine: number;
  /** Real images from the run's dataset and D's decoder output on them, labelled with G's centroids. */
  reals?: { images: string[]; map: ClusterMap; source: string };
  /** Why there are no reals (dataset unavailable), when they were asked for. */
  realsNote?: string;
}

export interface SegmentParams {
  jobId: string;
  snapshot: string;
  seeds: number[];
  resolutions: number[];
  k: number;
  metric: MetricName;
  psi: number;
  /** Seed of pixel sampling and k-means++ (same inputs + seed → same picture). */
  kmeansSeed: number;
  /** Fit on at most this many pixels. */
  maxPixels: number;
  withDecoder: boolean;
  /** Real images to run D's decoder on (0 = none). */
  reals: number;
  /** Class of conditional models; default 0. */
  label?: number;
}

export interface SegmentPayload {
  seeds: number[];
  resolution: number;
  channels: number;
  images: string[];
  metric: MetricName;
  maps: ClusterMap[];
  decoder: DecoderResult | null;
  decoderNote?: string;
  ms: number;
  backend: string;
}

/** One snapshot of the across-snapshots strip. */
export interface AcrossItem {
  index: number;
  total: number;
  snapshot: string;
  name: string;
  kimg: number;
  images?: string[];
  map?: ClusterMap;
  /** Why this snapshot could not be clustered. */
  error?: string;
}

export interface ProgressInfo {
  jobId: string;
  done: number;
  total: number;
  message: string;
}

/** A TF.js image model used as feature extractor under `name` (metric names …_<name>). */
export interface FeatureModelParam {
  /** model.json path, its folder, or http(s) URL. */
  source: string;
  name: string;
}

export interface MetricsParams {
  jobId: string;
  /** A network-snapshot-* folder, or a run folder (its newest loadable snapshot). */
  snapshot: string;
  /** Metric names, e.g. ['fid2k_lenet', 'kid2k_lenet']. */
  metrics: string[];
  /** Append each line to <run>/metric-<name>.jsonl. */
  append: boolean;
  /** Download cache of feature models (the extension's global storage); LeNet stays in the shared default cache. */
  modelCacheDir?: string;
  featureModel?: FeatureModelParam;
}

export interface MetricsJobResult {
  /** The snapshot folder evaluated and its run folder. */
  snapshot: string;
  runDir: string;
  /** One StyleGAN2-ADA line per requested metric, in request order. */
  lines: MetricLine[];
  /** Description of each extractor used, e.g. 'lenet (98.0% on 1,000 held-out digits)'. */
  extractors: string[];
  /** metric-*.jsonl files the lines were appended to (empty with append false). */
  appended: string[];
  ms: number;
  backend: string;
}

/** One inference thread of the process (when it renders on several) and what it holds. */
export interface InferenceThreadStats {
  threadId: number;
  backend: string;
  numTensors: number;
  numBytes: number;
  models: Array<{ snapshot: string; which: NetworkName }>;
}

export interface InferenceStats {
  backend: string;
  /** Live tensors (and their bytes) of the process, its inference threads included. */
  numTensors: number;
  numBytes: number;
  /** Inference threads: how many it renders on (1 = this thread, no pool) and those running now (they start with the first load and stop once they hold nothing). */
  workers?: { count: number; threads: InferenceThreadStats[] };
  /** Checkpoints in the cache, with how often each was read from disk and what is loaded. */
  models: Array<{ snapshot: string; loads: number; parts: string[] }>;
  /** Disk reads of checkpoints since the process started. */
  totalLoads: number;
  pid: number;
}

//#endregion

/** What the inference process receives. */
export interface InferenceProcessApi extends RpcApi {
  events: {
    cancel: { jobId: string };
  };
  requests: {
    /** Starts the backend ('auto' by default); replies with its name. */
    /** Starts the backend ('auto' by default) and sets the inference threads (workers: 0 or absent = one per core; 1 = none); replies with the backend's name. */
    init: { params: { backend: 'auto' | 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'; workers?: number }; result: { backend: string; notes: string[]; pid: number; workers?: number } };
    render: { params: GenParams & { jobId: string; seeds: number[] }; result: RenderResult };
    interpolate: {
      params: GenParams & { jobId: string; seedA: number; seedB: number; steps: number; mode: InterpMode };
      result: InterpResult;
    };
    /** Renders the grid and writes it as a PNG (atomic) to `file`. */
    exportGrid: { params: GenParams & { jobId: string; seeds: number[]; cols: number; file: string }; result: { file: string; width: number; height: number } };
    segment: { params: SegmentParams; result: SegmentPayload };
    /** Clusters the same seeds at each snapshot (one resolution); items stream as `acrossItem` events. */
    segmentAcross: {
      params: Omit<SegmentParams, 'snapshot' | 'resolutions' | 'withDecoder' | 'reals'> & { snapshots: string[]; res: number };
      result: { done: number; failed: number };
    };
    /** FID/KID of a snapshot's G_ema against its run's dataset (progress and log lines stream as events). */
    computeMetrics: { params: MetricsParams; result: MetricsJobResult };
    /** Frees the cached networks of a checkpoint. */
    release: { params: { snapshot: string }; result: { released: boolean; numTensors: number } };
    stats: { params: Record<string, never>; result: InferenceStats };
  };
}

/** What the host receives from the inference process. */
export interface InferenceHostApi extends RpcApi {
  events: {
    progress: ProgressInfo;
    acrossItem: AcrossItem & { jobId: string };
    /** A line for the Output channel from a job (LeNet training, model download, extractor). */
    log: { jobId: string; line: string };
  };
  requests: Record<string, never>;
}

//#region guards

const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const onlyKeys = (o: Record<string, unknown>, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));
const isPath = (v: unknown): v is string => isStr(v, 4096) && v.length > 0 && !v.includes('\0');
const isJobId = (v: unknown): v is string => isStr(v, 100) && v.length > 0;
/** A seed as StyleGAN uses them: a non-negative 32-bit integer. */
export const isSeed = (v: unknown): v is number => isInt(v, 0, 2 ** 32 - 1);
const isSeedList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.length <= MAX_SEEDS && v.every(isSeed);
const isRes = (v: unknown): v is number => isInt(v, 4, 1024) && ((v as number) & ((v as number) - 1)) === 0;

const GEN_KEYS = ['snapshot', 'which', 'psi', 'noiseMode', 'noiseSeed', 'label'] as const;
/** Most classes a conditional model may have for a class picker. */
export const MAX_CLASSES = 100_000;
/** A class label: absent, or an integer in [0, MAX_CLASSES) (the host checks it against the model's classes). */
export const isLabel = (v: unknown) => v === undefined || isInt(v, 0, MAX_CLASSES - 1);
function isGen(p: Record<string, unknown>): boolean {
  return isPath(p.snapshot) && (p.which === 'G' || p.which === 'G_ema') && isNum(p.psi) && p.psi >= PSI_MIN && p.psi <= PSI_MAX &&
    (p.noiseMode === 'const' || p.noiseMode === 'random') && isSeed(p.noiseSeed) && isLabel(p.label);
}

const isSegCommon = (p: Record<string, unknown>) =>
  isJobId(p.jobId) && isSeedList(p.seeds) && isInt(p.k, 1, MAX_K) && (p.metric === 'cosine' || p.metric === 'euclidean') &&
  isNum(p.psi) && p.psi >= PSI_MIN && p.psi <= PSI_MAX && isSeed(p.kmeansSeed) && isInt(p.maxPixels, 100, 10_000_000);

/** Guards the inference process runs on everything the host sends. */
export const inferenceProcessValidators: RpcValidators<InferenceProcessApi, InferenceHostApi> = {
  events: {
    cancel: (p): p is { jobId: string } => isObj(p) && onlyKeys(p, ['jobId']) && isJobId(p.jobId),
  },
  requests: {
    init: (p): p is InferenceProcessApi['requests']['init']['params'] =>
      isObj(p) && onlyKeys(p, ['backend', 'workers']) && ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow'].includes(p.backend as string) &&
      (p.workers === undefined || isInt(p.workers, 0, 1024)),
    render: (p): p is InferenceProcessApi['requests']['render']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'jobId', 'seeds']) && isGen(p) && isJobId(p.jobId) && isSeedList(p.seeds),
    interpolate: (p): p is InferenceProcessApi['requests']['interpolate']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'jobId', 'seedA', 'seedB', 'steps', 'mode']) && isGen(p) && isJobId(p.jobId) &&
      isSeed(p.seedA) && isSeed(p.seedB) && isInt(p.steps, 2, MAX_INTERP_STEPS) && (p.mode === 'lerp' || p.mode === 'slerp'),
    exportGrid: (p): p is InferenceProcessApi['requests']['exportGrid']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'jobId', 'seeds', 'cols', 'file']) && isGen(p) && isJobId(p.jobId) &&
      isSeedList(p.seeds) && isInt(p.cols, 1, MAX_SEEDS) && isPath(p.file) && /\.png$/i.test(p.file as string),
    segment: (p): p is SegmentParams =>
      isObj(p) && onlyKeys(p, ['jobId', 'snapshot', 'seeds', 'resolutions', 'k', 'metric', 'psi', 'kmeansSeed', 'maxPixels', 'withDecoder', 'reals', 'label']) &&
      isSegCommon(p) && isLabel(p.label) && isPath(p.snapshot) && Array.isArray(p.resolutions) && p.resolutions.length > 0 && p.resolutions.length <= 10 &&
      p.resolutions.every(isRes) && typeof p.withDecoder === 'boolean' && isInt(p.reals, 0, MAX_SEEDS),
    segmentAcross: (p): p is InferenceProcessApi['requests']['segmentAcross']['params'] =>
      isObj(p) && onlyKeys(p, ['jobId', 'snapshots', 'res', 'seeds', 'k', 'metric', 'psi', 'kmeansSeed', 'maxPixels']) &&
      isSegCommon(p) && Array.isArray(p.snapshots) && p.snapshots.length > 0 && p.snapshots.length <= 1000 && p.snapshots.every(isPath) && isRes(p.res),
    computeMetrics: (p): p is MetricsParams =>
      isObj(p) && onlyKeys(p, ['jobId', 'snapshot', 'metrics', 'append', 'modelCacheDir', 'featureModel']) && isJobId(p.jobId) && isPath(p.snapshot) &&
      Array.isArray(p.metrics) && p.metrics.length > 0 && p.metrics.length <= MAX_METRICS && p.metrics.every((m) => isStr(m, 100) && METRIC_NAME_RE.test(m)) &&
      typeof p.append === 'boolean' && (p.modelCacheDir === undefined || isPath(p.modelCacheDir)) &&
      (p.featureModel === undefined || (isObj(p.featureModel) && onlyKeys(p.featureModel, ['source', 'name']) && isPath(p.featureModel.source) &&
        isStr(p.featureModel.name, 100) && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p.featureModel.name))),
    release: (p): p is { snapshot: string } => isObj(p) && onlyKeys(p, ['snapshot']) && isPath(p.snapshot),
    stats: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
  },
};

const isClusterMap = (v: unknown): v is ClusterMap =>
  isObj(v) && isRes(v.res) && isInt(v.k, 1, MAX_K) && typeof v.labels === 'string' && Array.isArray(v.shares) && v.shares.every(isNum) &&
  typeof v.sampled === 'boolean' && isNum(v.fitPixels) && isNum(v.totalPixels);
const isDataUrl = (v: unknown): v is string => typeof v === 'string' && v.startsWith('data:image/png;base64,');

/** Guards the host runs on events and replies from the inference process. */
export const inferenceHostValidators: RpcValidators<InferenceHostApi, InferenceProcessApi> = {
  events: {
    progress: (p): p is ProgressInfo => isObj(p) && isJobId(p.jobId) && isNum(p.done) && isNum(p.total) && isStr(p.message, 1000),
    acrossItem: (p): p is AcrossItem & { jobId: string } =>
      isObj(p) && isJobId(p.jobId) && isInt(p.index, 0, 1e6) && isInt(p.total, 1, 1e6) && isPath(p.snapshot) && isStr(p.name) && isNum(p.kimg) &&
      (p.error === undefined || isStr(p.error, 10_000)) && (p.map === undefined || isClusterMap(p.map)) &&
      (p.images === undefined || (Array.isArray(p.images) && p.images.every(isDataUrl))),
    log: (p): p is { jobId: string; line: string } => isObj(p) && onlyKeys(p, ['jobId', 'line']) && isJobId(p.jobId) && isStr(p.line, 10_000),
  },
  requests: {},
  results: {
    render: (r): r is RenderResult =>
      isObj(r) && Array.isArray(r.images) && r.images.every((i) => isObj(i) && isSeed(i.seed) && isDataUrl(i.src)) && isNum(r.ms),
    interpolate: (r): r is InterpResult => isObj(r) && Array.isArray(r.frames) && r.frames.every((f) => isObj(f) && isNum(f.t) && isDataUrl(f.src)),
    segment: (r): r is SegmentPayload =>
      isObj(r) && Array.isArray(r.images) && r.images.every(isDataUrl) && Array.isArray(r.maps) && r.maps.every(isClusterMap) &&
      (r.decoder === null || (isObj(r.decoder) && isClusterMap(r.decoder.fakesWithG) && isClusterMap(r.decoder.fakesOwn) && isNum(r.decoder.meanCosine))),
    stats: (r): r is InferenceStats => isObj(r) && isNum(r.numTensors) && Array.isArray(r.models),
    computeMetrics: (r): r is MetricsJobResult =>
      isObj(r) && isPath(r.snapshot) && isPath(r.runDir) && Array.isArray(r.lines) && r.lines.every((l) => asMetricLine(l) !== undefined) &&
      Array.isArray(r.extractors) && r.extractors.every((e) => isStr(e, 2000)) && Array.isArray(r.appended) && r.appended.every(isPath) && isNum(r.ms),
  },
};

//#endregion

//#region helpers shared with the webviews

/**
 * Parses a seed list like "0-15", "3, 7, 10-12" into seeds (in the given order, duplicates kept out).
 * Returns an error text for people instead of throwing, so forms can show it inline.
 */
export function parseSeedSpec(spec: string, max = MAX_SEEDS): { seeds: number[] } | { error: string } {
  if (typeof spec !== 'string') return { error: 'Seeds must be text like 0-15.' };
  const parts = spec.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
  if (!parts.length) return { error: 'Enter at least one seed, e.g. 0-15 or 1,5,9.' };
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of parts) {
    const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part);
    if (!m) return { error: `"${part.slice(0, 40)}" is not a seed or range; use numbers and ranges like 0-15, 20, 31.` };
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (!isSeed(a) || !isSeed(b)) return { error: `Seed ${part} is out of range (0 … ${2 ** 32 - 1}).` };
    if (b < a) return { error: `Range ${part} runs backwards; write ${b}-${a}.` };
    if (b - a + 1 > max) return { error: `Too many seeds: at most ${max}.` };
    for (let s = a; s <= b; s++) {
      if (seen.has(s)) continue;
      seen.add(s);
      out.push(s);
      if (out.length > max) return { error: `Too many seeds: at most ${max}.` };
    }
  }
  return { seeds: out };
}

/** Short text for a seed list: "0-15", "1, 5, 9-11". */
export function formatSeeds(seeds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seeds.length; ) {
    let j = i;
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j] + 1) j++;
    parts.push(j > i ? `${seeds[i]}-${seeds[j]}` : String(seeds[i]));
    i = j + 1;
  }
  return parts.join(', ');
}

/** Cluster ids (0 … 255) → base64 bytes. Works in Node and browsers (btoa). */
export function encodeLabels(labels: ArrayLike<number>): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < labels.length; i += CHUNK) {
    const end = Math.min(labels.length, i + CHUNK);
    const part = new Array<number>(end - i);
    for (let j = i; j < end; j++) {
      const v = labels[j];
      if (!(v >= 0 && v <= 255 && Number.isInteger(v))) throw new RangeError(`encodeLabels: label ${v} at ${j} is not a byte`);
      part[j - i] = v;
    }
    s += String.fromCharCode(...part);
  }
  return btoa(s);
}

/** Inverse of encodeLabels. Throws on malformed base64. */
export function decodeLabels(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

//#endregion
