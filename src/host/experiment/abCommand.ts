/**
 * GAN Inspector: Run GGDR Experiment — quick picks (dataset, preset, kimg, seeds, backend, how many
 * at a time), then the A/B runs through the TrainingManager under one cancellable progress
 * notification, and the comparison of all arms when they end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BACKEND_NAMES, PRESETS, PRESET_NAMES, resolveOptions, type BackendName, type PresetName } from '../../core/config/options';
import { UserError } from '../../core/errors';
import { validateNumber, type GanInspectorSettings } from '../config/settings';
import type { TrainingManager } from '../training/trainingManager';
import { DEFAULT_AB_METRICS, parseAbSeeds, planGgdrAb, validateAbSeeds, type AbChoices, type AbExperimentRecord } from './abPlan';
import { AbRunner } from './abRunner';

const STEPS = 6;
const title = (step: number, what: string) => `GAN Inspector: GGDR Experiment (${step}/${STEPS}) — ${what}`;

interface Item<T> extends vscode.QuickPickItem {
  value: T;
}

async function pick<T>(step: number, what: string, items: Item<T>[], current: T): Promise<T | undefined> {
  const sorted = [...items.filter((i) => i.value === current), ...items.filter((i) => i.value !== current)];
  const chosen = await vscode.window.showQuickPick(sorted, { title: title(step, what), placeHolder: what, ignoreFocusOut: true, matchOnDescription: true });
  return chosen?.value;
}

async function input(step: number, what: string, value: string, prompt: string, validate: (s: string) => string | undefined): Promise<string | undefined> {
  return vscode.window.showInputBox({ title: title(step, what), prompt, value, ignoreFocusOut: true, validateInput: (s) => validate(s.trim()) });
}

/** The quick-pick flow; undefined when cancelled. `outdir` is absolute. */
export async function askAbChoices(opts: { settings: GanInspectorSettings; baseDir?: string; outdir: string }): Promise<AbChoices | undefined> {
  const { settings, baseDir } = opts;
  // 1. Dataset (MNIST first).
  type DataPick = { kind: 'mnist' } | { kind: 'setting' } | { kind: 'folder' } | { kind: 'zip' };
  const items: Item<DataPick>[] = [{ label: '$(database) Embedded MNIST', description: 'mnist', detail: 'Handwritten digits bundled with the extension; no download.', value: { kind: 'mnist' } }];
  if (settings.dataset !== 'mnist') items.push({ label: `$(settings) ${settings.dataset}`, description: 'ganInspector.dataset', value: { kind: 'setting' } });
  items.push(
    { label: '$(folder) Image folder…', value: { kind: 'folder' } },
    { label: '$(file-zip) Dataset zip…', value: { kind: 'zip' } },
  );
  const d = await vscode.window.showQuickPick(items, { title: title(1, 'Dataset'), placeHolder: 'Training images (the same for both arms)', ignoreFocusOut: true });
  if (!d) return undefined;
  let data: string;
  if (d.value.kind === 'mnist') data = 'mnist';
  else if (d.value.kind === 'setting') data = settings.dataset;
  else {
    const zip = d.value.kind === 'zip';
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: zip, canSelectFolders: !zip, canSelectMany: false,
      defaultUri: baseDir ? vscode.Uri.file(baseDir) : undefined,
      filters: zip ? { 'Dataset zip': ['zip'] } : undefined,
      openLabel: zip ? 'Use this zip' : 'Use this folder',
    });
    if (!uris?.length) return undefined;
    data = uris[0].fsPath;
  }
  if (data !== 'mnist' && !path.isAbsolute(data)) {
    if (!baseDir) throw new UserError(`The dataset path '${data}' is relative, but no workspace folder is open.`, 'Open a folder, or use an absolute path.');
    data = path.resolve(baseDir, data);
  }

  // 2. Preset.
  const preset = await pick<PresetName>(2, 'Preset', PRESET_NAMES.map((p) => {
    const m = PRESETS[p].model;
    return { label: p, description: `${m.resolution}×${m.resolution} ${m.channels === 1 ? 'grayscale' : 'RGB'} · batch ${m.batch} · ${PRESETS[p].kimg} kimg`, value: p };
  }), settings.defaultPreset);
  if (!preset) return undefined;

  // 3. kimg.
  const defKimg = PRESETS[preset].kimg;
  const k = await input(3, 'Training length per run', String(defKimg), `kimg per run (each arm, each seed); 0 = preset default (${defKimg}).`, (s) => validateNumber(s, { min: 0.001, allowZero: true }));
  if (k === undefined) return undefined;

  // 4. Seeds.
  const seedsText = await input(4, 'Seeds', '0,1', 'Seeds, e.g. 0,1 or 0-3: every seed trains one GGDR and one baseline run.', (s) => validateAbSeeds(s));
  if (seedsText === undefined) return undefined;
  const seeds = parseAbSeeds(seedsText);

  // 5. Backend.
  const backend = await pick<BackendName>(5, 'Backend', BACKEND_NAMES.map((b) => ({ label: b, value: b })), settings.backend);
  if (!backend) return undefined;

  // 6. How many at a time.
  const n = seeds.length * 2;
  const concurrency = await pick<1 | 2>(6, 'Scheduling', [
    { label: '$(list-ordered) One after another', description: `${n} runs, sequentially`, detail: 'Recommended on CPU backends: measured on 2 cores, two at a time finished no sooner, and each run\'s sec/kimg doubled.', value: 1 },
    { label: '$(split-horizontal) Two at a time', description: `${n} runs, 2 in parallel`, detail: 'Worth it with a GPU backend or many cores.', value: 2 },
  ], 1);
  if (concurrency === undefined) return undefined;

  return { data, preset, kimg: Number(k), seeds, backend, outdir: opts.outdir, metrics: [...DEFAULT_AB_METRICS], concurrency, ggdrWeight: settings.ggdr.weight };
}

export interface AbCommandDeps {
  manager: TrainingManager;
  settings: GanInspectorSettings;
  baseDir?: string;
  /** Absolute runs folder new runs go to. */
  outdir: string;
  output: vscode.OutputChannel;
  /** Opens the comparison of these run folders. */
  openCompare: (dirs: string[]) => void;
}

/** The whole command: ask, plan, run under a cancellable progress notification, then compare. */
export async function runGgdrExperiment(deps: AbCommandDeps): Promise<AbExperimentRecord | undefined> {
  const choices = await askAbChoices({ settings: deps.settings, baseDir: deps.baseDir, outdir: deps.outdir });
  if (!choices) return undefined;
  const plan = planGgdrAb(choices);
  const resolved = resolveOptions(plan.runs[0].overrides);
  if (resolved.data !== 'mnist' && !fs.existsSync(resolved.data)) {
    throw new UserError(`Dataset not found: ${resolved.data}`, 'Pick an existing image folder or dataset zip.');
  }
  fs.mkdirSync(choices.outdir, { recursive: true });
  const out = deps.output;
  out.appendLine(`[${plan.id}] GGDR A/B: ${plan.runs.length} runs (${choices.seeds.length} seed(s) × GGDR on/off), ${choices.concurrency === 1 ? 'sequential' : '2 at a time'}; record ${plan.recordFile}`);
  const runner = new AbRunner(plan, {
    manager: deps.manager,
    cwd: deps.baseDir ?? choices.outdir,
    log: (l) => out.appendLine(l),
    onJob: (job, r) => out.appendLine(`[${plan.id}] started ${r.arm} seed ${r.seed} (job ${job.id})`),
  });
  // The Runs view, status bar and per-run notifications follow these jobs like any other (TrainingUi).
  const record = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `GGDR experiment (${plan.runs.length} runs)`, cancellable: true },
    async (progress, token) => {
      let reported = 0;
      const sub = token.onCancellationRequested(() => {
        progress.report({ message: 'Cancelling: stopping the active runs (they save a snapshot)…' });
        void runner.cancel();
      });
      const timer = setInterval(() => {
        const p = runner.progress();
        const pct = 100 * p.fraction;
        progress.report({ increment: Math.max(0, pct - reported), message: p.message });
        reported = Math.max(reported, pct);
      }, 1000);
      try {
        return await runner.run();
      } finally {
        clearInterval(timer);
        sub.dispose();
      }
    },
  );
  const dirs = record.runs.map((r) => r.runDir).filter((d): d is string => !!d && fs.existsSync(d));
  const counts = record.runs.reduce<Record<string, number>>((a, r) => ((a[r.state] = (a[r.state] ?? 0) + 1), a), {});
  const summary = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ');
  out.appendLine(`[${plan.id}] ${record.state} in ${(record.wallSec ?? 0).toFixed(0)} s: ${summary}`);
  if (dirs.length) deps.openCompare(dirs);
  const msg = `GGDR experiment ${record.state}: ${summary}.`;
  const open = 'Open Record';
  const firstError = record.runs.find((r) => r.error)?.error?.split('\n')[0];
  const shown = record.state === 'finished'
    ? vscode.window.showInformationMessage(msg, open)
    : vscode.window.showWarningMessage(`${msg}${firstError ? ` First error: ${firstError}` : ''}`, open);
  void shown.then((a) => {
    if (a === open) void vscode.window.showTextDocument(vscode.Uri.file(plan.recordFile), { preview: true });
  });
  return record;
}
