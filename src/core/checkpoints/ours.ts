/**
 * GAN Inspector's own `network-snapshot-*` folders as inspectable networks. Our Generator and
 * Discriminator already have the InspectGenerator / InspectDiscriminator shape.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { discriminatorFrom, loadNetworks, readSnapshot, type SnapshotMeta } from '../training/snapshot';
import type { Checkpoint, CheckpointInfo, InspectDiscriminator, LoadCheckpointOptions } from './types';

export function ourInfo(dir: string, meta: SnapshotMeta): CheckpointInfo {
  const o = meta.options;
  return {
    origin: 'gan-inspector',
    path: dir,
    name: path.basename(dir),
    runDir: path.dirname(dir),
    kimg: meta.kimg,
    resolution: o.model.resolution,
    channels: o.model.channels,
    cDim: 0,
    ggdrRes: o.ggdr.enabled ? o.ggdr.res : null,
    dataset: { path: o.data, maxImages: o.maxImages, xflip: o.datasetXflip },
    options: o,
  };
}

export async function loadOurCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  const nets = await loadNetworks(dir, { which: opts.which, withD: opts.withD });
  return { info: ourInfo(dir, nets.meta), G: nets.G, D: nets.D, dispose: () => nets.dispose() };
}

/** D (with its GGDR decoder when the run had one) of a snapshot folder. */
export async function loadOurDiscriminator(dir: string, info: CheckpointInfo, genChannels: (r: number) => number): Promise<InspectDiscriminator> {
  const { tensors } = await readSnapshot(dir, (k) => k.startsWith('D/'));
  try {
    return discriminatorFrom(info.options!, tensors, genChannels, `snapshot ${path.basename(dir)}`);
  } catch (e) {
    throw new UserError(`Cannot load the discriminator of ${dir}: ${(e as Error).message}`, 'The snapshot does not match its own options; it may be corrupt.');
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
