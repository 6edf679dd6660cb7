/**
 * Sample grids (reals.png, fakes*.png) and atomic PNG writes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { encodePng, type RawImage } from './codec';
import { tempSiblingPath } from '../runs/fsAtomic';

/** Generator output in [-1,1] → uint8 (−1→0, 1→255, rounded, clamped; NaN→0). */
export function floatToUint8(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round((data[i] + 1) * 127.5);
    out[i] = v >= 255 ? 255 : v > 0 ? v : 0; // NaN fails both tests → 0
  }
  return out;
}

/**
 * Tiles equally sized square images (each size×size×channels, HWC) row-major into a grid of `cols`
 * columns and ceil(n/cols) rows; `pad` px of `padValue` between cells (not around the border).
 * Cell (r,c) starts at x = c·(size+pad), y = r·(size+pad). Empty trailing cells stay `padValue`.
 */
export function makeGrid(
  images: Uint8Array[],
  size: number,
  channels: 1 | 3,
  cols: number,
  opts: { pad?: number; padValue?: number } = {},
): RawImage {
  const pad = opts.pad ?? 0;
  const padValue = opts.padValue ?? 0;
  if (images.length === 0) throw new Error('makeGrid: no images');
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`makeGrid: bad cols ${cols}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`makeGrid: bad pad ${pad}`);
  const cellBytes = size * size * channels;
  images.forEach((im, i) => {
    if (im.length !== cellBytes) throw new Error(`makeGrid: image ${i} has ${im.length} bytes, expected ${size}×${size}×${channels}`);
  });
  const c = cols;
  const rows = Math.ceil(images.length / c);
  const width = c * size + (c - 1) * pad;
  const height = rows * size + (rows - 1) * pad;
  const data = new Uint8Array(width * height * channels);
  if (padValue !== 0) data.fill(padValue);
  const rowBytes = size * channels;
  images.forEach((im, i) => {
    const x0 = (i % c) * (size + pad);
    const y0 = Math.floor(i / c) * (size + pad);
    for (let y = 0; y < size; y++) {
      data.set(im.subarray(y * rowBytes, (y + 1) * rowBytes), ((y0 + y) * width + x0) * channels);
    }
  });
  return { width, height, channels, data };
}

/** Writes `img` as PNG via a temp file in the same folder + rename, so readers never see a partial file. */
export async function writePngAtomic(file: string, img: RawImage): Promise<void> {
  const buf = encodePng(img);
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = tempSiblingPath(file); // the run folder's temp naming, so a crash's leftover is cleaned up at the next start
  try {
    await fs.promises.writeFile(tmp, buf);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    // Name the PNG the user asked for, not our hidden temp file.
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string') err.path = file;
    throw e;
  }
}
