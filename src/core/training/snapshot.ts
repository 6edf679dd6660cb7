/**
 * Network snapshots: `network-snapshot-<kimg6>/` folders holding `snapshot.json` (config, progress,
 * tfjs weights manifest) and `weights.bin` (tfjs's weights-manifest format: raw little-endian
 * float32 in manifest order). Written atomically (temp folder + rename): a crash mid-write never
 * leaves a half snapshot under the final name, so the previous one stays the latest good one.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions, type TrainingOptions, upgradeStoredOptions, validateOptions } from '../config/options';
import { UserError } from '../errors';
import { Discriminator } from '../networks/discriminator';
import { Generator } from '../networks/generator';
import { writeDirAtomic } from '../runs/fsAtomic';
import { faultPoint } from '../runs/faultPoint';
import type { Moments } from './stats';
import type { GanTrainer } from './trainer';

export const SNAPSHOT_JSON = 'snapshot.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface SnapshotMeta {
  format: 'gan-inspector-snapshot';
  formatVersion: 1;
  createdAt: string;
  kimg: number;
  nimg: number;
  step: number;
  tick: number;
  options: TrainingOptions;
  backend: SnapshotBackend;
  optimizer: { G: { t: number }; D: { t: number } };
  /** tfjs weights manifest: one group, one file. */
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  /** Byte length of weights.bin, to detect truncation before decoding. */
  weightsBytes: number;
  /** SHA-256 (hex) of weights.bin, verified on load (absent in snapshots of older versions). */
  weightsSha256?: string;
  /** Training-loop progress within the current tick (absent in snapshots of older versions). */
  loop?: LoopState;
}

/** Which backend wrote a snapshot. */
export type SnapshotBackend = { name: string; version?: string; threads?: number; notes?: string[] };

/** What saveSnapshot records besides the trainer's own state. */
export interface SnapshotInfo {
  tick: number;
  backend: SnapshotBackend;
  loop?: LoopState;
}

/** What --resume needs besides the networks to continue a tick exactly where it stopped. */
export interface LoopState {
  /** nimg at which the current tick started (= nimg at a tick boundary). */
  tickStartNimg: number;
  /** Seconds spent in the current tick before the snapshot (timing stats only). */
  tickElapsedSec: number;
  /** Seconds since training started (Timing/total_sec continues from it). */
  totalSec: number;
  maintenanceSec: number;
  /** Stats reported since the last stats.jsonl line, as running moments. */
  pendingStats: Record<string, Moments>;
  /** nimg from which the next regular snapshot computes metrics (see metricsKimg). */
  metricsNextNimg?: number;
}

/** saveSnapshot refused a state holding NaN/Inf: nothing was written. */
export class NonFiniteStateError extends Error {
  constructor(readonly names: string[], readonly total: number) {
    super(`${names.length} of ${total} tensors hold NaN/Inf (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`);
    this.name = 'NonFiniteStateError';
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Names of the float32 tensors of an encoded weights buffer that hold a NaN/Inf value. */
function nonFiniteEntries(data: ArrayBuffer, specs: tf.io.WeightsManifestEntry[]): string[] {
  const bad: string[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const bytes = size * (s.dtype === 'bool' ? 1 : 4);
    if (s.dtype === 'float32') {
      const v = new Float32Array(data, offset, size);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) { bad.push(s.name); break; }
      }
    }
    offset += bytes;
  }
  return bad;
}

/** Everything a snapshot holds, named: G/…, G_ema/…, D/…, optG/{m,v}/…, optD/{m,v}/… */
function namedState(t: GanTrainer): Array<{ name: string; tensor: tf.Tensor }> {
  const pre = (p: string, xs: Array<{ name: string; tensor: tf.Tensor }>) => xs.map((x) => ({ name: `${p}/${x.name}`, tensor: x.tensor }));
  return [
    ...pre('G', t.G.params.named()),
    ...pre('G_ema', t.G_ema.params.named()),
    ...pre('D', t.D.params.named()),
    ...t.optG.named('optG'),
    ...t.optD.named('optD'),
  ];
}

/**
 * Writes the trainer's full state to `<runDir>/<name>/`. Every tensor is checked on the bytes being
 * written: a state holding NaN/Inf throws NonFiniteStateError and writes nothing, so every snapshot
 * on disk is a finite one.
 */
export async function saveSnapshot(
  runDir: string,
  name: string,
  t: GanTrainer,
  info: SnapshotInfo,
): Promise<string> {
  const state = namedState(t);
  const { data, specs } = await tf.io.encodeWeights(state);
  const bad = nonFiniteEntries(data, specs);
  if (bad.length) throw new NonFiniteStateError(bad, state.length);
  const meta: SnapshotMeta = {
    format: 'gan-inspector-snapshot',
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    kimg: t.nimg / 1000,
    nimg: t.nimg,
    step: t.step,
    tick: info.tick,
    options: t.opts,
    backend: info.backend,
    optimizer: { G: { t: t.optG.t }, D: { t: t.optD.t } },
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
    weightsBytes: data.byteLength,
    weightsSha256: sha256(new Uint8Array(data)),
  };
  if (info.loop) meta.loop = info.loop;
  const finalDir = path.join(runDir, name);
  await writeDirAtomic(finalDir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, WEIGHTS_BIN), new Uint8Array(data));
    faultPoint('snapshot-mid');
    await fsp.writeFile(path.join(tmp, SNAPSHOT_JSON), JSON.stringify(meta, null, 1));
  });
  return finalDir;
}

/** Reads and validates a snapshot folder; returns its metadata and named tensors (caller disposes). */
export async function readSnapshot(dir: string, only?: (name: string) => boolean): Promise<{ meta: SnapshotMeta; tensors: Record<string, tf.Tensor> }> {
  if (dir.endsWith('.pkl')) {
    throw new UserError(`${path.basename(dir)} is an official PyTorch pickle and cannot be loaded by GAN Inspector.`, 'Open a network-snapshot-* folder written by GAN Inspector; for official runs the saved fakes*.png grids are shown instead.');
  }
  let metaText: string;
  try {
    metaText = await fsp.readFile(path.join(dir, SNAPSHOT_JSON), 'utf8');
  } catch (e) {
    throw new UserError(`Snapshot ${dir} has no readable ${SNAPSHOT_JSON} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, 'Pick a complete network-snapshot-* folder; an interrupted save never replaces the previous snapshot.');
  }
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(metaText) as SnapshotMeta;
  } catch {
    throw new UserError(`Snapshot ${dir}: ${SNAPSHOT_JSON} is corrupt (not valid JSON).`, 'Use an earlier snapshot of the run.');
  }
  if (meta?.format !== 'gan-inspector-snapshot' || !Array.isArray(meta.weightsManifest) || !meta.options) {
    throw new UserError(`Snapshot ${dir}: ${SNAPSHOT_JSON} is not a GAN Inspector snapshot.`, 'Pick a network-snapshot-* folder written by GAN Inspector.');
  }
  const opts = resolveOptions(upgradeStoredOptions(meta.options));
  validateOptions(opts);
  meta.options = opts;
  let buf: Buffer;
  try {
    buf = await fsp.readFile(path.join(dir, WEIGHTS_BIN));
  } catch (e) {
    throw new UserError(`Snapshot ${dir} has no readable ${WEIGHTS_BIN} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, 'Use an earlier snapshot of the run.');
  }
  const specs = meta.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.byteLength !== expected || buf.byteLength !== meta.weightsBytes) {
    throw new UserError(`Snapshot ${dir}: ${WEIGHTS_BIN} is truncated or corrupt (${buf.byteLength} bytes, expected ${expected}).`, 'Use an earlier snapshot of the run.');
  }
  if (typeof meta.weightsSha256 === 'string' && sha256(buf) !== meta.weightsSha256) {
    throw new UserError(`Snapshot ${dir}: ${WEIGHTS_BIN} does not match its checksum (it was changed or damaged after it was saved).`, 'Use an earlier snapshot of the run.');
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  // Every snapshot we write is finite (saveSnapshot checks), so NaN/Inf here means damage, not training.
  const nonFinite = nonFiniteEntries(ab, specs);
  if (nonFinite.length) {
    throw new UserError(`Snapshot ${dir}: ${nonFinite.length} of ${specs.length} weight tensors hold NaN/Inf (${nonFinite.slice(0, 3).join(', ')}${nonFinite.length > 3 ? ', …' : ''}); it would give blank images.`, 'Use an earlier snapshot of the run.');
  }
  const all = tf.io.decodeWeights(ab, specs);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(all)) {
    if (!only || only(k)) tensors[k] = t;
    else t.dispose();
  }
  return { meta, tensors };
}

function strip(tensors: Record<string, tf.Tensor>, prefix: string): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith(prefix + '/')) out[k.slice(prefix.length + 1)] = t;
  return out;
}

/** Restores a trainer (for --resume) from a snapshot: weights, optimiser state, step and nimg. */
export async function loadTrainerState(t: GanTrainer, dir: string): Promise<SnapshotMeta> {
  const { meta, tensors } = await readSnapshot(dir);
  try {
    const what = `snapshot ${path.basename(dir)}`;
    t.G.params.load(strip(tensors, 'G'), what);
    t.G_ema.params.load(strip(tensors, 'G_ema'), what);
    t.D.params.load(strip(tensors, 'D'), what);
    t.optG.load(tensors, 'optG', meta.optimizer.G.t);
    t.optD.load(tensors, 'optD', meta.optimizer.D.t);
    t.step = meta.step;
    t.nimg = meta.nimg;
  } catch (e) {
    throw e instanceof UserError ? e : new UserError(`Cannot resume from ${dir}: ${(e as Error).message}`, 'The snapshot was written with different network options; resume with the options of that run.');
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return meta;
}

/** Networks loaded for inference (viewer, generate, cluster). */
export interface LoadedNetworks {
  meta: SnapshotMeta;
  /** 'G_ema' (default, what evaluation uses) or 'G'. */
  G: Generator;
  /** Present when asked for; includes the GGDR decoder when the run had GGDR on. */
  D: Discriminator | null;
  dispose(): void;
}

/** D of a snapshot from its tensors (D/…), with the GGDR decoder when the run had GGDR. Throws on a shape mismatch (D disposed). */
export function discriminatorFrom(o: TrainingOptions, tensors: Record<string, tf.Tensor>, genChannels: (r: number) => number, what: string): Discriminator {
  const D = new Discriminator(o.model, o.seed, o.ggdr.enabled ? { res: o.ggdr.res, genChannels } : null, 'D');
  try {
    D.params.load(strip(tensors, 'D'), what);
    return D;
  } catch (e) {
    D.dispose();
    throw e;
  }
}

export async function loadNetworks(dir: string, opts: { which?: 'G' | 'G_ema'; withD?: boolean } = {}): Promise<LoadedNetworks> {
  const which = opts.which ?? 'G_ema';
  const { meta, tensors } = await readSnapshot(dir, (k) => k.startsWith(which + '/') || (!!opts.withD && k.startsWith('D/')));
  const o = meta.options;
  const G = new Generator(o.model, o.seed, which);
  let D: Discriminator | null = null;
  try {
    const what = `snapshot ${path.basename(dir)}`;
    G.params.load(strip(tensors, which), what);
    if (opts.withD) D = discriminatorFrom(o, tensors, (r) => G.channelsAt(r), what);
  } catch (e) {
    G.dispose();
    D?.dispose();
    throw e instanceof UserError ? e : new UserError(`Cannot load ${dir}: ${(e as Error).message}`, 'The snapshot does not match its own options; it may be corrupt.');
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { meta, G, D, dispose: () => { G.dispose(); D?.dispose(); } };
}
