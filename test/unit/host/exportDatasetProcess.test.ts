/**
 * Export Dataset Zip through the real training process (dist/worker.js): the exportDataset request over
 * rpc.ts, its progress events and reply, and a failure that comes back as the process's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportDatasetInProcess } from '../../../src/host/training/exportDatasetProcess';
import { isUserError } from '../../../src/core/errors';
import type { ExportProgress } from '../../../src/shared/protocol/worker';

const REAL = path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');
const skip = !fs.existsSync(REAL) && 'dist/worker.js not built';

test('exportDataset: 100 MNIST digits become a zip; progress arrives; the process exits after its reply', { skip, timeout: 60_000 }, async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-exp-')), 'mnist.zip');
  const progress: ExportProgress[] = [];
  const r = await exportDatasetInProcess({ data: 'mnist', out, maxImages: 100, resolution: 32, channels: 1 }, { workerPath: REAL, onProgress: (p) => progress.push(p) });
  assert.equal(r.out, out);
  assert.equal(r.count, 100);
  assert.deepEqual([r.resolution, r.channels], [32, 1]);
  assert.equal(r.bytes, fs.statSync(out).size);
  assert.ok(progress.length > 0 && progress.every((p) => p.done <= p.total), JSON.stringify(progress));
  assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
});

test('exportDataset: an existing file without force is a UserError with the process\'s message', { skip, timeout: 60_000 }, async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-exp-')), 'taken.zip');
  fs.writeFileSync(out, 'x');
  await assert.rejects(exportDatasetInProcess({ data: 'mnist', out, maxImages: 10 }, { workerPath: REAL }), (e: unknown) => {
    assert.ok(isUserError(e), String(e));
    assert.match((e as Error).message, /exists/i);
    assert.doesNotMatch((e as Error).message, /\n\s+at /);
    return true;
  });
  assert.equal(fs.readFileSync(out, 'utf8'), 'x');
});
