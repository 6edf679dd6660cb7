/**
 * Metric names and the metric line format: `fid2k_lenet` = FID of 2,000 generated samples in LeNet
 * features (`kid…`, `modes…` alike; `_full` compares against the whole dataset), and the StyleGAN2-ADA
 * `metric-<name>.jsonl` line every metric is reported as. No tfjs.
 */
import { UserError } from '../errors';
import type { MetricLine } from '../../shared/runTypes';

export type MetricKind = 'fid' | 'kid' | 'modes';
export const METRIC_KINDS: readonly MetricKind[] = ['fid', 'kid', 'modes'];

/** A parsed metric name. */
export interface MetricSpec {
  name: string;
  kind: MetricKind;
  numGen: number;
  /** Real set = the whole dataset (name has `_full`), else the first numGen images. */
  full: boolean;
  extractor: string;
}

const NAME_RE = /^(fid|kid|modes)(\d+)(k?)(_full)?_([A-Za-z0-9][A-Za-z0-9_.-]*)$/;

/** Count as it appears in names: 2000 → '2k', 500 → '500'. */
function countLabel(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : `${n}`;
}

/** The metric name for a kind, generated-sample count and extractor, e.g. ('fid', 2000, 'lenet') → 'fid2k_lenet'. */
export function metricName(kind: MetricKind, numGen: number, extractor: string, full = false): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(extractor)) throw new UserError(`Invalid feature extractor name '${extractor}'.`, 'Use letters, digits, "_", "." or "-".');
  return `${kind}${countLabel(numGen)}${full ? '_full' : ''}_${extractor}`;
}

/** Parses 'fid2k_lenet', 'kid500_lenet', 'fid10k_full_inception_v3', 'modes2k_lenet'. */
export function parseMetricName(name: string): MetricSpec {
  const m = NAME_RE.exec(name.trim());
  if (!m) {
    throw new UserError(`Unknown metric '${name}'.`,
      "Metric names look like fid2k_lenet, kid2k_lenet or modes2k_lenet: fid|kid|modes, the number of generated samples (2k = 2000), optional _full (all dataset images), then the feature extractor.");
  }
  const numGen = Number(m[2]) * (m[3] ? 1000 : 1);
  if (!Number.isSafeInteger(numGen) || numGen < 2) throw new UserError(`Metric '${name}' asks for fewer than 2 generated samples.`, 'Use a count like fid2k_lenet (2,000 samples).');
  const kind = m[1] as MetricKind, full = !!m[4], extractor = m[5];
  return { name: metricName(kind, numGen, extractor, full), kind, numGen, full, extractor }; // canonical: fid2000_x → fid2k_x
}

/** StyleGAN2-ADA's dnnlib.util.format_time: '42s', '3m 05s', '2h 01m 09s', '1d 03h 00m'. */
export function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${p2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${p2(Math.floor(s / 60) % 60)}m ${p2(s % 60)}s`;
  return `${Math.floor(s / 86400)}d ${p2(Math.floor(s / 3600) % 24)}h ${p2(Math.floor(s / 60) % 60)}m`;
}

/**
 * One metric-<name>.jsonl line in StyleGAN2-ADA's format (key order included). `value` is the
 * metric's value, or all its results (the metric's own key first) when it reports several.
 */
export function makeMetricLine(metric: string, value: number | Record<string, number>, totalTime: number, snapshotPkl: string, timestamp = Date.now() / 1000): MetricLine {
  return {
    results: typeof value === 'number' ? { [metric]: value } : { ...value },
    metric,
    total_time: totalTime,
    total_time_str: formatTime(totalTime),
    num_gpus: 1,
    snapshot_pkl: snapshotPkl,
    timestamp,
  };
}
