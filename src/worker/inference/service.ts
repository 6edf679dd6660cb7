/**
 * The inference process's state and requests, transport-free: the backend, the inference threads
 * (when it renders on several), the model cache and the job queue; each heavy request runs as a job
 * calling its handler (./handlers). Changing ψ or the seeds re-renders from the cached networks;
 * `release` frees them (the host sends it when the last panel using a checkpoint closes) and `stats`
 * reports what is held, thread by thread, so tests and Engine Status can see it.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../../core/backend/backend';
import type { BackendName } from '../../core/config/options';
import type { InferenceProcessApi, InferenceStats, MetricsJobResult, MetricsParams, SegmentParams, SegmentPayload } from '../../shared/protocol/inference';
import type { Emitter, HandlerContext, JobScope } from './context';
import { JobQueue } from './jobQueue';
import { ModelCache } from './modelCache';
import { InferencePool } from './pool/inferencePool';
import { inferenceWorkers } from './pool/workerCount';
import { exportGrid, interpolate, render } from './handlers/generate';
import { segment, RealsCache } from './handlers/segment';
import { segmentAcross } from './handlers/segmentAcross';
import { computeMetrics } from './handlers/metrics';

type Params<K extends keyof InferenceProcessApi['requests']> = InferenceProcessApi['requests'][K]['params'];

export class InferenceService {
  private backend: BackendInfo | undefined;
  private backendInit: Promise<BackendInfo> | undefined;
  private pool: InferencePool | undefined;
  private workers = 1;
  /** The log line of the thread count (init's notes). */
  private workersNote = '';
  readonly cache = new ModelCache(() => this.pool);
  private readonly queue = new JobQueue(async () => {
    if (!this.backend) await this.init('auto');
  });
  private readonly reals = new RealsCache();
  private readonly ctx: HandlerContext;

  constructor(emit: Emitter, private readonly onLog: (line: string) => void = () => undefined) {
    this.ctx = { cache: this.cache, emit, backendName: () => this.backendName() };
  }

  /** Starts the backend once; `workers` (0/undefined = auto) sets the inference threads on the first call. */
  init(requested: BackendName, workers?: number): Promise<BackendInfo> {
    if (!this.backendInit) {
      this.backendInit = initBackend(requested).then((b) => {
        this.backend = b;
        const w = inferenceWorkers(workers, b.name);
        this.workers = w.workers;
        this.workersNote = w.note;
        if (w.workers > 1) {
          this.pool = new InferencePool(w.workers, b.name, (why) => {
            this.cache.forgetPooled();
            this.onLog(`inference: ${why}; its models are reloaded on the next request`);
          });
        }
        return b;
      });
      this.backendInit.catch(() => (this.backendInit = undefined));
    }
    return this.backendInit;
  }

  /** The thread count and its log line (after init). */
  get threads(): { workers: number; note: string } {
    return { workers: this.workers, note: this.workersNote };
  }

  private backendName(): string {
    return this.backend ? `${this.backend.name} ${this.backend.version}` : 'none';
  }

  cancel(jobId: string): void {
    this.queue.cancel(jobId);
  }

  /** Runs a handler as a job; the snapshot's release epoch is noted now, when the job is requested. */
  private job<T>(p: { jobId: string; snapshot?: string }, fn: (job: JobScope) => Promise<T>): Promise<T> {
    const epoch = p.snapshot !== undefined ? this.cache.releaseEpoch(p.snapshot) : 0;
    return this.queue.run(p.jobId, (signal) => fn({ jobId: p.jobId, epoch, signal }));
  }

  render(p: Params<'render'>) { return this.job(p, (j) => render(this.ctx, p, j)); }
  interpolate(p: Params<'interpolate'>) { return this.job(p, (j) => interpolate(this.ctx, p, j)); }
  exportGrid(p: Params<'exportGrid'>) { return this.job(p, (j) => exportGrid(this.ctx, p, j)); }
  segment(p: SegmentParams): Promise<SegmentPayload> { return this.job(p, (j) => segment(this.ctx, this.reals, p, j)); }
  segmentAcross(p: Params<'segmentAcross'>) { return this.job({ jobId: p.jobId }, (j) => segmentAcross(this.ctx, p, j)); }
  computeMetrics(p: MetricsParams): Promise<MetricsJobResult> { return this.job({ jobId: p.jobId }, (j) => computeMetrics(this.ctx, p, j)); }

  release(snapshot: string): Promise<{ released: boolean; numTensors: number }> {
    return this.cache.release(snapshot);
  }

  async stats(): Promise<InferenceStats> {
    const m = tf.memory();
    const threads = this.pool ? await this.pool.stats() : [];
    return {
      backend: this.backendName(),
      numTensors: m.numTensors + threads.reduce((s, t) => s + t.numTensors, 0),
      numBytes: m.numBytes + threads.reduce((s, t) => s + t.numBytes, 0),
      workers: { count: this.workers, threads },
      models: this.cache.list(),
      totalLoads: this.cache.totalLoads,
      pid: process.pid,
    };
  }

  /** Stops the inference threads. */
  async dispose(): Promise<void> {
    await this.pool?.dispose();
  }
}
