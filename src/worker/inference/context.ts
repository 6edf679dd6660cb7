/**
 * What every inference handler works with: the model cache, the events it sends the host, and the
 * backend's name; plus the small helpers they share (PNG data URLs, load progress).
 */
import { encodePng } from '../../core/image/codec';
import type { AcrossItem, ProgressInfo } from '../../shared/protocol/inference';
import type { ModelCache, LoadProgress } from './modelCache';

/** Events to the host. */
export interface Emitter {
  progress(p: ProgressInfo): void;
  acrossItem(item: AcrossItem & { jobId: string }): void;
  log(l: { jobId: string; line: string }): void;
}

export interface HandlerContext {
  cache: ModelCache;
  emit: Emitter;
  /** "wasm 4.22.0", or 'none' before the backend started. */
  backendName(): string;
}

/** A job's view of one request: its id, the snapshot's release epoch when it was requested, its abort signal. */
export interface JobScope {
  jobId: string;
  epoch: number;
  signal: AbortSignal;
}

export const pngDataUrl = (data: Uint8Array, res: number, channels: number): string =>
  `data:image/png;base64,${encodePng({ width: res, height: res, channels: channels as 1 | 3, data }).toString('base64')}`;

/** Progress of loading a checkpoint (big official pickles take seconds). */
export function loadProgress(ctx: HandlerContext, jobId: string): LoadProgress {
  return (fraction, message) => ctx.emit.progress({ jobId, done: fraction, total: 1, message: `loading: ${message}` });
}
