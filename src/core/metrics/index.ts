/** Quality metrics (FID/KID) and their feature extractors: the public surface of src/core/metrics. */
export { FeatureStats } from './featureStats';
export { frechetDistance, fidFromStats } from './fid';
export { kernelInceptionDistance, kidSubsets, type KidOptions } from './kid';
export { symmetricEigen, traceSqrtProduct } from './linalg';
export { adaptImages, toFeatureMatrix, describeExtractor, type FeatureExtractor, type ImageClassifier } from './extractor';
export { loadOrTrainLenet, lenetHeldOutAccuracy, defaultCacheDir, LENET_DEFAULTS, LENET_CLASSIFIES, LenetExtractor, type LenetConfig, type LenetInfo, type LenetProgress } from './lenet';
export { loadModelExtractor, loadTfjsModel, fileSystemHandler, resolveModelSource, modelCacheDir, type ModelExtractorOptions, type DownloadProgress } from './tfjsModel';
export {
  computeMetrics, computeMetricLines, computeSnapshotMetrics, metricLines, samplePass, metricLinesFraction, loadRunDataset, accumulateFeatures,
  type MetricLinesProgress, type ComputeMetricsOptions, type MetricsResult, type SnapshotMetricsOptions, type MetricLinesOptions,
} from './metrics';
export { makeMetricLine, metricName, parseMetricName, formatTime, METRIC_KINDS, type MetricKind, type MetricSpec } from './metricNames';
export { generatorSource, datasetSource, type SampleSource } from './sampleSources';
export {
  resolveExtractor, acquireExtractor, checkExtractorNames, checkMetricsForDataset, type AcquiredExtractor, type ExtractorOptions,
} from './extractorsByName';
export { validateFeatureModel, type FeatureModelSpec } from './featureModelSpec';
export {
  modeCoverage, modeResults, modeCoverageFromLine, isModesMetric, formatModeCoverage, klDivergence, classCounts, MODE_THRESHOLD, MODES_MAXSHARE, MODES_KL, MODES_CLASS, MODES_REF,
  type ModeCoverage,
} from './modes';
