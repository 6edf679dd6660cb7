import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { isLossPanelState, isLossRunInfo, isMetricsChunk, isStatsChunk, lossHostValidators, lossWebviewValidators, type LossHostApi, type LossRunInfo, type LossWebviewApi } from '../../../src/shared/protocol/panels/loss';
import { trainingHostValidators, trainingProcessValidators } from '../../../src/shared/protocol/worker';

/** A worker message in the old tagged form, checked by the guard rpc.ts runs on it (the `ended` message is now start's reply). */
function isFromWorkerMessage(m: unknown): boolean {
  if (!m || typeof m !== 'object') return false;
  const { type, ...payload } = m as Record<string, unknown>;
  if (type === 'ended') return trainingHostValidators.results!.start!(payload);
  const guard = Object.prototype.hasOwnProperty.call(trainingHostValidators.events, String(type)) ? trainingHostValidators.events[type as 'log'] : undefined;
  return guard ? guard(payload) : false;
}

const ev = (name: string, payload: unknown): RpcEnvelope => ({ rpc: 1, kind: 'event', name, payload });
const req = (id: number, name: string, params: unknown): RpcEnvelope => ({ rpc: 1, kind: 'request', id, name, params });

test('loss panel: the host accepts exactly the valid webview messages', async () => {
  const invalid: string[] = [];
  const sent: RpcEnvelope[] = [];
  const host = new MessageHandler<LossHostApi, LossWebviewApi>({ post: (m) => { sent.push(m); }, validators: lossHostValidators, onInvalid: (r) => invalid.push(r) });
  const opened: string[] = [];
  const errors: string[] = [];
  let hellos = 0;
  host.on('openFile', (p) => opened.push(p.target));
  host.on('webviewError', (p) => errors.push(p.message));
  host.onRequest('hello', () => {
    hellos++;
    return { name: 'r', dir: '/r', origin: 'gan-inspector', state: 'running', curKimg: 0, totalKimg: 1 };
  });

  // Valid.
  host.handle(ev('openFile', { target: 'log' }));
  host.handle(ev('openFile', { target: 'folder' }));
  host.handle(ev('webviewError', { message: 'boom' }));
  host.handle(req(1, 'hello', {}));
  // Invalid: wrong enum, extra keys (e.g. smuggled paths), wrong types, oversize, unknown names.
  host.handle(ev('openFile', { target: '/etc/passwd' }));
  host.handle(ev('openFile', { target: 'log', path: '/etc/passwd' }));
  host.handle(ev('openFile', null));
  host.handle(ev('webviewError', { message: 42 }));
  host.handle(ev('webviewError', { message: 'x'.repeat(10_001) }));
  host.handle(ev('runInfo', {}));
  host.handle(req(2, 'hello', { runDir: '/elsewhere' }));
  host.handle(req(3, 'hello', []));
  host.handle(req(4, 'readFile', { path: '/etc/passwd' }));
  await new Promise((r) => setTimeout(r, 5));

  assert.deepEqual(opened, ['log', 'folder']);
  assert.deepEqual(errors, ['boom']);
  assert.equal(hellos, 1);
  assert.equal(invalid.length, 9);
  const replies = sent.filter((m): m is Extract<RpcEnvelope, { kind: 'reply' }> => m.kind === 'reply');
  assert.deepEqual(replies.map((r) => [r.id, r.ok]).sort(), [[1, true], [2, false], [3, false], [4, false]]);
});

test('persisted loss panel state is validated before the serializer uses it', () => {
  const good = { v: 1, runDir: '/runs/00000-x', smoothing: 0.6, xAxis: 'kimg', logGroups: ['loss-g'], hidden: [], collapsed: [] };
  assert.ok(isLossPanelState(good));
  for (const bad of [
    null, 'x', {}, { ...good, v: 2 }, { ...good, runDir: '' }, { ...good, runDir: 5 }, { ...good, smoothing: 1.5 },
    { ...good, smoothing: NaN }, { ...good, xAxis: 'step' }, { ...good, logGroups: [1] }, { ...good, hidden: 'a' },
    { ...good, collapsed: new Array(101).fill('g') },
  ]) {
    assert.equal(isLossPanelState(bad), false, JSON.stringify(bad));
  }
});

test('worker protocol guard rejects malformed worker messages', () => {
  assert.ok(isFromWorkerMessage({ type: 'started', runDir: '/r', runName: 'r', backend: 'cpu', totalKimg: 1 }));
  assert.ok(isFromWorkerMessage({ type: 'ended', runDir: null, state: 'failed', error: 'x' }));
  for (const bad of [
    { type: 'started', runDir: '/r', runName: 'r', backend: 'cpu' },
    { type: 'progress', runDir: '/r', curKimg: '1', totalKimg: 2, losses: {} },
    { type: 'progress', runDir: '/r', curKimg: 1, totalKimg: 2, losses: null },
    { type: 'ended', runDir: '/r', state: 'exploded' },
    { type: 'log' },
    { type: 'hello' },
    'started', null, 3,
  ]) {
    assert.equal(isFromWorkerMessage(bad), false, JSON.stringify(bad));
  }
});

test('training process guards: start, stop and exportDataset', () => {
  const { requests, events } = trainingProcessValidators;
  assert.ok(requests.start({ overrides: { preset: 'tiny' } }));
  assert.ok(requests.start({ overrides: {}, resumeDir: '/runs/00001-x' }));
  for (const bad of [null, {}, { overrides: null }, { overrides: {}, resumeDir: '' }, { overrides: {}, resumeDir: 3 }, { overrides: {}, extra: 1 }]) {
    assert.equal(requests.start(bad), false, JSON.stringify(bad));
  }
  assert.ok(events.stop({}));
  assert.equal(events.stop({ now: true }), false);
  assert.ok(requests.exportDataset({ data: 'mnist', out: '/tmp/m.zip', resolution: 32, channels: 1, force: true }));
  for (const bad of [{ data: 'mnist' }, { data: 'mnist', out: '/x.zip', channels: 2 }, { data: 'mnist', out: '/x.zip', resolution: -1 }, { data: '', out: '/x.zip' }]) {
    assert.equal(requests.exportDataset(bad), false, JSON.stringify(bad));
  }
  // JSON turns NaN into null: such a progress event still counts (the host keeps its previous figures).
  assert.ok(trainingHostValidators.events.progress({ runDir: '/r', curKimg: 1, totalKimg: 2, tick: 1, secPerKimg: null, etaSec: null, losses: {} }));
});

test('loss panel: the webview accepts exactly the valid host messages (runInfo, stats, metrics, hello reply)', async () => {
  const info: LossRunInfo = { name: '00001-x', dir: '/runs/00001-x', origin: 'gan-inspector', state: 'running', curKimg: 1, totalKimg: 4, ggdr: true, backend: 'wasm', lastError: null };
  // NaN totals (an official run without training_options) reach the webview as null through VS Code's JSON.
  const viaJson = JSON.parse(JSON.stringify({ ...info, totalKimg: NaN }));
  assert.equal(viaJson.totalKimg, null);
  assert.ok(isLossRunInfo(info) && isLossRunInfo(viaJson) && isLossRunInfo({ ...info, extra: 1 }));
  for (const bad of [{ ...info, state: 'exploded' }, { ...info, name: 5 }, { ...info, origin: 'x' }, { ...info, curKimg: '1' }, { ...info, ggdr: 'yes' }, { ...info, lastError: 3 }, null]) {
    assert.equal(isLossRunInfo(bad), false, JSON.stringify(bad));
  }
  const chunk = { reset: false, start: 0, timestamp: [1], kimg: [0.5], columns: { a: [1] }, skipped: 0, sourceRows: 1 };
  assert.ok(isStatsChunk(chunk) && isStatsChunk({ ...chunk, incomplete: 1 }) && isStatsChunk({ ...chunk, timestamp: [], kimg: [], columns: {}, sourceRows: 0 }));
  assert.equal(isStatsChunk({ ...chunk, incomplete: 2 }), false);
  const metrics = { reset: true, skipped: 0, series: [{ name: 'fid', kimg: [4, null], timestamp: [1, 2], value: [3, null] }] };
  assert.ok(isMetricsChunk(metrics));
  for (const bad of [{ ...metrics, skipped: -1 }, { ...metrics, series: [{ name: 'fid', kimg: [4], timestamp: [1, 2], value: [3, 4] }] }, { ...metrics, series: [{ name: 'fid', kimg: [], timestamp: [], value: [], path: '/x' }] }, { ...metrics, more: true }]) {
    assert.equal(isMetricsChunk(bad), false, JSON.stringify(bad));
  }

  const invalid: string[] = [];
  const got: string[] = [];
  const sent: RpcEnvelope[] = [];
  const page = new MessageHandler<LossWebviewApi, LossHostApi>({ post: (m) => { sent.push(m); }, validators: lossWebviewValidators, onInvalid: (r) => invalid.push(r) });
  page.on('runInfo', (p) => got.push(`runInfo ${p.state}`));
  page.on('stats', (p) => got.push(`stats ${p.timestamp.length}`));
  page.on('metrics', (p) => got.push(`metrics ${p.series.length}`));
  page.handle(ev('runInfo', viaJson));
  page.handle(ev('stats', chunk));
  page.handle(ev('metrics', metrics));
  page.handle(ev('runInfo', { ...info, state: 'exploded' }));
  page.handle(ev('stats', { ...chunk, kimg: [] }));
  page.handle(ev('metrics', {}));
  page.handle(ev('openFile', { target: 'log' }));
  page.handle(req(1, 'hello', {}));
  // A malformed reply to hello rejects the request instead of resolving with it.
  const hello = page.request('hello', {});
  const id = (sent.find((m) => m.kind === 'request') as Extract<RpcEnvelope, { kind: 'request' }>).id;
  page.handle({ rpc: 1, kind: 'reply', id, ok: true, result: { ...info, dir: 7 } });
  await assert.rejects(hello, /Invalid reply to 'hello'/);
  assert.deepEqual(got, ['runInfo running', 'stats 1', 'metrics 1']);
  assert.deepEqual(invalid, [
    "invalid payload for event 'runInfo'", "invalid payload for event 'stats'", "invalid payload for event 'metrics'",
    "unknown event 'openFile'", "unknown request 'hello'", "invalid result for request 'hello'",
  ]);
});
