import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unzipSync, zipSync } from 'fflate';
import { getBatch, getImage, getLabels, loadDataset, type Dataset } from '../../../src/core/data/dataset';
import { decodeImage, encodePng, type RawImage } from '../../../src/core/image/codec';
import { isUserError } from '../../../src/core/errors';
import { grayJpeg, rgbJpeg } from './imageFixtures';

const SHAPES = path.resolve(__dirname, '../../fixtures/official-ggdr-cpu/datasets/shapes32.zip');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-data-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let dirCounter = 0;
/** A fresh folder holding `files` (relative path → bytes). */
function folder(files: Record<string, Uint8Array | string>): string {
  const dir = path.join(tmpRoot, `d${dirCounter++}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  return dir;
}

function solid(width: number, height: number, channels: 1 | 3, v: number[]): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = v[c];
  return { width, height, channels, data };
}

/** Every pixel (y,x) has a distinct RGB value: R = 8x, G = 8y, B = 3. */
function ramp(size: number): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set([8 * x, 8 * y, 3], (y * size + x) * 3);
  return { width: size, height: size, channels: 3, data };
}

async function rejectsUser(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isUserError(e), `expected UserError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

/** The package's own digits (read independently of the loader): base64 of uint8 28×28 → label. */
function packageDigits(): Map<string, number> {
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const map = new Map<string, number>();
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    for (let s = 0; s < raw.length; s += 784) {
      map.set(Buffer.from(raw.slice(s, s + 784).map((v) => Math.round(v * 255))).toString('base64'), d);
    }
  }
  return map;
}

test('mnist: 10,000 digits with labels 0–9, 2-px black border at 32 px', async () => {
  const t0 = performance.now();
  let lastProgress: [number, number] = [0, 0];
  const ds = await loadDataset('mnist', { resolution: 32, channels: 1, onProgress: (d, t) => { lastProgress = [d, t]; } });
  const ms = performance.now() - t0;
  console.log(`# mnist load (cold): ${ms.toFixed(0)} ms`); // timed by the bench ("MNIST load"), not asserted here
  assert.equal(ds.source, 'mnist');
  assert.equal(ds.count, 10000);
  assert.equal(ds.length, 10000);
  assert.equal(ds.images.length, 10000 * 32 * 32);
  assert.deepEqual(lastProgress, [10000, 10000]);
  assert.deepEqual(ds.warnings, []);
  const labels = ds.labels!;
  assert.equal(labels.length, 10000);
  const perClass = new Array(10).fill(0);
  for (const l of labels) perClass[l]++;
  assert.deepEqual(perClass, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  // Order is shuffled (not grouped by class): the first 100 already hold every digit.
  assert.equal(new Set(labels.subarray(0, 100)).size, 10);

  const known = packageDigits();
  for (let i = 0; i < ds.count; i++) {
    const img = ds.images.subarray(i * 1024, (i + 1) * 1024);
    const inner = new Uint8Array(784);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const v = img[y * 32 + x];
        if (y < 2 || y >= 30 || x < 2 || x >= 30) { if (v !== 0) assert.fail(`image ${i}: border pixel (${x},${y}) = ${v}`); }
        else inner[(y - 2) * 28 + (x - 2)] = v;
      }
    }
    const label = known.get(Buffer.from(inner).toString('base64'));
    if (label !== labels[i]) assert.fail(`image ${i}: label ${labels[i]}, package says ${label}`);
  }
});

test('mnist at 64 px RGB is resized (not padded) and gray replicated; maxImages keeps a mixed subset', async () => {
  const ds = await loadDataset('mnist', { resolution: 64, channels: 3, maxImages: 200 });
  assert.equal(ds.count, 200);
  assert.equal(ds.images.length, 200 * 64 * 64 * 3);
  assert.ok(new Set(ds.labels).size >= 9);
  let borderInk = 0;
  for (let i = 0; i < 200; i++) {
    const img = ds.images.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3);
    for (let p = 0; p < 64 * 64; p++) assert.ok(img[3 * p] === img[3 * p + 1] && img[3 * p] === img[3 * p + 2]);
    for (let x = 0; x < 64; x++) borderInk += img[(3 * 64 + x) * 3]; // row 3 would be black if padded by 18 px
  }
  assert.ok(borderInk > 0);
});

test('dataset x-flip doubling: mirrored copies after the originals, labels shared', async () => {
  const ds = await loadDataset('mnist', { resolution: 32, channels: 1, maxImages: 10, xflip: true });
  assert.equal(ds.count, 10);
  assert.equal(ds.length, 20);
  const a = getImage(ds, 3);
  const m = getImage(ds, 13);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) assert.equal(m[y * 32 + x], a[y * 32 + 31 - x]);
  assert.deepEqual([...getLabels(ds, [3, 13])], [ds.labels![3], ds.labels![3]]);
  // Mirrored index + flip flag = original.
  assert.deepEqual(getBatch(ds, [13], [true]), getBatch(ds, [3]));
  assert.throws(() => getBatch(ds, [20]), RangeError);
  assert.throws(() => getBatch(ds, [1.5]), RangeError);
});

test('shapes32.zip (official dataset_tool layout): 400 RGB images in entry order', async () => {
  const t0 = performance.now();
  const ds = await loadDataset(SHAPES, { resolution: 32, channels: 3 });
  console.log(`shapes32.zip load: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(ds.source, 'zip');
  assert.equal(ds.name, 'shapes32');
  assert.equal(ds.count, 400);
  assert.equal(ds.skipped, 0);
  assert.deepEqual(ds.warnings, []);
  assert.equal(ds.labels, undefined);
  const entries = unzipSync(new Uint8Array(fs.readFileSync(SHAPES)));
  for (const i of [0, 1, 250, 399]) {
    const name = `00000/img${String(i).padStart(8, '0')}.png`;
    const ref = decodeImage(Buffer.from(entries[name]), name);
    assert.equal(ref.channels, 3);
    assert.deepEqual(Buffer.from(getImage(ds, i)), Buffer.from(ref.data), name);
  }
});

test('zip: maxImages picks a subset in entry order; gray model gets a conversion warning', async () => {
  const full = await loadDataset(SHAPES, { resolution: 16, channels: 3 });
  const sub = await loadDataset(SHAPES, { resolution: 16, channels: 3, maxImages: 50 });
  assert.equal(sub.count, 50);
  const per = 16 * 16 * 3;
  const pos = new Map<string, number>();
  for (let i = 0; i < full.count; i++) pos.set(Buffer.from(full.images.subarray(i * per, (i + 1) * per)).toString('base64'), i);
  let prev = -1;
  for (let i = 0; i < 50; i++) {
    const at = pos.get(Buffer.from(sub.images.subarray(i * per, (i + 1) * per)).toString('base64'));
    assert.ok(at !== undefined && at > prev, `subset image ${i} not in increasing source order`);
    prev = at;
  }
  assert.ok(prev > 100, 'subset should be spread over the zip, not its first entries');
  const gray = await loadDataset(SHAPES, { resolution: 32, channels: 1, maxImages: 20 });
  assert.equal(gray.warnings.length, 1);
  assert.match(gray.warnings[0], /20 images are color; converted to grayscale/);
});

test('folder: recursive sorted order; corrupt/truncated skipped with one warning; mixed sizes and gray noted', async () => {
  const good = encodePng(ramp(32));
  const dir = folder({
    'b/second.png': encodePng(solid(32, 32, 3, [10, 20, 30])),
    'a/first.png': good,
    'c/gray.jpg': grayJpeg(32, 32, new Array(16).fill(200)),
    'c/wide.jpg': rgbJpeg(48, 32, solid(48, 32, 3, [250, 5, 5]).data, 100),
    'd/corrupt.png': Buffer.from('definitely not an image'),
    'd/truncated.png': good.subarray(0, good.length - 40),
    'notes.txt': 'ignored',
    '.hidden.png': 'ignored: dot-file',
  });
  const seen: number[] = [];
  const ds = await loadDataset(dir, { resolution: 32, channels: 3, onProgress: (d) => seen.push(d) });
  assert.equal(ds.source, 'folder');
  assert.equal(ds.path, dir);
  assert.equal(ds.count, 4);
  assert.equal(ds.skipped, 2);
  assert.equal(seen[seen.length - 1], 4);
  assert.deepEqual(Buffer.from(getImage(ds, 0)), Buffer.from(ramp(32).data)); // a/first.png
  assert.deepEqual([...getImage(ds, 1).subarray(0, 3)], [10, 20, 30]); // b/second.png
  assert.ok(getImage(ds, 2).every((v) => Math.abs(v - 200) <= 1)); // c/gray.jpg replicated
  const wide = getImage(ds, 3);
  assert.ok(Math.abs(wide[0] - 250) <= 3 && wide[1] <= 8); // c/wide.jpg cropped + kept red
  const w = ds.warnings.join('\n');
  assert.equal(ds.warnings.length, 3, w);
  assert.match(w, /Skipped 2 unreadable images \(4 used\): d\/corrupt\.png, d\/truncated\.png\. First error: Cannot read image d\/corrupt\.png/);
  assert.match(w, /2 different sizes \(32×32 ×3, 48×32 ×1\); each was center-cropped/);
  assert.match(w, /mixes grayscale \(1\) and color \(3\) images; grayscale images were converted to RGB/);
});

test('folder: images smaller than the resolution are upscaled with a warning; 1-channel luma', async () => {
  const dir = folder({ 'x.png': encodePng(solid(8, 8, 3, [255, 0, 0])), 'y.png': encodePng(solid(8, 8, 3, [0, 0, 255])) });
  const ds = await loadDataset(dir, { resolution: 16, channels: 1 });
  assert.equal(ds.count, 2);
  assert.ok(getImage(ds, 0).every((v) => v === 76));
  assert.ok(getImage(ds, 1).every((v) => v === 29));
  assert.match(ds.warnings.join('\n'), /Images are 8×8, smaller than the model resolution; they were upscaled to 16×16/);
  assert.match(ds.warnings.join('\n'), /All 2 images are color; converted to grayscale/);
});

test('bad inputs give actionable UserErrors', async () => {
  const opts = { resolution: 32, channels: 3 as const };
  const missing = path.join(tmpRoot, 'no-such-dir');
  await rejectsUser(loadDataset(missing, opts), new RegExp(`Dataset not found: ${missing.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`));
  await rejectsUser(loadDataset('relative/not/here', opts), new RegExp(path.resolve('relative/not/here').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')));
  await rejectsUser(loadDataset(folder({}), opts), /No PNG\/JPEG images in folder/);
  await rejectsUser(loadDataset(folder({ 'a.txt': 'x', 'sub/b.md': 'y' }), opts), /No PNG\/JPEG images .*2 other files ignored/);
  await rejectsUser(loadDataset(folder({ 'bad.png': 'xx', 'bad2.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0]) }), opts),
    /No usable images in folder .*all 2 PNG\/JPEG files failed/);
  const txtZip = path.join(folder({ 'fake.zip': 'just some text\n' }), 'fake.zip');
  await rejectsUser(loadDataset(txtZip, opts), /fake\.zip is not a zip file/);
  const notDataset = path.join(folder({ 'docs.zip': zipSync({ 'readme.txt': Buffer.from('hello'), 'data/x.csv': Buffer.from('1,2') }) }), 'docs.zip');
  await rejectsUser(loadDataset(notDataset, opts), /not a dataset zip: no PNG\/JPEG entries/);
  const brokenZip = Buffer.from(fs.readFileSync(SHAPES).subarray(0, 5000));
  await rejectsUser(loadDataset(path.join(folder({ 'cut.zip': brokenZip }), 'cut.zip'), opts), /cut\.zip is not a valid zip file/);
  const single = path.join(folder({ 'one.png': encodePng(ramp(4)) }), 'one.png');
  await rejectsUser(loadDataset(single, opts), /one\.png is a file but neither a folder nor a zip/);
  await rejectsUser(loadDataset('', opts), /No dataset given/);
  await rejectsUser(loadDataset('mnist', { resolution: 32, channels: 2 as unknown as 1 }), /must be 1 or 3/);
});

test('zip with a corrupt image entry skips it and keeps the rest', async () => {
  const entries = {
    '00000/img00000000.png': encodePng(solid(8, 8, 3, [1, 2, 3])),
    '00000/img00000001.png': new Uint8Array(Buffer.from('garbage')),
    '00000/img00000002.png': encodePng(solid(8, 8, 3, [4, 5, 6])),
    'dataset.json': new Uint8Array(Buffer.from('{"labels": null}')),
  };
  const file = path.join(folder({ 'mini.zip': zipSync(entries) }), 'mini.zip');
  const ds = await loadDataset(file, { resolution: 8, channels: 3 });
  assert.equal(ds.count, 2);
  assert.equal(ds.skipped, 1);
  assert.match(ds.warnings[0], /Skipped 1 unreadable image \(2 used\): 00000\/img00000001\.png/);
  assert.deepEqual([...getImage(ds, 1).subarray(0, 3)], [4, 5, 6]);
});

test('getBatch: [N,H,W,C] floats in [-1,1], per-sample flips', async () => {
  const dir = folder({ 'a.png': encodePng(ramp(8)), 'b.png': encodePng(solid(8, 8, 3, [0, 255, 51])) });
  const ds: Dataset = await loadDataset(dir, { resolution: 8, channels: 3 });
  const batch = getBatch(ds, [1, 0, 0], [false, false, true]);
  assert.equal(batch.length, 3 * 8 * 8 * 3);
  for (const v of batch) assert.ok(v >= -1 && v <= 1);
  const at = (n: number, y: number, x: number, c: number) => batch[((n * 8 + y) * 8 + x) * 3 + c];
  assert.deepEqual([at(0, 5, 2, 0), at(0, 5, 2, 1), at(0, 5, 2, 2)], [-1, 1, Math.fround(51 / 127.5 - 1)]);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      assert.equal(at(1, y, x, 0), Math.fround((8 * x) / 127.5 - 1));
      assert.equal(at(1, y, x, 1), Math.fround((8 * y) / 127.5 - 1));
      assert.equal(at(2, y, x, 0), Math.fround((8 * (7 - x)) / 127.5 - 1)); // flipped
      assert.equal(at(2, y, x, 1), Math.fround((8 * y) / 127.5 - 1));
    }
  }
  assert.equal(at(1, 0, 0, 2), Math.fround(3 / 127.5 - 1));
  assert.throws(() => getBatch(ds, [0, 1], [true]), /2 indices/);
  await assert.rejects(async () => getLabels(ds, [0]), /has no labels/);
});
