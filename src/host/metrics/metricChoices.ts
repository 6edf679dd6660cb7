/**
 * The pure parts of GAN Inspector: Compute Metrics… — the metric names offered (fid/kid at 1k/2k/5k
 * for each available extractor, mode coverage for MNIST runs), the `ganInspector.metrics.featureModel`
 * setting, and the texts of the result. No vscode, so they are unit-tested.
 */
import { validateFeatureModel, type FeatureModelSpec } from '../../core/metrics/featureModelSpec';
import { formatModeCoverage, modeCoverageFromLine } from '../../core/metrics/modes';
import { histogramRow } from '../../shared/modeCoverage';
import type { MetricsJobResult } from '../../shared/protocol/inference';

export const METRIC_COUNTS: readonly number[] = [1000, 2000, 5000];
/** Preselected the first time: what training and the GGDR experiment compute, so the curves line up. */
export const DEFAULT_METRICS: readonly string[] = ['fid2k_lenet', 'kid2k_lenet'];
export const FEATURE_MODEL_SETTING = 'metrics.featureModel';

export interface MetricChoice {
  /** Metric name, e.g. fid2k_lenet. */
  name: string;
  kind: 'fid' | 'kid' | 'modes';
  count: number;
  extractor: string;
  /** Quick-pick description. */
  description: string;
}

/** fid and kid at 1k, 2k and 5k generated samples for each extractor (LeNet first). */
export function metricChoices(extractors: readonly string[]): MetricChoice[] {
  const out: MetricChoice[] = [];
  for (const ex of ['lenet', ...extractors.filter((e) => e !== 'lenet')]) {
    const feats = ex === 'lenet' ? 'LeNet features (built in, MNIST-trained)' : `${ex} features (ganInspector.${FEATURE_MODEL_SETTING})`;
    for (const kind of ['fid', 'kid'] as const) {
      for (const count of METRIC_COUNTS) {
        const what = kind === 'fid' ? 'Fréchet distance' : 'kernel distance (KID)';
        out.push({ name: `${kind}${count / 1000}k_${ex}`, kind, count, extractor: ex, description: `${what}, ${count.toLocaleString('en-US')} samples vs. as many real images · ${feats}` });
      }
    }
  }
  return out;
}

/**
 * Mode coverage at 1k, 2k and 5k generated samples, classified by LeNet (the one built-in classifier):
 * offered for runs on the built-in MNIST digits, the only data whose classes it knows.
 */
export function modesChoices(): MetricChoice[] {
  return METRIC_COUNTS.map((count) => ({
    name: `modes${count / 1000}k_lenet`, kind: 'modes' as const, count, extractor: 'lenet',
    description: `mode coverage: classes covered (≥ 1% of ${count.toLocaleString('en-US')} samples), largest class share, KL to the dataset's classes · LeNet classifier (MNIST runs)`,
  }));
}

/** Names to preselect: the last choice still offered, else DEFAULT_METRICS. */
export function preselected(choices: readonly MetricChoice[], last: unknown): string[] {
  const offered = new Set(choices.map((c) => c.name));
  const prev = Array.isArray(last) ? last.filter((x): x is string => typeof x === 'string' && offered.has(x)) : [];
  return prev.length ? prev : DEFAULT_METRICS.filter((n) => offered.has(n));
}

/**
 * Reads `ganInspector.metrics.featureModel` ({ source, name } or null). A problem is reported, not
 * thrown: Compute Metrics still offers the LeNet metrics.
 */
export function parseFeatureModelSetting(v: unknown): { featureModel?: FeatureModelSpec; problem?: string } {
  if (v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    return { problem: `ganInspector.${FEATURE_MODEL_SETTING} must be an object {"source": "<model.json path or URL>", "name": "inception_v3"}.` };
  }
  const o = v as Record<string, unknown>;
  try {
    return { featureModel: validateFeatureModel({ source: o.source as string, name: o.name as string }, `ganInspector.${FEATURE_MODEL_SETTING}`) };
  } catch (e) {
    return { problem: (e as Error).message.replace(/\n\s*→\s*/g, ' ') };
  }
}

/** A metric value as people read it: FID with 4 decimals, KID with 6 significant digits. */
export function formatMetricValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1 ? v.toFixed(4) : v.toPrecision(6);
}

/** The notification and the Output-channel lines of a finished job. */
export function describeMetricsResult(r: MetricsJobResult): { message: string; lines: string[] } {
  const where = `${baseName(r.runDir)}/${baseName(r.snapshot)}`;
  const values = r.lines.map((l) => {
    const modes = modeCoverageFromLine(l);
    return modes ? `${l.metric} ${formatModeCoverage(modes)}` : `${l.metric} ${formatMetricValue(l.results[l.metric])}`;
  });
  const histograms = r.lines.flatMap((l) => {
    const modes = modeCoverageFromLine(l);
    return modes ? [`  ${l.metric} class shares: ${histogramRow(modes.histogram)}`] : [];
  });
  const secs = (r.ms / 1000).toFixed(1);
  const lines = [
    `[metrics] ${where}: ${values.join(', ')} (${secs} s, ${r.backend})`,
    ...histograms,
    ...r.extractors.map((d) => `  extractor ${d}`),
    ...(r.appended.length ? [`  appended to ${r.appended.join(', ')}`] : ['  not appended']),
  ];
  const ex = r.extractors.length ? ` · extractor ${r.extractors.join('; ')}` : '';
  return { message: `${where}: ${values.join(' · ')}${ex}`, lines };
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}
