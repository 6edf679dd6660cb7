/**
 * The body of an inference thread (src/worker/inferenceWorkerThread.ts): its own tfjs backend, the
 * generators the main thread asked it to hold (built from an official pickle's record posted to it, or
 * loaded from our snapshot folder), and renders of its shard of each request's samples with the same
 * code, batch boundaries and noise seeds as the single-threaded path — so the pixels are the same.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/backend/backend';
import { loadCheckpoint, officialGeneratorFrom, type InspectGenerator } from '../../../core/checkpoints/index';
import { isCancelled } from '../../../core/errors';
import { renderLatents } from '../../../core/analysis/samples';
import { MessageHandler } from '../../../shared/protocol/rpc';
import { SHARD_CANCELLED, type GeneratorMeta, type PoolApi, type ShardRender, type ThreadApi } from './protocol';
import type { NetworkName } from '../../../shared/protocol/inference';

/** The thread's end of its port (parentPort). */
export interface ThreadPort {
  postMessage(m: unknown): void;
  on(event: 'message', f: (m: unknown) => void): unknown;
}

interface Held {
  G: InspectGenerator;
  snapshot: string;
  which: NetworkName;
}

function metaOf(G: InspectGenerator): GeneratorMeta {
  return {
    zDim: G.zDim, cDim: G.cDim, resolution: G.resolution, imgChannels: G.imgChannels,
    resolutions: [...G.resolutions], channels: G.resolutions.map((r) => G.channelsAt(r)),
  };
}

/**
 * Test hook: GAN_INSPECTOR_FAULT_INFERENCE_THREAD=<index> makes inference thread <index> (0-based) exit
 * when asked to render, as a crashed thread would.
 */
function faultAt(index: number): boolean {
  const spec = process.env.GAN_INSPECTOR_FAULT_INFERENCE_THREAD;
  return spec !== undefined && spec !== '' && Number(spec) === index;
}

export function runInferenceThread(port: ThreadPort, threadId: number, index: number): void {
  const models = new Map<string, Held>();
  const calls = new Map<string, AbortController>();
  let backend = 'none';
  const channel = new MessageHandler<ThreadApi, PoolApi>({
    post: (m) => port.postMessage(m),
    onHandlerError: (name, e) => console.error(`inference thread ${threadId}: '${name}' failed: ${(e as Error)?.stack ?? String(e)}`),
  });
  const held = (key: string): Held => {
    const h = models.get(key);
    if (!h) throw new Error(`inference thread ${threadId} does not hold ${key}`);
    return h;
  };

  channel.on('cancel', ({ call }) => calls.get(call)?.abort());
  channel.onRequest('init', async ({ backend: name }) => {
    const b = await initBackend(name);
    backend = `${b.name} ${b.version}`;
    return { backend };
  });
  channel.onRequest('load', async ({ key, source }) => {
    const had = models.get(key);
    if (had) return { meta: metaOf(had.G) };
    if (source.kind === 'official') {
      const G = officialGeneratorFrom(source.record, source.which);
      models.set(key, { G, snapshot: source.snapshot, which: source.which });
      return { meta: metaOf(G) };
    }
    const nets = await loadCheckpoint(source.snapshot, { which: source.which });
    models.set(key, { G: nets.G, snapshot: source.snapshot, which: source.which });
    return { meta: metaOf(nets.G), info: nets.info };
  });
  channel.onRequest('latents', async ({ key, seeds }) => {
    const z = held(key).G.latents(seeds);
    try {
      return (await z.data()) as Float32Array;
    } finally {
      z.dispose();
    }
  });
  channel.onRequest('render', (p) => renderShard(p));
  channel.onRequest('release', ({ key }) => {
    const h = models.get(key);
    h?.G.dispose();
    models.delete(key);
    return { released: !!h };
  });
  channel.onRequest('stats', () => {
    const m = tf.memory();
    return { threadId, backend, numTensors: m.numTensors, numBytes: m.numBytes, models: [...models.values()].map((h) => ({ snapshot: h.snapshot, which: h.which })) };
  });

  async function renderShard(p: ShardRender) {
    if (faultAt(index)) process.exit(3);
    const { G } = held(p.key);
    const ac = new AbortController();
    calls.set(p.call, ac);
    const z = 'seeds' in p.input ? G.latents(p.input.seeds) : tf.tensor2d(p.input.z, [p.input.n, G.zDim]);
    try {
      const labels = p.labels;
      const r = await renderLatents(G, z, {
        truncationPsi: p.psi, noiseMode: p.noiseMode, noiseSeed: p.noiseSeed, batchSize: p.batchSize,
        featureRes: p.featureRes, maxRes: p.maxRes, signal: ac.signal, label: labels ? (i) => labels[i] : undefined,
        onProgress: (done) => void channel.emit('progress', { call: p.call, done }),
      });
      return { images: r.images, features: [...r.features].map(([res, f]) => ({ res, ...f })) };
    } catch (e) {
      throw ac.signal.aborted || isCancelled(e) ? new Error(SHARD_CANCELLED) : e;
    } finally {
      z.dispose();
      calls.delete(p.call);
    }
  }

  port.on('message', (m) => channel.handle(m));
}
