/**
 * The segmentation panel's request: K-means maps of G's features over a batch of seeds, and D's GGDR
 * decoder output on the same fakes (and on real images of the run's dataset). G renders where the
 * snapshot's generator lives (this thread or the inference threads); K-means and D run on this thread.
 */
import { getBatch, getImage, type Dataset } from '../../../core/data/dataset';
import { clusterShares } from '../../../core/analysis/kmeans';
import { segmentWith, type ResolutionSegmentation } from '../../../core/analysis/segmentSnapshot';
import { loadCheckpointDataset, locateDataset, type CheckpointInfo } from '../../../core/checkpoints/index';
import { encodeLabels, type ClusterMap, type SegmentParams, type SegmentPayload } from '../../../shared/protocol/inference';
import { batchFor } from '../generation';
import { pngDataUrl, type HandlerContext, type JobScope } from '../context';

export function toMap(s: Pick<ResolutionSegmentation, 'res' | 'k' | 'labels' | 'shares' | 'sampled' | 'fitPixels'>): ClusterMap {
  return { res: s.res, k: s.k, labels: encodeLabels(s.labels), shares: s.shares, sampled: s.sampled, fitPixels: s.fitPixels, totalPixels: s.labels.length };
}

/** The run's dataset (cached: one at a time), for real images. */
export class RealsCache {
  private dataset: { key: string; ds: Promise<Dataset> } | undefined;

  get(info: CheckpointInfo): Promise<Dataset> {
    const where = info.dataset ? locateDataset(info.dataset, info.runDir, info.options?.outdir) : info.runDir;
    const key = `${where}|${info.resolution}|${info.channels}|${info.dataset?.maxImages ?? 0}`;
    if (this.dataset?.key !== key) {
      this.dataset = { key, ds: loadCheckpointDataset(info) };
      this.dataset.ds.catch(() => { if (this.dataset?.key === key) this.dataset = undefined; });
    }
    return this.dataset.ds;
  }
}

export async function segment(ctx: HandlerContext, reals: RealsCache, p: SegmentParams, job: JobScope): Promise<SegmentPayload> {
  const { signal } = job;
  const t0 = performance.now();
  const progress = (message: string, fraction: number) => ctx.emit.progress({ jobId: p.jobId, done: fraction, total: 1, message });
  progress('loading the checkpoint', 0);
  const { gen, entry } = await ctx.cache.generator(p.snapshot, 'G_ema', job.epoch, signal, (f, m) => progress(`loading: ${m}`, 0.02 * f));
  const G = gen.G;
  const ggdrRes = entry.info.ggdrRes;
  const D = p.withDecoder && ggdrRes !== null ? await ctx.cache.discriminator(entry, G, p.snapshot, job.epoch, signal) : null;
  // G's map at the decoder's resolution is shown next to D's (same centroids, same colours).
  const resolutions = [...new Set([...p.resolutions, ...(p.withDecoder && D?.decoderRes ? [D.decoderRes] : [])])].sort((a, b) => a - b);
  let realsData: Float32Array | undefined;
  let realImages: Uint8Array[] = [];
  let realsNote: string | undefined;
  let realsSource = '';
  if (D && p.reals > 0) {
    progress('loading real images', 0.02);
    try {
      const ds = await reals.get(entry.info);
      const n = Math.min(p.reals, ds.count);
      const idx = Array.from({ length: n }, (_, i) => Math.floor(((i + 0.5) * ds.count) / n));
      realsData = getBatch(ds, idx);
      realImages = idx.map((i) => getImage(ds, i));
      realsSource = `${ds.name}: images ${formatIdx(idx)}`;
    } catch (e) {
      realsNote = `Real images unavailable: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  const r = await segmentWith({ info: entry.info, G, D }, (seeds, ro) => gen.render({ seeds }, ro), {
    seeds: p.seeds, resolutions, k: p.k, metric: p.metric, psi: p.psi, kmeansSeed: p.kmeansSeed, maxPixels: p.maxPixels,
    withDecoder: p.withDecoder, reals: realsData, onProgress: progress, signal, label: p.label, batchSize: batchFor(G),
  });
  const R = r.resolution, C = r.channels;
  const out: SegmentPayload = {
    seeds: r.seeds,
    resolution: R,
    channels: C,
    images: r.images.map((im) => pngDataUrl(im, R, C)),
    metric: r.metric,
    maps: r.resolutions.map((s) => toMap(s)),
    decoder: null,
    ms: performance.now() - t0,
    backend: ctx.backendName(),
  };
  if (r.decoderNote) out.decoderNote = r.decoderNote;
  if (r.decoder) {
    const d = r.decoder;
    const gAt = r.resolutions.find((s) => s.res === d.res)!;
    const withG = (labels: Int32Array) => toMap({ res: d.res, k: gAt.k, labels, shares: clusterShares(labels, gAt.k), sampled: gAt.sampled, fitPixels: gAt.fitPixels });
    out.decoder = { res: d.res, fakesWithG: withG(d.fakesWithGCentroids), fakesOwn: toMap(d.fakes), meanCosine: d.meanCosine };
    if (d.realsWithGCentroids) out.decoder.reals = { images: realImages.map((im) => pngDataUrl(im, R, C)), map: withG(d.realsWithGCentroids), source: realsSource };
    if (realsNote) out.decoder.realsNote = realsNote;
  }
  return out;
}

function formatIdx(idx: number[]): string {
  return idx.length > 6 ? `${idx.slice(0, 3).join(', ')}, …, ${idx[idx.length - 1]}` : idx.join(', ');
}
