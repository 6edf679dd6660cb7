/**
 * Export Dataset Zip through the training process (`dist/worker.js`): the host bundle must not embed the
 * MNIST digits, so the export runs there. One process per export: an `exportDataset` request over rpc.ts
 * (src/shared/protocol/worker.ts), progress events, then the reply. No vscode imports.
 */
import { fork } from 'node:child_process';
import { UserError } from '../../core/errors';
import { MessageHandler, RpcRemoteError } from '../../shared/protocol/rpc';
import {
  trainingHostValidators,
  type ExportDatasetParams, type ExportDatasetReply, type ExportProgress, type TrainingHostApi, type TrainingProcessApi,
} from '../../shared/protocol/worker';

export interface ExportInProcessOptions {
  /** dist/worker.js (tests may pass the .ts source with execArgv ['--import','tsx']). */
  workerPath: string;
  execArgv?: string[];
  onProgress?: (p: ExportProgress) => void;
  /** Lines for the Output channel (ignored messages). */
  log?: (line: string) => void;
}

/** Resolves with the export's result; rejects with a UserError carrying the process's message when it fails. */
export function exportDatasetInProcess(params: ExportDatasetParams, o: ExportInProcessOptions): Promise<ExportDatasetReply> {
  const child = fork(o.workerPath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: o.execArgv ?? [], serialization: 'json' });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  child.stdout?.resume();
  const channel = new MessageHandler<TrainingHostApi, TrainingProcessApi>({
    post: (m) => new Promise<void>((resolve, reject) => {
      if (!child.connected) return reject(new Error('The export process is not connected.'));
      child.send(m, (err) => (err ? reject(err) : resolve()));
    }),
    validators: trainingHostValidators,
    onInvalid: (reason) => o.log?.(`Export: ignored a message from the process: ${reason}`),
  });
  child.on('message', (m: unknown) => channel.handle(m));
  if (o.onProgress) channel.on('exportProgress', o.onProgress);
  const gone = new Promise<never>((_, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const tail = stderr.trim().split('\n').slice(-3).join(' ');
      reject(new Error(`The export process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`));
    });
  });
  const reply = channel.request('exportDataset', params, { timeoutMs: 0 }).catch((e: unknown) => {
    throw e instanceof RpcRemoteError ? new UserError(e.message) : e;
  });
  return Promise.race([reply, gone]).finally(() => channel.dispose());
}
