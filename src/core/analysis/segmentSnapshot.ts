/**
 * Feature-map segmentation of a snapshot — the picture of the GGDR paper: generate a batch from
 * seeds, cluster the generator's feature maps at chosen resolutions with one K-means over the whole
 * batch (so a colour is the same cluster in every image), and, when the run had GGDR, the
 * discriminator decoder's prediction on the same fakes (and optionally on reals), with the mean
 * cosine similarity between D's prediction and G's features. Shared by the CLI and the panel.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../config/options';
import { UserError, throwIfAborted } from '../errors';
import { initBackend } from '../backend/backend';
import { writePngAtomic } from '../image/grid';
import { loadCheckpoint, resolveSnapshotPath, type Checkpoint, type InspectGenerator } from '../checkpoints/index';
import { tfDotEngine } from './kmeansTf';
import { meanCosineSimilarity } from './clusterCompare';
import { assignToCentroids, clusterFeatures, type FeatureBatch, type KMeansMetric } from './kmeans';
import { segmentationGrid, segmentationRow } from './segmentation';
import { classLabels, renderSeeds, type SeedRenderer } from './samples';

export interface SegmentOptions {
  seeds: number[];
  /** Generator resolutions to cluster; default all but 4. */
  resolutions?: number[];
  k?: number;
  metric?: KMeansMetric;
  psi?: number;
  kmeansSeed?: number;
  maxPixels?: number;
  /** K-means++ restarts (default 10; the lowest-inertia fit wins). */
  restarts?: number;
  /** Also run the discriminator's GGDR decoder on the fakes (when the snapshot has one). */
  withDecoder?: boolean;
  /** Real images [N,R,R,C] in [-1,1] to run the decoder on too (optional). */
  reals?: Float32Array;
  onProgress?: (message: string, fraction: number) => void;
  /** Aborts between batches and stages (the promise rejects with CancelledError). */
  signal?: AbortSignal;
  /** Class of every sample for conditional models (default 0). */
  label?: number;
  /** Samples per generator pass (large models: small batches give progress and cancellation sooner). */
  batchSize?: number;
}

export interface ResolutionSegmentation {
  res: number;
  /** [N,res,res] cluster ids */
  labels: Int32Array;
  shares: number[];
  sampled: boolean;
  fitPixels: number;
  k: number;
}

export interface DecoderSegmentation {
  res: number;
  /** D's decoder output on the fakes, clustered on its own. */
  fakes: ResolutionSegmentation;
  /** D's decoder output on the fakes, labelled with G's centroids at the same resolution (same colours as G's row). */
  fakesWithGCentroids: Int32Array;
  /** Mean per-pixel cosine similarity between D's prediction and G's features on the fakes. */
  meanCosine: number;
  /** D's decoder output on reals, labelled with G's centroids, when reals were given. */
  realsWithGCentroids?: Int32Array;
  realsCount?: number;
}

export interface SegmentResult {
  seeds: number[];
  resolution: number;
  channels: number;
  /** uint8 HWC samples */
  images: Uint8Array[];
  resolutions: ResolutionSegmentation[];
  decoder: DecoderSegmentation | null;
  /** Why there is no decoder result (baseline run, not asked). */
  decoderNote?: string;
  metric: KMeansMetric;
}

/** Runs the segmentation on loaded networks (G, and D when withDecoder). Tensors are all freed. */
export function segmentNetworks(nets: Pick<Checkpoint, 'G' | 'D' | 'info'>, o: SegmentOptions): Promise<SegmentResult> {
  return segmentWith(nets, (seeds, ro) => renderSeeds(nets.G, seeds, ro), o);
}

/** segmentNetworks with the samples rendered by `render` (G is then only its shape). */
export async function segmentWith(
  nets: Pick<Checkpoint, 'D' | 'info'> & { G: Pick<InspectGenerator, 'resolution' | 'imgChannels' | 'resolutions' | 'cDim'> },
  render: SeedRenderer, o: SegmentOptions,
): Promise<SegmentResult> {
  const G = nets.G;
  const m = { resolution: G.resolution, channels: G.imgChannels };
  const all = G.resolutions.filter((r) => r > 4);
  const resolutions = o.resolutions ?? (all.length ? all : G.resolutions);
  for (const r of resolutions) {
    if (!G.resolutions.includes(r)) throw new UserError(`Resolution ${r} is not a generator block of this ${m.resolution}px model.`, `Use one of ${G.resolutions.join(', ')}.`);
  }
  const metric = o.metric ?? 'cosine';
  const k = o.k ?? 6;
  const ggdrRes = nets.D ? nets.D.decoderRes : nets.info.ggdrRes;
  const featureRes = [...new Set([...resolutions, ...(o.withDecoder && ggdrRes ? [ggdrRes] : [])])];
  o.onProgress?.('generating samples', 0.05);
  const rendered = await render(o.seeds, {
    truncationPsi: o.psi ?? 1, noiseMode: 'const', featureRes, signal: o.signal, label: o.label,
    batchSize: o.batchSize, onProgress: (done, total) => o.onProgress?.(`generating samples ${done}/${total}`, 0.05 + 0.05 * (done / total)),
  });
  const checkAbort = () => throwIfAborted(o.signal, 'the segmentation');
  const fit = (batch: FeatureBatch, res: number): ResolutionSegmentation & { centroids: Float32Array } => {
    const r = clusterFeatures(batch, { k, metric, seed: o.kmeansSeed ?? 0, maxPixels: o.maxPixels ?? 20000, restarts: o.restarts, dotEngine: tfDotEngine });
    return { res, labels: r.labels, shares: r.shares, sampled: r.sampled, fitPixels: r.fitPixels, k: r.k, centroids: r.centroids };
  };
  const out: SegmentResult = { seeds: o.seeds, resolution: m.resolution, channels: m.channels, images: rendered.images, resolutions: [], decoder: null, metric };
  const centroidsByRes = new Map<number, Float32Array>();
  for (const [i, res] of resolutions.entries()) {
    // Yield so a cancel message (IPC) or progress report gets through between the blocking fits.
    await new Promise((r) => setImmediate(r));
    checkAbort();
    o.onProgress?.(`clustering ${res}×${res}`, 0.1 + (0.6 * i) / resolutions.length);
    const { centroids, ...seg } = fit(rendered.features.get(res)!, res);
    centroidsByRes.set(res, centroids);
    out.resolutions.push(seg);
  }
  if (o.withDecoder) {
    if (!ggdrRes || !nets.D || nets.D.decoderRes === null) {
      out.decoderNote = nets.info.ggdrRes !== null && !nets.D ? 'the discriminator was not loaded' : 'this run was trained without GGDR, so its discriminator has no decoder';
    } else {
      await new Promise((r) => setImmediate(r));
      checkAbort();
      o.onProgress?.('running the discriminator decoder', 0.75);
      const gFeat = rendered.features.get(ggdrRes)!;
      const labelsFor = (n: number) => classLabels(G, n, o.label);
      const decFake = await decode(nets.D, imagesToTensor(rendered.images, m.resolution, m.channels), labelsFor);
      const { centroids: _own, ...fakesSeg } = fit(decFake, ggdrRes);
      const gCentroids = centroidsByRes.get(ggdrRes) ?? fit(gFeat, ggdrRes).centroids;
      const dec: DecoderSegmentation = {
        res: ggdrRes,
        fakes: fakesSeg,
        fakesWithGCentroids: assignToCentroids(decFake, gCentroids, metric, tfDotEngine),
        meanCosine: meanCosineSimilarity(decFake, gFeat),
      };
      if (o.reals && o.reals.length) {
        const per = m.resolution * m.resolution * m.channels;
        const n = o.reals.length / per;
        const decReal = await decode(nets.D, tf.tensor4d(o.reals, [n, m.resolution, m.resolution, m.channels]), labelsFor);
        dec.realsWithGCentroids = assignToCentroids(decReal, gCentroids, metric, tfDotEngine);
        dec.realsCount = n;
      }
      out.decoder = dec;
    }
  }
  o.onProgress?.('done', 1);
  return out;
}

function imagesToTensor(images: Uint8Array[], res: number, ch: number): tf.Tensor4D {
  const per = res * res * ch;
  const data = new Float32Array(images.length * per);
  images.forEach((im, i) => { for (let j = 0; j < per; j++) data[i * per + j] = im[j] / 127.5 - 1; });
  return tf.tensor4d(data, [images.length, res, res, ch]);
}

/** D's decoder on images (consumes `x`). */
async function decode(D: NonNullable<Checkpoint['D']>, x: tf.Tensor4D, labelsFor: (n: number) => tf.Tensor2D | undefined): Promise<FeatureBatch> {
  const c = labelsFor(x.shape[0]);
  let d: tf.Tensor4D | undefined;
  try {
    d = D.decode(x, c);
    const [n, h, w, ch] = d.shape;
    return { data: (await d.data()) as Float32Array, n, h, w, c: ch };
  } finally {
    tf.dispose([x, ...(c ? [c] : []), ...(d ? [d] : [])]);
  }
}

/** Renders a result as the official-style grid: samples on top, one row per resolution, then D's rows. */
export function segmentationPicture(r: SegmentResult) {
  const n = r.images.length, R = r.resolution;
  const rows = r.resolutions.map((s) => segmentationRow(s.labels, n, s.res, s.res, R));
  if (r.decoder) rows.push(segmentationRow(r.decoder.fakesWithGCentroids, n, r.decoder.res, r.decoder.res, R));
  return segmentationGrid(r.images, rows, { height: R, gap: 1 });
}

export interface ClusterToPngOptions extends Omit<SegmentOptions, 'withDecoder' | 'reals'> {
  snapshot: string;
  out?: string;
  backend?: BackendName;
}

/** CLI `cluster`: segment a snapshot and write the grid PNG. */
export async function clusterSnapshotToPng(o: ClusterToPngOptions): Promise<{ file: string; result: SegmentResult }> {
  const snap = await resolveSnapshotPath(o.snapshot);
  await initBackend(o.backend ?? 'auto');
  const nets = await loadCheckpoint(snap, { withD: true });
  try {
    const result = await segmentNetworks(nets, { ...o, withDecoder: true });
    const file = path.resolve(o.out ?? path.join(path.dirname(snap), `cluster-${path.basename(snap).replace('network-snapshot-', '').replace(/\.pkl$/, '')}-k${o.k ?? 6}.png`));
    await writePngAtomic(file, segmentationPicture(result));
    return { file, result };
  } finally {
    nets.dispose();
  }
}
