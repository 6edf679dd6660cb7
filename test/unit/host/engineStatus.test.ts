/**
 * Show Engine Status: the report's text for running / not running / failing engines, and, against the
 * real inference child process, that asking never starts the process and that a started one reports
 * its backend and tensor count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { ENGINE_STATUS_PREFIX, formatBytes, formatEngineStatus, showEngineStatus } from '../../../src/host/inference/engineStatus';
import type { InferenceStats } from '../../../src/shared/protocol/inference';
import { newClient } from '../inference/helpers';

const SNAP = '/w/runs/00000-mnist-tiny/network-snapshot-000000.048';

test('formatBytes uses powers of 1024', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(103_140), '100.7 KB');
  assert.equal(formatBytes(5 * 1024 ** 2), '5.0 MB');
});

test('a running engine: backend, tensors, loaded snapshots with their holders, training jobs', () => {
  const stats: InferenceStats = {
    backend: 'wasm 4.22.0', numTensors: 68, numBytes: 103_140, totalLoads: 2, pid: 42,
    models: [{ snapshot: SNAP, loads: 2, parts: ['G_ema', 'D'] }],
  };
  const r = formatEngineStatus({
    stats,
    holders: new Map([[SNAP, ['viewer#1', 'seg#1']], ['/w/runs/x/network-snapshot-000000.016', ['viewer#2']]]),
    training: [{ id: 3, phase: 'running', runName: '00001-mnist-tiny-noggdr', curKimg: 0.208, totalKimg: 0.5, pid: 77, backend: 'wasm 4.22.0' }],
  });
  assert.equal(r.summary, `${ENGINE_STATUS_PREFIX} wasm 4.22.0 · 68 tensors · 100.7 KB · 1 snapshot loaded (00000-mnist-tiny/network-snapshot-000000.048) · training: 00001-mnist-tiny-noggdr running 0.208/0.5 kimg`);
  assert.ok(r.details.includes('Tensors: 68 (100.7 KB)'));
  assert.ok(r.details.includes(`  ${SNAP}: G_ema, D; read 2 times; held by viewer#1, seg#1`));
  assert.ok(r.details.includes('  /w/runs/x/network-snapshot-000000.016: viewer#2'), 'a held snapshot not loaded yet is listed');
  assert.ok(r.details.includes('  00001-mnist-tiny-noggdr running 0.208/0.5 kimg, pid 77, wasm 4.22.0'));
});

test('an idle or failing engine, no training', () => {
  const idle = formatEngineStatus({ stats: undefined, holders: new Map(), training: [] });
  assert.match(idle.summary, /^GAN Inspector engine: not running \(.*\) · training: none$/);
  const bad = formatEngineStatus({ stats: undefined, error: 'The inference process exited with code 1.\nstack', holders: new Map(), training: [] });
  assert.match(bad.summary, /not answering \(The inference process exited with code 1\.\)/);
  const empty = formatEngineStatus({
    stats: { backend: 'cpu', numTensors: 1, numBytes: 4, totalLoads: 0, pid: 1, models: [] }, holders: new Map(), training: [],
  });
  assert.equal(empty.summary, `${ENGINE_STATUS_PREFIX} cpu · 1 tensor · 4 B · no snapshots loaded · training: none`);
});

test('the command never starts the inference process; a started one reports its backend and tensors', async () => {
  const client = await newClient();
  const lines: string[] = [];
  const shown: string[] = [];
  const deps = {
    client,
    activeJobs: () => [],
    output: { appendLine: (l: string) => lines.push(l), show: () => undefined } as unknown as vscode.OutputChannel,
    showMessage: async (m: string) => (shown.push(m), undefined),
  };
  try {
    const idle = await showEngineStatus(deps);
    assert.match(idle.summary, /not running/);
    assert.equal(client.pid, undefined, 'asking did not start the process');
    await client.stats(); // starts it, as a panel would
    const running = await showEngineStatus(deps);
    assert.match(running.summary, /^GAN Inspector engine: (wasm|cpu) \S+ · 0 tensors · 0 B · no snapshots loaded · training: none$/);
    assert.deepEqual(shown, [idle.summary, running.summary]);
    assert.ok(lines.includes(`Inference process: pid ${client.pid}, backend ${running.summary.split(': ')[1].split(' · ')[0]}`));
  } finally {
    client.dispose();
  }
});
