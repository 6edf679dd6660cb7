/**
 * What the checkpoint viewer and segmentation panels know about a snapshot before asking the inference
 * process for anything: read from snapshot.json and the run folder with plain fs (no tfjs, no vscode),
 * official .pkl files through their safe reader (structure only, no weights), with a message for people
 * when it cannot be loaded (a pickle of another kind, missing or truncated files).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { blockResolutions } from '../../core/config/options';
import { readRun } from '../../core/runs/readRun';
import { checkSnapshotFolder } from '../../core/runs/snapshotCheck';
import { describeOfficialPickle } from '../../core/checkpoints/officialInfo';
import { UserError } from '../../core/errors';
import { snapshotCompatProblem } from '../../core/runs/snapshotCompat';
import type { SnapshotPanelInfo } from '../../shared/protocol/panels/viewer';
import type { SegmentationInfo } from '../../shared/protocol/panels/segmentation';
import { isObj } from '../../shared/protocol/schema';

const SNAP_DIR_RE = /^network-snapshot-(\d+(?:\.\d+)?)(\.pkl)?$/;

/** The snapshot folder a path names: the folder itself, or the folder of its snapshot.json / weights.bin. */
export function snapshotDirOf(p: string): string {
  const abs = path.resolve(p);
  const base = path.basename(abs);
  return base === 'snapshot.json' || base === 'weights.bin' ? path.dirname(abs) : abs;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Describes a snapshot folder (or .pkl); never throws — problems become `error`. */
export async function describeSnapshot(p: string): Promise<SnapshotPanelInfo> {
  const dir = snapshotDirOf(p);
  const runDir = path.dirname(dir);
  const name = path.basename(dir);
  const m = SNAP_DIR_RE.exec(name);
  const info: SnapshotPanelInfo = {
    name, dir, runDir, runName: path.basename(runDir), kimg: m ? Number(m[1]) : null,
    resolution: null, channels: null, ggdr: null, blockResolutions: [],
  };
  if (name.endsWith('.pkl')) return describePickle(dir, info);
  let text: string;
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) {
      info.error = `${dir} is not a snapshot folder. GAN Inspector snapshots are network-snapshot-* folders holding snapshot.json and weights.bin.`;
      return info;
    }
    text = await fsp.readFile(path.join(dir, 'snapshot.json'), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    info.error = code === 'ENOENT'
      ? `Snapshot not found or incomplete: ${dir} has no snapshot.json.`
      : `Cannot read ${path.join(dir, 'snapshot.json')}: ${(e as Error).message}`;
    return info;
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    info.error = `${name}/snapshot.json is corrupt (not valid JSON). Use an earlier snapshot of the run.`;
    return info;
  }
  if (!isObj(meta) || meta.format !== 'gan-inspector-snapshot' || !isObj(meta.options) || !isObj(meta.options.model)) {
    info.error = `${name}/snapshot.json is not a GAN Inspector snapshot.`;
    return info;
  }
  const o = meta.options;
  const model = o.model as Record<string, unknown>;
  info.kimg = num(meta.kimg) ?? info.kimg;
  info.resolution = num(model.resolution);
  info.channels = num(model.channels);
  info.preset = typeof o.preset === 'string' ? o.preset : undefined;
  info.dataset = typeof o.data === 'string' ? o.data : undefined;
  info.createdAt = typeof meta.createdAt === 'string' ? meta.createdAt : undefined;
  const g = isObj(o.ggdr) ? o.ggdr : {};
  info.ggdr = g.enabled === true ? { res: num(g.res) ?? 0, weight: num(g.weight) ?? 0 } : null;
  if (info.resolution !== null && Number.isInteger(info.resolution) && info.resolution >= 4 && info.resolution <= 4096) {
    info.blockResolutions = blockResolutions(info.resolution);
  }
  const check = await checkSnapshotFolder(dir);
  if (!check.loadable) {
    info.error = `${name} cannot be loaded: ${check.reason ?? 'incomplete snapshot'}. Use an earlier snapshot of the run.`;
    return info;
  }
  // Weights vs the networks the options describe (a snapshot of another preset, an edited snapshot.json): said before any render.
  const compat = snapshotCompatProblem(o, meta.weightsManifest);
  if (compat) info.error = `${name} cannot be loaded: ${compat}. Restore the snapshot.json the trainer wrote, or use another snapshot.`;
  return info;
}

/** Pickle descriptions by path, kept while the file's size and mtime stay the same (panels ask on every open and reload). */
const pickleInfoCache = new Map<string, { key: string; info: Awaited<ReturnType<typeof describeOfficialPickle>> }>();

async function describePickleCached(file: string): Promise<Awaited<ReturnType<typeof describeOfficialPickle>>> {
  const st = await fsp.stat(file);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = pickleInfoCache.get(file);
  if (hit?.key === key) return hit.info;
  const info = await describeOfficialPickle(file);
  pickleInfoCache.set(file, { key, info });
  return info;
}

/** An official StyleGAN2-ADA / GGDR pickle: what its structure says (read safely, weights not loaded). */
async function describePickle(file: string, info: SnapshotPanelInfo): Promise<SnapshotPanelInfo> {
  try {
    const d = await describePickleCached(file);
    info.origin = 'official';
    info.resolution = d.resolution;
    info.channels = d.channels;
    info.classes = d.cDim;
    info.ggdr = d.ggdrRes !== null ? { res: d.ggdrRes, weight: 10 } : null;
    info.dataset = d.dataset?.path;
    if (Number.isInteger(d.resolution) && d.resolution >= 4 && d.resolution <= 4096) info.blockResolutions = blockResolutions(d.resolution);
    try {
      info.createdAt = new Date((await fsp.stat(file)).mtimeMs).toISOString();
    } catch {
      /* the date is only shown */
    }
  } catch (e) {
    info.error = `${path.basename(file)} cannot be opened: ${(e as Error).message}`;
  }
  return info;
}

/** describeSnapshot plus every snapshot of its run (for the across-snapshots strip). */
export async function describeForSegmentation(p: string): Promise<SegmentationInfo> {
  const info = await describeSnapshot(p);
  let snapshots: SegmentationInfo['snapshots'] = [];
  try {
    const run = await readRun(info.runDir, { checkPid: false });
    snapshots = run.snapshots.map((s) => ({ path: s.path, name: s.name, kimg: s.kimg, loadable: s.loadable, ...(s.reason ? { reason: s.reason } : {}) }));
  } catch {
    // A snapshot outside a readable run folder: the strip just has nothing to walk.
  }
  return { ...info, snapshots };
}

/**
 * The `label` field for the inference process: the class of a conditional model (checked against its
 * classes), nothing for an unconditional one (a label sent to one is refused, not ignored).
 */
export function labelFor(info: Pick<SnapshotPanelInfo, 'classes' | 'name'>, label: number | undefined): { label?: number } {
  const classes = info.classes ?? 0;
  if (label === undefined) return classes > 0 ? { label: 0 } : {};
  if (classes <= 0) throw new UserError(`${info.name} is not a conditional model; it takes no class.`);
  if (label >= classes) throw new UserError(`Class ${label} does not exist: ${info.name} has classes 0–${classes - 1}.`);
  return { label };
}

/** File name for an exported grid, inside the run folder: viewer-<snapshot>-seeds<a>-<b>-psi<ψ>-<G>[-class<c>].png. */
export function exportFileName(info: Pick<SnapshotPanelInfo, 'name'>, seeds: number[], psi: number, which: string, noise: string, label?: number): string {
  const snap = info.name.replace(/^network-snapshot-/, '').replace(/\.pkl$/, '');
  const range = seeds.length === 1 ? `${seeds[0]}` : `${seeds[0]}-${seeds[seeds.length - 1]}`;
  const n = seeds.length > 1 && seeds[seeds.length - 1] - seeds[0] + 1 !== seeds.length ? `-n${seeds.length}` : '';
  return `viewer-${snap}-seeds${range}${n}-psi${psi}-${which}${label !== undefined ? `-class${label}` : ''}${noise === 'random' ? '-noise' : ''}.png`;
}
