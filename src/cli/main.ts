/**
 * `gan-inspector train|generate|cluster|metrics …` — the terminal front end of the engine. The extension
 * calls the same core functions (training through src/worker/trainingProcess.ts).
 */
import * as path from 'node:path';
import { resolveOptions, type TrainingOptions } from '../core/config/options';
import { UserError } from '../core/errors';
import type { TrainRequest } from '../core/training/trainingLoop';
import { FlagReader, parseArgv, reportCliError, TRAIN_HELP, trainOverridesFromFlags } from './args';
import { METRICS_HELP, runMetricsCommand } from './metricsCommand';
import { EXPORT_DATASET_HELP, runExportDatasetCommand } from './exportDatasetCommand';
import { checkOutPath, noteOlderSnapshot, withOutputLock } from './outPath';
import { shellQuote } from '../core/util/shellQuote';
import type { writeRawOutput as WriteRawOutput } from '../core/analysis/rawOutputs';

const HELP = `GAN Inspector — train GANs with GGDR and inspect them.

Usage: gan-inspector <command> [options]     (gan-inspector <command> --help for details)

Commands
  train      train a GAN (GGDR on by default) into a new run folder
  generate   write a PNG grid of samples from a snapshot for given seeds and ψ
  cluster    write the K-means segmentation grid of generator feature maps of a snapshot
  features   write a feature map of G (or of D's GGDR decoder) as a float32 NCHW .npy
  metrics    compute FID/KID or mode coverage of a snapshot and append them to its run's metric-*.jsonl
  export-dataset  write a StyleGAN2-ADA dataset zip (mnist or an image folder) for the official train.py

A snapshot is a GAN Inspector network-snapshot-* folder, an official StyleGAN2-ADA / GGDR
network-snapshot-*.pkl (read safely: nothing in it is executed), or a run folder (its latest).
Seeds of official pickles are numpy's RandomState(seed), as in the official generate.py.
`;

const GENERATE_HELP = `Usage: gan-inspector generate --snapshot PATH [options]

  --snapshot PATH     a network-snapshot-* folder, an official .pkl, or a run folder (its latest snapshot)
  --seeds LIST        seeds, e.g. 0-15 or 1,5,9 (default 0-15)
  --psi X             truncation ψ (default 1)
  --noise MODE        const (default) | random | none
  --which NET         G_ema (default) | G
  --class N|LIST      class of a conditional model: one for all seeds, or one per seed (default 0)
  --cols N            grid columns (default √n)
  --out FILE          output PNG (default: <run>/generate-<snapshot>-<seeds>.png); never a run's own files
  --npy FILE          instead of a PNG: the images as float32 NCHW .npy, before clamping
  --force             replace an existing --out / --npy file
  --backend NAME      auto | tensorflow | webgpu | wasm | cpu
`;

const FEATURES_HELP = `Usage: gan-inspector features --snapshot PATH --res R --npy FILE [options]

  --snapshot PATH     a network-snapshot-* folder, an official .pkl, or a run folder (its latest snapshot)
  --net NET           G (default): G_ema's synthesis feature map after block b{R}
                      D-decoder: the GGDR decoder's output at R for D applied to the batch of G_ema images
  --res R             resolution of the block / decoder level
  --seeds LIST        seeds, one batch (default 0-7)
  --psi X             truncation ψ (default 1)
  --noise MODE        const (default) | random | none
  --class N|LIST      class of a conditional model: one for all seeds, or one per seed (default 0)
  --npy FILE          output: float32 NCHW .npy
  --force             replace an existing --npy file
  --backend NAME      auto | tensorflow | webgpu | wasm | cpu
`;

const CLUSTER_HELP = `Usage: gan-inspector cluster --snapshot PATH [options]

  --snapshot PATH     a network-snapshot-* folder, an official .pkl, or a run folder (its latest snapshot)
  --seeds LIST        seeds to generate and cluster together (default 0-7)
  --class N           class of a conditional model (default 0)
  --res LIST          generator resolutions to cluster, e.g. 8,16 (default: all but 4)
  --k N               clusters (default 6)
  --metric M          cosine (default) | euclidean
  --psi X             truncation ψ (default 1)
  --kmeans-seed N     K-means seed (default 0)
  --restarts N        K-means++ restarts, the best fit wins (default 10)
  --max-pixels N      fit on at most N sampled pixels, then assign all (default 20000)
  --out FILE          output PNG (default: <run>/cluster-<snapshot>.png); never a run's own files
  --force             replace an existing --out file
  --backend NAME      auto | tensorflow | webgpu | wasm | cpu
`;

/** Where the CLI writes: the process's streams, or a test's buffers. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress lines are rewritten in place). */
  tty: boolean;
}

const processIo = (): CliIo => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  tty: !!process.stderr.isTTY,
});

/** Runs one command; resolves with its exit code and throws UserError for bad input (see runCli). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const args = parseArgv(argv);
  // `metrics` parses its own flags (and maps its own errors to exit codes).
  if (args.command === 'metrics') return runMetricsCommand(argv.slice(1), { out: io.out, err: io.err, tty: io.tty });
  if (args.command === 'export-dataset') return runExportDatasetCommand(argv.slice(1), io);
  const f = new FlagReader(args.flags);
  const help = f.has('help') || f.has('h') || args.positional.includes('-h');
  const print = (s: string) => { io.out(s); return 0; };
  switch (args.command) {
    case 'train':
      if (help) return print(TRAIN_HELP);
      rejectPositional('train', args.positional);
      return cmdTrain(f, args.flags, io);
    case 'generate':
      if (help) return print(GENERATE_HELP);
      rejectPositional('generate', args.positional);
      return cmdGenerate(f, io);
    case 'cluster':
      if (help) return print(CLUSTER_HELP);
      rejectPositional('cluster', args.positional);
      return cmdCluster(f, io);
    case 'features':
      if (help) return print(FEATURES_HELP);
      rejectPositional('features', args.positional);
      return cmdFeatures(f, io);
    case 'help':
    case '--help':
    case '-h': {
      // `gan-inspector help train` = `gan-inspector train --help`.
      const topic = args.positional[0];
      const pages: Record<string, string> = { train: TRAIN_HELP, generate: GENERATE_HELP, cluster: CLUSTER_HELP, features: FEATURES_HELP, metrics: METRICS_HELP, 'export-dataset': EXPORT_DATASET_HELP };
      if (topic !== undefined && !(topic in pages)) throw new UserError(`No help for '${topic}'.`, `Use one of: ${Object.keys(pages).join(', ')}.`);
      return print(topic !== undefined ? pages[topic] : HELP);
    }
    default:
      throw new UserError(`Unknown command '${args.command}'.`, 'Use train, generate, cluster, features or metrics (gan-inspector --help).');
  }
}

/** main() with the terminal's error handling: UserError → "Error: …" on stderr and 2; anything else → stack and 1. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await main(argv, io);
  } catch (e) {
    return reportCliError(e, io.err); // disk full, read-only, a folder where a file goes, …: a message, not a stack
  }
}

/** Stray words are almost always a forgotten `--flag` name; refuse them rather than ignore them. */
function rejectPositional(command: string, positional: string[]): void {
  if (positional.length) {
    throw new UserError(`Unexpected argument${positional.length > 1 ? 's' : ''} for '${command}': ${positional.map((p) => `'${p}'`).join(', ')}.`,
      `Options are written --name VALUE; see 'gan-inspector ${command} --help'.`);
  }
}

async function cmdTrain(f: FlagReader, flags: Map<string, string | true>, io: CliIo): Promise<number> {
  const resume = f.str('resume');
  const dry = f.has('dry-run');
  const over = trainOverridesFromFlags(f);
  f.rejectUnknown('train');
  let request: TrainRequest; // a resume: train() reads the run's own options
  if (resume !== undefined) {
    // A resumed run keeps its own options (that is what makes it equal an uninterrupted run).
    const others = [...flags.keys()].filter((k) => k !== 'resume' && k !== 'dry-run');
    if (others.length) {
      throw new UserError(`--resume continues a run with its own options; ${others.map((k) => '--' + k).join(', ')} cannot be combined with it.`,
        'Drop those options, or start a new run with them.');
    }
    const { resumeTarget } = await import('../core/runs/resumeTarget');
    const r = await resumeTarget(resume); // the checks train() makes, before the engine loads
    if (dry) {
      io.err(`Would resume ${r.runDir} from ${path.basename(r.snapshotDir)} with its stored options:\n`);
      io.out(JSON.stringify(r.options, null, 2) + '\n');
      return 0;
    }
    request = { resumeDir: resume };
  } else {
    const opts = resolveOptions(over);
    request = { options: opts };
    if (dry) {
      io.out(JSON.stringify(opts, null, 2) + '\n');
      return 0;
    }
  }
  const { train } = await import('../core/training/trainingLoop');
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      io.err('\nStopping after this step (a snapshot will be saved); press Ctrl+C again to abort at once.\n');
      ac.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let r: Awaited<ReturnType<typeof train>>;
  try {
    r = await train(request, {
      signal: ac.signal,
      onLog: (line) => io.out(line + '\n'),
      onProgress: (p) => {
        if (io.tty) {
          const eta = p.etaSec >= 0 ? ` ETA ${formatSec(p.etaSec)}` : '';
          io.err(`\r  kimg ${p.curKimg.toFixed(3)}/${p.totalKimg}${p.secPerKimg ? ` · ${p.secPerKimg.toFixed(1)} s/kimg` : ''}${eta}   `);
        }
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (io.tty) io.err('\n');
  if (r.state === 'failed') {
    // The error itself was already printed through onLog.
    io.err(r.runDir ? `Training failed. Run folder: ${r.runDir} (see log.txt, status.json)\n` : 'Training failed.\n');
    return r.userError ? 2 : 1;
  }
  // Say how to call us the way we were called (an installed `gan-inspector` or `node bin/gan-inspector.js`).
  const self = process.argv[1] && !/gan-inspector$/.test(process.argv[1]) ? `node ${shellQuote(path.relative(process.cwd(), process.argv[1]) || process.argv[1])}` : 'gan-inspector';
  const q = shellQuote(r.runDir ?? '');
  for (const n of r.notices ?? []) io.err(`Note: ${n}\n`);
  io.out(`\nRun folder: ${r.runDir}\n` +
    `Look at it: open the folder in VS Code with GAN Inspector (Runs view → loss curves, checkpoint viewer, segmentation),\n` +
    `or from the terminal:\n` +
    `  ${self} generate --snapshot ${q} --seeds 0-15\n` +
    `  ${self} cluster  --snapshot ${q} --seeds 0-7\n` +
    `  ${self} metrics  --snapshot ${q} --metrics fid2k_lenet,kid2k_lenet${request.options?.data === 'mnist' ? ',modes2k_lenet' : ''}\n`);
  return r.state === 'stopped' ? 130 : 0;
}

/** The flags `generate` and `features` share, as read (checked by resolveSampleFlags after rejectUnknown). */
interface SampleFlagValues {
  snapshot?: string;
  seedsSpec: string;
  psi: number;
  noise: string;
  classSpec?: string;
  npy?: string;
  force: boolean;
  backend: string;
}

function readSampleFlags(f: FlagReader, defaultSeeds: string): SampleFlagValues {
  return {
    snapshot: f.str('snapshot'),
    seedsSpec: f.str('seeds') ?? defaultSeeds,
    psi: f.num('psi') ?? 1,
    noise: f.str('noise') ?? 'const',
    classSpec: f.str('class'),
    npy: f.str('npy'),
    force: f.has('force'),
    backend: f.str('backend') ?? 'auto',
  };
}

/** Checked sample flags: the snapshot, seeds, noise mode, class(es) of a conditional model and the backend. */
interface SampleFlags {
  snapshot: string;
  seeds: number[];
  psi: number;
  noiseMode: 'const' | 'random' | 'none';
  label: number | number[] | undefined;
  npy?: string;
  force: boolean;
  backend: TrainingOptions['backend'];
}

/** Checks what readSampleFlags read; `extra` runs after the snapshot check, before the noise and seeds are parsed. */
async function resolveSampleFlags(v: SampleFlagValues, extra?: () => void): Promise<SampleFlags> {
  if (!v.snapshot) throw new UserError('--snapshot is required.', 'Give a network-snapshot-* folder, an official .pkl, or a run folder.');
  extra?.();
  if (v.noise !== 'const' && v.noise !== 'random' && v.noise !== 'none') throw new UserError(`--noise ${v.noise}: use const, random or none.`);
  const { parseSeeds } = await import('../core/analysis/samples');
  const seeds = parseSeeds(v.seedsSpec);
  return {
    snapshot: v.snapshot, seeds, psi: v.psi, noiseMode: v.noise, label: classesFor(v.classSpec, seeds.length, parseSeeds),
    npy: v.npy, force: v.force, backend: resolveOptions({ backend: v.backend as never }).backend,
  };
}

async function cmdGenerate(f: FlagReader, io: CliIo): Promise<number> {
  const flags = readSampleFlags(f, '0-15');
  const which = (f.str('which') ?? 'G_ema') as 'G' | 'G_ema';
  const cols = f.num('cols', { int: true, min: 1 });
  const out = f.str('out');
  f.rejectUnknown('generate');
  const { snapshot, seeds, psi, noiseMode, label, npy, force, backend } = await resolveSampleFlags(flags);
  if (which !== 'G' && which !== 'G_ema') throw new UserError(`--which ${which}: use G_ema or G.`);
  if (npy !== undefined && (out !== undefined || cols !== undefined)) throw new UserError('--npy writes the raw images instead of a PNG grid: drop --out/--cols.');
  if (npy !== undefined) {
    const file = checkOutPath(npy, force);
    const shape = await withOutputLock(npy, snapshot, 'generate', () => writeRawWithBackend(backend, { images: true }, { snapshot, seeds, psi, noiseMode, which, label }, file));
    io.out(`Wrote ${file} (float32 [${shape.join(', ')}], NCHW, before clamping)\n`);
    return 0;
  }
  const { generateGrid } = await import('../core/analysis/generate');
  if (out !== undefined) checkOutPath(out, force);
  await noteOlderSnapshot(snapshot, io.err);
  const file = await withOutputLock(out, snapshot, 'generate', () =>
    generateGrid({ snapshot, seeds, psi, noiseMode, which, cols, out, label: typeof label === 'number' ? label : undefined, labels: Array.isArray(label) ? label : undefined, backend }));
  io.out(`Wrote ${file}\n`);
  return 0;
}

/** `--class N` (every sample) or `--class LIST` (one class per seed, seed-list syntax). */
function classesFor(spec: string | undefined, n: number, parse: (s: string, max?: number) => number[]): number | number[] | undefined {
  if (spec === undefined) return undefined;
  const list = parse(spec, 100_000);
  if (list.length === 1) return list[0];
  if (list.length !== n) throw new UserError(`--class ${spec}: give one class, or one per seed (${n}).`);
  return list;
}

async function writeRawWithBackend(backend: TrainingOptions['backend'], ...a: Parameters<typeof WriteRawOutput>): Promise<number[]> {
  const { initBackend } = await import('../core/backend/backend');
  await initBackend(backend);
  const { writeRawOutput } = await import('../core/analysis/rawOutputs');
  return writeRawOutput(...a);
}

async function cmdFeatures(f: FlagReader, io: CliIo): Promise<number> {
  const flags = readSampleFlags(f, '0-7');
  const net = (f.str('net') ?? 'G') as 'G' | 'D-decoder';
  const res = f.num('res', { int: true, min: 4 });
  f.rejectUnknown('features');
  const { snapshot, seeds, psi, noiseMode, label, force, backend } = await resolveSampleFlags(flags, () => {
    if (res === undefined) throw new UserError('--res is required.', 'Give the resolution of a generator block, e.g. --res 16.');
    if (flags.npy === undefined) throw new UserError('--npy FILE is required.', 'Name the .npy file to write.');
    if (net !== 'G' && net !== 'D-decoder') throw new UserError(`--net ${net}: use G or D-decoder.`);
  });
  const npy = flags.npy!, r = res!;
  const file = checkOutPath(npy, force);
  const shape = await withOutputLock(npy, snapshot, 'features', () => writeRawWithBackend(backend, { net, res: r }, { snapshot, seeds, psi, noiseMode, label }, file));
  io.out(`Wrote ${file} (float32 [${shape.join(', ')}], NCHW)\n`);
  return 0;
}

async function cmdCluster(f: FlagReader, io: CliIo): Promise<number> {
  const snapshot = f.str('snapshot');
  const seedsSpec = f.str('seeds') ?? '0-7';
  const resSpec = f.str('res');
  const k = f.num('k', { int: true, min: 1 }) ?? 6;
  const metric = (f.str('metric') ?? 'cosine') as 'cosine' | 'euclidean';
  const psi = f.num('psi') ?? 1;
  const kmeansSeed = f.num('kmeans-seed', { int: true, min: 0 }) ?? 0;
  const maxPixels = f.num('max-pixels', { int: true, min: 1 });
  const restarts = f.num('restarts', { int: true, min: 1 });
  if (restarts !== undefined && restarts > 100) throw new UserError(`--restarts ${restarts}: at most 100.`);
  const label = f.num('class', { int: true, min: 0 });
  const out = f.str('out');
  const force = f.has('force');
  const backend = f.str('backend') ?? 'auto';
  f.rejectUnknown('cluster');
  if (!snapshot) throw new UserError('--snapshot is required.', 'Give a network-snapshot-* folder or a run folder.');
  if (metric !== 'cosine' && metric !== 'euclidean') throw new UserError(`--metric ${metric}: use cosine or euclidean.`);
  const resolutions = resSpec ? resSpec.split(',').map((s) => Number(s.trim())) : undefined;
  if (resolutions?.some((r) => !Number.isInteger(r))) throw new UserError(`--res ${resSpec}: use resolutions like 8,16.`);
  const { clusterSnapshotToPng } = await import('../core/analysis/segmentSnapshot');
  const { parseSeeds } = await import('../core/analysis/samples');
  if (out !== undefined) checkOutPath(out, force);
  await noteOlderSnapshot(snapshot, io.err);
  const r = await withOutputLock(out, snapshot, 'cluster', () => clusterSnapshotToPng({ snapshot, seeds: parseSeeds(seedsSpec), resolutions, k, metric, psi, kmeansSeed, maxPixels, restarts, out, label, backend: resolveOptions({ backend: backend as never }).backend }));
  io.out(`Wrote ${r.file}\n`);
  for (const res of r.result.resolutions) {
    io.out(`  ${res.res}×${res.res}: ` + res.shares.map((s, i) => `c${i} ${(s * 100).toFixed(1)}%`).join('  ') + (res.sampled ? `  (fit on ${res.fitPixels} sampled pixels)` : '') + '\n');
  }
  return 0;
}

export function formatSec(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
