/**
 * Folders and zips as a list of named image entries read in chunks, decoded and converted one by one
 * (a fixed-seed random subset when maxImages is below the count), with one warning line per kind of
 * conversion or loss.
 */
import { UserError, isUserError } from '../errors';
import { decodeImage, type RawImage } from '../image/codec';
import { toModelImage } from '../image/resize';
import { seededPermutation } from '../util/rng';
import type { LoadDatasetOptions } from './dataset';
import { checkMemory, IMAGE_EXTENSIONS, SUBSET_SEED } from './loaderCommon';

/** Reads the bytes of entries `idx` (positions in the name list); an Error per unreadable entry. */
export type ChunkReader = (idx: number[]) => Promise<(Uint8Array | Error)[]>;

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

interface Stats {
  sizes: Map<string, number>;
  gray: number;
  color: number;
  transparent: number;
  nonSquare: number;
  upscaled: number;
}

/** True for a file name with an accepted image extension. */
export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

function hasTransparency(img: RawImage): boolean {
  if (img.channels !== 4) return false;
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return true;
  return false;
}

/** Decodes entries until `want` images are usable (in fixed-seed random order when subsetting). */
export async function convertEntries(
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

/** "1 image", "2 images". */
export function plural(n: number, word: string): string {
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

/** StyleGAN2-ADA's dataset.json {"labels": [[file, class], …]}: we train unconditional GANs, so say that they are ignored. */
export function labelsIgnoredNote(text: string): string | undefined {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return 'dataset.json is not valid JSON; it is ignored (GAN Inspector trains unconditional GANs).'; }
  const labels = (v as { labels?: unknown })?.labels;
  if (!Array.isArray(labels) || !labels.length) return undefined;
  return `dataset.json has class labels for ${labels.length} image${labels.length === 1 ? '' : 's'}; they are ignored (GAN Inspector trains unconditional GANs).`;
}
