/**
 * What an official pickle is — resolution, channels, classes, GGDR decoder, dataset — read from its
 * structure without its weights and without tfjs (the extension host uses it for the Runs view and
 * the panels before any network is loaded).
 */
import * as path from 'node:path';
import { UserError } from '../errors';
import { readOfficialCheckpoint } from '../official/pickle/index';
import type { OfficialCheckpoint, OfficialModule, PyPlain } from '../official/types';
import type { CheckpointInfo } from './types';
import { SNAP_PKL_RE } from '../runs/runDir';

const num = (v: PyPlain | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** What the pickle says about the model (no tensors needed). */
export function officialInfo(file: string, ck: OfficialCheckpoint): CheckpointInfo {
  const g = ck.G_ema ?? ck.G;
  const anyNet = g ?? ck.D;
  if (!anyNet) throw new UserError(`${file} holds no generator or discriminator.`);
  const attr = (m: OfficialModule | undefined, k: string) => (m ? num(m.attrs[k]) : undefined);
  const resolution = attr(g, 'img_resolution') ?? attr(ck.D, 'img_resolution') ?? 0;
  const channels = attr(g, 'img_channels') ?? attr(ck.D, 'img_channels') ?? 0;
  const cDim = attr(g, 'c_dim') ?? attr(ck.D, 'c_dim') ?? 0;
  const decRes = ck.D?.attrs.dec_resolutions;
  const ggdrRes = Array.isArray(decRes) && decRes.length ? Math.max(...decRes.filter((x): x is number => typeof x === 'number')) : null;
  const tsk = ck.trainingSetKwargs;
  const m = SNAP_PKL_RE.exec(path.basename(file));
  return {
    origin: 'official',
    path: file,
    name: path.basename(file),
    runDir: path.dirname(file),
    kimg: m ? Number(m[1]) : null,
    resolution,
    channels,
    cDim,
    ggdrRes: ggdrRes !== null && Number.isFinite(ggdrRes) ? ggdrRes : null,
    dataset: tsk && typeof tsk.path === 'string'
      ? { path: tsk.path, maxImages: num(tsk.max_size) ?? undefined, xflip: tsk.xflip === true, useLabels: tsk.use_labels === true }
      : null,
  };
}

/** Reads what a pickle is (resolution, channels, classes, GGDR decoder) without reading its weights. */
export async function describeOfficialPickle(file: string): Promise<CheckpointInfo> {
  const ck = await readOfficialCheckpoint(file, { networks: ['G_ema', 'D'], metadataOnly: true });
  return officialInfo(file, ck);
}
