/**
 * The checkpoint viewer's mode-coverage section, read from the run folder: the newest line of each
 * metric-modes*.jsonl evaluated for the open snapshot, and whether mode coverage is defined for the run
 * at all (LeNet classifies the built-in MNIST digits only). Plain fs, no vscode, no tfjs.
 */
import * as path from 'node:path';
import { modeCoverageFromLine } from '../../core/metrics/modes';
import { readMetrics } from '../../core/runs/jsonlRead';
import { DEFAULT_MODES_METRIC, modesResultKind, modesSampleCount, type SnapshotModes, type ViewerModes } from '../../shared/modeCoverage';
import type { MetricLine } from '../../shared/runTypes';
import type { SnapshotPanelInfo } from '../../shared/protocol/panels/viewer';

/**
 * Why mode coverage is undefined for this snapshot's run, or undefined when it is defined. The rule is
 * core's (metrics/modes.ts assertClassifierOf): the classifier must know the run's data, and LeNet knows
 * the built-in MNIST digits (`--data mnist`), not a folder, a zip (the official trainer's datasets) or RGB images.
 */
export function modesUnavailableReason(info: Pick<SnapshotPanelInfo, 'origin' | 'dataset'>): string | undefined {
  if (info.origin !== 'official' && info.dataset === 'mnist') return undefined;
  const data = info.dataset ? `'${path.basename(info.dataset)}'` : 'unknown data';
  const who = info.origin === 'official' ? 'This official run trained on' : 'This run trained on';
  return `Mode coverage is not defined for this run: it needs a classifier of the run's data, and the built-in one (LeNet) ` +
    `classifies the built-in MNIST digits (--data mnist) only. ${who} ${data}, whose classes LeNet does not know. FID/KID still apply.`;
}

/** The newest line per modes metric for snapshot `name` (the folder or .pkl name the lines record), DEFAULT_MODES_METRIC first. */
export function snapshotModes(metrics: Record<string, MetricLine[]>, name: string): SnapshotModes[] {
  const newest = new Map<string, MetricLine>();
  for (const [file, lines] of Object.entries(metrics)) {
    if (modesResultKind(file) !== 'covered') continue;
    for (const l of lines) {
      if (l.metric !== file || path.basename(l.snapshot_pkl) !== name) continue;
      const prev = newest.get(l.metric);
      if (!prev || l.timestamp >= prev.timestamp) newest.set(l.metric, l);
    }
  }
  const out: SnapshotModes[] = [];
  for (const l of newest.values()) {
    const m = modeCoverageFromLine(l);
    if (!m) continue; // an incomplete line: nothing to draw
    out.push({
      metric: l.metric, samples: modesSampleCount(l.metric) ?? 0, covered: m.covered, classes: m.classes, maxShare: m.maxShare, maxClass: m.maxClass,
      kl: m.kl, histogram: m.histogram, reference: m.reference && m.reference.length === m.classes ? m.reference : null, timestamp: l.timestamp,
    });
  }
  const rank = (e: SnapshotModes) => (e.metric === DEFAULT_MODES_METRIC ? 0 : 1);
  return out.sort((a, b) => rank(a) - rank(b) || a.samples - b.samples || a.metric.localeCompare(b.metric));
}

/** The viewer's mode-coverage section for a described snapshot (never throws: a read problem becomes `readError`). */
export async function readViewerModes(info: SnapshotPanelInfo): Promise<ViewerModes> {
  const out: ViewerModes = { entries: [], metric: DEFAULT_MODES_METRIC };
  const why = modesUnavailableReason(info);
  if (why) out.unavailable = why;
  try {
    out.entries = snapshotModes(await readMetrics(info.runDir), info.name);
  } catch (e) {
    out.readError = `Cannot read the metric files of ${info.runName}: ${(e as Error).message}`;
  }
  return out;
}
