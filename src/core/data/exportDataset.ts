/**
 * Writes a StyleGAN2-ADA dataset zip (the layout of the official dataset_tool.py): square PNGs named
 * `00000/img00000000.png` (1000 per folder) plus `dataset.json` = {"labels": [[name, class], …]} when
 * the labels are known (the embedded MNIST) or {"labels": null}. Both engines then train on identical
 * data: our reader and the official `training.dataset.ImageFolderDataset` read it back (tested).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { UserError } from '../errors';
import { encodePng } from '../image/codec';
import { writeFileAtomic } from '../runs/fsAtomic';
import { loadDataset } from './dataset';

export interface ExportDatasetOptions {
  /** Output .zip path. */
  out: string;
  /** Square resolution, a power of two (StyleGAN2-ADA's requirement). Default: 32 for mnist (the classic 2-px padded layout), else 64. */
  resolution?: number;
  /** 1 (grayscale) or 3 (RGB). Default: 1 for mnist, else 3. */
  channels?: 1 | 3;
  /** At most this many images (a fixed-seed subset, kept in source order); 0 = all. */
  maxImages?: number;
  /** Replace an existing file. */
  force?: boolean;
  onProgress?: (done: number, total: number, phase: 'load' | 'encode') => void;
}

export interface ExportDatasetResult {
  out: string;
  count: number;
  resolution: number;
  channels: 1 | 3;
  labels: boolean;
  bytes: number;
  warnings: string[];
}

const isPow2 = (n: number) => Number.isInteger(n) && n >= 4 && (n & (n - 1)) === 0;

/** Archive name of image i, as dataset_tool.py names it. */
export function datasetImageName(i: number): string {
  const idx = String(i).padStart(8, '0');
  return `${idx.slice(0, 5)}/img${idx}.png`;
}

/** Exports 'mnist' or an image folder / zip as a StyleGAN2-ADA dataset zip. */
export async function exportDataset(data: string, o: ExportDatasetOptions): Promise<ExportDatasetResult> {
  const mnist = data.trim() === 'mnist';
  const resolution = o.resolution ?? (mnist ? 32 : 64);
  const channels = o.channels ?? (mnist ? 1 : 3);
  if (!isPow2(resolution) || resolution > 4096) throw new UserError(`--res ${resolution}: StyleGAN2-ADA datasets need a square power-of-two resolution (4 … 4096).`);
  if (channels !== 1 && channels !== 3) throw new UserError(`--channels ${String(channels)}: must be 1 or 3.`);
  const out = path.resolve(o.out);
  if (!out.toLowerCase().endsWith('.zip')) throw new UserError(`--out ${o.out}: the dataset must be a .zip file.`);
  if (fs.existsSync(out) && !o.force) throw new UserError(`${out} already exists.`, 'Add --force to replace it, or choose another name.');
  if (!fs.existsSync(path.dirname(out))) throw new UserError(`The folder ${path.dirname(out)} does not exist.`, 'Create it first.');
  const ds = await loadDataset(data, { resolution, channels, maxImages: o.maxImages ?? 0, onProgress: (d, t) => o.onProgress?.(d, t, 'load') });
  const per = resolution * resolution * channels;
  const files: Zippable = {};
  const labels: [string, number][] = [];
  for (let i = 0; i < ds.count; i++) {
    const name = datasetImageName(i);
    const png = encodePng({ width: resolution, height: resolution, channels, data: ds.images.subarray(i * per, (i + 1) * per) });
    // PNG is compressed already: store it (level 0), as dataset_tool.py's ZIP_STORED does.
    files[name] = [new Uint8Array(png.buffer, png.byteOffset, png.length), { level: 0 }];
    if (ds.labels) labels.push([name, ds.labels[i]]);
    if (i % 1000 === 999) o.onProgress?.(i + 1, ds.count, 'encode');
  }
  o.onProgress?.(ds.count, ds.count, 'encode');
  files['dataset.json'] = new TextEncoder().encode(JSON.stringify({ labels: ds.labels ? labels : null }));
  const zip = zipSync(files);
  await writeFileAtomic(out, zip);
  return { out, count: ds.count, resolution, channels, labels: !!ds.labels, bytes: zip.length, warnings: ds.warnings };
}
