/**
 * Label maps → RGBA pixels for the segmentation panel's canvases, with the fixed palette (colour i =
 * cluster i everywhere) and cluster highlighting. Pure (no DOM), so it is unit-tested in Node.
 */
import { paletteColor } from '../../src/shared/palette';

export type MapMode = 'maps' | 'overlay';

/** The pixel shade of clusters that are not selected in 'maps' mode (mixed towards mid-grey). */
const DIM_MIX = 0.75;
const DIM_GREY = 96;

/**
 * RGBA [res,res,4] of image `index` of a batch of label maps [N,res,res].
 * maps: opaque palette colours; with a selection the other clusters fade to grey.
 * overlay: the same colours (opacity comes from CSS); with a selection the other clusters are transparent.
 */
export function labelImageRgba(labels: Uint8Array, index: number, res: number, mode: MapMode, selected: number | null): Uint8ClampedArray<ArrayBuffer> {
  const per = res * res;
  if (!(index >= 0) || (index + 1) * per > labels.length) throw new RangeError(`labelImageRgba: image ${index} is outside ${labels.length / per} maps of ${res}×${res}`);
  const out = new Uint8ClampedArray(per * 4);
  const cache = new Map<number, readonly number[]>();
  for (let p = 0; p < per; p++) {
    const l = labels[index * per + p];
    let c = cache.get(l);
    if (!c) cache.set(l, (c = paletteColor(l)));
    const o = p * 4;
    const on = selected === null || l === selected;
    if (on) {
      out[o] = c[0]; out[o + 1] = c[1]; out[o + 2] = c[2]; out[o + 3] = 255;
    } else if (mode === 'maps') {
      out[o] = c[0] * (1 - DIM_MIX) + DIM_GREY * DIM_MIX;
      out[o + 1] = c[1] * (1 - DIM_MIX) + DIM_GREY * DIM_MIX;
      out[o + 2] = c[2] * (1 - DIM_MIX) + DIM_GREY * DIM_MIX;
      out[o + 3] = 255;
    } // overlay + not selected: transparent (zeros)
  }
  return out;
}

/** Cluster id at display position (x,y) of a map drawn `size` px wide. */
export function labelAt(labels: Uint8Array, index: number, res: number, x: number, y: number, size: number): number {
  const cx = Math.min(res - 1, Math.max(0, Math.floor((x * res) / size)));
  const cy = Math.min(res - 1, Math.max(0, Math.floor((y * res) / size)));
  return labels[index * res * res + cy * res + cx];
}

/** "12.3 %" */
export function formatShare(s: number): string {
  return `${(s * 100).toFixed(1)} %`;
}
