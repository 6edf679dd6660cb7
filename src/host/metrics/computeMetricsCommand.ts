/**
 * GAN Inspector: Compute Metrics… — asks for a snapshot (or takes the clicked one) and metric names
 * (FID/KID per extractor; mode coverage when LeNet classifies the run's data),
 * then computes them in a forked inference process (dist/inference.js, its own instance so a long
 * FID pass never blocks the checkpoint viewer) under a cancellable progress notification. The lines
 * are appended to the run's metric-<name>.jsonl, which the loss and compare panels read.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { normalizeSettings } from '../config/settings';
import type { MetricsJobResult } from '../../shared/protocol/inference';
import { InferenceClient, isCancelled } from '../inference/inferenceClient';
import { describeSnapshot } from '../inference/snapshotInfo';
import { modesUnavailableReason } from '../panels/viewerModes';
import { describeMetricsResult, FEATURE_MODEL_SETTING, metricChoices, modesChoices, parseFeatureModelSetting, preselected } from './metricChoices';

const LAST_METRICS_KEY = 'ganInspector.lastMetrics';
const TITLE = 'GAN Inspector: Compute Metrics';

export interface ComputeMetricsDeps {
  /** dist/inference.js */
  workerPath: string;
  output: vscode.OutputChannel;
  /** Download cache of feature models: the extension's global storage. */
  modelCacheDir: string;
  /** Remembers the last metric choice. */
  state: vscode.Memento;
  /** The snapshot a command argument names, or asks (run, then snapshot); undefined when dismissed. */
  pickSnapshot: (arg: unknown, title: string) => Promise<string | undefined>;
  /** After lines were appended to a run's metric files. */
  onAppended?: (runDir: string) => void;
  /** Opens the loss curves of a run (offered in the result notification). */
  openLossCurves?: (runDir: string) => void;
}

export class ComputeMetricsCommand implements vscode.Disposable {
  private client: InferenceClient | undefined;

  constructor(private readonly deps: ComputeMetricsDeps) {}

  /**
   * The command. `arg`: a Runs-view node, snapshot/run path or Uri; `names`: metric names to skip the
   * quick pick (programmatic use). Resolves with the job's result, or undefined when dismissed/cancelled.
   */
  async run(arg?: unknown, names?: unknown): Promise<MetricsJobResult | undefined> {
    const out = this.deps.output;
    const snapshot = await this.deps.pickSnapshot(arg, 'Compute Metrics');
    if (!snapshot) return undefined;
    const { featureModel, problem } = parseFeatureModelSetting(vscode.workspace.getConfiguration('ganInspector').get<unknown>(FEATURE_MODEL_SETTING));
    if (problem) {
      out.appendLine(`Compute Metrics: ${problem}`);
      void vscode.window.showWarningMessage(`GAN Inspector: ${problem} Only the LeNet metrics are offered.`, 'Open Settings').then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.action.openSettings', `ganInspector.${FEATURE_MODEL_SETTING}`);
      });
    }
    let metrics: string[];
    if (Array.isArray(names) && names.length && names.every((n) => typeof n === 'string')) {
      metrics = names as string[];
    } else {
      // Mode coverage only where LeNet classifies the run's data (the built-in MNIST digits).
      const modesOk = modesUnavailableReason(await describeSnapshot(snapshot)) === undefined;
      const choices = [...metricChoices(featureModel ? [featureModel.name] : []), ...(modesOk ? modesChoices() : [])];
      const picked = new Set(preselected(choices, this.deps.state.get(LAST_METRICS_KEY)));
      const items = choices.map((c) => ({ label: c.name, description: c.description, picked: picked.has(c.name), name: c.name }));
      const chosen = await vscode.window.showQuickPick(items, {
        title: TITLE,
        placeHolder: `Metrics for ${path.basename(path.dirname(snapshot))}/${path.basename(snapshot)} (G_ema, seeds 0…N−1)`,
        canPickMany: true,
        matchOnDescription: true,
        ignoreFocusOut: true,
      });
      if (!chosen) return undefined;
      if (!chosen.length) {
        void vscode.window.showInformationMessage('Compute Metrics: no metric chosen.');
        return undefined;
      }
      metrics = chosen.map((c) => c.name);
      await this.deps.state.update(LAST_METRICS_KEY, metrics);
    }
    const where = `${path.basename(path.dirname(snapshot))}/${path.basename(snapshot)}`;
    out.appendLine(`[metrics] ${where}: computing ${metrics.join(', ')}${featureModel ? ` (feature model ${featureModel.name}: ${featureModel.source})` : ''}`);
    const client = (this.client ??= new InferenceClient({
      workerPath: this.deps.workerPath,
      backend: 'auto',
      log: (l) => out.appendLine(l),
      idleExitMs: 60_000,
      // The samples are rendered in this many inference threads (read when the process starts; bad values fall back to auto).
      workers: () => normalizeSettings((k) => vscode.workspace.getConfiguration('ganInspector').get(k)).settings.inferenceWorkers,
    }));
    let result: MetricsJobResult | undefined;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Computing ${metrics.join(', ')} of ${where}`, cancellable: true },
        async (progress, token) => {
          const ac = new AbortController();
          const sub = token.onCancellationRequested(() => ac.abort());
          let reported = 0;
          try {
            return await client.call('computeMetrics', {
              snapshot, metrics, append: true, modelCacheDir: this.deps.modelCacheDir,
              ...(featureModel ? { featureModel: { source: featureModel.source, name: featureModel.name } } : {}),
            }, {
              signal: ac.signal,
              onLog: (l) => out.appendLine(`[metrics] ${l}`),
              onProgress: (p) => {
                const pct = 100 * Math.min(1, Math.max(0, p.total > 0 ? p.done / p.total : 0));
                progress.report({ increment: Math.max(0, pct - reported), message: p.message });
                reported = Math.max(reported, pct);
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
    } catch (e) {
      if (isCancelled(e)) {
        out.appendLine(`[metrics] ${where}: cancelled; nothing appended.`);
        void vscode.window.showInformationMessage(`Compute Metrics cancelled (${where}); nothing was appended.`);
        return undefined;
      }
      // The process's message says what is wrong (offline, bad model, missing dataset); its stack went to the Output channel.
      throw new UserError(`Compute Metrics (${where}) failed: ${(e as Error).message}`);
    }
    const text = describeMetricsResult(result);
    for (const l of text.lines) out.appendLine(l);
    if (result.appended.length) this.deps.onAppended?.(result.runDir);
    const openCurves = 'Open Loss Curves', showOutput = 'Show Output';
    const runDir = result.runDir;
    void vscode.window.showInformationMessage(`Metrics ${text.message}`, ...(this.deps.openLossCurves ? [openCurves] : []), showOutput).then((a) => {
      if (a === openCurves) this.deps.openLossCurves?.(runDir);
      else if (a === showOutput) out.show(true);
    });
    return result;
  }

  dispose(): void {
    this.client?.dispose();
    this.client = undefined;
  }
}
