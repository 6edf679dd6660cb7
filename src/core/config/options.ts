/**
 * Training configuration: one plain object whose fields *are* the configuration (StyleGAN2-ADA's
 * training_loop style), a preset table, overrides and validation. No tfjs, no vscode.
 */
import { UserError } from '../errors';

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export type PresetName = 'tiny' | 'mnist32' | 'small64';
export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'mnist32', 'small64'];

/** Network and training hyper-parameters that a preset fixes and any override may change. */
export interface ModelConfig {
  resolution: number;        // output image size in px (power of two, ≥ 8)
  channels: number;          // image channels: 1 (grayscale) or 3 (RGB)
  zDim: number;              // latent z size
  wDim: number;              // intermediate latent w size
  mappingLayers: number;     // depth of the mapping MLP
  mappingLrMul: number;      // learning-rate multiplier of the mapping MLP (0.01 in StyleGAN2)
  channelBase: number;       // channels at resolution r = min(channelBase / r, channelMax)
  channelMax: number;        // cap on channels per layer
  mbstdGroup: number;        // minibatch-stddev group size (clamped to the batch)
  batch: number;             // images per step
  glr: number;               // generator Adam learning rate
  dlr: number;               // discriminator Adam learning rate
  r1Gamma: number;           // R1 weight γ; 0 disables R1
  r1Interval: number;        // lazy regularisation interval in D steps (16); 0 disables R1
  emaKimg: number;           // half-life of G_ema in kimg
  emaRampup: number;         // ramp-up of the EMA half-life as a fraction of progress; 0 = none
  kimgPerTick: number;       // kimg between ticks (stats line, sample grid, snapshot)
  snapshotTicks: number;     // ticks between network snapshots (and sample grids); 1 = every tick
}

export interface GgdrConfig {
  enabled: boolean;          // GGDR on/off; off means the decoder is neither built into the loss nor trained
  weight: number;            // λ, 10 in the paper
  res: number;               // resolution of the decoder output / generator feature target; 0 = resolution/4 (64 at 256 px)
}

export interface AugmentConfig {
  xflip: boolean;            // random horizontal flip of images fed to D (and of the GGDR targets)
  translate: number;         // max integer translation in px applied to D's inputs (0 = off)
}

export interface TrainingOptions {
  preset: PresetName;
  data: string;              // 'mnist' or a path to an image folder / dataset zip
  datasetXflip: boolean;     // dataset x-flip doubling (StyleGAN2-ADA --mirror)
  maxImages: number;         // use at most this many dataset images; 0 = all
  kimg: number;              // training length in thousands of real images shown to D
  seed: number;              // global seed: weights, latents, data order, noise
  backend: BackendName;
  outdir: string;            // parent folder of run folders
  desc: string;              // extra text for the run folder name; '' = derived
  model: ModelConfig;
  ggdr: GgdrConfig;
  augment: AugmentConfig;
  gridSize: number;          // samples per side of the fixed-latent fakes grid
  metrics: string[];         // metrics computed at snapshots (e.g. 'fid2k_lenet'); [] = none
  metricsKimg: number;       // metrics cadence: at the first snapshot at/after each multiple of this many kimg, and at the final one; 0 = every snapshot
  workers?: number;          // data-parallel worker threads, each with its own backend and rows of the batch; 0 = auto (the cores, capped by batch / mbstd group; 1 on tensorflow/webgpu); 1 = this thread alone. Unset: auto for a new run; in a stored run, 1 (a run records it only when > 1)
}

const BASE: Omit<ModelConfig, 'resolution' | 'channels' | 'channelBase' | 'channelMax' | 'batch' | 'kimgPerTick'> = {
  zDim: 64,
  wDim: 64,
  mappingLayers: 2,
  mappingLrMul: 0.01,
  mbstdGroup: 4,
  glr: 0.0025,
  dlr: 0.0025,
  r1Gamma: 0.01,
  r1Interval: 16,
  emaKimg: 0.5,
  emaRampup: 0.05,
  snapshotTicks: 1,
};

/** The preset table. `tiny` is for tests; `mnist32` is the demo; `small64` is for 64-px colour images. */
export const PRESETS: Record<PresetName, { model: ModelConfig; kimg: number; gridSize: number; ggdrRes: number; metrics: readonly string[]; metricsKimg: number }> = {
  tiny: {
    model: { ...BASE, resolution: 16, channels: 1, zDim: 16, wDim: 16, channelBase: 128, channelMax: 16, batch: 4, kimgPerTick: 0.016 },
    kimg: 0.048, gridSize: 4, ggdrRes: 8, metrics: [], metricsKimg: 0,
  },
  mnist32: {
    // The demo's recipe, from the search in docs/presets.md (scripts/search-presets.ts): a narrow model
    // (32/32/16/8 channels at 4/8/16/32 px, z = w = 32; ≈3× fewer s/kimg than base 512 / max 64) trained
    // with lr 0.01 and R1 γ 1 for 24 kimg draws all ten digits, where the former recipe (lr 0.0025, γ 0.01,
    // 4 kimg) drew one stroke. The mapping keeps lr × 0.01 (× 1 collapsed). Minibatch-stddev groups of 8 (one
    // group per worker at 2 workers) even the classes: the demo run with groups of 4 had 8s at 31% of the
    // samples, with 8 no class above 19% (FID 55.8, 10/10 classes); it also caps auto workers at batch / 8 = 2.
    model: { ...BASE, resolution: 32, channels: 1, zDim: 32, wDim: 32, channelBase: 256, channelMax: 32, batch: 16, mbstdGroup: 8, glr: 0.01, dlr: 0.01, r1Gamma: 1, kimgPerTick: 1 },
    // FID/KID (LeNet features) and mode coverage every 4 kimg, so the loss curves come with quality curves.
    kimg: 24, gridSize: 8, ggdrRes: 8, metrics: ['fid2k_lenet', 'kid2k_lenet', 'modes2k_lenet'], metricsKimg: 4,
  },
  small64: {
    model: { ...BASE, resolution: 64, channels: 3, zDim: 128, wDim: 128, channelBase: 4096, channelMax: 128, batch: 16, kimgPerTick: 1, emaKimg: 2 },
    kimg: 50, gridSize: 8, ggdrRes: 16, metrics: [], metricsKimg: 10,
  },
};

/** Everything a caller may override; nested objects are merged field by field. */
export interface TrainingOverrides {
  preset?: PresetName;
  data?: string;
  datasetXflip?: boolean;
  maxImages?: number;
  kimg?: number;
  seed?: number;
  backend?: BackendName;
  outdir?: string;
  desc?: string;
  model?: Partial<ModelConfig>;
  ggdr?: Partial<GgdrConfig>;
  augment?: Partial<AugmentConfig>;
  gridSize?: number;
  metrics?: string[];
  metricsKimg?: number;
  workers?: number;
}

/** Channels at resolution `res` (StyleGAN2's channel_base / res capped at channel_max). */
export function channelsAt(model: Pick<ModelConfig, 'channelBase' | 'channelMax'>, res: number): number {
  return Math.max(1, Math.min(Math.floor(model.channelBase / res), model.channelMax));
}

/** Resolutions of the synthesis blocks: 4, 8, …, resolution. */
export function blockResolutions(resolution: number): number[] {
  const out: number[] = [];
  for (let r = 4; r <= resolution; r *= 2) out.push(r);
  return out;
}

/** One GGDR decoder step: `from`×`from` → `to`×`to`; `first` reads D's 4×4 encoder output alone. */
export interface DecoderStep { from: number; to: number; first: boolean }

/** The GGDR decoder's steps 4→8→…→res; a single 4→4 projection when res is 4. */
export function decoderSteps(res: number): DecoderStep[] {
  if (res === 4) return [{ from: 4, to: 4, first: true }];
  const steps: DecoderStep[] = [];
  for (let r = 4; r < res; r *= 2) steps.push({ from: r, to: r * 2, first: r === 4 });
  return steps;
}

export function defaultGgdrRes(resolution: number): number {
  return resolution >= 256 ? 64 : Math.max(4, resolution / 4);
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Preset + overrides → validated options. Throws UserError with an actionable message. */
export function resolveOptions(over: TrainingOverrides = {}): TrainingOptions {
  const presetName = over.preset ?? 'mnist32';
  if (!PRESET_NAMES.includes(presetName)) {
    throw new UserError(`Unknown preset '${presetName}'.`, `Use one of: ${PRESET_NAMES.join(', ')}.`);
  }
  const p = PRESETS[presetName];
  const model: ModelConfig = { ...p.model, ...(over.model ?? {}) };
  const ggdr: GgdrConfig = { enabled: true, weight: 10, res: p.ggdrRes, ...(over.ggdr ?? {}) };
  if (over.model?.resolution !== undefined && over.ggdr?.res === undefined) ggdr.res = defaultGgdrRes(model.resolution);
  if (!ggdr.res) ggdr.res = defaultGgdrRes(model.resolution);
  const opts: TrainingOptions = {
    preset: presetName,
    data: over.data ?? 'mnist',
    datasetXflip: over.datasetXflip ?? false,
    maxImages: over.maxImages ?? 0,
    kimg: over.kimg ?? p.kimg,
    seed: over.seed ?? 0,
    backend: over.backend ?? 'auto',
    outdir: over.outdir ?? 'runs',
    desc: over.desc ?? '',
    model,
    ggdr,
    augment: { xflip: false, translate: 0, ...(over.augment ?? {}) },
    gridSize: over.gridSize ?? p.gridSize,
    metrics: over.metrics ?? [...p.metrics],
    metricsKimg: over.metricsKimg ?? p.metricsKimg,
    ...(over.workers !== undefined ? { workers: over.workers } : {}),
  };
  validateOptions(opts);
  return opts;
}

/** Upper bound of --kimg (a typo such as 1e308 would otherwise train forever). */
export const MAX_KIMG = 100_000;

export function validateOptions(o: TrainingOptions): void {
  const m = o.model;
  const bad = (what: string, hint: string) => { throw new UserError(`Invalid option: ${what}.`, hint); };
  if (!isPow2(m.resolution) || m.resolution < 8 || m.resolution > 1024) bad(`resolution ${m.resolution}`, 'Use a power of two between 8 and 1024.');
  if (m.channels !== 1 && m.channels !== 3) bad(`channels ${m.channels}`, 'Use 1 (grayscale) or 3 (RGB).');
  if (!Number.isInteger(m.batch) || m.batch < 1) bad(`batch ${m.batch}`, 'Use a positive integer.');
  if (!(o.kimg > 0) || !Number.isFinite(o.kimg)) bad(`kimg ${o.kimg}`, 'Use a positive number of thousands of images, e.g. --kimg 4.');
  // 100,000 kimg is 4× StyleGAN2's longest published schedule; beyond it a typo (1e308) would run forever.
  if (o.kimg > MAX_KIMG) bad(`kimg ${o.kimg}`, `Use at most ${MAX_KIMG} kimg (StyleGAN2's longest schedules are 25,000).`);
  // Fewer images than one batch would end "finished" after 0 training steps.
  if (Number.isInteger(m.batch) && m.batch >= 1 && Math.round(o.kimg * 1000) < m.batch) {
    bad(`kimg ${o.kimg} is less than one batch (${m.batch} images)`, `Use at least --kimg ${m.batch / 1000}.`);
  }
  if (!(m.kimgPerTick > 0)) bad(`kimgPerTick ${m.kimgPerTick}`, 'Use a positive number.');
  if (!Number.isInteger(o.seed) || o.seed < 0) bad(`seed ${o.seed}`, 'Use a non-negative integer.');
  if (!BACKEND_NAMES.includes(o.backend)) bad(`backend '${o.backend}'`, `Use one of: ${BACKEND_NAMES.join(', ')}.`);
  for (const k of ['zDim', 'wDim', 'mappingLayers', 'channelBase', 'channelMax', 'mbstdGroup', 'snapshotTicks'] as const) {
    if (!Number.isInteger(m[k]) || m[k] < 1) bad(`${k} ${m[k]}`, 'Use a positive integer.');
  }
  for (const k of ['glr', 'dlr', 'mappingLrMul'] as const) if (!(m[k] > 0)) bad(`${k} ${m[k]}`, 'Use a positive number.');
  if (!(m.r1Gamma >= 0) || !(m.r1Interval >= 0)) bad('r1Gamma/r1Interval', 'Use non-negative numbers (0 disables R1).');
  if (o.ggdr.enabled) {
    if (!isPow2(o.ggdr.res) || o.ggdr.res < 4 || o.ggdr.res > m.resolution) {
      bad(`ggdr res ${o.ggdr.res}`, `Use a power of two between 4 and the resolution (${m.resolution}); the default is resolution/4.`);
    }
    if (!(o.ggdr.weight >= 0)) bad(`ggdr weight ${o.ggdr.weight}`, 'Use a non-negative number (10 in the paper).');
  }
  if (!Number.isInteger(o.augment.translate) || o.augment.translate < 0) bad(`translate ${o.augment.translate}`, 'Use a non-negative integer number of pixels.');
  if (o.ggdr.enabled && o.augment.translate > 0) {
    // GGDR's feature targets (at ggdr res) must move by whole pixels with the image, so shifts come in steps of resolution/ggdrRes px.
    const unit = translateUnit(o);
    if (o.augment.translate % unit !== 0) {
      bad(`translate ${o.augment.translate} with GGDR at res ${o.ggdr.res}`,
        `With GGDR on, translation moves the ${o.ggdr.res}×${o.ggdr.res} feature targets by whole pixels, so it must be 0 or a multiple of resolution/ggdrRes = ${unit} px (e.g. ${unit}); or turn GGDR off or raise ggdr res.`);
    }
  }
  if (!Array.isArray(o.metrics) || o.metrics.some((x) => typeof x !== 'string')) bad('metrics', 'Give a list of metric names, e.g. ["fid2k_lenet"].');
  if (typeof o.metricsKimg !== 'number' || !Number.isFinite(o.metricsKimg) || o.metricsKimg < 0) {
    bad(`metricsKimg ${o.metricsKimg}`, 'Use a non-negative number of kimg between metric evaluations (0 = at every snapshot), e.g. --metrics-kimg 1.');
  }
  if (!Number.isInteger(o.gridSize) || o.gridSize < 1 || o.gridSize > 32) bad(`gridSize ${o.gridSize}`, 'Use an integer between 1 and 32.');
  if (o.workers === undefined) { /* auto */ } else if (!Number.isInteger(o.workers) || o.workers < 0) bad(`workers ${o.workers}`, 'Use a non-negative integer: 0 = one per core (auto), 1 = no worker threads.');
  else if (o.workers > m.batch) bad(`workers ${o.workers} > batch ${m.batch}`, `Each worker computes at least one image of the batch: use at most ${m.batch} (or 0 for auto).`);
}

/** Translation step in image px with GGDR on (resolution / ggdrRes; 1 without GGDR). */
export function translateUnit(o: Pick<TrainingOptions, 'model' | 'ggdr'>): number {
  return o.ggdr.enabled ? Math.max(1, Math.round(o.model.resolution / o.ggdr.res)) : 1;
}

/**
 * Options stored by older versions → what they effectively trained with, so they still load and
 * resume: no metricsKimg meant metrics at every snapshot; a GGDR translation that was not a multiple
 * of resolution/ggdrRes was silently rounded down to one (now rejected for new runs).
 */
export function upgradeStoredOptions(o: TrainingOptions): TrainingOptions {
  const out: TrainingOptions = { ...o, augment: { ...o.augment } };
  if (out.metricsKimg === undefined) out.metricsKimg = 0;
  if (out.metrics === undefined) out.metrics = [];
  if (out.ggdr?.enabled && out.model && Number.isInteger(out.augment.translate) && out.augment.translate > 0) {
    const unit = translateUnit(out);
    out.augment.translate = Math.floor(out.augment.translate / unit) * unit;
  }
  return out;
}

/** Short description for the run folder name, from the choices that matter (StyleGAN2-ADA's desc). */
export function describeOptions(o: TrainingOptions): string {
  const data = o.data === 'mnist' ? 'mnist' : o.data.replace(/[\\/]+$/, '').split(/[\\/]/).pop()!.replace(/\.zip$/i, '');
  const parts = [data, o.preset, o.ggdr.enabled ? 'ggdr' : 'noggdr', `kimg${o.kimg}`, `batch${o.model.batch}`, `seed${o.seed}`];
  if (o.desc) parts.push(o.desc);
  return parts.join('-').replace(/[^A-Za-z0-9._-]+/g, '_');
}
