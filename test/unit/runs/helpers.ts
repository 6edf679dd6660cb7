/** Shared helpers of the run-folder tests: temp dirs, fixture copies and a synthetic GAN Inspector run. */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { resolveOptions } from '../../../src/core/config/options';
import { createRunDir, fakesName, snapshotName, StatusWriter, writeTrainingOptions, appendStatsLine, appendLog, RUN_FILES } from '../../../src/core/runs/runDir';
import { writeDirAtomic } from '../../../src/core/runs/fsAtomic';
import { StatsCollector, makeStatsLine } from '../../../src/core/training/stats';

export const FIXTURE_RUNS = path.resolve(__dirname, '../../fixtures/official-ggdr-cpu/training-runs');
export const FIXTURE_GGDR = path.join(FIXTURE_RUNS, '00000-shapes32-cifartiny-kimg12-batch16-noaug');
export const FIXTURE_BASE = path.join(FIXTURE_RUNS, '00001-shapes32-cifartiny-kimg12-batch16-noaug');
export const FIXTURE_METRICS = path.resolve(__dirname, '../../fixtures/official-ggdr-cpu/metric-format-samples');

export async function makeTmp(prefix = 'gi-runs-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function rmTmp(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}

/** Copies a fixture run folder into `destRoot`, keeping its name; returns the copy's path. */
export async function copyRun(src: string, destRoot: string): Promise<string> {
  const dest = path.join(destRoot, path.basename(src));
  await fsp.cp(src, dest, { recursive: true });
  return dest;
}

/** A tiny real PNG (solid gray), standing in for a sample grid. */
export function tinyPng(size = 4): Buffer {
  const png = new PNG({ width: size, height: size });
  png.data.fill(128);
  return PNG.sync.write(png);
}

/** Weight layout of the synthetic snapshots: 4·4 + 3 float32 = 76 bytes. */
export const WEIGHTS = [
  { name: 'G/w', shape: [4, 4], dtype: 'float32' },
  { name: 'D/b', shape: [3], dtype: 'float32' },
];
export const WEIGHT_BYTES = 76;

/** Writes one snapshot folder the way a trainer does (atomic folder); returns its name. */
export async function writeSnapshot(runDir: string, kimg: number, bytes = WEIGHT_BYTES): Promise<string> {
  const name = snapshotName(kimg);
  await writeDirAtomic(path.join(runDir, name), async (tmp) => {
    await fsp.writeFile(path.join(tmp, 'snapshot.json'), JSON.stringify({ kimg, weightsManifest: [{ paths: ['weights.bin'], weights: WEIGHTS }] }));
    await fsp.writeFile(path.join(tmp, 'weights.bin'), Buffer.alloc(bytes, 1));
  });
  return name;
}

/** A complete synthetic GAN Inspector run (tiny preset, 3 ticks, GGDR on unless told) under `outdir`. */
export async function buildOurRun(outdir: string, opts: { ggdr?: boolean; desc?: string; finish?: boolean } = {}) {
  const options = resolveOptions({ preset: 'tiny', kimg: 3, seed: 7, data: '/data/sets/shapes32.zip', outdir, ggdr: { enabled: opts.ggdr ?? true } });
  const run = await createRunDir(outdir, opts.desc ?? 'shapes32-tiny-ggdr');
  await writeTrainingOptions(run.dir, options, { name: 'wasm', version: '4.22.0', threads: 2, notes: [] }, { gitless: true });
  await appendLog(run.dir, 'Training for 0.048 kimg...');
  const status = new StatusWriter(run.dir, { totalKimg: 3 });
  await status.update();
  const collector = new StatsCollector();
  await fsp.writeFile(path.join(run.dir, RUN_FILES.reals), tinyPng());
  await fsp.writeFile(path.join(run.dir, RUN_FILES.fakesInit), tinyPng());
  for (let tick = 1; tick <= 3; tick++) {
    collector.report('Loss/G/loss', [0.5 + tick, 0.7 + tick]);
    collector.report('Loss/D/loss_ggdr', 10 / tick);
    collector.report('Progress/kimg', tick);
    collector.report('Timing/sec_per_kimg', 20);
    await appendStatsLine(run.dir, makeStatsLine(collector.drain(), 1_700_000_000 + tick));
    await fsp.writeFile(path.join(run.dir, fakesName(tick)), tinyPng());
    const snap = await writeSnapshot(run.dir, tick);
    await status.update({ curKimg: tick, tick, latestSnapshot: snap, secPerKimg: 20 });
  }
  if (opts.finish !== false) await status.update({ state: 'finished' });
  return { ...run, options, status };
}
