/**
 * The Train… quick-pick flow: configuration (when any are defined), dataset, preset, GGDR (+ weight and
 * resolution), kimg, seed, backend, data-parallel workers. Every answer is validated as it is typed; Escape cancels.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BACKEND_NAMES, PRESETS, PRESET_NAMES, defaultGgdrRes, type BackendName, type PresetName, type TrainingOverrides } from '../../core/config/options';
import { autoWorkers, availableCores, THREADED_BACKENDS } from '../../core/config/workers';
import { choicesFromSettings, isPow2, validateGgdrRes, validateNumber, type GanInspectorSettings, type TrainChoices } from '../config/settings';

const STEPS = 9;
const title = (step: number, what: string) => `GAN Inspector: Train (${step}/${STEPS}) — ${what}`;

interface Item<T> extends vscode.QuickPickItem {
  value: T;
}

async function pick<T>(step: number, what: string, items: Item<T>[], current: T): Promise<T | undefined> {
  const sorted = [...items.filter((i) => i.value === current), ...items.filter((i) => i.value !== current)];
  const chosen = await vscode.window.showQuickPick(sorted, { title: title(step, what), placeHolder: what, ignoreFocusOut: true, matchOnDescription: true, matchOnDetail: true });
  return chosen?.value;
}

async function input(step: number, what: string, value: string, prompt: string, validate: (s: string) => string | undefined): Promise<string | undefined> {
  return vscode.window.showInputBox({ title: title(step, what), prompt, value, ignoreFocusOut: true, validateInput: (s) => validate(s.trim()) });
}

/** Shows a dataset path relative to the workspace folder when it lies inside it. */
/** A path relative to the workspace folder when inside it, as the quick picks show it. */
export function displayPath(p: string, baseDir?: string): string {
  if (!baseDir || !path.isAbsolute(p)) return p;
  const rel = path.relative(baseDir, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** Runs the flow; undefined when cancelled. */
export async function askTrainChoices(opts: {
  settings: GanInspectorSettings;
  configurations: Record<string, TrainingOverrides>;
  last?: TrainChoices;
  baseDir?: string;
}): Promise<TrainChoices | undefined> {
  const { settings, configurations, baseDir } = opts;
  let defaults = opts.last ?? choicesFromSettings(settings, undefined, configurations);
  if (defaults.configuration && !configurations[defaults.configuration]) defaults = { ...defaults, configuration: undefined };

  // 1. Named configuration (skipped when none exist).
  let configuration = defaults.configuration;
  const names = Object.keys(configurations);
  if (names.length) {
    const NONE = '\0none';
    const chosen = await pick<string>(1, 'Start from a configuration', [
      { label: '$(settings) Settings only', description: 'ganInspector.* settings', value: NONE },
      ...names.map((n) => ({ label: `$(symbol-namespace) ${n}`, description: summarizeOverrides(configurations[n]), value: n })),
    ], configuration ?? NONE);
    if (chosen === undefined) return undefined;
    configuration = chosen === NONE ? undefined : chosen;
    if (configuration !== defaults.configuration) defaults = choicesFromSettings(settings, configuration, configurations);
  }
  const cfg = configuration ? configurations[configuration] : undefined;

  // 2. Dataset.
  type DataPick = { kind: 'mnist' } | { kind: 'path'; path: string } | { kind: 'folder' } | { kind: 'zip' };
  const dataItems: Item<DataPick>[] = [{ label: '$(database) Embedded MNIST', description: 'mnist', detail: 'Handwritten digits bundled with the extension; no download.', value: { kind: 'mnist' } }];
  if (defaults.data !== 'mnist') dataItems.push({ label: `$(history) ${displayPath(defaults.data, baseDir)}`, description: 'last used', value: { kind: 'path', path: defaults.data } });
  dataItems.push(
    { label: '$(folder) Image folder…', detail: 'A folder of PNG/JPEG images (searched recursively).', value: { kind: 'folder' } },
    { label: '$(file-zip) Dataset zip…', detail: 'A StyleGAN2-ADA dataset zip (or any zip of images).', value: { kind: 'zip' } },
  );
  const dataPick = await vscode.window.showQuickPick(dataItems, { title: title(2, 'Dataset'), placeHolder: 'Training images', ignoreFocusOut: true });
  if (!dataPick) return undefined;
  let data: string;
  const v = dataPick.value;
  if (v.kind === 'mnist') data = 'mnist';
  else if (v.kind === 'path') data = v.path;
  else {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: v.kind === 'zip',
      canSelectFolders: v.kind === 'folder',
      canSelectMany: false,
      defaultUri: baseDir ? vscode.Uri.file(baseDir) : undefined,
      filters: v.kind === 'zip' ? { 'Dataset zip': ['zip'] } : undefined,
      openLabel: v.kind === 'zip' ? 'Use this zip' : 'Use this folder',
      title: v.kind === 'zip' ? 'Choose a dataset zip' : 'Choose an image folder',
    });
    if (!uris?.length) return undefined;
    data = displayPath(uris[0].fsPath, baseDir);
  }

  // 3. Preset.
  const preset = await pick<PresetName>(3, 'Preset', PRESET_NAMES.map((p) => {
    const m = PRESETS[p].model;
    return {
      label: p,
      description: `${m.resolution}×${m.resolution} ${m.channels === 1 ? 'grayscale' : 'RGB'} · batch ${m.batch} · ${PRESETS[p].kimg} kimg`,
      detail: p === 'tiny' ? 'Seconds on a CPU; for smoke tests.' : p === 'mnist32' ? 'The MNIST demo: minutes on a CPU.' : 'Small colour images; a GPU backend helps.',
      value: p,
    };
  }), defaults.preset);
  if (!preset) return undefined;
  const resolution = cfg?.model?.resolution ?? PRESETS[preset].model.resolution;

  // 4–5. GGDR.
  const enabled = await pick<boolean>(4, 'GGDR', [
    { label: '$(check) GGDR on', description: 'feature-map regression on the discriminator (Lee et al., 2022)', value: true },
    { label: '$(circle-slash) GGDR off', description: 'baseline StyleGAN2 training', value: false },
  ], defaults.ggdr.enabled);
  if (enabled === undefined) return undefined;
  let weight = defaults.ggdr.weight;
  let res = defaults.ggdr.res;
  if (enabled) {
    const w = await input(5, 'GGDR weight λ', String(weight), 'Weight of the GGDR loss λ·mean(1 − cos); 10 in the paper.', (s) => validateNumber(s, { min: 0 }));
    if (w === undefined) return undefined;
    weight = Number(w);
    if (res !== 0 && (res > resolution || !isPow2(res))) res = 0;
    const defRes = cfg?.ggdr?.res || (cfg?.model?.resolution ? defaultGgdrRes(resolution) : PRESETS[preset].ggdrRes);
    const r = await input(5, 'GGDR resolution', String(res), `Feature-map resolution the decoder predicts; 0 = default (${defRes}).`, (s) => validateGgdrRes(s, resolution, defRes));
    if (r === undefined) return undefined;
    res = Number(r);
  }

  // 6. kimg.
  const defKimg = cfg?.kimg ?? PRESETS[preset].kimg;
  const k = await input(6, 'Training length', String(defaults.kimg), `Thousands of real images shown to D; 0 = default (${defKimg} kimg).`, (s) => validateNumber(s, { min: 0.001, allowZero: true }));
  if (k === undefined) return undefined;

  // 7. Seed.
  const sd = await input(7, 'Seed', String(defaults.seed), 'Seed for weights, latents and data order (same seed + settings = same run).', (s) => validateNumber(s, { integer: true, min: 0 }));
  if (sd === undefined) return undefined;

  // 8. Backend.
  const backend = await pick<BackendName>(8, 'Backend', BACKEND_NAMES.map((b) => ({ label: b, description: BACKEND_HELP[b], value: b })), defaults.backend);
  if (!backend) return undefined;

  // 9. Data-parallel workers.
  const model = { ...PRESETS[preset].model, ...(cfg?.model ?? {}) };
  const cores = availableCores();
  const threaded = backend === 'auto' || THREADED_BACKENDS.includes(backend);
  const autoN = autoWorkers(model, cores);
  const wk = await input(9, 'Workers', String(defaults.workers ?? 0),
    `Worker threads training in parallel, each on its own ${backend === 'auto' ? 'wasm/cpu ' : ''}backend with its share of the batch of ${model.batch}; ` +
    `0 = auto (${threaded ? `${autoN} here: ${cores} cores, at least one minibatch-stddev group of ${model.mbstdGroup} each` : `1: ${backend} uses every core itself`}), 1 = no threads.`,
    (s) => validateNumber(s, { integer: true, min: 0 }) ??
      (Number(s) > model.batch ? `At most ${model.batch} (one image of the batch per worker).` : undefined) ??
      (!threaded && Number(s) > 1 ? `${backend} computes on every core (or the GPU) itself: use 0 or 1.` : undefined));
  if (wk === undefined) return undefined;

  return { configuration, data, preset, ggdr: { enabled, weight, res }, kimg: Number(k), seed: Number(sd), backend, workers: Number(wk) };
}

const BACKEND_HELP: Record<BackendName, string> = {
  auto: 'best available: tensorflow → webgpu → wasm → cpu',
  tensorflow: 'native TensorFlow (@tensorflow/tfjs-node, if installed)',
  webgpu: 'GPU through WebGPU (the optional webgpu package)',
  wasm: 'WebAssembly with SIMD/threads; the portable default',
  cpu: 'plain JavaScript; slowest, always available',
};

function summarizeOverrides(o: TrainingOverrides): string {
  const bits: string[] = [];
  if (o.preset) bits.push(o.preset);
  if (o.data) bits.push(o.data);
  if (o.kimg) bits.push(`${o.kimg} kimg`);
  if (o.ggdr?.enabled === false) bits.push('no GGDR');
  else if (o.ggdr?.weight !== undefined) bits.push(`λ=${o.ggdr.weight}`);
  if (o.backend) bits.push(o.backend);
  if (o.workers) bits.push(`${o.workers} workers`);
  return bits.join(' · ');
}
