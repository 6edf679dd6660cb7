/**
 * Fixed categorical palette for cluster/segmentation colours. Colour i always means cluster i, in
 * every view. Mid-lightness colours (CIE L* 43–82) so fills read on both dark and light themes;
 * the first 10 are Tableau 10, the next 10 were picked for a minimum pairwise CIE76 ΔE ≥ 18.
 * Indices beyond the table get generated colours (golden-angle hue walk), so any k works.
 */

export type Rgb = [number, number, number];

/** The fixed table, as #rrggbb. */
export const PALETTE_HEX: readonly string[] = Object.freeze([
  '#4e79a7', // blue
  '#f28e2b', // orange
  '#e15759', // red
  '#76b7b2', // teal
  '#59a14f', // green
  '#edc948', // yellow
  '#b07aa1', // purple
  '#ff9da7', // pink
  '#9c755f', // brown
  '#bab0ac', // warm grey
  '#17becf', // cyan
  '#bcbd22', // olive
  '#1f5fd6', // strong blue
  '#8f3fd1', // violet
  '#d1477f', // raspberry
  '#0b7a75', // dark teal
  '#a6d854', // lime
  '#c2410c', // rust
  '#7fc8f8', // sky
  '#8a6d0b', // ochre
]);

const TABLE: readonly Rgb[] = PALETTE_HEX.map(hexToRgb);

/** Number of colours in the fixed table. */
export const PALETTE_SIZE = PALETTE_HEX.length;

/** Colour of cluster `i` (non-negative integer) as [r,g,b] 0–255. */
export function paletteColor(i: number): Rgb {
  if (!Number.isInteger(i) || i < 0) throw new RangeError(`paletteColor: index must be a non-negative integer, got ${i}`);
  if (i < TABLE.length) return [...TABLE[i]] as Rgb;
  // Beyond the table: golden-angle hue walk at fixed saturation, alternating lightness.
  const j = i - TABLE.length;
  const hue = (j * 137.50776405) % 360;
  const light = j % 2 === 0 ? 0.55 : 0.68;
  return hslToRgb(hue, 0.6, light);
}

/** Colour of cluster `i` as '#rrggbb'. */
export function paletteHex(i: number): string {
  return rgbToHex(paletteColor(i));
}

/** '#rrggbb' (or 'rrggbb') → [r,g,b]. */
export function hexToRgb(hex: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new RangeError(`hexToRgb: expected #rrggbb, got '${hex}'`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** [r,g,b] 0–255 → '#rrggbb'. */
export function rgbToHex(rgb: readonly number[]): string {
  return '#' + rgb.slice(0, 3).map((x) => Math.max(0, Math.min(255, Math.round(x))).toString(16).padStart(2, '0')).join('');
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
