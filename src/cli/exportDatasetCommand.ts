/**
 * `gan-inspector export-dataset --data mnist|FOLDER|ZIP --out X.zip`: a StyleGAN2-ADA dataset zip, so
 * the official train.py and GAN Inspector train on identical images (src/core/data/exportDataset.ts).
 */
import { UserError } from '../core/errors';
import { exportDataset } from '../core/data/exportDataset';
import { FlagReader, parseArgv } from './args';

export const EXPORT_DATASET_HELP = `Usage: gan-inspector export-dataset --data mnist|FOLDER|ZIP --out FILE.zip [options]

Writes a StyleGAN2-ADA dataset zip (dataset_tool.py's layout: 00000/img00000000.png …, dataset.json
with the class labels when known, i.e. for mnist) for the official train.py --data.

  --data SPEC         mnist (the embedded digits, labelled), a folder of PNG/JPEG images, or a zip
  --out FILE.zip      output file
  --res N             square resolution, a power of two (default 32 for mnist: 28×28 padded by 2 px; else 64)
  --channels 1|3      grayscale or RGB (default 1 for mnist, else 3)
  --max-images N      at most N images (a fixed subset); default all
  --force             replace an existing --out file
`;

export async function runExportDatasetCommand(argv: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const args = parseArgv(['export-dataset', ...argv]);
  const f = new FlagReader(args.flags);
  if (f.has('help') || f.has('h')) {
    io.out(EXPORT_DATASET_HELP);
    return 0;
  }
  if (args.positional.length) throw new UserError(`export-dataset takes no positional arguments (got ${args.positional.join(' ')}).`, 'See gan-inspector export-dataset --help.');
  const data = f.str('data');
  const out = f.str('out');
  if (!data) throw new UserError('export-dataset needs --data mnist|FOLDER|ZIP.', 'See gan-inspector export-dataset --help.');
  if (!out) throw new UserError('export-dataset needs --out FILE.zip.', 'See gan-inspector export-dataset --help.');
  const ch = f.num('channels', { int: true });
  if (ch !== undefined && ch !== 1 && ch !== 3) throw new UserError(`--channels ${ch}: must be 1 or 3.`);
  const resolution = f.num('res', { int: true, min: 4 });
  const maxImages = f.num('max-images', { int: true, min: 0 });
  const force = f.has('force');
  f.rejectUnknown('export-dataset');
  let last = 0;
  const r = await exportDataset(data, {
    out, resolution, channels: ch as 1 | 3 | undefined, maxImages, force,
    onProgress: (done, total, phase) => {
      if (Date.now() - last < 1000 && done < total) return;
      last = Date.now();
      io.err(`${phase === 'load' ? 'Loading' : 'Encoding'} ${done}/${total}\n`);
    },
  });
  for (const w of r.warnings) io.err(`Note: ${w}\n`);
  io.out(`Wrote ${r.out}: ${r.count} images, ${r.resolution}×${r.resolution}×${r.channels}, ${r.labels ? 'labels in dataset.json' : 'no labels'}, ${(r.bytes / 1024 / 1024).toFixed(1)} MB.\n`);
  return 0;
}
