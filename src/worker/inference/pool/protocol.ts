/**
 * Messages between the inference process's main thread (InferencePool) and its inference threads
 * (./thread), carried by rpc.ts's MessageHandler over the thread's port: structured clones, so typed
 * arrays (latents, images, feature maps, an official pickle's weights) travel as they are. Both ends are
 * this process's own code, so no validators: nothing here comes from outside.
 */
import type { ActiveBackendName } from '../../../core/backend/backend';
import type { CheckpointInfo } from '../../../core/checkpoints/index';
import type { OfficialModule } from '../../../core/official/types';
import type { NetworkName, NoiseModeName } from '../../../shared/protocol/inference';

/** Where a thread gets a generator from: an official pickle's record read once by the main thread, or our snapshot folder. */
export type ModelSource =
  | { kind: 'official'; snapshot: string; which: NetworkName; record: OfficialModule }
  | { kind: 'ours'; snapshot: string; which: NetworkName };

/** A generator's shape, as the main thread needs it without holding its weights. */
export interface GeneratorMeta {
  zDim: number;
  cDim: number;
  resolution: number;
  imgChannels: number;
  resolutions: number[];
  /** Channels of each of `resolutions` (same order). */
  channels: number[];
}

/** One shard of a render: the samples' seeds or latents (rows of [n, zDim]) and how to render them. */
export interface ShardRender {
  call: string;
  key: string;
  input: { seeds: number[] } | { z: Float32Array; n: number };
  psi: number;
  noiseMode: NoiseModeName | 'none';
  /** Seed of 'random' noise for this shard's first sample (the request's noise seed + the shard's offset). */
  noiseSeed: number;
  /** Class of each sample (conditional models), or undefined. */
  labels?: number[];
  featureRes: number[];
  maxRes?: number;
  batchSize: number;
}

export interface ShardResult {
  images: Uint8Array[];
  features: Array<{ res: number; data: Float32Array; n: number; h: number; w: number; c: number }>;
}

export interface ThreadStats {
  threadId: number;
  backend: string;
  numTensors: number;
  numBytes: number;
  models: Array<{ snapshot: string; which: NetworkName }>;
}

/** What an inference thread receives. */
export interface ThreadApi {
  events: {
    /** Stops the shard of `call` at its next batch (its request then fails as cancelled). */
    cancel: { call: string };
  };
  requests: {
    init: { params: { backend: ActiveBackendName }; result: { backend: string } };
    /** Builds the generator under `key` (kept until released). */
    load: { params: { key: string; source: ModelSource }; result: { meta: GeneratorMeta; info?: CheckpointInfo } };
    /** z [n, zDim] of seeds, as the generator draws them. */
    latents: { params: { key: string; seeds: number[] }; result: Float32Array };
    render: { params: ShardRender; result: ShardResult };
    release: { params: { key: string }; result: { released: boolean } };
    stats: { params: Record<string, never>; result: ThreadStats };
  };
}

/** What the main thread receives from an inference thread. */
export interface PoolApi {
  events: {
    /** Samples of `call` this thread has finished so far. */
    progress: { call: string; done: number };
  };
  requests: Record<string, never>;
}

/** Reply text of a shard stopped by `cancel`. */
export const SHARD_CANCELLED = 'shard cancelled';
