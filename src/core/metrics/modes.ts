/**
 * Mode coverage (the classic MNIST mode-collapse measure): classify generated samples with a
 * classifier of the run's data (LeNet for the embedded MNIST digits) and compare the class histogram
 * with the dataset's, classified by the same network (so the classifier's own errors cancel).
 *
 * One metric, `modes2k_lenet`, reports several numbers. Its StyleGAN2-ADA line keeps every value a
 * number (readers reject lines with other values), the main key first:
 *
 *   modes2k_lenet            classes covered: classes holding ≥ 1% of the samples (higher is better)
 *   modes2k_lenet_maxshare   the largest class's share of the samples, 0…1 (lower is better; 0.1 = even)
 *   modes2k_lenet_kl         KL(generated class histogram ‖ dataset's), in nats (lower is better; 0 = same)
 *   modes2k_lenet_class0 …   each class's share of the samples, 0…1 (the histogram)
 *   modes2k_lenet_ref0 …     the dataset's share of each class (the KL's reference; for the viewer's chart)
 *
 * No tfjs here: the counting and the line format are pure functions.
 */
import { UserError } from '../errors';
import type { Dataset } from '../data/dataset';
import type { MetricLine } from '../../shared/runTypes';
import { MODES_KEY_SUFFIX, type ModeFigures } from '../../shared/modeCoverage';
import type { ImageClassifier } from './extractor';

/** A class holds a mode when at least this share of the samples falls in it. */
export const MODE_THRESHOLD = 0.01;
/** Floor of the dataset's class shares in the KL (a class the dataset never shows would make it infinite). */
const KL_FLOOR = 1e-6;

/** Result-key suffixes of a modes metric line (after the metric name), one definition with the panels'. */
export const MODES_MAXSHARE = MODES_KEY_SUFFIX.maxShare;
export const MODES_KL = MODES_KEY_SUFFIX.kl;
export const MODES_CLASS = MODES_KEY_SUFFIX.classPrefix;
/** The dataset's share of class i (by the same classifier): `[metric]_ref<i>` (lines written before it have none). */
export const MODES_REF = MODES_KEY_SUFFIX.refPrefix;

/** The class histogram of generated samples against the dataset's (covered = classes holding ≥ MODE_THRESHOLD). */
export interface ModeCoverage extends ModeFigures {
  /** Samples per class. */
  counts: number[];
  /** The dataset's share per class (undefined when read back from a line written before lines stored it). */
  reference?: number[];
}

/** Class of each image → counts per class (labels outside 0…classes−1 throw: a classifier bug). */
export function classCounts(labels: ArrayLike<number>, classes: number, into = new Array<number>(classes).fill(0)): number[] {
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`Classifier returned class ${c}; expected 0…${classes - 1}.`);
    into[c]++;
  }
  return into;
}

function shares(counts: readonly number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  if (!(n > 0)) throw new Error('Mode coverage of zero samples.');
  return counts.map((c) => c / n);
}

/** KL(p ‖ q) in nats, q floored at KL_FLOOR (and renormalised). */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new Error(`KL of histograms of ${p.length} and ${q.length} classes.`);
  const qf = q.map((v) => Math.max(v, KL_FLOOR));
  const z = qf.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * Math.log(p[i] / (qf[i] / z));
  return Math.max(0, kl);
}

/** Mode coverage of generated class counts against the dataset's class counts. */
export function modeCoverage(genCounts: readonly number[], realCounts: readonly number[]): ModeCoverage {
  const histogram = shares(genCounts);
  const reference = shares(realCounts);
  let maxClass = 0;
  for (let i = 1; i < histogram.length; i++) if (histogram[i] > histogram[maxClass]) maxClass = i;
  return {
    covered: histogram.filter((s) => s >= MODE_THRESHOLD).length,
    classes: histogram.length,
    maxShare: histogram[maxClass],
    maxClass,
    kl: klDivergence(histogram, reference),
    histogram,
    counts: [...genCounts],
    reference,
  };
}

/** The `results` of a modes metric line: `{ [metric]: covered, [metric]_maxshare, [metric]_kl, [metric]_class0…, [metric]_ref0… }`. */
export function modeResults(metric: string, m: ModeCoverage): Record<string, number> {
  const r: Record<string, number> = { [metric]: m.covered, [metric + MODES_MAXSHARE]: m.maxShare, [metric + MODES_KL]: m.kl };
  m.histogram.forEach((s, i) => { r[`${metric}${MODES_CLASS}${i}`] = s; });
  // The dataset's shares too (what the KL compares with), so a viewer can draw both histograms from the line alone.
  if (m.reference?.length === m.histogram.length) m.reference.forEach((s, i) => { r[`${metric}${MODES_REF}${i}`] = s; });
  return r;
}

/** Whether a metric name is a mode-coverage metric ('modes2k_lenet'). */
export function isModesMetric(metric: string): boolean {
  return /^modes\d+k?(_full)?_[A-Za-z0-9]/.test(metric);
}

/**
 * A modes metric line read back: covered, max share, KL, the histogram and (when the line stores it)
 * the dataset's; counts are not stored, so they are left empty. undefined for other metrics or incomplete lines.
 */
export function modeCoverageFromLine(line: MetricLine): ModeCoverage | undefined {
  const m = line.metric;
  if (!isModesMetric(m)) return undefined;
  const r = line.results;
  const histogram: number[] = [];
  for (let i = 0; typeof r[`${m}${MODES_CLASS}${i}`] === 'number'; i++) histogram.push(r[`${m}${MODES_CLASS}${i}`]);
  const covered = r[m], maxShare = r[m + MODES_MAXSHARE], kl = r[m + MODES_KL];
  if (typeof covered !== 'number' || typeof maxShare !== 'number' || typeof kl !== 'number' || histogram.length === 0) return undefined;
  let maxClass = 0;
  for (let i = 1; i < histogram.length; i++) if (histogram[i] > histogram[maxClass]) maxClass = i;
  const reference = histogram.map((_, i) => r[`${m}${MODES_REF}${i}`]);
  return { covered, classes: histogram.length, maxShare, maxClass, kl, histogram, counts: [], ...(reference.every((v) => typeof v === 'number') ? { reference } : {}) };
}

/** 'covered 9/10, max 18% (digit 1), KL 0.041' */
export function formatModeCoverage(m: ModeCoverage): string {
  return `covered ${m.covered}/${m.classes}, max ${(m.maxShare * 100).toFixed(0)}% (class ${m.maxClass}), KL ${m.kl.toFixed(3)}`;
}

/**
 * Throws the UserError that says why mode coverage is undefined here, unless the extractor called
 * `extractorName` is a classifier (`classifier`) of the images of `ds` (LeNet: the built-in MNIST digits).
 */
export function assertClassifierOf(extractorName: string, classifier: Pick<ImageClassifier, 'dataset' | 'description'> | undefined, ds: Pick<Dataset, 'source' | 'name'>, metric: string): void {
  if (!classifier) {
    throw new UserError(`${metric}: the feature extractor '${extractorName}' is not a classifier, so it cannot count the modes (classes) of generated samples.`,
      `Mode coverage needs an extractor that classifies the run's data: 'lenet' for the built-in MNIST digits (modes2k_lenet). Use fid/kid metrics with '${extractorName}'.`);
  }
  if (classifier.dataset !== ds.source) {
    throw new UserError(`${metric}: '${extractorName}' classifies ${classifier.description}, but this run's data is '${ds.name}' (a ${ds.source}); its classes would mean nothing there.`,
      `Mode coverage is defined only for runs on the data the classifier was trained on (modes2k_lenet: --data mnist). Use fid/kid metrics for this run.`);
  }
}
