/**
 * The checkpoint viewer's requests: a sample grid (`render`), an interpolation strip between two
 * seeds (`interpolate`), and a grid written as a PNG (`exportGrid`).
 */
import * as path from 'node:path';
import type { RenderOptions } from '../../../core/analysis/samples';
import { UserError } from '../../../core/errors';
import { makeGrid, writePngAtomic } from '../../../core/image/grid';
import type { GenParams, InferenceProcessApi, InterpMode, InterpResult, RenderResult } from '../../../shared/protocol/inference';
import { batchFor, type Generation, type RenderInput } from '../generation';
import { loadProgress, pngDataUrl, type HandlerContext, type JobScope } from '../context';

type Params<K extends keyof InferenceProcessApi['requests']> = InferenceProcessApi['requests'][K]['params'];

/** Renders `input` with progress events. */
function generate(ctx: HandlerContext, gen: Generation, input: RenderInput, p: GenParams, job: JobScope, what: string): Promise<Uint8Array[]> {
  const o: RenderOptions = {
    truncationPsi: p.psi,
    noiseMode: p.noiseMode,
    noiseSeed: p.noiseSeed,
    label: p.label,
    batchSize: batchFor(gen.G),
    signal: job.signal,
    onProgress: (done, total) => ctx.emit.progress({ jobId: job.jobId, done, total, message: `${what} ${done}/${total}` }),
  };
  return gen.render(input, o).then((r) => r.images);
}

export async function render(ctx: HandlerContext, p: Params<'render'>, job: JobScope): Promise<RenderResult> {
  const { gen, loaded } = await ctx.cache.generator(p.snapshot, p.which, job.epoch, job.signal, loadProgress(ctx, p.jobId));
  const t0 = performance.now();
  const images = await generate(ctx, gen, { seeds: p.seeds }, p, job, 'rendering');
  const { resolution, imgChannels: channels } = gen.G;
  const out = images.map((im, i) => ({ seed: p.seeds[i], src: pngDataUrl(im, resolution, channels) }));
  return { images: out, resolution, channels, ms: performance.now() - t0, loaded, backend: ctx.backendName() };
}

export async function interpolate(ctx: HandlerContext, p: Params<'interpolate'>, job: JobScope): Promise<InterpResult> {
  const { gen } = await ctx.cache.generator(p.snapshot, p.which, job.epoch, job.signal, loadProgress(ctx, p.jobId));
  const t0 = performance.now();
  const zDim = gen.G.zDim;
  const zz = await gen.latents([p.seedA, p.seedB]);
  const a = zz.slice(0, zDim), b = zz.slice(zDim);
  const ts = Array.from({ length: p.steps }, (_, i) => i / (p.steps - 1));
  const data = new Float32Array(p.steps * zDim);
  ts.forEach((t, i) => data.set(interp(a, b, t, p.mode), i * zDim));
  const images = await generate(ctx, gen, { z: data }, p, job, 'interpolating');
  const { resolution, imgChannels: channels } = gen.G;
  return { frames: images.map((im, i) => ({ t: ts[i], src: pngDataUrl(im, resolution, channels) })), mode: p.mode, ms: performance.now() - t0 };
}

export async function exportGrid(ctx: HandlerContext, p: Params<'exportGrid'>, job: JobScope): Promise<{ file: string; width: number; height: number }> {
  if (!path.isAbsolute(p.file)) throw new UserError(`Export path must be absolute: ${p.file}`);
  const { gen } = await ctx.cache.generator(p.snapshot, p.which, job.epoch, job.signal, loadProgress(ctx, p.jobId));
  const images = await generate(ctx, gen, { seeds: p.seeds }, p, job, 'exporting');
  const { resolution, imgChannels: channels } = gen.G;
  const grid = makeGrid(images, resolution, channels as 1 | 3, Math.min(p.cols, p.seeds.length));
  await writePngAtomic(p.file, grid);
  return { file: p.file, width: grid.width, height: grid.height };
}

/** Spherical interpolation of two vectors (falls back to lerp when they are (anti)parallel). */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  const cos = Math.max(-1, Math.min(1, dot / Math.max(Math.sqrt(na * nb), 1e-12)));
  const omega = Math.acos(cos);
  if (Math.sin(omega) < 1e-6) return lerp(a, b, t);
  const out = new Float32Array(a.length);
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

export function interp(a: Float32Array, b: Float32Array, t: number, mode: InterpMode): Float32Array {
  return mode === 'slerp' ? slerp(a, b, t) : lerp(a, b, t);
}
