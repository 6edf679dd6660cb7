/**
 * Training commands: Train… / Train with Current Settings (our engine or the official train.py), Stop,
 * Resume, Show Resolved Config (a dry run), Run GGDR Experiment (A/B runs) and Export Dataset Zip.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveOptions } from '../../core/config/options';
import { UserError } from '../../core/errors';
import { buildOverrides, choicesFromSettings, isTrainChoices, type GanInspectorSettings, type TrainChoices } from '../config/settings';
import type { NamedConfigurations } from '../config/workspaceConfig';
import { runGgdrExperiment } from '../experiment/abCommand';
import { askEngine, type Engine } from '../official/officialFlow';
import { describeRun } from '../runs/runView';
import { askTrainChoices } from '../training/trainFlow';
import type { TrainingJob } from '../training/trainingManager';
import { aboutSetting } from './errorNotice';
import { runDirFromArg, runDirOrPick } from './pickers';
import type { HostServices, Register } from './services';

const LAST_CHOICES_KEY = 'ganInspector.lastTrainChoices';
/** Which engine Train… was last answered for ('tfjs' | 'official'). */
const LAST_ENGINE_KEY = 'ganInspector.lastTrainEngine';

export function registerTrainingCommands(reg: Register, s: HostServices): void {
  reg('ganInspector.train', () => train(s, false));
  reg('ganInspector.trainCurrent', () => train(s, true));
  reg('ganInspector.stopTraining', (a) => stopTraining(s, runDirFromArg(a)));
  reg('ganInspector.resumeTraining', (a) => resumeTraining(s, runDirFromArg(a)));
  reg('ganInspector.showResolvedConfig', () => showResolvedConfig(s));
  reg('ganInspector.runGgdrExperiment', () => ggdrExperiment(s));
  // A StyleGAN2-ADA dataset zip for the official train.py (runs in the training process).
  reg('ganInspector.exportDataset', () => s.officialEngine.exportDatasetCommand());
}

function lastChoices(s: HostServices): TrainChoices | undefined {
  const v = s.ctx.workspaceState.get<unknown>(LAST_CHOICES_KEY);
  return isTrainChoices(v) ? v : undefined;
}

/** Overrides from the choices, resolved (a bad option is a notification now, not a failed worker later). */
function resolveChoices(s: HostServices, settings: GanInspectorSettings, configurations: NamedConfigurations, choices: TrainChoices) {
  try {
    const overrides = buildOverrides(choices, { outdir: settings.outdir, baseDir: s.config.baseDir(), configurations });
    return { overrides, resolved: resolveOptions(overrides) };
  } catch (e) {
    throw aboutSetting(e, 'ganInspector');
  }
}

/** Train… (asks) or Train with Current Settings (last answers, else the settings). */
export async function train(s: HostServices, current: boolean): Promise<TrainingJob | undefined> {
  const settings = s.config.settings();
  const configurations = s.config.configurations(settings);
  const baseDir = s.config.baseDir();
  // Engine step (issue #16): our TensorFlow.js engine or the official PyTorch train.py.
  const lastEngine = s.ctx.workspaceState.get<Engine>(LAST_ENGINE_KEY);
  const engine = current ? (lastEngine === 'official' && s.officialEngine.hasLastChoices() ? 'official' : 'tfjs') : await askEngine(lastEngine, s.officialEngine.problems());
  if (!engine) return undefined;
  if (engine === 'official') {
    if (!s.officialEngine.problems().length) await s.ctx.workspaceState.update(LAST_ENGINE_KEY, engine);
    return s.officialEngine.train({ current });
  }
  if (!current) await s.ctx.workspaceState.update(LAST_ENGINE_KEY, engine);
  const choices = current
    ? (lastChoices(s) ?? choicesFromSettings(settings, undefined, configurations))
    : await askTrainChoices({ settings, configurations, last: lastChoices(s), baseDir });
  if (!choices) return undefined;
  const { overrides, resolved } = resolveChoices(s, settings, configurations, choices);
  if (resolved.data !== 'mnist' && !fs.existsSync(resolved.data)) {
    throw new UserError(`Dataset not found: ${resolved.data}`, 'Pick an existing image folder or dataset zip (GAN Inspector: Train…).');
  }
  await s.ctx.workspaceState.update(LAST_CHOICES_KEY, choices);
  fs.mkdirSync(resolved.outdir, { recursive: true });
  const job = s.manager.start(overrides, { cwd: baseDir ?? resolved.outdir });
  s.output.appendLine(`[job ${job.id}] starting: ${JSON.stringify(overrides)}`);
  s.ui.track(job);
  if (!s.config.isRunsRoot(resolved.outdir)) {
    s.output.appendLine(`Note: ${resolved.outdir} is not a runs root; add it to ganInspector.runsRoots to list its runs.`);
  }
  return job;
}

async function stopTraining(s: HostServices, dir?: string): Promise<void> {
  let job: TrainingJob | undefined;
  if (dir) {
    job = s.manager.activeJobFor(dir) ?? s.official.activeJobFor(dir);
    if (!job) {
      const v = s.tree.get(dir);
      const other = v?.state === 'running' && v.pid !== undefined ? ` It is trained by process ${v.pid}, not by this window; stop it there.` : '';
      void vscode.window.showInformationMessage(`${path.basename(dir)} is not being trained by this window.${other}`);
      return;
    }
  } else {
    const active = s.activeJobs();
    if (!active.length) {
      void vscode.window.showInformationMessage('No training is running in this window.');
      return;
    }
    if (active.length === 1) job = active[0];
    else {
      const p = await vscode.window.showQuickPick(
        active.map((j) => ({ label: j.runName ?? `job ${j.id} (starting)`, description: `${j.phase} · ${j.curKimg}/${j.totalKimg} kimg`, job: j })),
        { title: 'GAN Inspector: Stop Training', placeHolder: 'Which run?' },
      );
      job = p?.job;
    }
  }
  if (job) await stopJob(s, job);
}

/** Stops a job of either engine (the training UI's Stop button too). */
export async function stopJob(s: HostServices, job: TrainingJob): Promise<void> {
  if (job.phase === 'stopping') return;
  s.output.appendLine(`[${job.runName ?? `job ${job.id}`}] stop requested`);
  if (s.official.jobs().includes(job)) await s.official.stop(job.id);
  else await s.manager.stop(job.id);
}

export async function resumeTraining(s: HostServices, dir?: string): Promise<TrainingJob | undefined> {
  const runDir = await runDirOrPick(s, dir, 'Resume which run?', (v) => v.resumable);
  if (!runDir) return undefined;
  if (s.manager.ownsRunDir(runDir)) throw new UserError(`${path.basename(runDir)} is already training in this window.`);
  const v = await describeRun(runDir, (d) => s.ownsRunDir(d));
  if (v.summary.origin !== 'gan-inspector') {
    throw new UserError(`${v.summary.name} was written by the official StyleGAN2-ADA/GGDR code; its .pkl snapshots cannot be resumed here.`, 'Start a new run with GAN Inspector: Train….');
  }
  if (v.state === 'running') throw new UserError(`${v.summary.name} is still running (process ${v.pid}).`, 'Stop it first, or wait for it to end.');
  if (v.state === 'finished') throw new UserError(`${v.summary.name} already finished.`, 'Start a new run, or extend kimg with a configuration.');
  const job = s.manager.start({}, { resumeDir: runDir, cwd: s.config.baseDir() ?? path.dirname(runDir) });
  s.output.appendLine(`[job ${job.id}] resuming ${runDir}`);
  s.ui.track(job);
  s.runChanged.add(runDir);
  return job;
}

async function showResolvedConfig(s: HostServices): Promise<void> {
  if (s.ctx.workspaceState.get<Engine>(LAST_ENGINE_KEY) === 'official' && s.officialEngine.hasLastChoices()) return s.officialEngine.showResolvedConfig();
  const settings = s.config.settings();
  const configurations = s.config.configurations(settings);
  const last = lastChoices(s);
  const choices = last ?? choicesFromSettings(settings, undefined, configurations);
  const { overrides, resolved } = resolveChoices(s, settings, configurations, choices);
  const source = `${last ? 'last Train… answers' : 'settings'}${choices.configuration ? ` + configuration "${choices.configuration}"` : ''}`;
  const content = [
    '// GAN Inspector — resolved training options (dry run: nothing was started).',
    `// Source: ${source}. "Train with Current Settings" would start exactly this.`,
    JSON.stringify({ overrides, resolved }, null, 2),
    '',
  ].join('\n');
  const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content });
  await vscode.window.showTextDocument(doc, { preview: true });
}

/** Run GGDR Experiment: A/B runs that differ only in GGDR, then their comparison. */
async function ggdrExperiment(s: HostServices): Promise<void> {
  const settings = s.config.settings();
  const baseDir = s.config.baseDir();
  if (!baseDir && !path.isAbsolute(settings.outdir)) {
    throw new UserError('Open a folder first: the experiment writes its runs into the workspace.', 'Or set ganInspector.outdir to an absolute path.', { setting: 'ganInspector.outdir' });
  }
  const outdir = path.resolve(baseDir ?? '', settings.outdir);
  await runGgdrExperiment({ manager: s.manager, settings, baseDir, outdir, output: s.output, openCompare: (d) => s.compare.show(d), openSegmentation: (x) => s.segmentation.show(x) });
}
