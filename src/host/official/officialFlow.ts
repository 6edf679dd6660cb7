/**
 * The quick picks of Train… for the official StyleGAN2-ADA / GGDR engine: engine choice, then what
 * train.py needs (dataset, cfg, GGDR and ggdr_res, --gpus, batch, kimg, snapshot ticks, metrics,
 * mirror/fp32, augmentation, resume pkl). Every answer is validated as it is typed; Escape cancels.
 */
import * as vscode from 'vscode';
import { AUG_MODES, DEFAULT_CFGS, validateOfficialChoice, type AugMode, type OfficialChoices } from '../../core/official/trainer/args';
import type { OfficialTrainerCheck } from '../../core/official/trainer/check';
import { displayPath } from '../training/trainFlow';

export type Engine = 'tfjs' | 'official';

interface Item<T> extends vscode.QuickPickItem {
  value: T;
}

/** Step 0 of Train…: which engine. `officialProblems` non-empty: the item says what is missing. */
export async function askEngine(last: Engine | undefined, officialProblems: string[]): Promise<Engine | undefined> {
  const items: Item<Engine>[] = [
    { label: '$(symbol-event) GAN Inspector (TensorFlow.js)', description: 'built in', detail: 'Small, local experiments: the presets, on this machine’s CPU (or WebGPU).', value: 'tfjs' },
    {
      label: '$(server-process) official (PyTorch)',
      description: officialProblems.length ? 'setup needed' : 'StyleGAN2-ADA / GGDR train.py',
      detail: officialProblems.length
        ? `Needs a checkout of the official code and a Python with PyTorch: ${officialProblems[0]} Pick it for the setup steps.`
        : 'The official train.py (multi-GPU, torch.distributed) where the workspace is; its run folder streams into the Runs view.',
      value: 'official',
    },
  ];
  const sorted = last === 'official' ? [items[1], items[0]] : items;
  const chosen = await vscode.window.showQuickPick(sorted, { title: 'GAN Inspector: Train — engine', placeHolder: 'Which training engine?', ignoreFocusOut: true, matchOnDetail: true });
  return chosen?.value;
}

const STEPS = 12;
const title = (step: number, what: string) => `GAN Inspector: Train on the official engine (${step}/${STEPS}) — ${what}`;

async function pick<T>(step: number, what: string, items: Item<T>[], current: T, placeHolder = what): Promise<T | undefined> {
  const sorted = [...items.filter((i) => i.value === current), ...items.filter((i) => i.value !== current)];
  const chosen = await vscode.window.showQuickPick(sorted, { title: title(step, what), placeHolder, ignoreFocusOut: true, matchOnDescription: true, matchOnDetail: true });
  return chosen?.value;
}

async function inputInt<K extends 'gpus' | 'batch' | 'kimg' | 'snap' | 'ggdrRes'>(step: number, what: string, key: K, value: number, prompt: string): Promise<number | undefined> {
  const s = await vscode.window.showInputBox({
    title: title(step, what), prompt, value: String(value), ignoreFocusOut: true,
    validateInput: (t) => (/^\d+$/.test(t.trim()) ? validateOfficialChoice(key, Number(t.trim())) : 'A whole number.'),
  });
  return s === undefined ? undefined : Number(s.trim());
}

const CFG_HELP: Record<string, string> = {
  auto: 'defaults from resolution and GPU count; a good start',
  stylegan2: 'StyleGAN2 config F (1024×1024)',
  paper256: 'FFHQ / LSUN Cat at 256×256 (the GGDR paper’s setting)',
  paper512: 'BreCaHAD / AFHQ at 512×512',
  paper1024: 'MetFaces at 1024×1024',
  cifar: 'CIFAR-10 at 32×32 (small images such as MNIST)',
};

export interface DatasetActions {
  /** Export the embedded MNIST to a zip; resolves with its path. */
  exportMnist: () => Promise<string | undefined>;
  /** Convert an image folder to a zip; resolves with its path. */
  convertFolder: () => Promise<string | undefined>;
}

/** Shows a path relative to the workspace folder when it lies inside it. */

/** Runs the official-engine questions; undefined when cancelled. */
export async function askOfficialChoices(opts: { last: OfficialChoices; check: OfficialTrainerCheck; baseDir?: string; actions: DatasetActions; resume?: string }): Promise<OfficialChoices | undefined> {
  const { last, check, baseDir } = opts;

  // 1. Dataset.
  type D = 'last' | 'zip' | 'folder' | 'mnist' | 'convert';
  const items: Item<D>[] = [];
  if (last.data) items.push({ label: `$(history) ${displayPath(last.data, baseDir)}`, description: 'last used', value: 'last' });
  items.push(
    { label: '$(file-zip) Dataset zip…', detail: 'A StyleGAN2-ADA dataset zip (dataset_tool.py or Export Dataset Zip).', value: 'zip' },
    { label: '$(folder) Image folder…', detail: 'A folder of square PNG images of one power-of-two size (train.py reads it directly).', value: 'folder' },
    { label: '$(database) Embedded MNIST → dataset zip', detail: 'Writes the 10,000 digits (32×32, labels) as datasets/mnist32.zip in the workspace and uses it.', value: 'mnist' },
    { label: '$(file-zip) Convert an image folder → dataset zip…', detail: 'Resizes/crops PNG/JPEG images to a square power-of-two size, as dataset_tool.py would.', value: 'convert' },
  );
  const d = await vscode.window.showQuickPick(items, { title: title(1, 'Dataset'), placeHolder: 'Training data (train.py --data)', ignoreFocusOut: true });
  if (!d) return undefined;
  let data: string | undefined;
  if (d.value === 'last') data = last.data;
  else if (d.value === 'mnist') data = await opts.actions.exportMnist();
  else if (d.value === 'convert') data = await opts.actions.convertFolder();
  else {
    const zip = d.value === 'zip';
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: zip, canSelectFolders: !zip, canSelectMany: false,
      defaultUri: baseDir ? vscode.Uri.file(baseDir) : undefined,
      filters: zip ? { 'Dataset zip': ['zip'] } : undefined,
      openLabel: zip ? 'Use this zip' : 'Use this folder', title: zip ? 'Choose a dataset zip' : 'Choose an image folder',
    });
    data = uris?.[0]?.fsPath;
  }
  if (!data) return undefined;

  // 2. cfg.
  const cfgs = check.help.options.get('--cfg')?.choices ?? [...DEFAULT_CFGS];
  const cfg = await pick(2, 'Base configuration (--cfg)', cfgs.map((c) => ({ label: c, description: CFG_HELP[c] ?? '', value: c })), cfgs.includes(last.cfg) ? last.cfg : cfgs[0]);
  if (!cfg) return undefined;

  // 3–4. GGDR.
  const ggdrItems: Item<boolean>[] = check.ggdr
    ? [
        { label: '$(check) GGDR on', description: '--reg_type ggdr (Lee et al., 2022)', value: true },
        { label: '$(circle-slash) GGDR off', description: '--reg_type none: plain StyleGAN2-ADA', value: false },
      ]
    : [{ label: '$(circle-slash) GGDR off', description: 'this train.py has no --reg_type (StyleGAN2-ADA without GGDR); point ganInspector.officialTrainer.repo at naver-ai/GGDR for GGDR', value: false }];
  const ggdr = await pick(3, 'GGDR', ggdrItems, check.ggdr ? last.ggdr : false);
  if (ggdr === undefined) return undefined;
  let ggdrRes = last.ggdrRes;
  if (ggdr) {
    const r = await inputInt(4, 'GGDR resolution (--ggdr_res)', 'ggdrRes', ggdrRes, 'Feature-map resolution GGDR regresses, ≤ the image resolution; 0 = train.py’s default (64). 16 for 32×32 MNIST.');
    if (r === undefined) return undefined;
    ggdrRes = r;
  }

  // 5–8. Scale and length.
  const gpuHint = check.python.cuda ? `PyTorch sees ${check.python.gpuCount} GPU(s).` : 'PyTorch sees no CUDA GPU here.';
  const gpus = await inputInt(5, 'GPUs (--gpus)', 'gpus', Math.max(1, last.gpus), `One process per GPU (torch.distributed). ${gpuHint}`);
  if (gpus === undefined) return undefined;
  const batch = await inputInt(6, 'Batch (--batch)', 'batch', last.batch, 'Total batch over all GPUs; 0 = the cfg’s.');
  if (batch === undefined) return undefined;
  const kimg = await inputInt(7, 'Training length (--kimg)', 'kimg', last.kimg, 'Thousands of real images shown to D (whole kimg); 0 = the cfg’s (25000).');
  if (kimg === undefined) return undefined;
  const snap = await inputInt(8, 'Snapshot interval (--snap)', 'snap', last.snap, 'Ticks between network-snapshot-*.pkl files (and metrics); 0 = train.py’s default (50). 1 for short runs.');
  if (snap === undefined) return undefined;

  // 9. Metrics.
  const metrics = await vscode.window.showInputBox({
    title: title(9, 'Metrics (--metrics)'), value: last.metrics, ignoreFocusOut: true,
    prompt: '"none", or a comma list computed at each snapshot: fid50k_full, kid50k_full, pr50k3_full, … (they need the Inception download)',
    validateInput: (t) => validateOfficialChoice('metrics', t.trim()),
  });
  if (metrics === undefined) return undefined;

  // 10. Switches.
  const sw = await vscode.window.showQuickPick([
    { label: 'Mirror (--mirror)', description: 'dataset x-flips', picked: last.mirror, key: 'mirror' as const },
    { label: 'FP32 (--fp32 true)', description: check.python.cuda ? 'disable mixed precision' : 'needed here: no CUDA GPU (fp16 convs fail on CPU)', picked: last.fp32 || !check.python.cuda, key: 'fp32' as const },
  ], { title: title(10, 'Options'), placeHolder: 'Tick what applies, then Enter', canPickMany: true, ignoreFocusOut: true });
  if (!sw) return undefined;

  // 11. Augmentation.
  const aug = await pick<AugMode>(11, 'Augmentation (--aug)', AUG_MODES.map((a) => ({
    label: a, description: a === 'ada' ? 'adaptive discriminator augmentation (default)' : a === 'noaug' ? 'no augmentation' : 'fixed probability (--p)', value: a,
  })), last.aug);
  if (!aug) return undefined;

  // 12. Resume.
  type R = { kind: 'none' } | { kind: 'keep'; pkl: string } | { kind: 'file' };
  const rItems: Item<R>[] = [{ label: '$(circle-slash) Start from scratch', value: { kind: 'none' } }];
  const pre = opts.resume ?? last.resume;
  if (pre) rItems.unshift({ label: `$(history) ${displayPath(pre, baseDir)}`, description: opts.resume ? 'latest snapshot of the run' : 'last used', value: { kind: 'keep', pkl: pre } });
  rItems.push({ label: '$(file) A network-snapshot .pkl…', detail: 'Continue from (or transfer-learn from) an official snapshot.', value: { kind: 'file' } });
  const rp = await vscode.window.showQuickPick(rItems, { title: title(12, 'Resume (--resume)'), placeHolder: 'Start from a snapshot?', ignoreFocusOut: true });
  if (!rp) return undefined;
  let resume = '';
  if (rp.value.kind === 'keep') resume = rp.value.pkl;
  else if (rp.value.kind === 'file') {
    const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectMany: false, filters: { 'Network snapshot': ['pkl'] }, openLabel: 'Resume from this snapshot', defaultUri: baseDir ? vscode.Uri.file(baseDir) : undefined });
    if (!uris?.length) return undefined;
    resume = uris[0].fsPath;
  }

  return {
    data, cfg, ggdr, ggdrRes, gpus, batch, kimg, snap, metrics: metrics.trim() || 'none',
    mirror: sw.some((s) => s.key === 'mirror'), fp32: sw.some((s) => s.key === 'fp32'), aug, resume, seed: last.seed,
  };
}
