/**
 * Mode coverage as the panels show it (src/core/metrics/modes.ts computes it): which metric names are
 * modes metrics, which direction is better for each key figure, and what the checkpoint viewer's class
 * histogram receives. No vscode, no DOM, no tfjs: imported by the host, core's compare table and webviews.
 */

/** The mode-coverage metric Compute (viewer, quick pick default) computes: 2,000 samples classified by LeNet. */
export const DEFAULT_MODES_METRIC = 'modes2k_lenet';

const MODES_RE = /^modes(\d+)(k?)(_full)?_[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Whether `name` has a mode-coverage metric's form ('modes2k_lenet'; its result keys 'modes2k_lenet_kl' … too: see modesResultKind). */
export function isModesMetricName(name: string): boolean {
  return MODES_RE.test(name);
}

/** Generated samples a modes metric classifies ('modes2k_lenet' → 2000); undefined for other names. */
export function modesSampleCount(name: string): number | undefined {
  const m = MODES_RE.exec(name);
  return m ? Number(m[1]) * (m[2] ? 1000 : 1) : undefined;
}

/** Result-key suffixes of a modes metric line after the metric name (core/metrics/modes.ts writes them; a test keeps them equal). */
export const MODES_KEY_SUFFIX = { maxShare: '_maxshare', kl: '_kl', classPrefix: '_class', refPrefix: '_ref' } as const;

/**
 * What a result key of a modes metric line holds (classes covered, largest share, KL, one class's share
 * of the samples, the dataset's share of one class), or undefined when it belongs to no modes metric.
 */
export function modesResultKind(key: string): 'covered' | 'maxShare' | 'kl' | 'class' | 'ref' | undefined {
  if (!isModesMetricName(key)) return undefined;
  if (key.endsWith(MODES_KEY_SUFFIX.maxShare)) return 'maxShare';
  if (key.endsWith(MODES_KEY_SUFFIX.kl)) return 'kl';
  if (new RegExp(`${MODES_KEY_SUFFIX.classPrefix}\\d+$`).test(key)) return 'class';
  if (new RegExp(`${MODES_KEY_SUFFIX.refPrefix}\\d+$`).test(key)) return 'ref';
  return 'covered';
}

/**
 * Whether a larger value of this metric result is better: IS, precision/recall, and a modes metric's
 * classes covered (its main key); FID, KID, PPL, a modes metric's largest share and KL: smaller is better.
 * `name` is a result key or a compare series name ("<metric>/<key>").
 */
export function higherIsBetter(name: string): boolean {
  const key = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
  return /^(is\d|pr\d)/i.test(key) || /(precision|recall)$/i.test(key) || modesResultKind(key) === 'covered';
}

/** The key figures of a class histogram of generated samples against the dataset's (core computes them). */
export interface ModeFigures {
  /** Classes holding ≥ 1% of the samples. */
  covered: number;
  /** Classes the classifier knows (the histogram's length). */
  classes: number;
  /** Largest class share (0…1) and its class. */
  maxShare: number;
  maxClass: number;
  /** KL(generated ‖ dataset class histogram), nats. */
  kl: number;
  /** Share of the samples per class (0…1, sums to 1). */
  histogram: number[];
}

/** One modes metric line of a snapshot, as the checkpoint viewer draws it. */
export interface SnapshotModes extends ModeFigures {
  /** Metric name, e.g. "modes2k_lenet". */
  metric: string;
  /** Generated samples classified (seeds 0 … samples − 1). */
  samples: number;
  /** The dataset's share per class by the same classifier; null when the line does not record it. */
  reference: number[] | null;
  /** Unix seconds the line was written. */
  timestamp: number;
}

/** The checkpoint viewer's mode-coverage section for its snapshot. */
export interface ViewerModes {
  /** The newest line of each modes metric evaluated for this snapshot (DEFAULT_MODES_METRIC first). */
  entries: SnapshotModes[];
  /** The metric Compute offers. */
  metric: string;
  /**
   * Why mode coverage is not defined for this run (no classifier of its data, e.g. an RGB folder or an
   * official run's dataset zip); the panel says so instead of offering Compute. Absent when it is defined.
   */
  unavailable?: string;
  /** Why the run's metric files could not be read (shown; Compute is still offered). */
  readError?: string;
}

/** A histogram as one line of class shares: '0 9.8%  1 11.2%  2 0.4% …' (CLI, Output channel). */
export function histogramRow(shares: readonly number[]): string {
  return shares.map((s, c) => `${c} ${(s * 100).toFixed(1)}%`).join('  ');
}
