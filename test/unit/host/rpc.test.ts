import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageHandler, RpcRemoteError, RpcTimeoutError, isRpcEnvelope, type RpcApi, type RpcEnvelope, type RpcValidators } from '../../../src/shared/protocol/rpc';

interface HostApi extends RpcApi {
  events: { ping: { n: number } };
  requests: { add: { params: { a: number; b: number }; result: number }; fail: { params: Record<string, never>; result: void }; slow: { params: { ms: number }; result: string } };
}
interface PageApi extends RpcApi {
  events: { note: string };
  requests: { title: { params: null; result: string } };
}

const hostValidators: RpcValidators<HostApi> = {
  events: { ping: (p): p is { n: number } => typeof p === 'object' && p !== null && typeof (p as { n?: unknown }).n === 'number' },
  requests: {
    add: (p): p is { a: number; b: number } => typeof p === 'object' && p !== null && typeof (p as { a?: unknown }).a === 'number' && typeof (p as { b?: unknown }).b === 'number',
    fail: (p): p is Record<string, never> => typeof p === 'object' && p !== null,
    slow: (p): p is { ms: number } => typeof p === 'object' && p !== null && typeof (p as { ms?: unknown }).ms === 'number',
  },
};

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Two handlers wired back to back through structuredClone'd, asynchronously delivered messages. */
function pair(opts: { timeoutMs?: number } = {}) {
  const invalid: string[] = [];
  const invalidPage: string[] = [];
  const wire: RpcEnvelope[] = [];
  const host = new MessageHandler<HostApi, PageApi>({
    post: (m) => { wire.push(m); setImmediate(() => page.handle(structuredClone(m))); },
    validators: hostValidators,
    onInvalid: (reason) => invalid.push(reason),
    timeoutMs: opts.timeoutMs,
  });
  const page = new MessageHandler<PageApi, HostApi>({
    post: (m) => { wire.push(m); setImmediate(() => host.handle(structuredClone(m))); },
    timeoutMs: opts.timeoutMs,
    onInvalid: (reason) => invalidPage.push(reason),
  });
  return { host, page, invalid, invalidPage, wire };
}

test('requests are answered and replies matched by id, even out of order', async () => {
  const { host, page } = pair();
  host.onRequest('add', ({ a, b }) => a + b);
  host.onRequest('slow', ({ ms }) => new Promise((r) => setTimeout(() => r(`slept ${ms}`), ms)));
  const slow = page.request('slow', { ms: 60 });
  const fast = page.request('slow', { ms: 5 });
  const sums = await Promise.all([page.request('add', { a: 1, b: 2 }), page.request('add', { a: 10, b: -4 })]);
  assert.deepEqual(sums, [3, 6]);
  const order: string[] = [];
  await Promise.all([slow.then((v) => order.push(v)), fast.then((v) => order.push(v))]);
  assert.deepEqual(order, ['slept 5', 'slept 60']);
  assert.equal(page.pendingCount, 0);
});

test('events reach every listener; unsubscribe works', async () => {
  const { host, page } = pair();
  const got: number[] = [];
  const off = host.on('ping', (p) => got.push(p.n));
  host.on('ping', (p) => got.push(p.n * 100));
  void page.emit('ping', { n: 1 });
  await until(() => got.length === 2);
  off();
  void page.emit('ping', { n: 2 });
  void page.emit('ping', { n: 3 });
  await until(() => got.length >= 4);
  assert.deepEqual(got, [1, 100, 200, 300]);
});

test('handler errors become rejected requests on the caller side', async () => {
  const { host, page } = pair();
  host.onRequest('fail', () => { throw new Error('nope: disk full'); });
  await assert.rejects(page.request('fail', {}), (e) => e instanceof RpcRemoteError && e.message === 'nope: disk full');
  // No handler registered for a valid name.
  await assert.rejects(page.request('add', { a: 1, b: 1 }), /No handler for request 'add'/);
});

test('timeout rejects with RpcTimeoutError and a late reply is dropped as unknown', async () => {
  const { host, page, invalidPage } = pair();
  host.onRequest('slow', ({ ms }) => new Promise((r) => setTimeout(() => r('late'), ms)));
  await assert.rejects(page.request('slow', { ms: 120 }, { timeoutMs: 30 }), (e) => e instanceof RpcTimeoutError && e.timeoutMs === 30);
  assert.equal(page.pendingCount, 0);
  await until(() => invalidPage.length > 0);
  assert.deepEqual(invalidPage, ['reply to unknown request id 1']);
});

test('validators reject unknown names, bad payloads and malformed envelopes', async () => {
  const { host, invalid } = pair();
  const replies: RpcEnvelope[] = [];
  const h = new MessageHandler<HostApi, PageApi>({ post: (m) => { replies.push(m); }, validators: hostValidators, onInvalid: (r) => invalid.push(r) });
  let called = 0;
  h.on('ping', () => called++);
  h.onRequest('add', () => { called++; return 0; });
  h.handle({ rpc: 1, kind: 'event', name: 'ping', payload: { n: 'x' } });
  h.handle({ rpc: 1, kind: 'event', name: 'pong', payload: {} });
  h.handle({ rpc: 1, kind: 'event', name: '__proto__', payload: {} });
  h.handle({ rpc: 1, kind: 'event', name: 'toString', payload: {} });
  h.handle({ rpc: 1, kind: 'request', id: 5, name: 'add', params: { a: 1 } });
  h.handle({ rpc: 1, kind: 'request', id: 6, name: 'rm -rf', params: {} });
  h.handle({ rpc: 1, kind: 'request', id: -1, name: 'add', params: { a: 1, b: 2 } });
  h.handle({ kind: 'event', name: 'ping', payload: { n: 1 } });
  h.handle('ping');
  h.handle(null);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(called, 0);
  assert.deepEqual(invalid, [
    "invalid payload for event 'ping'",
    "unknown event 'pong'",
    "unknown event '__proto__'",
    "unknown event 'toString'",
    "invalid params for request 'add'",
    "unknown request 'rm -rf'",
    'not an rpc envelope', 'not an rpc envelope', 'not an rpc envelope', 'not an rpc envelope',
  ]);
  // Rejected requests still get an error reply so the caller does not hang until its timeout.
  assert.deepEqual(replies.map((r) => r.kind === 'reply' && [r.id, r.ok]), [[5, false], [6, false]]);
  void host;
});

test('dispose rejects pending requests and ignores later messages', async () => {
  const { host, page } = pair({ timeoutMs: 0 });
  host.onRequest('slow', () => new Promise(() => undefined));
  const p = page.request('slow', { ms: 0 });
  page.dispose();
  await assert.rejects(p, /Channel closed/);
  await assert.rejects(page.request('add', { a: 1, b: 2 }), /Channel closed/);
});

test('isRpcEnvelope', () => {
  assert.ok(isRpcEnvelope({ rpc: 1, kind: 'reply', id: 3, ok: true, result: 1 }));
  assert.ok(isRpcEnvelope({ rpc: 1, kind: 'reply', id: 3, ok: false, error: 'x' }));
  assert.ok(!isRpcEnvelope({ rpc: 1, kind: 'reply', id: 3, ok: false }));
  assert.ok(!isRpcEnvelope({ rpc: 2, kind: 'event', name: 'a', payload: 1 }));
  assert.ok(!isRpcEnvelope({ rpc: 1, kind: 'request', id: 1.5, name: 'a', params: 1 }));
  assert.ok(!isRpcEnvelope({ rpc: 1, kind: 'event', name: 'x'.repeat(101), payload: 1 }));
  assert.ok(!isRpcEnvelope([1]));
});
