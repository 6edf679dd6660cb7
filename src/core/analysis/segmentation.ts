/**
 * Turning K-means labels into pictures: label maps → palette colours, nearest-neighbour upsampling
 * to the image resolution, alpha overlays, and the GGDR-style grid (samples on top, one row of
 * segmentation maps per clustered resolution below). Images are row-major HWC Uint8Arrays.
 */
import { UserError } from '../errors';
import { paletteColor, type Rgb } from '../../shared/palette';

/** An interleaved 8-bit RGB image, row-major [H,W,3]. */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

/** A colour table (index = label) or a function label → [r,g,b]. */
export type PaletteLike = readonly (readonly number[])[] | ((label: number) => readonly number[]);

/** Colour labels [N,H,W] into one [H,W,3] RGB map per image (default: the shared palette). */
export function labelsToRgb(labels: Int32Array, n: number, h: number, w: number, palette?: PaletteLike): Uint8Array[] {
  checkDims({ n, h, w });
  if (labels.length !== n * h * w) {
    throw new UserError(`labelsToRgb: ${labels.length} labels but n·h·w = ${n}·${h}·${w} = ${n * h * w}.`);
  }
  const colorOf = resolvePalette(palette);
  const cache = new Map<number, readonly number[]>();
  const out: Uint8Array[] = [];
  const per = h * w;
  for (let img = 0; img < n; img++) {
    const rgb = new Uint8Array(per * 3);
    for (let p = 0; p < per; p++) {
      const l = labels[img * per + p];
      let col = cache.get(l);
      if (col === undefined) {
        if (l < 0) throw new UserError(`labelsToRgb: negative label ${l} in image ${img}.`);
        col = colorOf(l);
        cache.set(l, col);
      }
      rgb[p * 3] = col[0];
      rgb[p * 3 + 1] = col[1];
      rgb[p * 3 + 2] = col[2];
    }
    out.push(rgb);
  }
  return out;
}

/**
 * Nearest-neighbour resize of one [H,W,channels] map (labels or pixels) to outSize (square if a
 * number). Source pixel = floor(dst·in/out), as PyTorch's 'nearest'; integer factors give exact blocks.
 */
export function upsampleNearest<T extends Int32Array | Uint8Array>(
  src: T,
  h: number,
  w: number,
  outSize: number | { height: number; width: number },
  channels = 1,
): T {
  checkDims({ h, w, channels });
  const oh = typeof outSize === 'number' ? outSize : outSize.height;
  const ow = typeof outSize === 'number' ? outSize : outSize.width;
  checkDims({ 'output height': oh, 'output width': ow });
  if (src.length !== h * w * channels) {
    throw new UserError(`upsampleNearest: ${src.length} values but ${h}×${w}×${channels} = ${h * w * channels}.`);
  }
  const out = (src instanceof Int32Array ? new Int32Array(oh * ow * channels) : new Uint8Array(oh * ow * channels)) as T;
  for (let y = 0; y < oh; y++) {
    const sy = Math.floor((y * h) / oh);
    for (let x = 0; x < ow; x++) {
      const sx = Math.floor((x * w) / ow);
      const s = (sy * w + sx) * channels;
      const d = (y * ow + x) * channels;
      for (let ch = 0; ch < channels; ch++) out[d + ch] = src[s + ch];
    }
  }
  return out;
}

/**
 * Alpha-blend a label map over an image: (1−opacity)·image + opacity·label, per channel.
 * `imageRgb` may be RGB (same length as labelRgb) or grayscale (a third of it).
 */
export function overlay(imageRgb: Uint8Array, labelRgb: Uint8Array, opacity: number): Uint8Array {
  if (!(opacity >= 0 && opacity <= 1)) throw new UserError(`overlay: opacity must be in [0,1], got ${opacity}.`);
  if (labelRgb.length % 3 !== 0) throw new UserError(`overlay: label map length ${labelRgb.length} is not a multiple of 3 (RGB).`);
  const gray = imageRgb.length * 3 === labelRgb.length;
  if (!gray && imageRgb.length !== labelRgb.length) {
    throw new UserError(
      `overlay: image has ${imageRgb.length} values, label map ${labelRgb.length}; sizes differ.`,
      'Upsample the label map to the image resolution first (upsampleNearest).',
    );
  }
  const out = new Uint8Array(labelRgb.length);
  for (let i = 0; i < labelRgb.length; i++) {
    const v = gray ? imageRgb[(i / 3) | 0] : imageRgb[i];
    out[i] = Math.round((1 - opacity) * v + opacity * labelRgb[i]);
  }
  return out;
}

/** Options for {@link segmentationGrid}. */
export interface SegmentationGridOptions {
  /** Cell height in pixels (every sample and label map must be height×width). */
  height: number;
  /** Cell width (default: height). */
  width?: number;
  /** Pixels between cells (default 0, like the official visualisation). */
  gap?: number;
  /** Gap colour (default black). */
  background?: Rgb;
}

/**
 * Grid with the samples in the top row and, below, one row per clustered resolution holding that
 * resolution's RGB label maps (already upsampled to the cell size), one column per sample.
 * Samples are [H,W,3] RGB or [H,W] grayscale; every row must have one map per sample.
 */
export function segmentationGrid(
  samples: Uint8Array[],
  labelMaps: Uint8Array[][],
  opts: SegmentationGridOptions,
): RgbImage {
  const ch = opts.height;
  const cw = opts.width ?? opts.height;
  const gap = opts.gap ?? 0;
  const bg = opts.background ?? [0, 0, 0];
  checkDims({ 'cell height': ch, 'cell width': cw });
  if (!Number.isInteger(gap) || gap < 0) throw new UserError(`segmentationGrid: gap must be a non-negative integer, got ${gap}.`);
  const cols = samples.length;
  if (cols === 0) throw new UserError('segmentationGrid: no samples to show.');
  labelMaps.forEach((row, r) => {
    if (row.length !== cols) {
      throw new UserError(`segmentationGrid: label row ${r} has ${row.length} maps but there are ${cols} samples.`);
    }
  });
  const rows = 1 + labelMaps.length;
  const width = cols * cw + (cols - 1) * gap;
  const height = rows * ch + (rows - 1) * gap;
  const data = new Uint8Array(width * height * 3);
  if (gap > 0) for (let i = 0; i < data.length; i += 3) data.set(bg, i);

  const blit = (cell: Uint8Array, channels: number, r: number, c: number): void => {
    const x0 = c * (cw + gap);
    const y0 = r * (ch + gap);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const s = (y * cw + x) * channels;
        const d = ((y0 + y) * width + x0 + x) * 3;
        if (channels === 1) {
          data[d] = data[d + 1] = data[d + 2] = cell[s];
        } else {
          data[d] = cell[s];
          data[d + 1] = cell[s + 1];
          data[d + 2] = cell[s + 2];
        }
      }
    }
  };

  samples.forEach((s, c) => {
    const channels = s.length / (ch * cw);
    if (channels !== 1 && channels !== 3) {
      throw new UserError(
        `segmentationGrid: sample ${c} has ${s.length} values; expected ${ch}×${cw}×3 (RGB) or ${ch}×${cw} (gray).`,
      );
    }
    blit(s, channels, 0, c);
  });
  labelMaps.forEach((row, r) =>
    row.forEach((m, c) => {
      if (m.length !== ch * cw * 3) {
        throw new UserError(
          `segmentationGrid: label map row ${r}, column ${c} has ${m.length} values, expected ${ch}×${cw}×3.`,
          'Upsample label maps to the sample resolution first (segmentationRow / upsampleNearest).',
        );
      }
      blit(m, 3, r + 1, c);
    }),
  );
  return { width, height, channels: 3, data };
}

/**
 * One grid row from K-means labels [N,H,W]: per image, nearest-upsample to outH×outW and colour.
 * Feed the result as one entry of segmentationGrid's `labelMaps`.
 */
export function segmentationRow(
  labels: Int32Array,
  n: number,
  h: number,
  w: number,
  outHeight: number,
  outWidth: number = outHeight,
  palette?: PaletteLike,
): Uint8Array[] {
  checkDims({ n, h, w });
  if (labels.length !== n * h * w) {
    throw new UserError(`segmentationRow: ${labels.length} labels but n·h·w = ${n * h * w}.`);
  }
  const per = h * w;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const up = upsampleNearest(labels.subarray(i * per, (i + 1) * per), h, w, { height: outHeight, width: outWidth });
    out.push(labelsToRgb(up, 1, outHeight, outWidth, palette)[0]);
  }
  return out;
}

function resolvePalette(p: PaletteLike | undefined): (l: number) => readonly number[] {
  if (p === undefined) return paletteColor;
  if (typeof p === 'function') return p;
  if (p.length === 0) throw new UserError('labelsToRgb: palette is empty.');
  return (l) => {
    if (l >= p.length) throw new UserError(`labelsToRgb: label ${l} but the palette has only ${p.length} colours.`);
    return p[l];
  };
}

function checkDims(dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`Invalid ${name}=${v}; expected a positive integer.`);
  }
}
