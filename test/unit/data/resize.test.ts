import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toModelImage } from '../../../src/core/image/resize';
import type { RawImage } from '../../../src/core/image/codec';

function constant(width: number, height: number, channels: 1 | 3 | 4, px: number[]): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = px[c];
  return { width, height, channels, data };
}

test('a constant image stays constant through crop, shrink and enlarge', () => {
  const sizes: [number, number][] = [[32, 32], [100, 37], [37, 100], [7, 5], [3, 3], [1000, 999], [33, 64]];
  for (const [w, h] of sizes) {
    for (const res of [4, 16, 32, 48]) {
      const rgb = toModelImage(constant(w, h, 3, [17, 200, 255]), res, 3);
      assert.equal(rgb.length, res * res * 3);
      for (let i = 0; i < rgb.length; i += 3) {
        assert.deepEqual([rgb[i], rgb[i + 1], rgb[i + 2]], [17, 200, 255], `${w}×${h}→${res} at ${i}`);
      }
      const g = toModelImage(constant(w, h, 1, [93]), res, 1);
      assert.ok(g.every((v) => v === 93), `${w}×${h}→${res} gray`);
    }
  }
});

test('channel conversion: luma, replication, alpha over black', () => {
  assert.ok(toModelImage(constant(4, 4, 3, [255, 0, 0]), 4, 1).every((v) => v === 76)); // 0.299·255
  assert.ok(toModelImage(constant(4, 4, 3, [10, 20, 30]), 2, 1).every((v) => v === Math.round(0.299 * 10 + 0.587 * 20 + 0.114 * 30)));
  const rep = toModelImage(constant(4, 4, 1, [77]), 4, 3);
  assert.ok(rep.every((v) => v === 77));
  const over = toModelImage(constant(4, 4, 4, [200, 100, 50, 51]), 4, 3); // alpha 0.2
  for (let i = 0; i < over.length; i += 3) assert.deepEqual([over[i], over[i + 1], over[i + 2]], [40, 20, 10]);
});

test('same size and layout is an exact copy', () => {
  const img: RawImage = { width: 5, height: 5, channels: 3, data: Uint8Array.from({ length: 75 }, (_, i) => (i * 7) % 256) };
  assert.deepEqual(toModelImage(img, 5, 3), img.data);
});

test('2× shrink averages 2×2 blocks (area)', () => {
  const data = Uint8Array.from([
    0, 10, 100, 100,
    20, 30, 100, 100,
    1, 1, 250, 0,
    1, 1, 0, 250,
  ]);
  const out = toModelImage({ width: 4, height: 4, channels: 1, data }, 2, 1);
  assert.deepEqual([...out], [15, 100, 1, 125]);
});

test('non-integer shrink weights pixels by covered area', () => {
  // 3 → 2: output 0 covers [0,1.5): p0 + ½·p1 over 1.5; output 1 covers [1.5,3).
  const data = Uint8Array.from([0, 90, 180, 0, 90, 180, 0, 90, 180]);
  const out = toModelImage({ width: 3, height: 3, channels: 1, data }, 2, 1);
  assert.deepEqual([...out], [30, 150, 30, 150]);
});

test('center crop keeps the middle of a wide or tall image', () => {
  // 6×4: columns 0 and 5 are 255 (cropped away), columns 1..4 hold the pattern.
  const w = 6, h = 4;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x === 0 || x === w - 1 ? 255 : x * 10 + y;
  const out = toModelImage({ width: w, height: h, channels: 1, data }, 4, 1);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.equal(out[y * 4 + x], (x + 1) * 10 + y);
  // Tall 3×5: rows 1..3 survive.
  const tall = Uint8Array.from({ length: 15 }, (_, i) => Math.floor(i / 3) * 50);
  assert.deepEqual([...toModelImage({ width: 3, height: 5, channels: 1, data: tall }, 3, 1)], [50, 50, 50, 100, 100, 100, 150, 150, 150]);
});

test('enlarging interpolates bilinearly with half-pixel centres', () => {
  const out = toModelImage({ width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 255, 0, 255]) }, 4, 1);
  for (let y = 0; y < 4; y++) assert.deepEqual([...out.subarray(y * 4, y * 4 + 4)], [0, 64, 191, 255]);
});
