/**
 * GAN Inspector: Run GGDR Experiment — quick picks (dataset, preset, kimg, seeds, backend, how many
 * at a time), then the A/B runs through the TrainingManager under one cancellable progress
 * notification, and the comparison of all arms when they end, with the segmentation view of one GGDR
 * and one baseline generator (same seed) beside it.
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
import { chooseSegmentationPair, type SegmentationSide } from './abSegmentation';

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
  /** Opens the segmentation panel of a snapshot folder (in the active editor group); resolves once its page has started. */
  openSegmentation?: (snapshot: string) => Promise<void>;
}

/**
 * Beside the comparison: the segmentation of the GGDR generator (right, top) and of the baseline
 * with the same seed (right, bottom); then the comparison gets the focus back.
 */
async function openSegmentationBeside(record: AbExperimentRecord, deps: AbCommandDeps, dirs: string[], id: string): Promise<void> {
  const open = deps.openSegmentation;
  if (!open) return;
  const pair = await chooseSegmentationPair(record);
  if ('reason' in pair) {
    deps.output.appendLine(`[${id}] segmentation view not opened: ${pair.reason}`);
    return;
  }
  const label = (s: SegmentationSide) => `${s.runName}/${path.basename(s.snapshot)}`;
  deps.output.appendLine(`[${id}] segmentation of seed ${pair.seed}: GGDR ${label(pair.ggdr)}, baseline ${label(pair.baseline)}`);
  // Layout commands are a nicety: when one is unavailable the panels open as tabs instead.
  const layout = (cmd: string) => Promise.resolve(vscode.commands.executeCommand(cmd)).catch(() => undefined);
  // Each panel's page must have started before the layout changes again: in VS Code for the web a
  // webview whose group is split while it loads can fail to fetch its script and stay blank.
  const started = (p: Promise<void>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, 20_000))]);
  await layout('workbench.action.newGroupRight');
  let page: Promise<void> = Promise.resolve();
  await openAndWait(() => { page = open(pair.ggdr.snapshot); }, SEGMENTATION_TAB);
  await started(page);
  // Only once that panel is in its group: a new group made before would not be the one it opens in.
  await layout('workbench.action.newGroupBelow');
  await openAndWait(() => { page = open(pair.baseline.snapshot); }, SEGMENTATION_TAB);
  await started(page);
  if (dirs.length) deps.openCompare(dirs); // reveals (focuses) the comparison again
}

const SEGMENTATION_TAB = 'Segmentation · ';
const COMPARE_TAB = 'Compare · ';

/** Tabs whose label starts with `prefix`, across all editor groups. */
function tabsLabelled(prefix: string): number {
  return vscode.window.tabGroups.all.reduce((n, g) => n + g.tabs.filter((t) => t.label.startsWith(prefix)).length, 0);
}

/** Runs `open` and waits (at most 5 s) until one more tab labelled `prefix…` exists. */
async function openAndWait(open: () => void, prefix: string): Promise<void> {
  const before = tabsLabelled(prefix);
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    };
    const sub = vscode.window.tabGroups.onDidChangeTabs(() => {
      if (tabsLabelled(prefix) > before) done();
    });
    const timer = setTimeout(done, 5000);
    open();
    if (tabsLabelled(prefix) > before) done();
  });
  await new Promise((r) => setTimeout(r, 50)); // let the workbench finish activating that group
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
  // Waits for the comparison's tab: the segmentation groups are laid out relative to its group.
  if (dirs.length) await openAndWait(() => deps.openCompare(dirs), COMPARE_TAB);
  if (record.state !== 'cancelled') {
    try {
      await openSegmentationBeside(record, deps, dirs, plan.id);
    } catch (e) {
      out.appendLine(`[${plan.id}] could not open the segmentation view: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
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
