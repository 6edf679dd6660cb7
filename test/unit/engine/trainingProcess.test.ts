/**
 * The training process (dist/worker.js) at its IPC boundary, spoken to in rpc.ts envelopes as the host
 * does: invalid messages are refused (and said in a log event) without ending the process; a process
 * serves one request (a second start is refused while the first trains); stop ends the run as stopped;
 * a bad option is a failed reply with a user error, and the process exits after its reply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { trainingHostValidators } from '../../../src/shared/protocol/worker';

const REAL = path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');
const skip = !fs.existsSync(REAL) && 'dist/worker.js not built';

interface Proc {
  child: ChildProcess;
  got: RpcEnvelope[];
  exit: Promise<number | null>;
  /** Resolves with the first received envelope that passes `pred`. */
  next(pred: (m: RpcEnvelope) => boolean, what: string): Promise<RpcEnvelope>;
}

function start(): Proc {
  const child = fork(REAL, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  child.stdout?.resume();
  child.stderr?.resume();
  const got: RpcEnvelope[] = [];
  const waiters: Array<{ pred: (m: RpcEnvelope) => boolean; resolve: (m: RpcEnvelope) => void }> = [];
  child.on('message', (m: RpcEnvelope) => {
    got.push(m);
    for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child, got, exit,
    next: (pred, what) => {
      const seen = got.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exit.then(() => reject(new Error(`the process exited before ${what}: ${JSON.stringify(got).slice(0, 2000)}`)));
      });
    },
  };
}

const request = (id: number, name: string, params: unknown): RpcEnvelope => ({ rpc: 1, kind: 'request', id, name, params });
const isReply = (id: number) => (m: RpcEnvelope) => m.kind === 'reply' && m.id === id;

test('invalid messages are refused with a reason; a second start is refused while the first trains; stop ends it stopped', { skip, timeout: 120_000 }, async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-tp-'));
  const p = start();
  try {
    p.child.send({ hello: 'world' });
    p.child.send(request(1, 'start', { overrides: {}, resumeDir: '' }));
    const bad = await p.next(isReply(1), 'the reply to an invalid start');
    assert.deepEqual(bad, { rpc: 1, kind: 'reply', id: 1, ok: false, error: "Invalid parameters for 'start'." });
    const logs = p.got.filter((m) => m.kind === 'event' && m.name === 'log').map((m) => (m as { payload: { line: string } }).payload.line);
    assert.ok(logs.some((l) => /ignored an invalid message \(not an rpc envelope\)/.test(l)), logs.join('\n'));

    p.child.send(request(2, 'start', { overrides: { preset: 'tiny', kimg: 100, backend: 'cpu', outdir, seed: 3 } }));
    const started = await p.next((m) => m.kind === 'event' && m.name === 'started', 'started');
    assert.ok(trainingHostValidators.events.started((started as { payload: unknown }).payload));
    p.child.send(request(3, 'start', { overrides: { preset: 'tiny', outdir } }));
    const refused = await p.next(isReply(3), 'the reply to a second start');
    assert.equal(refused.kind === 'reply' && !refused.ok && refused.error, "This training process already serves a request; 'start' needs a new process.");

    p.child.send({ rpc: 1, kind: 'event', name: 'stop', payload: {} });
    const ended = await p.next(isReply(2), 'the reply to start');
    assert.ok(ended.kind === 'reply' && ended.ok, JSON.stringify(ended));
    assert.ok(trainingHostValidators.results!.start!(ended.result), JSON.stringify(ended.result));
    const r = ended.result as { state: string; runDir: string; latestSnapshot: string | null };
    assert.equal(r.state, 'stopped');
    assert.equal(path.dirname(r.runDir), outdir);
    assert.ok(r.latestSnapshot && fs.existsSync(path.join(r.runDir, r.latestSnapshot)), `snapshot ${r.latestSnapshot}`);
    assert.equal(await p.exit, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('a bad option: a failed reply with the user error, then exit code 1', { skip, timeout: 60_000 }, async () => {
  const p = start();
  try {
    p.child.send(request(7, 'start', { overrides: { preset: 'enormous' } }));
    const ended = await p.next(isReply(7), 'the reply');
    assert.ok(ended.kind === 'reply' && ended.ok);
    const r = ended.result as { state: string; runDir: string | null; userError?: boolean; error?: string };
    assert.deepEqual([r.state, r.runDir, r.userError], ['failed', null, true]);
    assert.match(r.error ?? '', /Unknown preset 'enormous'/);
    assert.equal(await p.exit, 1);
  } finally {
    p.child.kill('SIGKILL');
  }
});
