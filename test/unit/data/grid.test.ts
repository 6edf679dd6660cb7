import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { floatToUint8, makeGrid, writePngAtomic } from '../../../src/core/image/grid';
import { decodeImage } from '../../../src/core/image/codec';

test('grid layout: cells row-major, pad between cells, empty trailing cells', () => {
  const size = 2;
  // Image i: pixel (y,x) = 10·(i+1) + 2y + x, so every pixel is traceable.
  const images = Array.from({ length: 5 }, (_, i) => Uint8Array.from({ length: 4 }, (_, p) => 10 * (i + 1) + p));
  const g = makeGrid(images, size, 1, 3, { pad: 1, padValue: 7 });
  assert.equal(g.width, 3 * 2 + 2);
  assert.equal(g.height, 2 * 2 + 1);
  assert.equal(g.channels, 1);
  const at = (x: number, y: number) => g.data[y * g.width + x];
  for (let i = 0; i < 5; i++) {
    const x0 = (i % 3) * 3, y0 = Math.floor(i / 3) * 3;
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) assert.equal(at(x0 + x, y0 + y), 10 * (i + 1) + 2 * y + x);
  }
  for (let y = 0; y < g.height; y++) { assert.equal(at(2, y), 7); assert.equal(at(5, y), 7); }
  for (let x = 0; x < g.width; x++) assert.equal(at(x, 2), 7);
  for (let y = 3; y < 5; y++) for (let x = 6; x < 8; x++) assert.equal(at(x, y), 7); // missing 6th cell
});

test('RGB grid without padding places channels intact', () => {
  const a = Uint8Array.from({ length: 12 }, (_, i) => i);
  const b = Uint8Array.from({ length: 12 }, (_, i) => 100 + i);
  const g = makeGrid([a, b], 2, 3, 2);
  assert.equal(g.width, 4);
  assert.equal(g.height, 2);
  assert.deepEqual([...g.data.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105]);
  assert.deepEqual([...g.data.subarray(12, 24)], [6, 7, 8, 9, 10, 11, 106, 107, 108, 109, 110, 111]);
  assert.throws(() => makeGrid([new Uint8Array(5)], 2, 3, 2), /expected 2×2×3/);
});

test('floatToUint8 maps [-1,1] to [0,255], clamps, NaN → 0', () => {
  const out = floatToUint8(Float32Array.from([-1, 1, 0, 2, -3, NaN, 0.5]));
  assert.deepEqual([...out], [0, 255, 128, 255, 0, 0, 191]);
});

test('writePngAtomic writes a readable PNG and leaves no temp files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-grid-'));
  try {
    const file = path.join(dir, 'sub', 'fakes000000.png');
    const img = makeGrid([Uint8Array.from({ length: 12 }, (_, i) => i * 20)], 2, 3, 1);
    await writePngAtomic(file, img);
    await writePngAtomic(file, img); // overwrite in place
    const back = decodeImage(fs.readFileSync(file), file);
    assert.deepEqual(Buffer.from(back.data), Buffer.from(img.data));
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['fakes000000.png']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
