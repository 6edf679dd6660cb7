/**
 * Inference child process: `child_process.fork(dist/inference.js)`. Holds a cache of loaded networks
 * keyed by snapshot folder and answers the requests of src/shared/protocol/inference.ts (sample grids,
 * interpolation strips, PNG export, K-means segmentation of G's features and D's GGDR decoder output,
 * the across-snapshots strip, FID/KID metrics of a snapshot) on the best available backend, off the
 * extension-host thread.
 *
 * Jobs run one at a time (tfjs is single-threaded here anyway) in arrival order; `cancel {jobId}`
 * rejects a queued job at once and stops a running one at its next batch/stage boundary. Changing ψ
 * or the seeds re-renders from the cached networks; `release` frees them (the host sends it when the
 * last panel using a checkpoint closes) and `stats` reports tf.memory() so tests can see it.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../core/backend/backend';
import type { BackendName } from '../core/config/options';
import { getBatch, getImage, type Dataset } from '../core/data/dataset';
import { CancelledError, isCancelled, isUserError, UserError } from '../core/errors';
import { encodePng } from '../core/image/codec';
import { makeGrid, writePngAtomic } from '../core/image/grid';
import { clusterShares } from '../core/analysis/kmeans';
import { renderLatents } from '../core/analysis/samples';
import { segmentNetworks, type ResolutionSegmentation } from '../core/analysis/segmentSnapshot';
import {
  loadCheckpoint, loadCheckpointD, loadCheckpointDataset, locateDataset, resolveSnapshotPath,
  type Checkpoint, type CheckpointInfo, type InspectDiscriminator, type InspectGenerator,
} from '../core/checkpoints/index';
import { computeSnapshotMetrics, metricLinesFraction, parseMetricName } from '../core/metrics/metrics';
import { metricFileName } from '../core/runs/runDir';
import { withRunLock } from '../core/runs/runLock';
import { MessageHandler } from '../shared/protocol/rpc';
import {
  CANCELLED_MESSAGE, encodeLabels, inferenceProcessValidators,
  type AcrossItem, type ClusterMap, type GenParams, type InferenceHostApi, type InferenceProcessApi, type InferenceStats,
  type InterpMode, type MetricsJobResult, type MetricsParams, type NetworkName, type ProgressInfo, type RenderResult, type SegmentParams, type SegmentPayload,
} from '../shared/protocol/inference';

/** Samples per forward pass: per-pass overhead dominates small models, yet progress and cancellation still come every batch. */
const BATCH = 32;
/** Big models (a 256-px generator costs seconds per image on a CPU) go a few samples at a time, so progress and Cancel come often. */
const batchFor = (G: InspectGenerator): number => (G.resolution >= 128 ? 2 : G.resolution >= 64 ? 8 : BATCH);

interface ModelEntry {
  dir: string;
  info: CheckpointInfo;
  gens: Map<NetworkName, InspectGenerator>;
  /** undefined = not loaded yet; null = loaded, but the run has no GGDR decoder. */
  D: InspectDiscriminator | null | undefined;
  loads: number;
}

interface Job {
  ac: AbortController;
  started: boolean;
  reject: (e: Error) => void;
}

interface Emitter {
  progress(p: ProgressInfo): void;
  acrossItem(item: AcrossItem & { jobId: string }): void;
  log(l: { jobId: string; line: string }): void;
}

const isCancel = (e: unknown) => e instanceof Error && e.message === CANCELLED_MESSAGE;
const pngDataUrl = (data: Uint8Array, res: number, channels: number): string =>
  `data:image/png;base64,${encodePng({ width: res, height: res, channels: channels as 1 | 3, data }).toString('base64')}`;

/** Spherical interpolation of two vectors (falls back to lerp when they are (anti)parallel). */
function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  const cos = Math.max(-1, Math.min(1, dot / Math.max(Math.sqrt(na * nb), 1e-12)));
  const omega = Math.acos(cos);
  const out = new Float32Array(a.length);
  if (Math.sin(omega) < 1e-6) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
    return out;
  }
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** The process's state and request handlers, transport-free. */
class InferenceService {
  private backend: BackendInfo | undefined;
  private backendInit: Promise<BackendInfo> | undefined;
  private readonly models = new Map<string, ModelEntry>();
  /**
   * Releases so far per snapshot (path.resolve key). A job notes the count when it is requested; what it
   * loads after a later release of its snapshot is not cached: its panel closed while it was loading, and
   * caching would keep a model no panel holds (the host sends cancel, then release, as the last panel closes).
   */
  private readonly releases = new Map<string, number>();
  private totalLoads = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly jobs = new Map<string, Job>();
  private dataset: { key: string; ds: Promise<Dataset> } | undefined;

  constructor(private readonly emit: Emitter) {}

  init(requested: BackendName): Promise<BackendInfo> {
    if (!this.backendInit) {
      this.backendInit = initBackend(requested).then((b) => (this.backend = b));
      this.backendInit.catch(() => (this.backendInit = undefined));
    }
    return this.backendInit;
  }

  private backendName(): string {
    return this.backend ? `${this.backend.name} ${this.backend.version}` : 'none';
  }

  /** Aborts a job: a queued one rejects now, a running one at its next batch or stage. */
  cancel(jobId: string): void {
    const j = this.jobs.get(jobId);
    if (!j) return;
    j.ac.abort();
    if (!j.started) {
      this.jobs.delete(jobId);
      j.reject(new Error(CANCELLED_MESSAGE));
    }
  }

  /** Runs `fn` after every earlier job; rejects with CANCELLED_MESSAGE when cancelled. */
  private run<T>(jobId: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) return Promise.reject(new Error(`Job id ${jobId} is already in use.`));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { ac: new AbortController(), started: false, reject };
      this.jobs.set(jobId, job);
      const exec = async () => {
        if (job.ac.signal.aborted) return; // rejected by cancel() already
        job.started = true;
        try {
          if (!this.backend) await this.init('auto');
          const out = await fn(job.ac.signal);
          if (job.ac.signal.aborted) throw new Error(CANCELLED_MESSAGE);
          resolve(out);
        } catch (e) {
          reject(job.ac.signal.aborted || isCancelled(e) ? new Error(CANCELLED_MESSAGE) : (e as Error));
        } finally {
          this.jobs.delete(jobId);
        }
      };
      this.queue = this.queue.then(exec);
    });
  }

  //#region model cache

  private async entry(snapshot: string): Promise<{ e: ModelEntry | undefined; dir: string }> {
    const dir = await resolveSnapshotPath(snapshot);
    return { e: this.models.get(dir), dir };
  }

  /** How often `snapshot` was released so far (see `releases`). */
  private releaseEpoch(snapshot: string): number {
    return this.releases.get(path.resolve(snapshot)) ?? 0;
  }

  /** G or G_ema of a snapshot, from the cache or read from disk (counted in `loads`). `epoch`: releaseEpoch when the job was requested. */
  private async generator(
    snapshot: string, which: NetworkName, epoch: number, signal?: AbortSignal, onLoad?: (fraction: number, message: string) => void,
  ): Promise<{ G: InspectGenerator; entry: ModelEntry; loaded: boolean }> {
    const { e, dir } = await this.entry(snapshot);
    const cached = e?.gens.get(which);
    if (e && cached) return { G: cached, entry: e, loaded: false };
    const nets = await loadCheckpoint(dir, { which, signal, onProgress: onLoad });
    this.totalLoads++;
    if (this.releaseEpoch(snapshot) !== epoch) {
      nets.dispose();
      throw new Error(CANCELLED_MESSAGE);
    }
    let entry = this.models.get(dir);
    if (!entry) this.models.set(dir, (entry = { dir, info: nets.info, gens: new Map(), D: undefined, loads: 0 }));
    entry.loads++;
    entry.gens.set(which, nets.G);
    return { G: nets.G, entry, loaded: true };
  }

  /** D (with its GGDR decoder when the run had one), cached with the snapshot's generators (unless released meanwhile, see `releases`). */
  private async discriminator(entry: ModelEntry, G: InspectGenerator, snapshot: string, epoch: number, signal?: AbortSignal): Promise<InspectDiscriminator | null> {
    if (entry.D !== undefined) return entry.D;
    const D = await loadCheckpointD(entry.info, G, signal);
    this.totalLoads++;
    entry.loads++;
    if (this.releaseEpoch(snapshot) !== epoch || this.models.get(entry.dir) !== entry) {
      D.dispose();
      throw new Error(CANCELLED_MESSAGE);
    }
    entry.D = D.decoderRes === null ? null : D;
    if (entry.D === null) D.dispose();
    return entry.D;
  }

  release(snapshot: string): { released: boolean; numTensors: number } {
    const dir = path.resolve(snapshot);
    this.releases.set(dir, (this.releases.get(dir) ?? 0) + 1);
    const e = this.models.get(dir);
    if (e) {
      for (const G of e.gens.values()) G.dispose();
      e.D?.dispose();
      this.models.delete(dir);
    }
    return { released: !!e, numTensors: tf.memory().numTensors };
  }

  stats(): InferenceStats {
    const m = tf.memory();
    return {
      backend: this.backendName(),
      numTensors: m.numTensors,
      numBytes: m.numBytes,
      models: [...this.models.values()].map((e) => ({
        snapshot: e.dir,
        loads: e.loads,
        parts: [...e.gens.keys(), ...(e.D ? ['D'] : e.D === null ? ['D (no decoder)'] : [])],
      })),
      totalLoads: this.totalLoads,
      pid: process.pid,
    };
  }

  //#endregion

  //#region generation

  /** Renders latents `z` [N,Z] with progress events; takes ownership of `z` (disposed however it ends). */
  private async generate(G: InspectGenerator, z: tf.Tensor2D, p: GenParams, jobId: string, signal: AbortSignal, what: string): Promise<Uint8Array[]> {
    try {
      const { images } = await renderLatents(G, z, {
        truncationPsi: p.psi,
        noiseMode: p.noiseMode,
        noiseSeed: p.noiseSeed,
        label: p.label,
        batchSize: batchFor(G),
        signal,
        onProgress: (done, total) => this.emit.progress({ jobId, done, total, message: `${what} ${done}/${total}` }),
      });
      return images;
    } finally {
      z.dispose();
    }
  }

  render(p: InferenceProcessApi['requests']['render']['params']): Promise<RenderResult> {
    const epoch = this.releaseEpoch(p.snapshot);
    return this.run(p.jobId, async (signal) => {
      const { G, loaded } = await this.generator(p.snapshot, p.which, epoch, signal, this.loadProgress(p.jobId));
      const t0 = performance.now();
      const images = await this.generate(G, G.latents(p.seeds), p, p.jobId, signal, 'rendering');
      const { resolution, imgChannels: channels } = G;
      const out = images.map((im, i) => ({ seed: p.seeds[i], src: pngDataUrl(im, resolution, channels) }));
      return { images: out, resolution, channels, ms: performance.now() - t0, loaded, backend: this.backendName() };
    });
  }

  interpolate(p: InferenceProcessApi['requests']['interpolate']['params']) {
    const epoch = this.releaseEpoch(p.snapshot);
    return this.run(p.jobId, async (signal) => {
      const { G } = await this.generator(p.snapshot, p.which, epoch, signal, this.loadProgress(p.jobId));
      const t0 = performance.now();
      const zDim = G.zDim;
      const ends = G.latents([p.seedA, p.seedB]);
      const zz = (await ends.data()) as Float32Array; // no dataSync: WebGPU in Node cannot read back synchronously
      ends.dispose();
      const a = zz.slice(0, zDim), b = zz.slice(zDim);
      const ts = Array.from({ length: p.steps }, (_, i) => i / (p.steps - 1));
      const data = new Float32Array(p.steps * zDim);
      ts.forEach((t, i) => data.set(interp(a, b, t, p.mode), i * zDim));
      const images = await this.generate(G, tf.tensor2d(data, [p.steps, zDim]), p, p.jobId, signal, 'interpolating');
      const { resolution, imgChannels: channels } = G;
      return { frames: images.map((im, i) => ({ t: ts[i], src: pngDataUrl(im, resolution, channels) })), mode: p.mode, ms: performance.now() - t0 };
    });
  }

  exportGrid(p: InferenceProcessApi['requests']['exportGrid']['params']) {
    const epoch = this.releaseEpoch(p.snapshot);
    return this.run(p.jobId, async (signal) => {
      if (!path.isAbsolute(p.file)) throw new UserError(`Export path must be absolute: ${p.file}`);
      const { G } = await this.generator(p.snapshot, p.which, epoch, signal, this.loadProgress(p.jobId));
      const images = await this.generate(G, G.latents(p.seeds), p, p.jobId, signal, 'exporting');
      const { resolution, imgChannels: channels } = G;
      const grid = makeGrid(images, resolution, channels as 1 | 3, Math.min(p.cols, p.seeds.length));
      await writePngAtomic(p.file, grid);
      return { file: p.file, width: grid.width, height: grid.height };
    });
  }

  //#endregion

  //#region segmentation

  private toMap(s: Pick<ResolutionSegmentation, 'res' | 'k' | 'labels' | 'shares' | 'sampled' | 'fitPixels'>): ClusterMap {
    return { res: s.res, k: s.k, labels: encodeLabels(s.labels), shares: s.shares, sampled: s.sampled, fitPixels: s.fitPixels, totalPixels: s.labels.length };
  }

  /** The run's dataset (cached: one at a time), for real images. */
  private realsDataset(info: CheckpointInfo): Promise<Dataset> {
    const where = info.dataset ? locateDataset(info.dataset, info.runDir, info.options?.outdir) : info.runDir;
    const key = `${where}|${info.resolution}|${info.channels}|${info.dataset?.maxImages ?? 0}`;
    if (this.dataset?.key !== key) {
      this.dataset = { key, ds: loadCheckpointDataset(info) };
      this.dataset.ds.catch(() => { if (this.dataset?.key === key) this.dataset = undefined; });
    }
    return this.dataset.ds;
  }

  /** Progress of loading a checkpoint (big official pickles take seconds). */
  private loadProgress(jobId: string) {
    return (fraction: number, message: string) => this.emit.progress({ jobId, done: fraction, total: 1, message: `loading: ${message}` });
  }

  segment(p: SegmentParams): Promise<SegmentPayload> {
    const epoch = this.releaseEpoch(p.snapshot);
    return this.run(p.jobId, async (signal) => {
      const t0 = performance.now();
      const progress = (message: string, fraction: number) => this.emit.progress({ jobId: p.jobId, done: fraction, total: 1, message });
      progress('loading the checkpoint', 0);
      const { G, entry } = await this.generator(p.snapshot, 'G_ema', epoch, signal, (f, m) => progress(`loading: ${m}`, 0.02 * f));
      const ggdrRes = entry.info.ggdrRes;
      const D = p.withDecoder && ggdrRes !== null ? await this.discriminator(entry, G, p.snapshot, epoch, signal) : null;
      // G's map at the decoder's resolution is shown next to D's (same centroids, same colours).
      const resolutions = [...new Set([...p.resolutions, ...(p.withDecoder && D?.decoderRes ? [D.decoderRes] : [])])].sort((a, b) => a - b);
      let reals: Float32Array | undefined;
      let realImages: Uint8Array[] = [];
      let realsNote: string | undefined;
      let realsSource = '';
      if (D && p.reals > 0) {
        progress('loading real images', 0.02);
        try {
          const ds = await this.realsDataset(entry.info);
          const n = Math.min(p.reals, ds.count);
          const idx = Array.from({ length: n }, (_, i) => Math.floor(((i + 0.5) * ds.count) / n));
          reals = getBatch(ds, idx);
          realImages = idx.map((i) => getImage(ds, i));
          realsSource = `${ds.name}: images ${formatIdx(idx)}`;
        } catch (e) {
          realsNote = `Real images unavailable: ${(e as Error).message.split('\n')[0]}`;
        }
      }
      const r = await segmentNetworks({ info: entry.info, G, D }, {
        seeds: p.seeds, resolutions, k: p.k, metric: p.metric, psi: p.psi, kmeansSeed: p.kmeansSeed, maxPixels: p.maxPixels,
        withDecoder: p.withDecoder, reals, onProgress: progress, signal, label: p.label, batchSize: batchFor(G),
      });
      const R = r.resolution, C = r.channels;
      const out: SegmentPayload = {
        seeds: r.seeds,
        resolution: R,
        channels: C,
        images: r.images.map((im) => pngDataUrl(im, R, C)),
        metric: r.metric,
        maps: r.resolutions.map((s) => this.toMap(s)),
        decoder: null,
        ms: performance.now() - t0,
        backend: this.backendName(),
      };
      if (r.decoderNote) out.decoderNote = r.decoderNote;
      if (r.decoder) {
        const d = r.decoder;
        const gAt = r.resolutions.find((s) => s.res === d.res)!;
        const withG = (labels: Int32Array) => this.toMap({ res: d.res, k: gAt.k, labels, shares: clusterShares(labels, gAt.k), sampled: gAt.sampled, fitPixels: gAt.fitPixels });
        out.decoder = { res: d.res, fakesWithG: withG(d.fakesWithGCentroids), fakesOwn: this.toMap(d.fakes), meanCosine: d.meanCosine };
        if (d.realsWithGCentroids) out.decoder.reals = { images: realImages.map((im) => pngDataUrl(im, R, C)), map: withG(d.realsWithGCentroids), source: realsSource };
        if (realsNote) out.decoder.realsNote = realsNote;
      }
      return out;
    });
  }

  segmentAcross(p: InferenceProcessApi['requests']['segmentAcross']['params']) {
    return this.run(p.jobId, async (signal) => {
      let done = 0, failed = 0;
      const total = p.snapshots.length;
      for (const [index, snap] of p.snapshots.entries()) {
        if (signal.aborted) throw new Error(CANCELLED_MESSAGE);
        this.emit.progress({ jobId: p.jobId, done: index, total, message: `snapshot ${index + 1}/${total}: ${path.basename(snap)}` });
        const item: AcrossItem = { index, total, snapshot: snap, name: path.basename(snap), kimg: kimgOf(snap) };
        let temp: Checkpoint | undefined;
        try {
          const dir = await resolveSnapshotPath(snap);
          const cached = this.models.get(dir);
          let nets: Pick<Checkpoint, 'info' | 'G' | 'D'>;
          if (cached?.gens.get('G_ema')) {
            nets = { info: cached.info, G: cached.gens.get('G_ema')!, D: null };
          } else {
            // Not kept: the strip may walk hundreds of snapshots.
            nets = temp = await loadCheckpoint(dir, { which: 'G_ema', signal });
            this.totalLoads++;
          }
          item.kimg = nets.info.kimg ?? item.kimg;
          const r = await segmentNetworks(nets, {
            seeds: p.seeds, resolutions: [p.res], k: p.k, metric: p.metric, psi: p.psi, kmeansSeed: p.kmeansSeed, maxPixels: p.maxPixels, signal,
          });
          item.images = r.images.map((im) => pngDataUrl(im, r.resolution, r.channels));
          item.map = this.toMap(r.resolutions[0]);
          done++;
        } catch (e) {
          if (signal.aborted || isCancelled(e)) throw new CancelledError('the segmentation');
          item.error = (e as Error).message;
          failed++;
        } finally {
          temp?.dispose();
        }
        this.emit.acrossItem({ jobId: p.jobId, ...item });
        await new Promise((r) => setImmediate(r));
      }
      this.emit.progress({ jobId: p.jobId, done: total, total, message: 'done' });
      return { done, failed };
    });
  }

  //#endregion

  //#region metrics

  /**
   * FID/KID of a snapshot's G_ema (computeSnapshotMetrics): progress as one overall fraction with a
   * message per phase, LeNet training and model downloads included; cancellable at every batch.
   */
  computeMetrics(p: MetricsParams): Promise<MetricsJobResult> {
    return this.run(p.jobId, async (signal) => {
      const t0 = performance.now();
      const dir = await resolveSnapshotPath(p.snapshot);
      const runDir = path.dirname(dir);
      const log = (line: string) => this.emit.log({ jobId: p.jobId, line: line.slice(0, 10_000) });
      let fraction = 0;
      let lastEmit = 0;
      // Throttled: a LeNet epoch or a download reports far more often than anyone can read.
      const progress = (message: string, force = false) => {
        const now = performance.now();
        if (!force && now - lastEmit < 100) return;
        lastEmit = now;
        this.emit.progress({ jobId: p.jobId, done: fraction, total: 1, message: message.slice(0, 1000) });
      };
      progress(`loading ${path.basename(dir)}`, true);
      const extractors: string[] = [];
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      // Appending writes into the run: hold its writer lock from the start (a busy run is refused now, not after minutes of work).
      const compute = () =>
        computeSnapshotMetrics(dir, p.metrics, {
          append: p.append,
          modelCacheDir: p.modelCacheDir,
          featureModel: p.featureModel,
          signal,
          onLog: log,
          onExtractor: (_ex, d) => extractors.push(d),
          onLenetProgress: (lp) => progress(lp.phase === 'train'
            ? `training the LeNet extractor (once): epoch ${lp.epoch}/${lp.epochs}, step ${lp.step}/${lp.steps}`
            : lp.phase === 'evaluate' ? 'testing the LeNet extractor on held-out digits' : 'loading MNIST for the LeNet extractor'),
          onDownloadProgress: (d) => progress(`downloading the feature model (once): ${d.file} (${d.fileIndex + 1}/${d.files}) ${mib(d.bytes)}${d.totalBytes ? ` of ${mib(d.totalBytes)}` : ''}`),
          onProgress: (mp) => {
            fraction = metricLinesFraction(mp);
            const what = mp.phase === 'real' ? 'real images' : mp.phase === 'generated' ? 'generated images' : 'KID subsets';
            progress(`${mp.metrics.join(', ')}: ${what} ${mp.done}/${mp.total}`, mp.done === mp.total);
          },
        });
      const lines = p.append ? await withRunLock(runDir, 'metrics', compute) : await compute();
      fraction = 1;
      progress('done', true);
      const appended = p.append ? [...new Set(p.metrics.map((m) => path.join(runDir, metricFileName(parseMetricName(m).name))))] : [];
      return { snapshot: dir, runDir, lines, extractors, appended, ms: performance.now() - t0, backend: this.backendName() };
    });
  }

  //#endregion
}

function interp(a: Float32Array, b: Float32Array, t: number, mode: InterpMode): Float32Array {
  if (mode === 'slerp') return slerp(a, b, t);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

function kimgOf(snap: string): number {
  const m = /network-snapshot-(\d+(?:\.\d+)?)/.exec(path.basename(snap));
  return m ? Number(m[1]) : NaN;
}

function formatIdx(idx: number[]): string {
  return idx.length > 6 ? `${idx.slice(0, 3).join(', ')}, …, ${idx[idx.length - 1]}` : idx.join(', ');
}

//#region process entry

function main(): void {
  if (!process.send) {
    console.error('inferenceProcess: must be started with child_process.fork (no IPC channel).');
    process.exit(2);
  }
  const channel: MessageHandler<InferenceProcessApi, InferenceHostApi> = new MessageHandler({
    post: (m) => new Promise<void>((resolve) => {
      if (!process.connected) return resolve();
      process.send!(m, undefined, {}, () => resolve());
    }),
    validators: inferenceProcessValidators,
    onInvalid: (reason) => console.error(`inferenceProcess: rejected a message: ${reason}`),
    onHandlerError: (name, e) => console.error(`inferenceProcess: '${name}' failed: ${(e as Error)?.stack ?? String(e)}`),
  });
  const service = new InferenceService({
    progress: (p) => void channel.emit('progress', p),
    acrossItem: (i) => void channel.emit('acrossItem', i),
    log: (l) => void channel.emit('log', l),
  });
  // Replies carry the message; unexpected errors also go to stderr with their stack (the host logs it).
  const wrap = <P, R>(fn: (p: P) => Promise<R> | R) => async (p: P): Promise<R> => {
    try {
      return await fn(p);
    } catch (e) {
      if (!isCancel(e) && !isCancelled(e) && !isUserError(e)) console.error(`inferenceProcess: ${(e as Error)?.stack ?? String(e)}`);
      throw e;
    }
  };
  channel.on('cancel', ({ jobId }) => service.cancel(jobId));
  channel.onRequest('init', wrap(async ({ backend }) => {
    const b = await service.init(backend);
    return { backend: `${b.name} ${b.version}`, notes: b.notes, pid: process.pid };
  }));
  channel.onRequest('render', wrap((p) => service.render(p)));
  channel.onRequest('interpolate', wrap((p) => service.interpolate(p)));
  channel.onRequest('exportGrid', wrap((p) => service.exportGrid(p)));
  channel.onRequest('segment', wrap((p) => service.segment(p)));
  channel.onRequest('segmentAcross', wrap((p) => service.segmentAcross(p)));
  channel.onRequest('computeMetrics', wrap((p) => service.computeMetrics(p)));
  channel.onRequest('release', wrap((p) => service.release(p.snapshot)));
  channel.onRequest('stats', wrap(() => service.stats()));
  process.on('message', (m: unknown) => channel.handle(m));
  // The host went away (window closed/reloaded): nothing to save, just go.
  process.on('disconnect', () => process.exit(0));
}

main();

//#endregion
