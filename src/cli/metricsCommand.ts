/**
 * `gan-inspector metrics` — FID/KID or mode coverage of a snapshot's G_ema against its run's dataset, appended to the
 * run's metric-<name>.jsonl in StyleGAN2-ADA's format (the loss and compare panels read those files).
 * Progress goes to stderr, results to stdout; Ctrl-C stops at the next batch and appends nothing.
 */
import * as path from 'node:path';
import { isUserError, UserError } from '../core/errors';
import { FlagReader, parseArgv, reportCliError } from './args';
import { fsUserError } from '../core/runs/fsErrors';
import { acquireRunLock } from '../core/runs/runLock';
import { olderSnapshotNote } from '../core/runs/snapshotNote';
import { histogramRow } from '../shared/modeCoverage';

export const METRICS_HELP = `Usage: gan-inspector metrics --snapshot PATH --metrics LIST [options]

Computes FID/KID or mode coverage of a snapshot's G_ema (seeds 0…N−1) against its run's dataset and
appends one StyleGAN2-ADA line per metric to <run>/metric-<name>.jsonl.

  --snapshot PATH             a network-snapshot-* folder, or a run folder (its newest loadable snapshot)
  --metrics LIST              comma-separated names: fid|kid|modes, sample count, optional _full, extractor,
                              e.g. fid2k_lenet,kid2k_lenet,modes2k_lenet or fid5k_inception_v3
  --no-append                 print the results only; do not write metric-*.jsonl
  --feature-model PATH|URL    a TF.js image model (model.json, its folder, or an http(s) URL; downloaded
                              once into the cache) used for metric names ending in _<name>
  --feature-model-name NAME   its name in metric names (default: the one non-lenet extractor in --metrics)
  --backend NAME              auto (default) | tensorflow | webgpu | wasm | cpu

Extractors: 'lenet' is built in (trained once on the embedded MNIST digits, then cached).
Mode coverage (modes2k_lenet): the N samples classified by LeNet; prints the classes covered (≥ 1% of
the samples), the largest class's share, KL(generated ‖ dataset class histogram) and the share of each
class. Defined only for runs on the built-in MNIST digits (--data mnist), the data LeNet classifies.
Cache folder: $GAN_INSPECTOR_CACHE_DIR, else ~/.cache/gan-inspector (or $XDG_CACHE_HOME/gan-inspector).
`;

/** Test hooks: where output goes, and an extra abort signal (Ctrl-C is always wired). */
export interface MetricsCommandIo {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Whether stderr is a terminal (progress rewrites one line); default process.stderr.isTTY. */
  tty?: boolean;
  signal?: AbortSignal;
}

/**
 * Runs `gan-inspector metrics …` (argv: the arguments after `metrics`; a leading 'metrics' is
 * accepted too) and resolves with the exit code: 0 done, 2 bad input, 130 interrupted, 1 a bug.
 */
export async function runMetricsCommand(argv: string[], io: MetricsCommandIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      err('\nStopping at the next batch (nothing is appended); press Ctrl+C again to quit at once.\n');
      ac.abort();
    } else process.exit(130);
  };
  const onExternalAbort = () => ac.abort();
  io.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (io.signal?.aborted) ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await metrics(argv[0] === 'metrics' ? argv.slice(1) : argv, { out, err, tty: io.tty ?? !!process.stderr.isTTY, signal: ac.signal });
  } catch (e) {
    if (ac.signal.aborted && !isUserError(e)) {
      err('Interrupted: no metric was appended.\n');
      return 130;
    }
    return reportCliError(e, err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.signal?.removeEventListener('abort', onExternalAbort);
  }
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  tty: boolean;
  signal: AbortSignal;
}

async function metrics(argv: string[], io: Io): Promise<number> {
  const f = new FlagReader(parseArgv(['metrics', ...argv]).flags);
  if (f.has('help') || f.has('h')) {
    io.out(METRICS_HELP);
    return 0;
  }
  const snapshot = f.str('snapshot');
  const list = f.str('metrics');
  const append = f.bool('append') ?? true;
  const modelSource = f.str('feature-model');
  let modelName = f.str('feature-model-name');
  const backend = f.str('backend') ?? 'auto';
  f.rejectUnknown('metrics');
  if (!snapshot) throw new UserError('--snapshot is required.', 'Give a network-snapshot-* folder or a run folder.');
  if (!list) throw new UserError('--metrics is required.', 'e.g. --metrics fid2k_lenet,kid2k_lenet');
  const { parseMetricName, validateFeatureModel, checkExtractorNames } = await import('../core/metrics/index');
  const names = [...new Set(list.split(',').map((s) => s.trim()).filter(Boolean).map((n) => parseMetricName(n).name))];
  if (!names.length) throw new UserError('--metrics is empty.', 'e.g. --metrics fid2k_lenet,kid2k_lenet');
  if (modelName !== undefined && modelSource === undefined) throw new UserError('--feature-model-name needs --feature-model PATH|URL.');
  const used = new Set(names.map((n) => parseMetricName(n).extractor));
  let featureModel: { source: string; name: string } | undefined;
  if (modelSource !== undefined) {
    if (modelName === undefined) {
      const custom = [...used].filter((x) => x !== 'lenet');
      if (custom.length !== 1) {
        throw new UserError(`--feature-model: cannot tell its name from --metrics (${custom.length ? custom.join(', ') : 'only lenet metrics'}).`,
          'Add --feature-model-name NAME and metric names ending in _NAME, e.g. fid5k_inception_v3.');
      }
      modelName = custom[0];
    }
    featureModel = validateFeatureModel({ source: modelSource, name: modelName }, '--feature-model');
    if (!used.has(featureModel.name)) {
      throw new UserError(`--feature-model '${featureModel.name}' is not used by any of --metrics ${names.join(',')}.`, `Ask for e.g. fid2k_${featureModel.name}.`);
    }
  }
  checkExtractorNames(names, { featureModel }); // before the backend starts and anything loads
  const { resolveSnapshotPath } = await import('../core/analysis/generate');
  const dir = await resolveSnapshotPath(snapshot);
  const note = await olderSnapshotNote(snapshot, dir);
  if (note) io.err(`Note: ${note}\n`);
  // Appending makes us a writer of the run: one writer at a time (taken before the long computation, so a clash fails at once).
  let lock;
  try {
    lock = append ? acquireRunLock(path.dirname(dir), 'metrics') : undefined;
  } catch (e) {
    throw fsUserError(e, { doing: `appending to ${path.basename(path.dirname(dir))}`, then: 'Add --no-append to compute and print the values without writing them.' }) ?? e;
  }
  try {
    return await computeAndReport(dir, names, append, featureModel, backend, io);
  } finally {
    lock?.release();
  }
}

async function computeAndReport(dir: string, names: string[], append: boolean, featureModel: { source: string; name: string } | undefined, backend: string, io: Io): Promise<number> {
  const { computeSnapshotMetrics, metricLinesFraction } = await import('../core/metrics/index');
  const { formatModeCoverage, modeCoverageFromLine } = await import('../core/metrics/modes');
  const { resolveOptions } = await import('../core/config/options');
  const { initBackend } = await import('../core/backend/backend');
  const { metricFileName, appendMetricLine } = await import('../core/runs/runDir');
  const b = await initBackend(resolveOptions({ backend: backend as never }).backend);
  const { defaultCacheDir } = await import('../core/metrics/lenet');
  const cacheDir = defaultCacheDir(); // $GAN_INSPECTOR_CACHE_DIR, else ~/.cache/gan-inspector
  io.err(`Snapshot ${dir}\nBackend ${b.name} ${b.version}${b.notes.length ? ` (${b.notes.join('; ')})` : ''}\n`);
  // Progress: one rewritten line on a terminal, else a line per phase change (or every 10 %).
  let lastKey = '';
  let lastPct = -10;
  let shown = false;
  const progress = (key: string, text: string, pct: number) => {
    if (io.tty) {
      io.err(`\r\x1b[K${text}`);
      shown = true;
    } else if (key !== lastKey || pct >= lastPct + 10 || pct === 100) {
      io.err(`${text}\n`);
      lastKey = key;
      lastPct = pct;
    }
  };
  const endLine = () => {
    if (shown) io.err('\n');
    shown = false;
  };
  const log = (line: string) => {
    endLine();
    io.err(`${line}\n`);
  };
  const extractors: string[] = [];
  const t0 = performance.now();
  const lines = await computeSnapshotMetrics(dir, names, {
    append: false, // appended below, after the values are printed: a failed write never loses a computed value
    cacheDir,
    featureModel,
    signal: io.signal,
    onLog: log,
    onExtractor: (_e, d) => extractors.push(d),
    onLenetProgress: (p) => {
      if (p.phase === 'train') progress('lenet', `  training LeNet: epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps}`, Math.floor((100 * p.step) / Math.max(1, p.steps)));
    },
    onDownloadProgress: (p) => {
      const pct = p.totalBytes ? Math.floor((100 * p.bytes) / p.totalBytes) : 0;
      progress(`dl-${p.fileIndex}`, `  downloading ${p.file} (${p.fileIndex + 1}/${p.files}): ${(p.bytes / 2 ** 20).toFixed(1)} MiB${p.totalBytes ? ` of ${(p.totalBytes / 2 ** 20).toFixed(1)} MiB` : ''}`, pct);
    },
    onProgress: (p) => {
      const pct = Math.floor(100 * metricLinesFraction(p));
      const what = p.phase === 'real' ? 'real images' : p.phase === 'generated' ? 'generated images' : 'KID subsets';
      progress(`${p.group}-${p.phase}`, `  ${String(pct).padStart(3)}%  ${p.metrics.join(', ')}: ${what} ${p.done}/${p.total}`, pct);
    },
  });
  endLine();
  io.err(`Done in ${((performance.now() - t0) / 1000).toFixed(1)} s.\n`);
  const runDir = path.dirname(dir);
  io.out(`${path.basename(runDir)}/${path.basename(dir)}\n`);
  for (const d of extractors) io.out(`  extractor ${d}\n`);
  const width = Math.max(...lines.map((l) => l.metric.length));
  for (const l of lines) {
    const modes = modeCoverageFromLine(l);
    if (!modes) {
      io.out(`  ${l.metric.padEnd(width)}  ${formatValue(l.results[l.metric])}  (${l.total_time_str})\n`);
      continue;
    }
    // Mode coverage: the key figures, then the class histogram as one row of shares.
    io.out(`  ${l.metric.padEnd(width)}  ${formatModeCoverage(modes)}  (${l.total_time_str})\n`);
    io.out(`  ${''.padEnd(width)}  class shares  ${histogramRow(modes.histogram)}\n`);
  }
  if (!append) return 0;
  for (const l of lines) {
    try {
      await appendMetricLine(runDir, l);
    } catch (e) {
      throw fsUserError(e, { doing: `appending to ${metricFileName(l.metric)}`, then: 'The computed values are printed above; add them by hand or run again after fixing it.' }) ?? e;
    }
  }
  io.out(`Appended to ${[...new Set(lines.map((l) => metricFileName(l.metric)))].map((n) => path.join(runDir, n)).join(', ')}\n`);
  return 0;
}

/** FID ~ 1…500 → 4 decimals; KID ~ 1e-4…1 → 6 significant digits. */
function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1 ? v.toFixed(4) : v.toPrecision(6);
}
