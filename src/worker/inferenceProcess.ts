/**
 * Inference child process: `child_process.fork(dist/inference.js)`. Answers the requests of
 * src/shared/protocol/inference.ts (sample grids, interpolation strips, PNG export, K-means
 * segmentation of G's features and D's GGDR decoder output, the across-snapshots strip, FID/KID
 * metrics of a snapshot) off the extension-host thread; on wasm/cpu it splits each render across
 * inference threads (./inference/pool). This file is only the transport: the IPC channel to the host
 * and the request routing; the work is ./inference/service and its handlers.
 */
import { isCancelled, isUserError } from '../core/errors';
import { MessageHandler } from '../shared/protocol/rpc';
import { CANCELLED_MESSAGE, inferenceProcessValidators, type InferenceHostApi, type InferenceProcessApi } from '../shared/protocol/inference';
import { InferenceService } from './inference/service';

const isCancel = (e: unknown) => e instanceof Error && e.message === CANCELLED_MESSAGE;

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
  }, (line) => console.error(line));
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
  channel.onRequest('init', wrap(async ({ backend, workers }) => {
    const b = await service.init(backend, workers);
    const t = service.threads;
    return { backend: `${b.name} ${b.version}`, notes: [...b.notes, t.note], pid: process.pid, workers: t.workers };
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
  process.on('disconnect', () => void service.dispose().finally(() => process.exit(0)));
}

main();
