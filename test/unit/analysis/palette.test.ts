import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALETTE_HEX, PALETTE_SIZE, hexToRgb, paletteColor, paletteHex, rgbToHex } from '../../../src/shared/palette';

function lin(c: number): number {
  c /= 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}
/** sRGB → CIE Lab (D65) plus relative luminance Y. */
function lab([r8, g8, b8]: number[]): { L: number; a: number; b: number; Y: number } {
  const [r, g, b] = [lin(r8), lin(g8), lin(b8)];
  const X = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const Y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const Z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return { L: 116 * f(Y) - 16, a: 500 * (f(X) - f(Y)), b: 200 * (f(Y) - f(Z)), Y };
}
const contrast = (y1: number, y2: number): number => (Math.max(y1, y2) + 0.05) / (Math.min(y1, y2) + 0.05);

test('palette: ≥16 fixed colours, pairwise distinct (CIE76 ΔE ≥ 15), readable on dark and light', () => {
  assert.ok(PALETTE_SIZE >= 16);
  const labs = Array.from({ length: PALETTE_SIZE }, (_, i) => lab(paletteColor(i)));
  let minDe = Infinity;
  for (let i = 0; i < labs.length; i++) {
    for (let j = i + 1; j < labs.length; j++) {
      minDe = Math.min(minDe, Math.hypot(labs[i].L - labs[j].L, labs[i].a - labs[j].a, labs[i].b - labs[j].b));
    }
  }
  assert.ok(minDe >= 15, `min ΔE ${minDe}`);
  const darkBg = lab([0x1e, 0x1e, 0x1e]).Y; // VS Code Dark+ editor background
  for (const [i, l] of labs.entries()) {
    assert.ok(contrast(l.Y, darkBg) >= 2.5, `colour ${i} too dark for dark themes`);
    assert.ok(contrast(l.Y, 1) >= 1.5, `colour ${i} too light for light themes`);
  }
});

test('palette: hex round-trip, stable values, generated colours beyond the table', () => {
  assert.equal(paletteHex(0), PALETTE_HEX[0]);
  assert.deepEqual(paletteColor(0), [0x4e, 0x79, 0xa7]);
  for (let i = 0; i < PALETTE_SIZE; i++) assert.equal(rgbToHex(hexToRgb(paletteHex(i))), PALETTE_HEX[i]);
  const c = paletteColor(0);
  c[0] = 0; // returned arrays are copies
  assert.deepEqual(paletteColor(0), [0x4e, 0x79, 0xa7]);
  const beyond = Array.from({ length: 12 }, (_, i) => paletteHex(PALETTE_SIZE + i));
  for (const h of beyond) assert.match(h, /^#[0-9a-f]{6}$/);
  assert.equal(new Set(beyond).size, beyond.length);
  assert.equal(paletteHex(PALETTE_SIZE + 3), paletteHex(PALETTE_SIZE + 3));
  assert.throws(() => paletteColor(-1), RangeError);
  assert.throws(() => paletteColor(1.5), RangeError);
  assert.throws(() => hexToRgb('#12345'), RangeError);
});
