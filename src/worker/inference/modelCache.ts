/**
 * The inference process's loaded networks, keyed by snapshot (folder or .pkl): each snapshot's
 * generators (G, G_ema: on this thread, or in every inference thread when the process has several)
 * and its D (on this thread), kept until the host releases the snapshot (its last panel closed).
 *
 * A job notes the snapshot's release count when it is requested; what it loads after a later release
 * is not cached: its panel closed while it was loading, and caching would keep a model no panel holds
 * (the host sends cancel, then release, as the last panel closes).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  isPickle, loadCheckpoint, loadCheckpointD, readOfficialGenerator, resolveSnapshotPath,
  type CheckpointInfo, type InspectDiscriminator,
} from '../../core/checkpoints/index';
import { CancelledError, throwIfAborted } from '../../core/errors';
import type { NetworkName } from '../../shared/protocol/inference';
import { LocalGeneration, PooledGeneration, type Generation, type GeneratorShape } from './generation';
import type { InferencePool } from './pool/inferencePool';

export interface ModelEntry {
  dir: string;
  info: CheckpointInfo;
  gens: Map<NetworkName, Generation>;
  /** undefined = not loaded yet; null = loaded, but the run has no GGDR decoder. */
  D: InspectDiscriminator | null | undefined;
  loads: number;
}

export type LoadProgress = (fraction: number, message: string) => void;

export class ModelCache {
  private readonly models = new Map<string, ModelEntry>();
  private readonly releases = new Map<string, number>();
  /** Checkpoint reads since the process started. */
  totalLoads = 0;

  /** `pool()`: the inference threads when the process renders on several, else undefined (this thread). */
  constructor(private readonly pool: () => InferencePool | undefined) {}

  /** How often `snapshot` was released so far: a job's epoch, noted when it is requested. */
  releaseEpoch(snapshot: string): number {
    return this.releases.get(path.resolve(snapshot)) ?? 0;
  }

  /** The cached entry of a snapshot (resolved), if any. */
  async cached(snapshot: string): Promise<ModelEntry | undefined> {
    return this.models.get(await resolveSnapshotPath(snapshot));
  }

  /** G or G_ema of a snapshot, from the cache or read from disk (counted in `loads`). `epoch`: releaseEpoch when the job was requested. */
  async generator(
    snapshot: string, which: NetworkName, epoch: number, signal?: AbortSignal, onLoad?: LoadProgress,
  ): Promise<{ gen: Generation; entry: ModelEntry; loaded: boolean }> {
    const dir = await resolveSnapshotPath(snapshot);
    const cached = this.models.get(dir)?.gens.get(which);
    if (cached) return { gen: cached, entry: this.models.get(dir)!, loaded: false };
    const { gen, info } = await this.load(dir, which, signal, onLoad);
    this.totalLoads++;
    if (this.releaseEpoch(snapshot) !== epoch) {
      await gen.dispose();
      throw new CancelledError('loading');
    }
    let entry = this.models.get(dir);
    if (!entry) this.models.set(dir, (entry = { dir, info, gens: new Map(), D: undefined, loads: 0 }));
    entry.loads++;
    entry.gens.set(which, gen);
    return { gen, entry, loaded: true };
  }

  /** Whether generators load into the inference threads (else onto this thread). */
  get pooled(): boolean {
    return !!this.pool();
  }

  /**
   * A generator for one job, not kept: the cached one when a panel holds the snapshot (release does
   * nothing), else read now (release frees it). Counted in totalLoads when read.
   */
  async borrow(snapshot: string, which: NetworkName, signal?: AbortSignal): Promise<{ gen: Generation; info: CheckpointInfo; release(): Promise<void> }> {
    const dir = await resolveSnapshotPath(snapshot);
    const e = this.models.get(dir);
    const cached = e?.gens.get(which);
    if (e && cached) return { gen: cached, info: e.info, release: () => Promise.resolve() };
    const { gen, info } = await this.load(dir, which, signal);
    this.totalLoads++;
    return { gen, info, release: () => gen.dispose() };
  }

  /** Reads a generator: onto this thread, or (with a pool) into every inference thread, the pickle parsed once here and its weights posted to them. */
  private async load(dir: string, which: NetworkName, signal?: AbortSignal, onLoad?: LoadProgress): Promise<{ gen: Generation; info: CheckpointInfo }> {
    const pool = this.pool();
    if (!pool) {
      const nets = await loadCheckpoint(dir, { which, signal, onProgress: onLoad });
      return { gen: new LocalGeneration(nets.G), info: nets.info };
    }
    const key = `${dir}#${which}`;
    if (isPickle(dir)) {
      const { info, record } = await readOfficialGenerator(dir, { which, signal, onProgress: onLoad });
      throwIfAborted(signal, 'loading');
      onLoad?.(0.85, `building ${which} in ${pool.size} inference threads`);
      const { meta } = await pool.load(key, { kind: 'official', snapshot: dir, which, record });
      return { gen: new PooledGeneration(pool, key, meta), info };
    }
    const { meta, info } = await pool.load(key, { kind: 'ours', snapshot: dir, which });
    if (!info) throw new Error(`the inference threads did not describe ${dir}`);
    return { gen: new PooledGeneration(pool, key, meta), info };
  }

  /** D (with its GGDR decoder when the run had one), on this thread, cached with the snapshot's generators (unless released meanwhile). */
  async discriminator(entry: ModelEntry, G: GeneratorShape, snapshot: string, epoch: number, signal?: AbortSignal): Promise<InspectDiscriminator | null> {
    if (entry.D !== undefined) return entry.D;
    const D = await loadCheckpointD(entry.info, G, signal);
    this.totalLoads++;
    entry.loads++;
    if (this.releaseEpoch(snapshot) !== epoch || this.models.get(entry.dir) !== entry) {
      D.dispose();
      throw new CancelledError('loading');
    }
    entry.D = D.decoderRes === null ? null : D;
    if (entry.D === null) D.dispose();
    return entry.D;
  }

  /** Frees a snapshot's networks (here and in the inference threads). */
  async release(snapshot: string): Promise<{ released: boolean; numTensors: number }> {
    const dir = path.resolve(snapshot);
    this.releases.set(dir, (this.releases.get(dir) ?? 0) + 1);
    const e = this.models.get(dir);
    if (e) {
      this.models.delete(dir);
      e.D?.dispose();
      for (const g of e.gens.values()) await g.dispose();
    }
    return { released: !!e, numTensors: tf.memory().numTensors };
  }

  /** Forgets the generators the inference threads held (they failed and were stopped). */
  forgetPooled(): void {
    for (const [dir, e] of this.models) {
      for (const [which, g] of e.gens) if (g instanceof PooledGeneration) e.gens.delete(which);
      if (!e.gens.size) {
        e.D?.dispose();
        this.models.delete(dir);
      }
    }
  }

  /** The cache as Engine Status shows it. */
  list(): Array<{ snapshot: string; loads: number; parts: string[] }> {
    return [...this.models.values()].map((e) => ({
      snapshot: e.dir,
      loads: e.loads,
      parts: [
        ...e.gens.keys(), // those in the inference threads are listed per thread too (InferenceStats.workers)
        ...(e.D ? ['D'] : e.D === null ? ['D (no decoder)'] : []),
      ],
    }));
  }
}
