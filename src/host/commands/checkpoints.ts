/**
 * Commands on snapshots, run in the inference process: Open Checkpoint Viewer, Cluster Generator
 * Feature Maps, Compute Metrics, and Show Engine Status.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { showEngineStatus } from '../inference/engineStatus';
import { ComputeMetricsCommand } from '../metrics/computeMetricsCommand';
import { pickSnapshot } from './pickers';
import type { HostServices, Register } from './services';

export function registerCheckpointCommands(reg: Register, s: HostServices): void {
  reg('ganInspector.openCheckpointViewer', async (a) => {
    const snap = await pickSnapshot(s, a, 'Open Checkpoint Viewer');
    if (snap) await s.viewer.open(snap);
  });
  reg('ganInspector.clusterFeatureMaps', async (a) => {
    const snap = await pickSnapshot(s, a, 'Cluster Generator Feature Maps');
    if (snap) void s.segmentation.show(snap);
  });
  const metrics = new ComputeMetricsCommand({
    workerPath: s.ctx.asAbsolutePath(path.join('dist', 'inference.js')), output: s.output, modelCacheDir: s.ctx.globalStorageUri.fsPath,
    state: s.ctx.globalState, pickSnapshot: (a, t) => pickSnapshot(s, a, t), onAppended: (d) => s.runChanged.add(d), openLossCurves: (d) => s.panels.show(d),
  });
  s.keep(metrics);
  reg('ganInspector.computeMetrics', (a, b) => metrics.run(a, b));
  reg('ganInspector.showEngineStatus', () => showEngineStatus({
    client: s.inference, activeJobs: () => s.activeJobs(), output: s.output,
    showMessage: (m, ...a) => vscode.window.showInformationMessage(m, ...a),
  }));
}
