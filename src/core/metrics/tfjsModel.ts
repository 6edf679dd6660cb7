/**
 * Image classifiers saved as TF.js models (graph models from tensorflowjs_converter, e.g. an
 * Inception-v3 from TF Hub, or Keras-style layers models) used as feature extractors.
 *
 * - Local: `model.json` (or its folder) read through an IOHandler over node fs (tfjs without
 *   tfjs-node has no file:// handler).
 * - http(s) URL: model.json and its weight shards are downloaded once, with progress, into
 *   `<cacheDir>/models/<hash of URL>/` (written atomically), then read from there.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CancelledError, UserError, isCancelled, isUserError, throwIfAborted } from '../errors';
import { writeDirAtomic, writeFileAtomic } from '../runs/fsAtomic';
import { adaptImages, type FeatureExtractor, toFeatureMatrix } from './extractor';
import { defaultCacheDir } from './lenet';

export type ModelKind = 'graph' | 'layers';

const MODEL_JSON = 'model.json';

/** Bytes per element of a stored weight (quantised weights are stored in their quantised dtype). */
function storedBytes(spec: tf.io.WeightsManifestEntry): number | undefined {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const dt = (spec.quantization?.dtype ?? spec.dtype) as string;
  const per: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int16: 2, complex64: 8 };
  return per[dt] !== undefined ? size * per[dt] : undefined; // strings: variable length
}

/** Expected total shard bytes of a manifest, or undefined when it cannot be known (string weights). */
function expectedWeightBytes(manifest: tf.io.WeightsManifestConfig): number | undefined {
  let total = 0;
  for (const g of manifest) {
    for (const w of g.weights) {
      const b = storedBytes(w);
      if (b === undefined) return undefined;
      total += b;
    }
  }
  return total;
}

/** Rejects shard paths that would escape the model folder. */
function checkShardPath(p: unknown, where: string): string {
  if (typeof p !== 'string' || !p || path.isAbsolute(p) || /^[a-z]+:/i.test(p) || p.split(/[\\/]/).some((s) => s === '..')) {
    throw new UserError(`${where}: weight file path ${JSON.stringify(p)} is not a plain relative path.`, 'Use a model.json written by tensorflowjs_converter or model.save().');
  }
  return p;
}

function parseModelJson(text: string, where: string): tf.io.ModelJSON {
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch {
    throw new UserError(`${where} is not valid JSON.`, 'Point to the model.json of a TF.js model (tensorflowjs_converter output).');
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new UserError(`${where} is not a TF.js model.json (no modelTopology).`, 'Point to the model.json of a TF.js graph or layers model.');
  }
  if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) {
    throw new UserError(`${where}: weightsManifest is not a list.`);
  }
  for (const g of json.weightsManifest ?? []) for (const p of g.paths ?? []) checkShardPath(p, where);
  return json;
}

/** 'graph' for converter graph models, 'layers' for Keras-style layers models. */
export function modelKindOf(json: tf.io.ModelJSON): ModelKind {
  const topo = json.modelTopology as Record<string, unknown>;
  if (json.format === 'graph-model' || Array.isArray(topo?.node)) return 'graph';
  return 'layers';
}

/**
 * tf.io handler over node fs for `<dir>/model.json` and its shards: load() validates shard sizes;
 * save() writes weights.bin then model.json, each atomically. `onLoaded` receives the raw bytes (for hashing).
 */
export function fileSystemHandler(modelJsonPath: string, onLoaded?: (json: string, weights: Uint8Array) => void): tf.io.IOHandler {
  const dir = path.dirname(modelJsonPath);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await fsp.readFile(modelJsonPath, 'utf8');
      } catch (e) {
        throw new UserError(`Cannot read ${modelJsonPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, 'Check the model path.');
      }
      const json = parseModelJson(text, modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const parts: Uint8Array[] = [];
        for (const g of manifest) {
          for (const p of g.paths) {
            const file = path.join(dir, p);
            try {
              parts.push(new Uint8Array(await fsp.readFile(file)));
            } catch (e) {
              throw new UserError(`Weight file ${file} of ${modelJsonPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
                'Keep model.json and its .bin shards together in one folder.');
            }
          }
        }
        const total = parts.reduce((s, p) => s + p.byteLength, 0);
        const want = expectedWeightBytes(manifest);
        if (want !== undefined && total !== want) {
          throw new UserError(`The weight files of ${modelJsonPath} hold ${total} bytes but its manifest describes ${want}: truncated or mismatched shards.`,
            'Download or copy the model again.');
        }
        const data = new Uint8Array(total);
        let off = 0;
        for (const p of parts) { data.set(p, off); off += p.byteLength; }
        onLoaded?.(text, data);
        return [tf.io.getWeightSpecs(manifest), data.buffer];
      });
    },
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await fsp.mkdir(dir, { recursive: true });
      const weightsFile = 'weights.bin';
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) json.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer) json.modelInitializer = artifacts.modelInitializer;
      await writeFileAtomic(path.join(dir, weightsFile), new Uint8Array(data));
      await writeFileAtomic(modelJsonPath, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Sources: local paths and URLs

export interface DownloadProgress {
  /** File being fetched (model.json or a shard). */
  file: string;
  fileIndex: number;
  files: number;
  bytes: number;
  /** From Content-Length, when the server sends it. */
  totalBytes?: number;
}

export interface ModelSourceOptions {
  /** Download cache root (models go to <cacheDir>/models/<hash>/); default ~/.cache/gan-inspector. */
  cacheDir?: string;
  signal?: AbortSignal;
  onDownloadProgress?: (p: DownloadProgress) => void;
  onLog?: (line: string) => void;
  /** Seconds to wait for a server to answer a request (30). */
  connectTimeoutSec?: number;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source.trim());
}

const OFFLINE_HINT = 'Check the URL and the network connection (or proxy). Offline, download model.json and its .bin weight files once and pass the local folder instead.';

function describeFetchError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'the server did not answer in time';
  const code = err?.cause?.code;
  const msg = err?.cause?.message ?? err?.message ?? String(e);
  return code ? `${code}: ${msg}` : msg;
}

/** GETs `url`, streaming the body with progress; UserError when unreachable or not 2xx. */
async function download(url: string, what: string, opts: ModelSourceOptions, progress: Omit<DownloadProgress, 'bytes' | 'totalBytes'>): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout((opts.connectTimeoutSec ?? 30) * 1000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (e) {
    throwIfAborted(opts.signal, 'the model download');
    throw new UserError(`Cannot download ${what} from ${url} (${describeFetchError(e)}).`, OFFLINE_HINT);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new UserError(`Cannot download ${what} from ${url}: HTTP ${res.status} ${res.statusText}.`, 'Check the URL: it must point to a TF.js model.json whose weight files sit next to it.');
  }
  const len = Number(res.headers.get('content-length'));
  const totalBytes = Number.isFinite(len) && len > 0 ? len : undefined;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    if (!res.body) throw new Error('empty response');
    const reader = res.body.getReader();
    for (;;) {
      if (opts.signal?.aborted) { await reader.cancel(); throwIfAborted(opts.signal, 'the model download'); }
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
      opts.onDownloadProgress?.({ ...progress, bytes, totalBytes });
    }
  } catch (e) {
    if (isCancelled(e) || opts.signal?.aborted) throw new CancelledError('the model download');
    throw new UserError(`Download of ${what} from ${url} broke off after ${bytes} bytes (${describeFetchError(e)}).`, OFFLINE_HINT);
  }
  if (totalBytes !== undefined && bytes !== totalBytes) {
    throw new UserError(`Download of ${what} from ${url} is incomplete (${bytes} of ${totalBytes} bytes).`, OFFLINE_HINT);
  }
  const out = new Uint8Array(bytes);
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.byteLength; }
  return out;
}

/** Cache folder of a model URL. */
export function modelCacheDir(url: string, cacheDir?: string): string {
  const hash = crypto.createHash('sha256').update(url.trim()).digest('hex').slice(0, 16);
  return path.join(path.resolve(cacheDir ?? defaultCacheDir()), 'models', hash);
}

/**
 * Local path of the model.json for `source`: a local model.json / folder, or the cached download of
 * a URL (downloaded now if not cached yet).
 */
export async function resolveModelSource(source: string, opts: ModelSourceOptions = {}): Promise<{ modelJsonPath: string; downloaded: boolean; url?: string }> {
  const src = source.trim();
  if (!src) throw new UserError('No model path or URL given.');
  if (!isUrl(src)) {
    let p = path.resolve(src.startsWith('~/') ? path.join(os.homedir(), src.slice(2)) : src);
    let st: fs.Stats;
    try {
      st = await fsp.stat(p);
    } catch {
      throw new UserError(`Model not found: ${p}`, 'Pass the path of a TF.js model.json (or its folder), or an http(s) URL of one.');
    }
    if (st.isDirectory()) p = path.join(p, MODEL_JSON);
    if (!fs.existsSync(p)) throw new UserError(`No ${MODEL_JSON} in ${path.dirname(p)}.`, 'Pass the folder that holds model.json and its .bin weight files.');
    return { modelJsonPath: p, downloaded: false };
  }
  const dir = modelCacheDir(src, opts.cacheDir);
  const cached = path.join(dir, MODEL_JSON);
  if (fs.existsSync(cached)) return { modelJsonPath: cached, downloaded: false, url: src };
  opts.onLog?.(`Downloading the feature-extractor model ${src} to ${dir}…`);
  const jsonBytes = await download(src, MODEL_JSON, opts, { file: MODEL_JSON, fileIndex: 0, files: 1 });
  const json = parseModelJson(Buffer.from(jsonBytes).toString('utf8'), src);
  const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths);
  const files = shards.length + 1;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < shards.length; i++) {
    const url = new URL(shards[i], src).href;
    blobs.push(await download(url, `weight file ${shards[i]}`, opts, { file: shards[i], fileIndex: i + 1, files }));
  }
  const want = expectedWeightBytes(json.weightsManifest ?? []);
  const got = blobs.reduce((s, b) => s + b.byteLength, 0);
  if (want !== undefined && got !== want) {
    throw new UserError(`The weight files at ${src} hold ${got} bytes but its manifest describes ${want}.`, 'The model on the server is incomplete or mismatched.');
  }
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  try {
    await writeDirAtomic(dir, async (tmp) => {
      for (let i = 0; i < shards.length; i++) {
        const f = path.join(tmp, shards[i]);
        await fsp.mkdir(path.dirname(f), { recursive: true });
        await fsp.writeFile(f, blobs[i]);
      }
      await fsp.writeFile(path.join(tmp, 'source.json'), JSON.stringify({ url: src, downloadedAt: new Date().toISOString() }, null, 1));
      await fsp.writeFile(path.join(tmp, MODEL_JSON), jsonBytes); // last: its presence marks a complete folder
    });
  } catch (e) {
    // Another process finished the same download first: use theirs.
    if (!(isUserError(e) && fs.existsSync(cached))) throw e;
  }
  return { modelJsonPath: cached, downloaded: true, url: src };
}

/** A loaded TF.js model with what is known about its files. */
export interface LoadedTfjsModel {
  kind: ModelKind;
  model: tf.GraphModel | tf.LayersModel;
  modelJsonPath: string;
  /** SHA-256 of model.json + weights (identifies the exact model). */
  sha256: string;
  downloaded: boolean;
}

/** Loads a TF.js graph or layers model from a local path or an http(s) URL (cached). */
export async function loadTfjsModel(source: string, opts: ModelSourceOptions = {}): Promise<LoadedTfjsModel> {
  const { modelJsonPath, downloaded } = await resolveModelSource(source, opts);
  let text: string;
  try {
    text = await fsp.readFile(modelJsonPath, 'utf8');
  } catch (e) {
    throw new UserError(`Cannot read ${modelJsonPath} (${(e as Error).message}).`);
  }
  const kind = modelKindOf(parseModelJson(text, modelJsonPath));
  const hash = crypto.createHash('sha256');
  const handler = fileSystemHandler(modelJsonPath, (json, weights) => { hash.update(json); hash.update(weights); });
  let model: tf.GraphModel | tf.LayersModel;
  try {
    model = kind === 'graph' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (e) {
    if (isUserError(e)) throw e;
    throw new UserError(`Cannot load the TF.js ${kind} model ${modelJsonPath}: ${(e as Error).message}`, 'The model may use operations TF.js does not support, or its files may be damaged.');
  }
  return { kind, model, modelJsonPath, sha256: hash.digest('hex'), downloaded };
}

// ------------------------------------------------------------------------------------------------
// Extractor

export interface ModelExtractorOptions extends ModelSourceOptions {
  /** Name in metric names (default: the model folder's name, e.g. 'inception_v3'). */
  name?: string;
  /** Layer (layers model) or node (graph model) whose output is the feature; default: the input of a final Dense layer / the model output. */
  featureLayer?: string;
  /** [height, width] when the model does not fix its input size (default 299, Inception-v3's). */
  inputSize?: [number, number];
  /** Value range the model expects (default [0, 1], TF Hub's convention for images). */
  inputRange?: [number, number];
}

function sanitizeName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return n || 'model';
}

function defaultName(source: string, modelJsonPath: string): string {
  if (isUrl(source)) {
    const segs = new URL(source.trim()).pathname.split('/').filter(Boolean);
    const last = segs.length && segs[segs.length - 1].toLowerCase().endsWith('.json') ? segs.slice(0, -1) : segs;
    return sanitizeName(last[last.length - 1] ?? new URL(source.trim()).hostname);
  }
  return sanitizeName(path.basename(path.dirname(modelJsonPath)));
}

class TfjsModelExtractor implements FeatureExtractor {
  constructor(
    readonly name: string,
    readonly id: string,
    readonly dim: number,
    private readonly run: (x: tf.Tensor4D) => Promise<tf.Tensor>,
    private readonly adapt: { size: [number, number]; channels: number; range: [number, number] },
    private readonly disposeFn: () => void,
    readonly description: string,
  ) {}

  async features(images: tf.Tensor4D): Promise<tf.Tensor2D> {
    const x = adaptImages(images, this.adapt);
    try {
      const out = await this.run(x);
      try {
        return toFeatureMatrix(out);
      } finally {
        out.dispose();
      }
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.disposeFn();
  }
}

/**
 * A feature extractor from a TF.js image model (local path or URL): inputs are resized to the
 * model's input size, converted to its channel count and rescaled to `inputRange`.
 */
export async function loadModelExtractor(source: string, opts: ModelExtractorOptions = {}): Promise<FeatureExtractor> {
  const loaded = await loadTfjsModel(source, opts);
  const name = sanitizeName(opts.name ?? defaultName(source, loaded.modelJsonPath));
  let inShape: number[];
  let run: (x: tf.Tensor4D) => Promise<tf.Tensor>;
  let disposeFn: () => void;
  if (loaded.kind === 'graph') {
    const g = loaded.model as tf.GraphModel;
    if (g.inputs.length !== 1) throw new UserError(`The graph model ${loaded.modelJsonPath} has ${g.inputs.length} inputs; a feature extractor needs one image input.`);
    inShape = (g.inputs[0].shape ?? []).map((d) => (d === undefined || d === null ? -1 : d));
    const node = opts.featureLayer ?? g.outputs[0].name;
    let dynamic = false; // graphs with control flow or dynamic shapes need executeAsync
    run = async (x) => {
      let out: tf.Tensor | tf.Tensor[];
      if (!dynamic) {
        try {
          out = g.execute(x, node);
        } catch (e) {
          if (!/executeAsync/.test((e as Error).message)) throw e;
          dynamic = true;
          out = await g.executeAsync(x, node);
        }
      } else {
        out = await g.executeAsync(x, node);
      }
      return Array.isArray(out) ? out[0] : out;
    };
    disposeFn = () => g.dispose();
  } else {
    const m = loaded.model as tf.LayersModel;
    if (m.inputs.length !== 1) throw new UserError(`The layers model ${loaded.modelJsonPath} has ${m.inputs.length} inputs; a feature extractor needs one image input.`);
    inShape = m.inputs[0].shape.map((d) => (d === null ? -1 : d));
    let output: tf.SymbolicTensor;
    if (opts.featureLayer) {
      let layer: tf.layers.Layer;
      try {
        layer = m.getLayer(opts.featureLayer);
      } catch {
        throw new UserError(`The model has no layer '${opts.featureLayer}'.`, `Layers: ${m.layers.map((l) => l.name).join(', ')}.`);
      }
      output = layer.output as tf.SymbolicTensor;
    } else {
      const last = m.layers[m.layers.length - 1];
      // Classifier head: take what goes into the final Dense layer (the "penultimate" features).
      const lastIn = last?.getClassName() === 'Dense' && m.layers.length > 1 ? last.input : undefined;
      output = (Array.isArray(lastIn) ? lastIn[0] : lastIn) ?? (m.outputs[0] as tf.SymbolicTensor);
    }
    const sub = tf.model({ inputs: m.inputs, outputs: output });
    run = async (x) => sub.predict(x) as tf.Tensor;
    disposeFn = () => m.dispose();
  }
  if (inShape.length !== 4) throw new UserError(`The model input has shape [${inShape}]; an image model takes [N,H,W,C].`);
  const channels = inShape[3] > 0 ? inShape[3] : 3;
  if (channels !== 1 && channels !== 3) throw new UserError(`The model expects ${channels}-channel images; only 1 or 3 are supported.`);
  const size: [number, number] = inShape[1] > 0 && inShape[2] > 0 ? [inShape[1], inShape[2]] : (opts.inputSize ?? [299, 299]);
  const adapt = { size, channels, range: opts.inputRange ?? ([0, 1] as [number, number]) };
  // Probe once for the feature size (and to fail here, not in the middle of a metric).
  const probe = tf.zeros([1, size[0], size[1], channels]) as tf.Tensor4D;
  let dim: number;
  try {
    const out = await run(probe);
    const f = toFeatureMatrix(out);
    dim = f.shape[1];
    tf.dispose([out, f]);
  } catch (e) {
    disposeFn();
    throw isUserError(e) ? e : new UserError(`The model ${loaded.modelJsonPath} failed on a ${size[0]}×${size[1]}×${channels} image: ${(e as Error).message}`,
      opts.featureLayer ? `Check the feature layer/node name '${opts.featureLayer}'.` : undefined);
  } finally {
    probe.dispose();
  }
  const where = isUrl(source) ? `${loaded.downloaded ? 'downloaded now from' : 'cached download of'} ${source.trim()}` : `from ${loaded.modelJsonPath}`;
  const description = `${name} (TF.js ${loaded.kind} model, ${dim}-d features at ${size[0]}×${size[1]}×${channels}, ${where})`;
  return new TfjsModelExtractor(name, `${name}-${loaded.sha256.slice(0, 16)}`, dim, run, adapt, disposeFn, description);
}
