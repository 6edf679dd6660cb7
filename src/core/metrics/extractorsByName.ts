/**
 * Feature extractors by name: given ones, the configured TF.js feature model, the built-in LeNet (trained
 * once per cache folder); and the checks that a list of metric names can be evaluated before any work.
 */
import * as path from 'node:path';
import { UserError } from '../errors';
import type { Dataset } from '../data/dataset';
import type { FeatureExtractor } from './extractor';
import { LENET_CLASSIFIES, loadOrTrainLenet, type LenetExtractor, type LenetProgress } from './lenet';
import { loadModelExtractor, type DownloadProgress } from './tfjsModel';
import { validateFeatureModel, type FeatureModelSpec } from './featureModelSpec';
import { assertClassifierOf } from './modes';
import { parseMetricName } from './metricNames';

export interface ExtractorOptions {
  /** Cache folder for the LeNet weights (and downloaded models); default ~/.cache/gan-inspector. */
  cacheDir?: string;
  /** Cache folder for downloaded feature models only (default: cacheDir); the extension passes its global storage. */
  modelCacheDir?: string;
  /** Extractors other than the built-in 'lenet', matched by name. */
  extractors?: FeatureExtractor[];
  /** A TF.js model to load for metric names whose extractor is `featureModel.name`. */
  featureModel?: FeatureModelSpec;
  onLog?: (line: string) => void;
  onLenetProgress?: (p: LenetProgress) => void;
  onDownloadProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

const lenets = new Map<string, Promise<LenetExtractor>>();

/** An extractor and how to let go of it (LeNet and given extractors are shared; a loaded feature model is disposed). */
export interface AcquiredExtractor {
  extractor: FeatureExtractor;
  release(): void;
}

/**
 * The extractor called `name`: a given one, the configured feature model (loaded now, from its
 * cached download when there is one), or the built-in LeNet (trained once per cache folder, then reused).
 */
export async function acquireExtractor(name: string, opts: ExtractorOptions = {}): Promise<AcquiredExtractor> {
  const shared = (extractor: FeatureExtractor): AcquiredExtractor => ({ extractor, release: () => undefined });
  const given = opts.extractors?.find((e) => e.name === name);
  if (given) return shared(given);
  if (name === 'lenet') {
    const key = opts.cacheDir ? path.resolve(opts.cacheDir) : '<default cache>';
    let p = lenets.get(key);
    if (!p) {
      p = loadOrTrainLenet({ cacheDir: opts.cacheDir, onLog: opts.onLog, onProgress: opts.onLenetProgress, signal: opts.signal });
      lenets.set(key, p);
      p.catch(() => lenets.delete(key)); // a failed or cancelled training is retried next time
    }
    return shared(await p);
  }
  if (opts.featureModel && opts.featureModel.name === name) {
    const fm = validateFeatureModel(opts.featureModel);
    const ex = await loadModelExtractor(fm.source, {
      name: fm.name, cacheDir: opts.modelCacheDir ?? opts.cacheDir, signal: opts.signal, onLog: opts.onLog, onDownloadProgress: opts.onDownloadProgress,
    });
    let released = false;
    return { extractor: ex, release: () => { if (!released) { released = true; ex.dispose(); } } };
  }
  throw unknownExtractor(name, opts);
}

/** Throws the UserError of an unknown extractor name before anything is loaded, unless every name can be resolved. */
export function checkExtractorNames(metricNames: string[], opts: ExtractorOptions = {}): void {
  for (const n of metricNames) {
    const ex = parseMetricName(n).extractor;
    if (ex !== 'lenet' && !opts.extractors?.some((e) => e.name === ex) && opts.featureModel?.name !== ex) throw unknownExtractor(ex, opts);
  }
  if (opts.featureModel && metricNames.some((n) => parseMetricName(n).extractor === opts.featureModel!.name)) validateFeatureModel(opts.featureModel);
}

/**
 * Throws the UserError of a metric that is undefined on `ds` before anything is computed: a modes
 * metric whose extractor does not classify the run's data (modes2k_lenet needs --data mnist).
 * `extractors` are given extractors, matched by name as in acquireExtractor.
 */
export function checkMetricsForDataset(metricNames: readonly string[], ds: Pick<Dataset, 'source' | 'name'>, extractors?: readonly FeatureExtractor[]): void {
  for (const n of metricNames) {
    const spec = parseMetricName(n);
    if (spec.kind !== 'modes') continue;
    const given = extractors?.find((e) => e.name === spec.extractor);
    assertClassifierOf(spec.extractor, given ? given.classifier : spec.extractor === 'lenet' ? LENET_CLASSIFIES : undefined, ds, spec.name);
  }
}

function unknownExtractor(name: string, opts: ExtractorOptions): UserError {
  const configured = opts.featureModel ? ` (the configured feature model is called '${opts.featureModel.name}')` : '';
  return new UserError(`No feature extractor called '${name}'${configured}.`,
    `Use 'lenet' (built in), or give a TF.js image model (model.json path or URL) under the name '${name}': ` +
    `the ganInspector.metrics.featureModel setting {"source": …, "name": "${name}"}, or --feature-model PATH|URL --feature-model-name ${name}.`);
}

/** Like acquireExtractor, without the release: a feature model it loads must be disposed by the caller. */
export async function resolveExtractor(name: string, opts: ExtractorOptions = {}): Promise<FeatureExtractor> {
  return (await acquireExtractor(name, opts)).extractor;
}
