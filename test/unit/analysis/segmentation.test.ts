import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsToRgb, overlay, segmentationGrid, segmentationRow, upsampleNearest } from '../../../src/core/analysis/segmentation';
import { clusterFeatures } from '../../../src/core/analysis/kmeans';
import { paletteColor } from '../../../src/shared/palette';
import { isUserError } from '../../../src/core/errors';
import { blobLabels, plantedFeatures, randomDirections, rng } from './synthetic';

const isUE = (e: unknown): boolean => isUserError(e);
const px = (img: Uint8Array, width: number, x: number, y: number): number[] => [...img.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];

test('labelsToRgb colours per image with the shared or a custom palette', () => {
  const labels = Int32Array.from([0, 1, 2, 3, 3, 2, 1, 0]); // n=2, 2×2
  const maps = labelsToRgb(labels, 2, 2, 2);
  assert.equal(maps.length, 2);
  assert.deepEqual(px(maps[0], 2, 1, 0), paletteColor(1));
  assert.deepEqual(px(maps[1], 2, 0, 0), paletteColor(3));
  const custom = labelsToRgb(labels, 2, 2, 2, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
  assert.deepEqual([...custom[1]], [10, 11, 12, 7, 8, 9, 4, 5, 6, 1, 2, 3]);
  assert.throws(() => labelsToRgb(labels, 2, 2, 2, [[1, 2, 3]]), isUE);
  assert.throws(() => labelsToRgb(labels, 3, 2, 2), isUE);
  assert.throws(() => labelsToRgb(Int32Array.from([0, -1, 0, 0]), 1, 2, 2), isUE);
});

test('upsampleNearest: exact blocks for integer factors, floor mapping otherwise, multi-channel', () => {
  const src = Int32Array.from([1, 2, 3, 4]); // 2×2
  assert.deepEqual([...upsampleNearest(src, 2, 2, 4)], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  assert.deepEqual([...upsampleNearest(src, 2, 2, 3)], [1, 1, 2, 1, 1, 2, 3, 3, 4]);
  assert.deepEqual([...upsampleNearest(src, 2, 2, { height: 1, width: 4 })], [1, 1, 2, 2]);
  const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 1×2×3
  const up = upsampleNearest(rgb, 1, 2, { height: 2, width: 4 }, 3);
  assert.ok(up instanceof Uint8Array);
  assert.deepEqual([...up.subarray(0, 12)], [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  assert.deepEqual([...up.subarray(12)], [...up.subarray(0, 12)]);
  assert.throws(() => upsampleNearest(src, 3, 2, 4), isUE);
  assert.throws(() => upsampleNearest(src, 2, 2, 0), isUE);
});

test('overlay blends RGB and grayscale images', () => {
  const img = Uint8Array.from([0, 100, 200]);
  const lab = Uint8Array.from([200, 100, 0]);
  assert.deepEqual([...overlay(img, lab, 0)], [0, 100, 200]);
  assert.deepEqual([...overlay(img, lab, 1)], [200, 100, 0]);
  assert.deepEqual([...overlay(img, lab, 0.25)], [50, 100, 150]);
  assert.deepEqual([...overlay(Uint8Array.from([100]), lab, 0.5)], [150, 100, 50]);
  assert.throws(() => overlay(Uint8Array.from([1, 2]), lab, 0.5), isUE);
  assert.throws(() => overlay(img, lab, 1.5), isUE);
});

test('segmentationGrid: samples on top, one row per resolution, gaps and grayscale', () => {
  const S = 4;
  const gray = new Uint8Array(S * S).fill(77);
  const rgb = new Uint8Array(S * S * 3).fill(200);
  const row8 = [new Uint8Array(S * S * 3).fill(10), new Uint8Array(S * S * 3).fill(20)];
  const row16 = [new Uint8Array(S * S * 3).fill(30), new Uint8Array(S * S * 3).fill(40)];
  const g = segmentationGrid([gray, rgb], [row8, row16], { height: S, gap: 1, background: [255, 0, 255] });
  assert.equal(g.channels, 3);
  assert.equal(g.width, 2 * S + 1);
  assert.equal(g.height, 3 * S + 2);
  assert.equal(g.data.length, g.width * g.height * 3);
  assert.deepEqual(px(g.data, g.width, 0, 0), [77, 77, 77]);
  assert.deepEqual(px(g.data, g.width, S + 1, S - 1), [200, 200, 200]);
  assert.deepEqual(px(g.data, g.width, S, 0), [255, 0, 255]); // vertical gap
  assert.deepEqual(px(g.data, g.width, 0, S), [255, 0, 255]); // horizontal gap
  assert.deepEqual(px(g.data, g.width, 0, S + 1), [10, 10, 10]);
  assert.deepEqual(px(g.data, g.width, 2 * S, 2 * S + 2), [40, 40, 40]);
  const noGap = segmentationGrid([rgb], [[row8[0]]], { height: S });
  assert.equal(noGap.height, 2 * S);
  assert.throws(() => segmentationGrid([rgb, rgb], [[row8[0]]], { height: S }), isUE);
  assert.throws(() => segmentationGrid([new Uint8Array(5)], [], { height: S }), isUE);
  assert.throws(() => segmentationGrid([rgb], [[new Uint8Array(3)]], { height: S }), isUE);
  assert.throws(() => segmentationGrid([], [], { height: S }), isUE);
});

test('end to end: cluster two resolutions, build the grid; colours agree across images', () => {
  const rand = rng(3);
  const n = 4;
  const truth8 = blobLabels(n, 8, 8, 4, rand, 6);
  const dirs = randomDirections(4, 16, rand);
  const f8 = plantedFeatures(truth8, { n, h: 8, w: 8, c: 16 }, dirs, 0.05, rand);
  // 16×16 maps: the 8×8 labels upsampled, so both resolutions share the layout.
  const truth16 = new Int32Array(n * 256);
  for (let i = 0; i < n; i++) truth16.set(upsampleNearest(truth8.subarray(i * 64, (i + 1) * 64), 8, 8, 16), i * 256);
  const f16 = plantedFeatures(truth16, { n, h: 16, w: 16, c: 8 }, randomDirections(4, 8, rand), 0.05, rand);
  const r8 = clusterFeatures(f8, { k: 4, seed: 1 });
  const r16 = clusterFeatures(f16, { k: 4, seed: 1 });
  const samples = Array.from({ length: n }, () => new Uint8Array(32 * 32 * 3).fill(128));
  const grid = segmentationGrid(samples, [segmentationRow(r8.labels, n, 8, 8, 32), segmentationRow(r16.labels, n, 16, 16, 32)], { height: 32 });
  assert.equal(grid.width, n * 32);
  assert.equal(grid.height, 3 * 32);
  // Both rows show the same layout; canonical labels sort by share, which is equal at both resolutions.
  for (let x = 0; x < grid.width; x += 3) {
    for (let y = 0; y < 32; y += 3) assert.deepEqual(px(grid.data, grid.width, x, 32 + y), px(grid.data, grid.width, x, 64 + y));
  }
  // A given planted cluster shows one colour in every image.
  const colourOf = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 64; p++) {
      const x = i * 32 + (p % 8) * 4;
      const y = 32 + Math.floor(p / 8) * 4;
      const col = px(grid.data, grid.width, x, y).join(',');
      const t = truth8[i * 64 + p];
      if (!colourOf.has(t)) colourOf.set(t, col);
      assert.equal(col, colourOf.get(t));
    }
  }
  assert.equal(new Set(colourOf.values()).size, 4);
});
