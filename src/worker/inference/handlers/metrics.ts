/**
 * Compute Metrics: FID/KID of a snapshot's G_ema (computeSnapshotMetrics) with progress as one overall
 * fraction and a message per phase, LeNet training and model downloads included; cancellable at every
 * batch; the generated samples are rendered in the inference threads when there are some. Appending writes into the run, so the run's writer lock is held from the start (a busy run is
 * refused now, not after minutes of work).
 */
import * as path from 'node:path';
import { computeSnapshotMetrics, generatorSource, metricLinesFraction, parseMetricName } from '../../../core/metrics/index';
import { resolveSnapshotPath } from '../../../core/checkpoints/index';
import { metricFileName } from '../../../core/runs/runDir';
import { withRunLock } from '../../../core/runs/runLock';
import type { MetricsJobResult, MetricsParams } from '../../../shared/protocol/inference';
import type { HandlerContext, JobScope } from '../context';

export async function computeMetrics(ctx: HandlerContext, p: MetricsParams, job: JobScope): Promise<MetricsJobResult> {
  const { signal } = job;
  const t0 = performance.now();
  const dir = await resolveSnapshotPath(p.snapshot);
  const runDir = path.dirname(dir);
  const log = (line: string) => ctx.emit.log({ jobId: p.jobId, line: line.slice(0, 10_000) });
  let fraction = 0;
  let lastEmit = 0;
  // Throttled: a LeNet epoch or a download reports far more often than anyone can read.
  const progress = (message: string, force = false) => {
    const now = performance.now();
    if (!force && now - lastEmit < 100) return;
    lastEmit = now;
    ctx.emit.progress({ jobId: p.jobId, done: fraction, total: 1, message: message.slice(0, 1000) });
  };
  progress(`loading ${path.basename(dir)}`, true);
  const extractors: string[] = [];
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
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
      // With inference threads, the generated samples are rendered there (the same pixels); else G_ema on this thread.
      generator: ctx.cache.pooled ? async (snapshot) => {
        const { gen, info, release } = await ctx.cache.borrow(snapshot, 'G_ema', signal);
        return { info, samples: generatorSource(gen.G, (seeds, o) => gen.render({ seeds }, o)), dispose: release };
      } : undefined,
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
  return { snapshot: dir, runDir, lines, extractors, appended, ms: performance.now() - t0, backend: ctx.backendName() };
}
