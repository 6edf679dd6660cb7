/**
 * The official StyleGAN2-ADA / GGDR engine in the extension: reads the ganInspector.officialTrainer.*
 * settings, checks them on use, asks Train…'s official questions, shows the exact command line before
 * starting, starts train.py through OfficialTrainingManager (tracked by a TrainingUi like our own jobs),
 * shows the resolved command as a dry run, and exports dataset zips (in the worker process).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { buildTrainArgs, commandLine, DEFAULT_OFFICIAL_CHOICES, isOfficialChoices, type OfficialChoices } from '../../core/official/trainer/args';
import { checkOfficialTrainer, officialSetupProblems, resolveRepo, type OfficialTrainerCheck, type OfficialTrainerSettings } from '../../core/official/trainer/check';
import { aboutSetting } from '../commands/errorNotice';
import { TrainerCheckCache, trainerCheckKey } from './trainerCheckCache';
import type { ExportDatasetParams, ExportDatasetReply } from '../../shared/protocol/worker';
import { exportDatasetInProcess } from '../training/exportDatasetProcess';
import type { TrainingJob } from '../training/trainingManager';
import type { TrainingUi } from '../training/trainingUi';
import { askOfficialChoices } from './officialFlow';
import type { OfficialTrainingManager } from './officialTrainingManager';

const LAST_KEY = 'ganInspector.lastOfficialChoices';
/** The settings an official-trainer problem is fixed in (Open Settings on its notification). */
const SETTINGS = 'ganInspector.officialTrainer';
const SETUP_URL = 'https://github.com/naver-ai/GGDR';

export interface OfficialEngineDeps {
  ctx: vscode.ExtensionContext;
  output: vscode.OutputChannel;
  manager: OfficialTrainingManager;
  ui: TrainingUi;
  baseDir: () => string | undefined;
  /** Absolute --outdir (ganInspector.outdir resolved against the workspace folder). */
  outdir: () => string;
  /** Whether `dir` is listed by the Runs view (for the "add it to runsRoots" note). */
  isRunsRoot: (dir: string) => boolean;
}


export class OfficialEngine {
  private readonly checks: TrainerCheckCache;

  constructor(private readonly d: OfficialEngineDeps) {
    this.checks = new TrainerCheckCache(d.ctx.globalState);
  }

  settings(): OfficialTrainerSettings {
    const c = vscode.workspace.getConfiguration('ganInspector.officialTrainer');
    const env = c.get<unknown>('env');
    const extra = c.get<unknown>('extraArgs');
    return {
      python: (c.get<string>('python') ?? 'python3').trim() || 'python3',
      repo: c.get<string>('repo') ?? '',
      env: env && typeof env === 'object' && !Array.isArray(env) ? Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string> : {},
      extraArgs: Array.isArray(extra) ? extra.filter((a): a is string => typeof a === 'string') : [],
    };
  }

  /** What is missing before the engine can start (empty when the settings look usable). */
  problems(): string[] {
    return officialSetupProblems(this.settings(), this.d.baseDir());
  }

  /** The environment train.py gets: the window's (the user's, on the machine where the workspace is) plus the configured extras. */
  private env(s: OfficialTrainerSettings): NodeJS.ProcessEnv {
    return { ...process.env, ...s.env };
  }

  /** Runs the checks (kept while python, repo, train.py and env are unchanged; see trainerCheckCache.ts) with a progress notification. */
  async check(wantGgdr: boolean, force = false): Promise<OfficialTrainerCheck> {
    const s = this.settings();
    const key = trainerCheckKey(s, resolveRepo(s.repo, this.d.baseDir()));
    const run = () => Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'GAN Inspector: checking the official trainer (python, import torch, train.py --help)…' },
      () => checkOfficialTrainer(s, { env: this.env(s), baseDir: this.d.baseDir() }),
    ));
    let got: Awaited<ReturnType<TrainerCheckCache['get']>>;
    try {
      got = await this.checks.get(key, wantGgdr, run, force);
    } catch (e) {
      throw aboutSetting(e, SETTINGS); // every check failure is fixed in ganInspector.officialTrainer.*
    }
    const { check, ran } = got;
    if (!ran) return check;
    this.d.output.appendLine(`Official trainer: ${check.python.python} (Python ${check.python.pythonVersion}, PyTorch ${check.python.torchVersion}, ${check.python.cuda ? `${check.python.gpuCount} CUDA GPU(s)` : 'no CUDA'}), ${check.trainPy}${check.ggdr ? ' (GGDR: --reg_type)' : ' (no --reg_type: StyleGAN2-ADA without GGDR)'}`);
    for (const w of check.warnings) this.d.output.appendLine(`Official trainer: note: ${w}`);
    return check;
  }

  /** Says what the official engine needs, with the actions that help; never throws. */
  async explainSetup(problems: string[]): Promise<void> {
    this.d.output.appendLine(`Official engine not set up:\n  ${problems.join('\n  ')}`);
    const a = await vscode.window.showWarningMessage(
      'The official engine (PyTorch) needs the official code and a Python with PyTorch.',
      {
        modal: true,
        detail: `${problems.join('\n')}\n\nSetup: clone naver-ai/GGDR (or NVlabs/stylegan2-ada-pytorch) where the workspace is (this machine, the Remote-SSH host or the code-server host), install PyTorch and the repo's requirements in a Python environment, then set ganInspector.officialTrainer.repo to the clone and ganInspector.officialTrainer.python to that environment's python. The README section "Official engine (PyTorch)" has the steps.`,
      },
      'Open Settings', 'Open GGDR on GitHub', 'Export MNIST Dataset Zip',
    );
    if (a === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector.officialTrainer');
    else if (a === 'Open GGDR on GitHub') await vscode.env.openExternal(vscode.Uri.parse(SETUP_URL));
    else if (a === 'Export MNIST Dataset Zip') await this.exportDatasetCommand('mnist');
  }

  private lastChoices(): OfficialChoices {
    const v = this.d.ctx.workspaceState.get<unknown>(LAST_KEY);
    return isOfficialChoices(v) ? v : { ...DEFAULT_OFFICIAL_CHOICES };
  }

  /** True when Train… was last answered for this engine with choices that can be reused. */
  hasLastChoices(): boolean {
    return isOfficialChoices(this.d.ctx.workspaceState.get<unknown>(LAST_KEY));
  }

  /** Resolves a data path against the workspace folder. */
  private abs(p: string): string {
    return path.resolve(this.d.baseDir() ?? process.cwd(), p);
  }

  /** The argv and printable command line of `choices` (throws UserError when this train.py cannot take them). */
  private build(choices: OfficialChoices, check: OfficialTrainerCheck, s: OfficialTrainerSettings) {
    const resolved = { ...choices, data: this.abs(choices.data), resume: choices.resume && /[\\/]|\.pkl$/i.test(choices.resume) ? this.abs(choices.resume) : choices.resume };
    let built: ReturnType<typeof buildTrainArgs>;
    try {
      built = buildTrainArgs(resolved, { outdir: this.d.outdir(), help: check.help, extraArgs: s.extraArgs, trainPy: check.trainPy });
    } catch (e) {
      throw aboutSetting(e, SETTINGS); // extraArgs this train.py does not take, a checkout that is not train.py's
    }
    const cmd = commandLine(s.python, check.repo, built.args, s.env);
    return { resolved, built, cmd };
  }

  /**
   * Train… with the official engine: checks, questions (skipped with `current`), the command line for
   * confirmation, then the process. `resume`: a pkl to offer first (Resume Training of an official run).
   */
  async train(opts: { current?: boolean; resume?: string } = {}): Promise<TrainingJob | undefined> {
    const problems = this.problems();
    if (problems.length) {
      await this.explainSetup(problems);
      return undefined;
    }
    const s = this.settings();
    let check = await this.check(false);
    let choices: OfficialChoices | undefined = this.lastChoices();
    if (!opts.current || !choices.data) {
      choices = await askOfficialChoices({
        last: choices, check, baseDir: this.d.baseDir(), resume: opts.resume,
        actions: { exportMnist: () => this.exportDatasetCommand('mnist', true), convertFolder: () => this.exportDatasetCommand('folder') },
      });
      if (!choices) return undefined;
    }
    if (choices.ggdr) check = await this.check(true);
    const { resolved, built, cmd } = this.build(choices, check, s);
    if (!fs.existsSync(resolved.data)) throw new UserError(`Dataset not found: ${resolved.data}`, 'Pick an existing dataset zip or image folder (Train… → official).');
    if (resolved.resume && /[\\/]/.test(resolved.resume) && !fs.existsSync(resolved.resume)) throw new UserError(`Resume snapshot not found: ${resolved.resume}`);
    await this.d.ctx.workspaceState.update(LAST_KEY, choices);
    const detail = [
      cmd,
      ...(built.omitted.length ? ['', `Not passed (this train.py does not declare them): ${built.omitted.join(', ')}`] : []),
      ...check.warnings.map((w) => `\nNote: ${w}`),
    ].join('\n');
    this.d.output.appendLine(`Official command line:\n  ${cmd}`);
    const a = await vscode.window.showInformationMessage('Start official training with this command?', { modal: true, detail }, 'Start', 'Copy Command Line');
    if (a === 'Copy Command Line') {
      await vscode.env.clipboard.writeText(cmd);
      void vscode.window.showInformationMessage('Command line copied; nothing was started.');
      return undefined;
    }
    if (a !== 'Start') return undefined;
    const outdir = this.d.outdir();
    fs.mkdirSync(outdir, { recursive: true });
    const job = this.d.manager.start({
      python: s.python, repo: check.repo, args: built.args, outdir, env: this.env(s),
      label: `official ${choices.ggdr ? 'GGDR' : 'StyleGAN2-ADA'} on ${path.basename(resolved.data)}`,
      data: resolved.data, kimg: choices.kimg,
    });
    this.d.output.appendLine(`[job ${job.id}] official train.py started (pid ${job.pid ?? '?'})`);
    this.d.ui.track(job);
    if (!this.d.isRunsRoot(outdir)) this.d.output.appendLine(`Note: ${outdir} is not a runs root; add it to ganInspector.runsRoots to list its runs.`);
    return job;
  }

  /** Show Resolved Config for the official engine: the exact command line and the choices, nothing started. */
  async showResolvedConfig(): Promise<void> {
    const problems = this.problems();
    if (problems.length) {
      await this.explainSetup(problems);
      return;
    }
    const s = this.settings();
    const choices = this.lastChoices();
    const check = await this.check(choices.ggdr);
    const { built, cmd } = this.build(choices, check, s);
    const content = [
      '// GAN Inspector — official engine (PyTorch): the command Train with Current Settings would run (dry run: nothing was started).',
      `// ${check.python.python}: Python ${check.python.pythonVersion}, PyTorch ${check.python.torchVersion}, ${check.python.cuda ? `${check.python.gpuCount} CUDA GPU(s)` : 'no CUDA GPU'}; ${check.trainPy}${check.ggdr ? '' : ' (no --reg_type: no GGDR)'}.`,
      ...check.warnings.map((w) => `// Note: ${w}`),
      JSON.stringify({ engine: 'official', commandLine: cmd, cwd: check.repo, python: s.python, args: built.args, omitted: built.omitted, env: s.env, choices }, null, 2),
      '',
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  /**
   * Export Dataset Zip: the embedded MNIST or an image folder → a StyleGAN2-ADA zip (the worker process
   * does the work). `quiet`: reuse an existing datasets/mnist32.zip without asking. Resolves with the zip.
   */
  async exportDatasetCommand(source?: 'mnist' | 'folder', quiet = false): Promise<string | undefined> {
    let data: string | undefined;
    let kind = source;
    if (!kind) {
      const p = await vscode.window.showQuickPick([
        { label: '$(database) Embedded MNIST', description: '10,000 digits, 32×32 grayscale, with labels', value: 'mnist' as const },
        { label: '$(folder) Image folder…', description: 'PNG/JPEG, cropped and resized to a square power of two', value: 'folder' as const },
      ], { title: 'GAN Inspector: Export Dataset Zip', placeHolder: 'Which images?' });
      kind = p?.value;
    }
    if (!kind) return undefined;
    let resolution = 32;
    let channels: 1 | 3 = 1;
    if (kind === 'folder') {
      const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Convert this folder', title: 'Image folder to convert', defaultUri: this.d.baseDir() ? vscode.Uri.file(this.d.baseDir()!) : undefined });
      data = uris?.[0]?.fsPath;
      if (!data) return undefined;
      const r = await vscode.window.showInputBox({ title: 'Resolution (square, power of two)', value: '64', validateInput: (t) => (/^\d+$/.test(t) && Number(t) >= 4 && (Number(t) & (Number(t) - 1)) === 0 ? undefined : 'A power of two ≥ 4.') });
      if (!r) return undefined;
      resolution = Number(r);
      const c = await vscode.window.showQuickPick([{ label: 'RGB', value: 3 as const }, { label: 'Grayscale', value: 1 as const }], { title: 'Channels' });
      if (!c) return undefined;
      channels = c.value;
    } else data = 'mnist';
    const base = this.d.baseDir();
    const def = path.join(base ?? this.d.outdir(), 'datasets', kind === 'mnist' ? 'mnist32.zip' : `${path.basename(data)}${resolution}.zip`);
    let out: string | undefined = def;
    if (quiet && fs.existsSync(def)) {
      this.d.output.appendLine(`Using the existing dataset zip ${def}.`);
      return def;
    }
    if (!quiet || fs.existsSync(def)) {
      const u = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(def), filters: { 'Dataset zip': ['zip'] }, title: 'Save the StyleGAN2-ADA dataset zip as' });
      out = u?.fsPath;
    }
    if (!out) return undefined;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const result = await this.runExport({ data, out, resolution, channels, force: true });
    const msg = `Wrote ${result.out}: ${result.count} images ${result.resolution}×${result.resolution}×${result.channels}${result.labels ? ', labels in dataset.json' : ''}.`;
    this.d.output.appendLine(msg);
    if (!quiet) void vscode.window.showInformationMessage(msg);
    return result.out;
  }

  private runExport(args: ExportDatasetParams): Promise<ExportDatasetReply> {
    const workerPath = this.d.ctx.asAbsolutePath(path.join('dist', 'worker.js'));
    return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'GAN Inspector: exporting the dataset zip' }, (progress) =>
      exportDatasetInProcess(args, {
        workerPath,
        log: (l) => this.d.output.appendLine(l),
        onProgress: (m) => progress.report({ message: `${m.phase === 'load' ? 'loading' : 'encoding'} ${m.done}/${m.total}` }),
      })));
  }
}
