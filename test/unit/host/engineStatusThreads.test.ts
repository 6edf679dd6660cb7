/**
 * Show Engine Status with inference threads: how many the process renders on, and each running
 * thread's id, backend, tensors and the generators it holds; "none" when it renders on its own thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEngineStatus } from '../../../src/host/inference/engineStatus';
import type { InferenceStats } from '../../../src/shared/protocol/inference';

const SNAP = '/w/runs/00000-paper256/network-snapshot-000000.pkl';
const base: InferenceStats = { backend: 'wasm 4.22.0', numTensors: 700, numBytes: 3 * 1024 ** 2, totalLoads: 1, pid: 42, models: [{ snapshot: SNAP, loads: 1, parts: ['G_ema'] }] };
const report = (workers: InferenceStats['workers']) => formatEngineStatus({ stats: { ...base, workers }, holders: new Map([[SNAP, ['viewer#1']]]), training: [] });

test('running threads: one line each with what it holds', () => {
  const r = report({
    count: 2,
    threads: [
      { threadId: 1, backend: 'wasm 4.22.0', numTensors: 350, numBytes: 1.5 * 1024 ** 2, models: [{ snapshot: SNAP, which: 'G_ema' }] },
      { threadId: 2, backend: 'wasm 4.22.0', numTensors: 350, numBytes: 1.5 * 1024 ** 2, models: [{ snapshot: SNAP, which: 'G_ema' }] },
    ],
  });
  assert.ok(r.details.includes('Inference threads: 2 of 2 running, each with its own copy of every generator in use:'), r.details.join('\n'));
  assert.ok(r.details.includes('  thread 1 (id 1, wasm 4.22.0): 350 tensors (1.5 MB); holds 00000-paper256/network-snapshot-000000.pkl G_ema'));
  assert.ok(r.details.includes('  thread 2 (id 2, wasm 4.22.0): 350 tensors (1.5 MB); holds 00000-paper256/network-snapshot-000000.pkl G_ema'));
  assert.doesNotMatch(r.summary, /thread/, 'the notification line stays as it was');
});

test('threads not running, or none at all', () => {
  assert.ok(report({ count: 4, threads: [] }).details.includes('Inference threads: 4, not running (they start with the next render and stop once they hold nothing)'));
  assert.ok(report({ count: 1, threads: [] }).details.includes("Inference threads: none (renders run on the process's own thread)"));
  assert.ok(!report(undefined).details.some((l) => l.startsWith('Inference threads')), 'an older process without the field: no line');
});
