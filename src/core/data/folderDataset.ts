/** A folder of PNG/JPEG images (searched recursively, in sorted path order) as a dataset. */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../errors';
import type { LoadDatasetOptions } from './dataset';
import { convertEntries, isImageName, labelsIgnoredNote, plural, type ChunkReader } from './imageEntries';
import { HINT_SPEC, type LoadedImages } from './loaderCommon';

const FOLDER_CHUNK = 32; // files read in parallel

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

/** Loads the images under folder `abs`. */
export async function loadFolder(abs: string, opts: LoadDatasetOptions, maxImages: number): Promise<LoadedImages> {
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
