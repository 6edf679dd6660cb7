/**
 * The inference process's worker threads: `size` threads (src/worker/inferenceWorkerThread.ts), each with
 * its own tfjs backend and its own copy of every generator in use, started on the first load and
 * stopped once they hold nothing (a wasm heap never shrinks: only ending the thread gives its memory
 * back). A render's samples are split into shards of whole batches, one per thread, rendered with the
 * single-threaded path's batch boundaries and noise seeds, and put back in order — the same pixels and
 * feature maps as rendering them on one thread.
 *
 * A thread that dies fails the requests in flight with an error naming it, every thread is stopped and
 * `onBroken` lets the model cache forget what they held; the next request starts fresh threads.
 */
import type { ActiveBackendName } from '../../../core/backend/backend';
import { shardRows } from '../../../core/config/workers';
import { CancelledError } from '../../../core/errors';
import type { RenderedSamples, RenderOptions } from '../../../core/analysis/samples';
import { startThread, threadScript, ThreadHandle } from '../../../core/parallel/threads';
import { MessageHandler, RpcRemoteError } from '../../../shared/protocol/rpc';
import {
  SHARD_CANCELLED, type GeneratorMeta, type ModelSource, type PoolApi, type ShardResult, type ThreadApi, type ThreadStats,
} from './protocol';

type Requests = ThreadApi['requests'];

/** Rows [start, start+count) of `n` samples that each of `workers` threads renders: whole batches of `batchSize`, as even as possible, in order; threads without a batch are left out. */
export function batchShards(n: number, batchSize: number, workers: number): Array<{ start: number; count: number }> {
  const bs = Math.max(1, batchSize);
  const batches = Math.ceil(n / bs);
  const out: Array<{ start: number; count: number }> = [];
  for (let i = 0; i < workers; i++) {
    const r = shardRows(batches, workers, i);
    if (!r.count) continue;
    const start = r.start * bs;
    out.push({ start, count: Math.min(n, (r.start + r.count) * bs) - start });
  }
  return out;
}

interface PoolThread {
  handle: ThreadHandle<unknown, unknown>;
  channel: MessageHandler<PoolApi, ThreadApi>;
  /** Rejects once the thread has failed. */
  failed: Promise<never>;
  backend: string;
  /** Set on every thread of the pool once one of them failed: what its requests reject with. */
  brokenBy?: InferenceThreadError;
}

/** A thread of the pool failed; the request did not complete. */
export class InferenceThreadError extends Error {
  constructor(readonly thread: number, readonly threads: number, readonly reason: string) {
    super(`Inference thread ${thread + 1} of ${threads} failed: ${reason}`);
    this.name = 'InferenceThreadError';
  }
}

export class InferencePool {
  private threads: PoolThread[] | undefined;
  private starting: Promise<PoolThread[]> | undefined;
  private readonly progressFns = new Map<string, (threadIndex: number, done: number) => void>();
  private nextCall = 1;
  /** Keys every running thread holds. */
  private readonly loaded = new Set<string>();

  constructor(readonly size: number, private readonly backend: ActiveBackendName, private readonly onBroken?: (reason: string) => void) {}

  /** Whether the threads are running. */
  get running(): boolean {
    return !!this.threads;
  }

  private start(): Promise<PoolThread[]> {
    if (this.threads) return Promise.resolve(this.threads);
    this.starting ??= this.spawn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawn(): Promise<PoolThread[]> {
    const script = threadScript('inferenceWorkerThread');
    const threads: PoolThread[] = [];
    for (let i = 0; i < this.size; i++) {
      let onMessage: (m: unknown) => void = () => undefined;
      const handle = new ThreadHandle<unknown, unknown>(i, startThread(script, { index: i }), (m) => onMessage(m));
      const channel = new MessageHandler<PoolApi, ThreadApi>({ post: (m) => handle.post(m) });
      onMessage = (m) => channel.handle(m);
      const failed = new Promise<never>((_, reject) => handle.onFail((why) => reject(new InferenceThreadError(i, this.size, why))));
      failed.catch(() => undefined);
      const t: PoolThread = { handle, channel, failed, backend: '' };
      channel.on('progress', ({ call, done }) => this.progressFns.get(call)?.(i, done));
      handle.onFail((why) => this.broken(t, why));
      threads.push(t);
    }
    try {
      await Promise.all(threads.map(async (t) => {
        t.backend = (await this.ask(t, 'init', { backend: this.backend })).backend;
      }));
    } catch (e) {
      await Promise.all(threads.map((t) => { t.channel.dispose(); return t.handle.terminate(); }));
      throw e;
    }
    this.threads = threads;
    return threads;
  }

  /** A request to one thread, failing with InferenceThreadError if the thread dies meanwhile. */
  private async ask<K extends keyof Requests & string>(t: PoolThread, name: K, params: Requests[K]['params']): Promise<Requests[K]['result']> {
    try {
      return await Promise.race([t.channel.request(name, params, { timeoutMs: 0 }), t.failed]);
    } catch (e) {
      throw t.brokenBy ?? e; // the other threads' requests end with the failed thread's error, not "channel closed"
    }
  }

  private broken(t: PoolThread, why: string): void {
    if (!this.threads?.includes(t)) return; // stopped on purpose, or still starting (start() rejects)
    const threads = this.threads;
    this.threads = undefined;
    this.loaded.clear();
    const error = new InferenceThreadError(t.handle.index, this.size, why);
    for (const o of threads) o.brokenBy = error;
    for (const o of threads) o.channel.dispose();
    void Promise.all(threads.map((o) => o.handle.terminate()));
    this.onBroken?.(`inference thread ${t.handle.index + 1} of ${this.size} failed: ${why}`);
  }

  /** Has every thread build the generator of `source` under `key` (threads start first if needed). Resolves with its shape (and, for our snapshots, the checkpoint's info). */
  async load(key: string, source: ModelSource): Promise<Requests['load']['result']> {
    const threads = await this.start();
    const replies = await Promise.all(threads.map((t) => this.ask(t, 'load', { key, source })));
    this.loaded.add(key);
    return replies[0];
  }

  /** z for `seeds` as the generator under `key` draws them. */
  async latents(key: string, seeds: number[]): Promise<Float32Array> {
    const threads = await this.start();
    return this.ask(threads[0], 'latents', { key, seeds });
  }

  /**
   * Renders `input` (seeds, or latents [n, zDim]) with the generator under `key`, split across the threads
   * (see batchShards). Rejects with CancelledError when `o.signal` aborts.
   */
  async render(key: string, meta: GeneratorMeta, input: { seeds: number[] } | { z: Float32Array }, o: RenderOptions): Promise<RenderedSamples> {
    const threads = this.threads;
    if (!threads || !this.loaded.has(key)) throw new Error(`the inference threads do not hold ${key} (released, or a thread failed)`);
    const n = 'seeds' in input ? input.seeds.length : input.z.length / meta.zDim;
    const bs = Math.max(1, o.batchSize ?? 16);
    const shards = batchShards(n, bs, threads.length);
    const call = `c${this.nextCall++}`;
    const done = new Array<number>(threads.length).fill(0);
    this.progressFns.set(call, (i, d) => {
      done[i] = d;
      o.onProgress?.(done.reduce((a, b) => a + b, 0), n);
    });
    const lab = o.label;
    const labelsOf = (start: number, count: number) =>
      meta.cDim > 0 ? Array.from({ length: count }, (_, i) => (typeof lab === 'function' ? lab(start + i) : lab ?? 0)) : undefined;
    const cancel = () => { for (const t of threads) void t.channel.emit('cancel', { call }); };
    o.signal?.addEventListener('abort', cancel, { once: true });
    try {
      if (o.signal?.aborted) throw new CancelledError('rendering');
      const jobs = shards.map((s, i) => this.ask(threads[i], 'render', {
        call, key,
        input: 'seeds' in input ? { seeds: input.seeds.slice(s.start, s.start + s.count) } : { z: input.z.slice(s.start * meta.zDim, (s.start + s.count) * meta.zDim), n: s.count },
        psi: o.truncationPsi ?? 1, noiseMode: o.noiseMode ?? 'const', noiseSeed: (o.noiseSeed ?? 0) + s.start, labels: labelsOf(s.start, s.count),
        featureRes: o.featureRes ?? [], maxRes: o.maxRes, batchSize: bs,
      }));
      const settled = await Promise.allSettled(jobs);
      const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isShardCancel(r.reason));
      if (failure) {
        cancel();
        throw failure.reason;
      }
      if (o.signal?.aborted || settled.some((r) => r.status === 'rejected')) throw new CancelledError('rendering');
      return merge(settled.map((r) => (r as PromiseFulfilledResult<ShardResult>).value), n, meta);
    } finally {
      o.signal?.removeEventListener('abort', cancel);
      this.progressFns.delete(call);
    }
  }

  /** Frees `key` in every thread; once no thread holds anything, the threads stop. */
  async release(key: string): Promise<boolean> {
    const threads = this.threads;
    if (!threads) return false;
    const had = this.loaded.delete(key);
    await Promise.all(threads.map((t) => this.ask(t, 'release', { key }).catch(() => undefined)));
    if (!this.loaded.size) await this.dispose();
    return had;
  }

  /** What each running thread holds ([] when none run). */
  async stats(): Promise<ThreadStats[]> {
    const threads = this.threads;
    if (!threads) return [];
    return Promise.all(threads.map((t) => this.ask(t, 'stats', {})));
  }

  /** Stops the threads (what they held is gone). */
  async dispose(): Promise<void> {
    const threads = this.threads;
    this.threads = undefined;
    this.loaded.clear();
    if (!threads) return;
    for (const t of threads) t.channel.dispose();
    await Promise.all(threads.map((t) => t.handle.terminate()));
  }
}

function isShardCancel(e: unknown): boolean {
  return e instanceof RpcRemoteError && e.message === SHARD_CANCELLED;
}

/** The shards' images and feature maps back in sample order. */
function merge(parts: ShardResult[], n: number, meta: GeneratorMeta): RenderedSamples {
  const images = parts.flatMap((p) => p.images);
  const features: RenderedSamples['features'] = new Map();
  for (const f of parts[0]?.features ?? []) {
    const chunks = parts.map((p) => p.features.find((x) => x.res === f.res)!.data);
    const data = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
    let off = 0;
    for (const c of chunks) { data.set(c, off); off += c.length; }
    features.set(f.res, { data, n, h: f.res, w: f.res, c: meta.channels[meta.resolutions.indexOf(f.res)] });
  }
  return { images, features };
}
