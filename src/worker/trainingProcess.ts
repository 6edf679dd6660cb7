/**
 * Training child process: `child_process.fork(dist/worker.js)`. Receives one `start` message,
 * runs the engine's train(), streams progress/log messages, and exits after `ended`.
 * A `stop` message or SIGTERM stops after the current step with a snapshot saved.
 */
import { resolveOptions } from '../core/config/options';
import { errorText } from '../core/runs/fsErrors';
import { type FromWorkerMessage, isToWorkerMessage } from '../shared/protocol/worker';

function send(m: FromWorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

const abort = new AbortController();
let started = false;

process.on('SIGTERM', () => abort.abort());
process.on('SIGINT', () => abort.abort());
// The host went away (window closed/reloaded): stop cleanly so the run is left stopped and resumable.
process.on('disconnect', () => abort.abort());

process.on('message', (raw: unknown) => {
  if (!isToWorkerMessage(raw)) {
    void send({ type: 'log', line: `worker: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}` });
    return;
  }
  if (raw.type === 'stop') {
    abort.abort();
    return;
  }
  if (started) return;
  started = true;
  void run(raw.overrides, raw.resumeDir);
});

async function run(overrides: Parameters<typeof resolveOptions>[0], resumeDir?: string): Promise<void> {
  let code = 0;
  try {
    const opts = resumeDir ? null : resolveOptions(overrides);
    const { train } = await import('../core/training/trainingLoop');
    const r = await train(opts, {
      signal: abort.signal,
      onStarted: (i) => void send({ type: 'started', runDir: i.runDir, runName: i.runName, backend: `${i.backend.name} ${i.backend.version}${(i.workers ?? 1) > 1 ? ` · ${i.workers} workers` : ''}`, totalKimg: i.totalKimg }),
      onProgress: (p) => void send({ type: 'progress', ...p }),
      onLog: (line) => void send({ type: 'log', line }),
    }, resumeDir);
    await send({ type: 'ended', runDir: r.runDir, state: r.state, error: r.error, userError: r.userError, latestSnapshot: r.latestSnapshot, curKimg: r.curKimg, notices: r.notices });
    code = r.state === 'failed' ? 1 : 0;
  } catch (e) {
    // A UserError or a file-system error (disk full, read-only, …) is a message; anything else a bug with its stack.
    const t = errorText(e, { doing: resumeDir ? 'resuming' : 'starting the run', option: 'output folder (ganInspector.runsRoot)' });
    await send({ type: 'ended', runDir: null, state: 'failed', error: t.message, userError: t.userError, latestSnapshot: null });
    code = 1;
  }
  process.exit(code);
}

/**
 * `fork(dist/worker.js, ['--export-dataset', JSON])`: the extension's Export Dataset Zip command runs
 * here, because the host bundle must not embed the MNIST digits. Replies over IPC:
 * {type:'exportProgress', done, total, phase}, then {type:'exportDone', result} or {type:'exportFailed', error}.
 */
const exportAt = process.argv.indexOf('--export-dataset');
if (exportAt >= 0) void exportMode(process.argv[exportAt + 1] ?? '{}');

async function exportMode(json: string): Promise<void> {
  const reply = (m: unknown) => new Promise<void>((r) => (process.send && process.connected ? process.send(m, undefined, {}, () => r()) : r()));
  try {
    const { data, ...o } = JSON.parse(json) as { data: string; out: string; resolution?: number; channels?: 1 | 3; maxImages?: number; force?: boolean };
    const { exportDataset } = await import('../core/data/exportDataset');
    let last = 0;
    const result = await exportDataset(data, {
      ...o,
      onProgress: (done, total, phase) => {
        if (Date.now() - last < 250 && done < total) return;
        last = Date.now();
        void reply({ type: 'exportProgress', done, total, phase });
      },
    });
    await reply({ type: 'exportDone', result });
    process.exit(0);
  } catch (e) {
    const t = errorText(e, { doing: 'exporting the dataset', option: 'output file' });
    await reply({ type: 'exportFailed', error: t.message, userError: t.userError });
    process.exit(1);
  }
}
