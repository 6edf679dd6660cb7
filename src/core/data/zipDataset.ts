/** A StyleGAN2-ADA dataset zip (dataset_tool.py output, or any zip of PNG/JPEG files) as a dataset. */
import * as path from 'path';
import * as fs from 'fs';
import { unzipSync } from 'fflate';
import { UserError } from '../errors';
import type { LoadDatasetOptions } from './dataset';
import { convertEntries, isImageName, labelsIgnoredNote, type ChunkReader } from './imageEntries';
import { HINT_SPEC, type LoadedImages } from './loaderCommon';

const ZIP_CHUNK = 512; // entries per unzipSync pass (each pass walks the central directory)

function isZipEntryImage(name: string): boolean {
  if (name.endsWith('/') || !isImageName(name)) return false;
  return !name.split('/').some((seg) => seg.startsWith('.') || seg === '__MACOSX');
}

/** Loads the images of zip file `abs` (`size` bytes). */
export async function loadZip(abs: string, size: number, opts: LoadDatasetOptions, maxImages: number): Promise<LoadedImages> {
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
