/**
 * `gan-inspector train|generate|cluster …` — the terminal front end of the engine. The extension
 * calls the same core functions (training through src/worker/trainingProcess.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveOptions } from '../core/config/options';
import { isUserError, UserError } from '../core/errors';
import { FlagReader, parseArgv, TRAIN_HELP, trainOverridesFromFlags } from './args';

const HELP = `GAN Inspector — train GANs with GGDR and inspect them.

Usage: gan-inspector <command> [options]     (gan-inspector <command> --help for details)

Commands
  train      train a GAN (GGDR on by default) into a new run folder
  generate   write a PNG grid of samples from a snapshot for given seeds and ψ
  cluster    write the K-means segmentation grid of generator feature maps of a snapshot
`;

const GENERATE_HELP = `Usage: gan-inspector generate --snapshot PATH [options]

  --snapshot PATH     a network-snapshot-* folder, or a run folder (its latest snapshot)
  --seeds LIST        seeds, e.g. 0-15 or 1,5,9 (default 0-15)
  --psi X             truncation ψ (default 1)
  --noise MODE        const (default) | random | none
  --which NET         G_ema (default) | G
  --cols N            grid columns (default √n)
  --out FILE          output PNG (default: <run>/generate-<snapshot>-<seeds>.png)
  --backend NAME      auto | tensorflow | webgpu | wasm | cpu
`;

const CLUSTER_HELP = `Usage: gan-inspector cluster --snapshot PATH [options]

  --snapshot PATH     a network-snapshot-* folder, or a run folder (its latest snapshot)
  --seeds LIST        seeds to generate and cluster together (default 0-7)
  --res LIST          generator resolutions to cluster, e.g. 8,16 (default: all but 4)
  --k N               clusters (default 6)
  --metric M          cosine (default) | euclidean
  --psi X             truncation ψ (default 1)
  --kmeans-seed N     K-means seed (default 0)
  --max-pixels N      fit on at most N sampled pixels, then assign all (default 20000)
  --out FILE          output PNG (default: <run>/cluster-<snapshot>.png)
  --backend NAME      auto | tensorflow | webgpu | wasm | cpu
`;

export async function main(argv: string[]): Promise<number> {
  const args = parseArgv(argv);
  const f = new FlagReader(args.flags);
  const help = f.has('help') || f.has('h');
  switch (args.command) {
    case 'train':
      if (help) return print(TRAIN_HELP);
      return cmdTrain(f);
    case 'generate':
      if (help) return print(GENERATE_HELP);
      return cmdGenerate(f);
    case 'cluster':
      if (help) return print(CLUSTER_HELP);
      return cmdCluster(f);
    case 'help':
    case '--help':
    case '-h':
      return print(HELP);
    default:
      throw new UserError(`Unknown command '${args.command}'.`, 'Use train, generate or cluster (gan-inspector --help).');
  }
}

function print(s: string): number {
  process.stdout.write(s);
  return 0;
}

async function cmdTrain(f: FlagReader): Promise<number> {
  const resume = f.str('resume');
  const dry = f.has('dry-run');
  const over = trainOverridesFromFlags(f);
  f.rejectUnknown('train');
  const { train } = await import('../core/training/trainingLoop');
  if (resume) {
    if (Object.keys(over).some((k) => !['model', 'ggdr', 'augment'].includes(k)) || Object.keys(over.model ?? {}).length) {
      throw new UserError('--resume continues a run with its own options; other options are not allowed with it.');
    }
    if (!fs.existsSync(resume)) throw new UserError(`Run folder to resume not found: ${path.resolve(resume)}`);
  }
  const opts = resume ? null : resolveOptions(over);
  if (dry) {
    process.stdout.write(JSON.stringify(opts, null, 2) + '\n');
    return 0;
  }
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nStopping after this step (a snapshot will be saved); press Ctrl+C again to abort at once.\n');
      ac.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const r = await train(opts, {
    signal: ac.signal,
    onLog: (line) => process.stdout.write(line + '\n'),
    onProgress: (p) => {
      if (process.stderr.isTTY) {
        const eta = p.etaSec >= 0 ? ` ETA ${formatSec(p.etaSec)}` : '';
        process.stderr.write(`\r  kimg ${p.curKimg.toFixed(3)}/${p.totalKimg}${p.secPerKimg ? ` · ${p.secPerKimg.toFixed(1)} s/kimg` : ''}${eta}   `);
      }
    },
  }, resume ? resume : undefined);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (r.state === 'failed') {
    // The error itself was already printed through onLog.
    process.stderr.write(r.runDir ? `Training failed. Run folder: ${r.runDir} (see log.txt, status.json)\n` : 'Training failed.\n');
    return r.userError ? 2 : 1;
  }
  // Say how to call us the way we were called (an installed `gan-inspector` or `node bin/gan-inspector.js`).
  const self = process.argv[1] && !/gan-inspector$/.test(process.argv[1]) ? `node ${path.relative(process.cwd(), process.argv[1]) || process.argv[1]}` : 'gan-inspector';
  process.stdout.write(`\nRun folder: ${r.runDir}\n` +
    `Look at it: open the folder in VS Code with GAN Inspector (Runs view → loss curves, checkpoint viewer, segmentation),\n` +
    `or from the terminal:\n` +
    `  ${self} generate --snapshot ${r.runDir} --seeds 0-15\n` +
    `  ${self} cluster  --snapshot ${r.runDir} --seeds 0-7\n`);
  return r.state === 'stopped' ? 130 : 0;
}

async function cmdGenerate(f: FlagReader): Promise<number> {
  const snapshot = f.str('snapshot');
  const seedsSpec = f.str('seeds') ?? '0-15';
  const psi = f.num('psi') ?? 1;
  const noise = (f.str('noise') ?? 'const') as 'const' | 'random' | 'none';
  const which = (f.str('which') ?? 'G_ema') as 'G' | 'G_ema';
  const cols = f.num('cols', { int: true, min: 1 });
  const out = f.str('out');
  const backend = f.str('backend') ?? 'auto';
  f.rejectUnknown('generate');
  if (!snapshot) throw new UserError('--snapshot is required.', 'Give a network-snapshot-* folder or a run folder.');
  if (!['const', 'random', 'none'].includes(noise)) throw new UserError(`--noise ${noise}: use const, random or none.`);
  if (which !== 'G' && which !== 'G_ema') throw new UserError(`--which ${which}: use G_ema or G.`);
  const { generateGrid } = await import('../core/analysis/generate');
  const { parseSeeds } = await import('../core/analysis/samples');
  const file = await generateGrid({ snapshot, seeds: parseSeeds(seedsSpec), psi, noiseMode: noise, which, cols, out, backend: resolveOptions({ backend: backend as never }).backend });
  process.stdout.write(`Wrote ${file}\n`);
  return 0;
}

async function cmdCluster(f: FlagReader): Promise<number> {
  const snapshot = f.str('snapshot');
  const seedsSpec = f.str('seeds') ?? '0-7';
  const resSpec = f.str('res');
  const k = f.num('k', { int: true, min: 1 }) ?? 6;
  const metric = (f.str('metric') ?? 'cosine') as 'cosine' | 'euclidean';
  const psi = f.num('psi') ?? 1;
  const kmeansSeed = f.num('kmeans-seed', { int: true, min: 0 }) ?? 0;
  const maxPixels = f.num('max-pixels', { int: true, min: 1 });
  const out = f.str('out');
  const backend = f.str('backend') ?? 'auto';
  f.rejectUnknown('cluster');
  if (!snapshot) throw new UserError('--snapshot is required.', 'Give a network-snapshot-* folder or a run folder.');
  if (metric !== 'cosine' && metric !== 'euclidean') throw new UserError(`--metric ${metric}: use cosine or euclidean.`);
  const resolutions = resSpec ? resSpec.split(',').map((s) => Number(s.trim())) : undefined;
  if (resolutions?.some((r) => !Number.isInteger(r))) throw new UserError(`--res ${resSpec}: use resolutions like 8,16.`);
  const { clusterSnapshotToPng } = await import('../core/analysis/segmentSnapshot');
  const { parseSeeds } = await import('../core/analysis/samples');
  const r = await clusterSnapshotToPng({ snapshot, seeds: parseSeeds(seedsSpec), resolutions, k, metric, psi, kmeansSeed, maxPixels, out, backend: resolveOptions({ backend: backend as never }).backend });
  process.stdout.write(`Wrote ${r.file}\n`);
  for (const res of r.result.resolutions) {
    process.stdout.write(`  ${res.res}×${res.res}: ` + res.shares.map((s, i) => `c${i} ${(s * 100).toFixed(1)}%`).join('  ') + (res.sampled ? `  (fit on ${res.fitPixels} sampled pixels)` : '') + '\n');
  }
  return 0;
}

export function formatSec(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      if (isUserError(e)) {
        process.stderr.write(`Error: ${e.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`Internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
