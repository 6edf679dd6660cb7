/**
 * Training child process: `child_process.fork(dist/worker.js)`. Speaks src/shared/protocol/worker.ts
 * over rpc.ts with validation. Serves one request: `start` runs the engine's train(), streaming
 * started/progress/log events, and replies with how the run ended; `exportDataset` writes a
 * StyleGAN2-ADA dataset zip (the host bundle must not embed the MNIST digits). The process exits
 * once its reply is written. A `stop` event, SIGTERM or the host going away stops training after the
 * current step with a snapshot saved.
 */
import { resolveOptions } from '../core/config/options';
import { errorText } from '../core/runs/fsErrors';
import { MessageHandler, type RpcEnvelope } from '../shared/protocol/rpc';
import {
  trainingProcessValidators,
  type ExportDatasetParams, type ExportDatasetReply, type StartTrainingParams, type TrainingEnded, type TrainingHostApi, type TrainingProcessApi,
} from '../shared/protocol/worker';

const abort = new AbortController();
/** Set once the served request has its answer: the exit code to use after that reply is written. */
let exitAfterReply: number | undefined;
let served = false;

function post(m: RpcEnvelope): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  }).then(() => {
    if (m.kind === 'reply' && exitAfterReply !== undefined) process.exit(exitAfterReply);
  });
}

const channel = new MessageHandler<TrainingProcessApi, TrainingHostApi>({
  post,
  validators: trainingProcessValidators,
  onInvalid: (reason, raw) => void channel.emit('log', { line: `worker: ignored an invalid message (${reason}): ${JSON.stringify(raw)?.slice(0, 200)}` }),
  onHandlerError: (name, e) => process.stderr.write(`worker: '${name}' failed: ${(e as Error)?.stack ?? String(e)}\n`),
});
process.on('message', (raw: unknown) => channel.handle(raw));

process.on('SIGTERM', () => abort.abort());
process.on('SIGINT', () => abort.abort());
// The host went away (window closed/reloaded): stop cleanly so the run is left stopped and resumable.
process.on('disconnect', () => abort.abort());

channel.on('stop', () => abort.abort());

/** One process serves one request; a second one is refused (the first keeps running). */
function serveOnce(name: string): void {
  if (served) throw new Error(`This training process already serves a request; '${name}' needs a new process.`);
  served = true;
}

channel.onRequest('start', async (p) => {
  serveOnce('start');
  const ended = await runTraining(p);
  exitAfterReply = ended.state === 'failed' ? 1 : 0;
  return ended;
});

channel.onRequest('exportDataset', async (p) => {
  serveOnce('exportDataset');
  try {
    const result = await runExport(p);
    exitAfterReply = 0;
    return result;
  } catch (e) {
    exitAfterReply = 1;
    // A UserError or a file-system error is its message; anything else a bug with its stack.
    throw new Error(errorText(e, { doing: 'exporting the dataset', option: 'output file' }).message);
  }
});

async function runTraining({ overrides, resumeDir }: StartTrainingParams): Promise<TrainingEnded> {
  try {
    const request = resumeDir ? { resumeDir } : { options: resolveOptions(overrides) };
    const { train } = await import('../core/training/trainingLoop');
    const r = await train(request, {
      signal: abort.signal,
      onStarted: (i) => void channel.emit('started', { runDir: i.runDir, runName: i.runName, backend: `${i.backend.name} ${i.backend.version}${(i.workers ?? 1) > 1 ? ` · ${i.workers} workers` : ''}`, totalKimg: i.totalKimg }),
      onProgress: (p) => void channel.emit('progress', p),
      onLog: (line) => void channel.emit('log', { line }),
    });
    return { runDir: r.runDir, state: r.state, error: r.error, userError: r.userError, latestSnapshot: r.latestSnapshot, curKimg: r.curKimg, notices: r.notices };
  } catch (e) {
    // A UserError or a file-system error (disk full, read-only, …) is a message; anything else a bug with its stack.
    const t = errorText(e, { doing: resumeDir ? 'resuming' : 'starting the run', option: 'output folder (ganInspector.runsRoot)' });
    return { runDir: null, state: 'failed', error: t.message, userError: t.userError, latestSnapshot: null };
  }
}

async function runExport({ data, ...o }: ExportDatasetParams): Promise<ExportDatasetReply> {
  const { exportDataset } = await import('../core/data/exportDataset');
  let last = 0;
  return exportDataset(data, {
    ...o,
    onProgress: (done, total, phase) => {
      if (Date.now() - last < 250 && done < total) return;
      last = Date.now();
      void channel.emit('exportProgress', { done, total, phase });
    },
  });
}
