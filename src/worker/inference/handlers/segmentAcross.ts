/**
 * The across-snapshots strip: the same seeds clustered at one resolution in each snapshot of a run,
 * each result streamed as an `acrossItem` event as soon as it is ready. A snapshot some panel holds is
 * rendered with its cached generator (threads included); the others are loaded on this thread one at a
 * time and not kept (the strip may walk hundreds of snapshots).
 */
import * as path from 'node:path';
import { segmentWith } from '../../../core/analysis/segmentSnapshot';
import { loadCheckpoint, type Checkpoint } from '../../../core/checkpoints/index';
import { CancelledError, isCancelled } from '../../../core/errors';
import type { AcrossItem, InferenceProcessApi } from '../../../shared/protocol/inference';
import { LocalGeneration, type Generation } from '../generation';
import { pngDataUrl, type HandlerContext, type JobScope } from '../context';
import { toMap } from './segment';

export async function segmentAcross(
  ctx: HandlerContext, p: InferenceProcessApi['requests']['segmentAcross']['params'], job: JobScope,
): Promise<{ done: number; failed: number }> {
  const { signal } = job;
  let done = 0, failed = 0;
  const total = p.snapshots.length;
  for (const [index, snap] of p.snapshots.entries()) {
    if (signal.aborted) throw new CancelledError('the segmentation');
    ctx.emit.progress({ jobId: p.jobId, done: index, total, message: `snapshot ${index + 1}/${total}: ${path.basename(snap)}` });
    const item: AcrossItem = { index, total, snapshot: snap, name: path.basename(snap), kimg: kimgOf(snap) };
    let temp: Checkpoint | undefined;
    try {
      const cached = await ctx.cache.cached(snap);
      let nets: Pick<Checkpoint, 'info' | 'D'> & { gen: Generation };
      const cachedGen = cached?.gens.get('G_ema');
      if (cached && cachedGen) {
        nets = { info: cached.info, gen: cachedGen, D: null };
      } else {
        temp = await loadCheckpoint(snap, { which: 'G_ema', signal });
        ctx.cache.totalLoads++;
        nets = { info: temp.info, gen: new LocalGeneration(temp.G), D: null };
      }
      item.kimg = nets.info.kimg ?? item.kimg;
      const gen = nets.gen;
      const r = await segmentWith({ info: nets.info, G: gen.G, D: null }, (seeds, ro) => gen.render({ seeds }, ro), {
        seeds: p.seeds, resolutions: [p.res], k: p.k, metric: p.metric, psi: p.psi, kmeansSeed: p.kmeansSeed, maxPixels: p.maxPixels, signal,
      });
      item.images = r.images.map((im) => pngDataUrl(im, r.resolution, r.channels));
      item.map = toMap(r.resolutions[0]);
      done++;
    } catch (e) {
      if (signal.aborted || isCancelled(e)) throw new CancelledError('the segmentation');
      item.error = (e as Error).message;
      failed++;
    } finally {
      temp?.dispose();
    }
    ctx.emit.acrossItem({ jobId: p.jobId, ...item });
    await new Promise((r) => setImmediate(r));
  }
  ctx.emit.progress({ jobId: p.jobId, done: total, total, message: 'done' });
  return { done, failed };
}

function kimgOf(snap: string): number {
  const m = /network-snapshot-(\d+(?:\.\d+)?)/.exec(path.basename(snap));
  return m ? Number(m[1]) : NaN;
}
