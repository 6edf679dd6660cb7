/**
 * Training datasets as plain uint8 arrays: the built-in MNIST digits (mnist.ts), a folder of PNG/JPEG
 * files (folderDataset.ts) or a StyleGAN2-ADA dataset zip (zipDataset.ts). Every image is converted
 * once to the model's resolution/channels; the training loop turns index batches into tensors via
 * getBatch (no tfjs here).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../errors';
import { loadFolder } from './folderDataset';
import { HINT_SPEC, type LoadedImages } from './loaderCommon';
import { loadMnist } from './mnist';
import { loadZip } from './zipDataset';

export type DatasetSource = 'mnist' | 'folder' | 'zip';

/** A dataset held in memory at model resolution. */
export interface Dataset {
  /** 'mnist', the folder name, or the zip name without extension. */
  name: string;
  source: DatasetSource;
  /** Absolute path of the folder or zip; undefined for the built-in MNIST. */
  path?: string;
  /** Distinct images stored in `images`. */
  count: number;
  resolution: number;
  channels: 1 | 3;
  /** count·res·res·channels bytes, HWC per image, images back to back. */
  images: Uint8Array;
  /** Class labels (MNIST digits 0–9); undefined for folders and zips. */
  labels?: Int32Array;
  /** Dataset x-flip doubling (StyleGAN2-ADA --mirror): indices count…2·count−1 are mirrored copies. */
  xflip: boolean;
  /** Number of indices getBatch accepts: count·(xflip ? 2 : 1). Sample batch indices from [0, length). */
  length: number;
  /** Human-readable notes about conversions and skipped files (one line each). */
  warnings: string[];
  /** Files that could not be read or decoded and were left out. */
  skipped: number;
}

export interface LoadDatasetOptions {
  resolution: number;
  channels: 1 | 3;
  /** Keep at most this many images (a fixed-seed random subset, kept in source order); 0/undefined = all. */
  maxImages?: number;
  /** Dataset x-flip doubling; see Dataset.xflip. */
  xflip?: boolean;
  /** Called as images are converted; `done` reaches `total` at the end. */
  onProgress?: (done: number, total: number) => void;
}


/** Loads 'mnist', an image folder (recursive) or a dataset zip, converted to resolution×resolution×channels. */
export async function loadDataset(spec: string, opts: LoadDatasetOptions): Promise<Dataset> {
  const { resolution, channels } = opts;
  if (!Number.isInteger(resolution) || resolution < 1) throw new UserError(`Invalid dataset resolution ${resolution}: must be a positive integer.`);
  if (channels !== 1 && channels !== 3) throw new UserError(`Invalid channel count ${String(channels)}: must be 1 or 3.`);
  const maxImages = opts.maxImages ?? 0;
  if (!Number.isInteger(maxImages) || maxImages < 0) throw new UserError(`Invalid maxImages ${maxImages}: must be 0 (all) or a positive integer.`);
  const trimmed = spec.trim();
  if (!trimmed) throw new UserError('No dataset given.', HINT_SPEC);

  let base: LoadedImages;
  if (trimmed === 'mnist') {
    base = loadMnist(resolution, channels, maxImages);
    opts.onProgress?.(base.count, base.count);
  } else {
    const abs = path.resolve(trimmed.startsWith('~/') ? path.join(os.homedir(), trimmed.slice(2)) : trimmed);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(abs);
    } catch {
      throw new UserError(`Dataset not found: ${abs}`, HINT_SPEC);
    }
    if (st.isDirectory()) base = await loadFolder(abs, opts, maxImages);
    else if (st.isFile()) base = await loadZip(abs, st.size, opts, maxImages);
    else throw new UserError(`Dataset path is neither a folder nor a file: ${abs}`, HINT_SPEC);
  }
  const xflip = opts.xflip ?? false;
  return { ...base, xflip, length: base.count * (xflip ? 2 : 1) };
}

// ---------------------------------------------------------------------------------------------
// Batches

/** [-1,1] value of each byte: v/127.5 − 1. */
const TO_FLOAT = (() => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = v / 127.5 - 1;
  return t;
})();

function checkIndex(ds: Dataset, idx: number): void {
  if (!Number.isInteger(idx) || idx < 0 || idx >= ds.length) {
    throw new RangeError(`dataset index ${idx} out of range [0, ${ds.length})`);
  }
}

/**
 * Images at `indices` (in [0, ds.length)) as floats in [-1,1], layout [N,H,W,C]. Index ≥ count is the
 * mirrored copy of index − count (x-flip doubling); `flip[n]` mirrors image n (again) horizontally.
 */
export function getBatch(ds: Dataset, indices: number[], flip?: boolean[]): Float32Array {
  if (flip && flip.length !== indices.length) throw new Error(`getBatch: ${flip.length} flip flags for ${indices.length} indices`);
  const R = ds.resolution;
  const C = ds.channels;
  const per = R * R * C;
  const out = new Float32Array(indices.length * per);
  const img = ds.images;
  for (let n = 0; n < indices.length; n++) {
    const idx = indices[n];
    checkIndex(ds, idx);
    const mirrored = idx >= ds.count;
    const s = (mirrored ? idx - ds.count : idx) * per;
    const o = n * per;
    if (mirrored === (flip?.[n] ?? false)) {
      for (let i = 0; i < per; i++) out[o + i] = TO_FLOAT[img[s + i]];
    } else {
      for (let y = 0; y < R; y++) {
        const row = y * R;
        for (let x = 0; x < R; x++) {
          const d = o + (row + x) * C;
          const q = s + (row + R - 1 - x) * C;
          for (let c = 0; c < C; c++) out[d + c] = TO_FLOAT[img[q + c]];
        }
      }
    }
  }
  return out;
}

/** One image at `index` (in [0, ds.length), mirrored copies included) as uint8 HWC. */
export function getImage(ds: Dataset, index: number): Uint8Array {
  checkIndex(ds, index);
  const R = ds.resolution, C = ds.channels, per = R * R * C;
  const mirrored = index >= ds.count;
  const s = (mirrored ? index - ds.count : index) * per;
  const src = ds.images.subarray(s, s + per);
  if (!mirrored) return src.slice();
  const out = new Uint8Array(per);
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      for (let c = 0; c < C; c++) out[(y * R + x) * C + c] = src[(y * R + R - 1 - x) * C + c];
    }
  }
  return out;
}

/** Labels of `indices` (mirrored copies share their original's label); throws if the dataset has none. */
export function getLabels(ds: Dataset, indices: number[]): Int32Array {
  if (!ds.labels) throw new UserError(`Dataset '${ds.name}' has no labels.`);
  const out = new Int32Array(indices.length);
  indices.forEach((idx, n) => {
    checkIndex(ds, idx);
    out[n] = ds.labels![idx % ds.count];
  });
  return out;
}
