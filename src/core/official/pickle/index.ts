/**
 * Safe reading of official StyleGAN2-ADA / GGDR network pickles (and torch.save files): the pickle
 * is interpreted into inert values (./unpickler, allow-listed globals only, `module_src` never
 * evaluated), then each persistent network record becomes an `OfficialModule` whose tensors are
 * read from the file into fresh arrays — only for the networks asked for, so opening G_ema of a
 * 350 MB checkpoint reads about a third of it, and peak memory stays near the bytes read.
 */
import { UserError, throwIfAborted } from '../../errors';
import type { OfficialCheckpoint, OfficialModule, PyPlain, TorchTensor } from '../types';
import { PickleError } from './errors';
import { FileSource, type ByteSource, BufferSource } from './source';
import { readTorchSource } from './torchFormats';
import { halfToFloat, describe } from './unpickler';
import {
  ELEMENT_SIZE, NumpyArrayStub, NumpyDType, PersistentRecord, PyBytes, PyDict, PyGlobal, PySet, PyTuple, type PyValue, TensorRef, TorchStorage,
} from './values';

export { PickleError, ForbiddenGlobalError } from './errors';

export type NetworkKey = 'G' | 'G_ema' | 'D' | 'augment_pipe';

export interface ReadOptions {
  /** Networks to materialise (default G, G_ema, D). augment_pipe is only read when asked. */
  networks?: NetworkKey[];
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
  /** Structure and attributes only: tensors keep their shape and dtype but get empty `data` (fast, reads a few KB per tensor). */
  metadataOnly?: boolean;
  /** Networks (besides `networks`) whose structure alone is wanted: converted like metadataOnly, in the same pass. */
  structureOf?: NetworkKey[];
}

/** StyleGAN3's classes (its pickles look like ours but the layers are different). */
const STYLEGAN3_CLASSES = new Set(['SynthesisInput']);

/** Reads an official network pickle. Throws PickleError (a UserError) for anything it refuses. */
export async function readOfficialCheckpoint(file: string, opts: ReadOptions = {}): Promise<OfficialCheckpoint> {
  let source: FileSource;
  try {
    source = new FileSource(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file} does not exist.`);
    if (code === 'EISDIR') throw new UserError(`${file} is a folder, not a .pkl file.`);
    throw new UserError(`Cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    return await readCheckpointFrom(source, opts);
  } finally {
    source.close();
  }
}

/** Same, from bytes in memory (tests, bench). */
export function readOfficialCheckpointBuffer(buf: Uint8Array, name: string, opts: ReadOptions = {}): Promise<OfficialCheckpoint> {
  return readCheckpointFrom(new BufferSource(buf, name), opts);
}

async function readCheckpointFrom(source: ByteSource, opts: ReadOptions): Promise<OfficialCheckpoint> {
  const file = source.name;
  const top = parseGuarded(source);
  if (!(top instanceof PyDict)) {
    throw new PickleError(`holds ${describe(top)}, not the dict a StyleGAN2-ADA / GGDR training loop saves`, file);
  }
  const want = new Set<NetworkKey>(opts.networks ?? ['G', 'G_ema', 'D']);
  const structureOnly = new Set<NetworkKey>((opts.structureOf ?? []).filter((k) => !want.has(k)));
  const conv = new Converter(file);
  const out: OfficialCheckpoint = { file, bytes: source.length };
  for (const key of ['G', 'G_ema', 'D', 'augment_pipe'] as const) {
    const v = top.get(key);
    if (v === undefined || v === null || !(want.has(key) || structureOnly.has(key))) continue;
    if (!(v instanceof PersistentRecord)) throw new PickleError(`'${key}' is ${describe(v)}, not a network record`, file);
    conv.withData = !structureOnly.has(key);
    const m = conv.module(v, key);
    if (key === 'augment_pipe') out.augmentPipe = m;
    else out[key] = m;
  }
  const tsk = top.get('training_set_kwargs');
  if (tsk instanceof PyDict) out.trainingSetKwargs = conv.plain(tsk, 'training_set_kwargs') as Record<string, PyPlain>;
  if (!out.G && !out.G_ema && !out.D && !out.augmentPipe) {
    const keys = [...top.map.keys()].map(String).slice(0, 8).join(', ');
    throw new PickleError(`has none of G, G_ema, D (keys: ${keys})`, file, 'Not a StyleGAN2-ADA / GGDR network snapshot.');
  }
  if (!opts.metadataOnly) await conv.materialise(opts);
  return out;
}

/** Parses the file; any failure that is not already a clear message (a RangeError of a corrupt length, …) becomes one. */
function parseGuarded(source: ByteSource): PyValue {
  try {
    return readTorchSource(source);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new PickleError(`is corrupt or truncated (${(e as Error).message})`, source.name);
  }
}

/** Inert values → OfficialModule / PyPlain, with cycle detection; tensors are read afterwards. */
class Converter {
  private readonly pending: Array<{ ref: TensorRef; t: TorchTensor }> = [];
  private readonly onPath = new Set<object>();
  /** Whether tensors met from now on are read (false: shape and dtype only). */
  withData = true;

  constructor(private readonly file: string) {}

  private fail(msg: string): never {
    throw new PickleError(msg, this.file);
  }

  private enter(o: object, where: string): void {
    if (this.onPath.has(o)) this.fail(`contains a reference cycle at ${where}`);
    if (this.onPath.size > 200) this.fail(`nests deeper than 200 levels at ${where}`);
    this.onPath.add(o);
  }

  module(rec: PersistentRecord, where: string): OfficialModule {
    this.enter(rec, where);
    try {
      const meta = rec.meta;
      const type = meta.get('type'), className = meta.get('class_name'), state = meta.get('state');
      if (type !== 'class') this.fail(`${where}: persistent record of type ${String(type)} is not supported`);
      if (typeof className !== 'string') this.fail(`${where}: persistent record without a class name`);
      if (STYLEGAN3_CLASSES.has(className as string)) {
        this.fail(`StyleGAN3 pickles are not supported: class ${className} (${where}). StyleGAN2-ADA and GGDR checkpoints are.`);
      }
      if (!(state instanceof PyDict)) this.fail(`${where} (${className}): state is ${describe(state)}, not a module __dict__`);
      const m: OfficialModule = { className: className as string, attrs: {}, params: {}, buffers: {}, modules: {} };
      const st = state as PyDict;
      for (const [k, v] of st.map) {
        const key = String(k);
        const at = `${where}.${key}`;
        if (key === '_parameters' || key === '_buffers') {
          if (!(v instanceof PyDict)) this.fail(`${at} is ${describe(v)}, not a dict`);
          const into = key === '_parameters' ? m.params : m.buffers;
          for (const [name, t] of (v as PyDict).map) {
            if (t === null) into[String(name)] = null;
            else if (t instanceof TensorRef) into[String(name)] = this.tensor(t);
            else this.fail(`${at}.${String(name)} is ${describe(t)}, not a tensor`);
          }
        } else if (key === '_modules') {
          if (!(v instanceof PyDict)) this.fail(`${at} is ${describe(v)}, not a dict`);
          for (const [name, child] of (v as PyDict).map) {
            if (child === null) m.modules[String(name)] = null;
            else if (child instanceof PersistentRecord) m.modules[String(name)] = this.module(child, `${where}.${String(name)}`);
            else this.fail(`${at}.${String(name)} is ${describe(child)}: only the official persistent network classes are supported`);
          }
        } else if (/^_(backward|forward|state_dict|load_state_dict)|^_non_persistent|^_is_full_backward/.test(key)) {
          continue; // torch.nn.Module bookkeeping
        } else {
          m.attrs[key] = this.plain(v, at);
        }
      }
      return m;
    } finally {
      this.onPath.delete(rec);
    }
  }

  plain(v: PyValue, where: string): PyPlain {
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
    if (v instanceof TensorRef) return this.tensor(v);
    if (v instanceof NumpyArrayStub) return v.tensor ? this.tensor(v.tensor) : this.fail(`${where}: incomplete numpy array`);
    if (v instanceof PyGlobal) return v.qualified;
    if (v instanceof NumpyDType) return v.str;
    if (v instanceof PyBytes) return `<${v.slice.length} bytes>`;
    if (v instanceof PersistentRecord) return this.fail(`${where}: a network record inside attributes is not supported`);
    if (v instanceof TorchStorage) return `<storage ${v.dtype}[${v.numel}]>`;
    this.enter(v, where);
    try {
      if (Array.isArray(v)) return v.map((x, i) => this.plain(x, `${where}[${i}]`));
      if (v instanceof PyTuple) return v.items.map((x, i) => this.plain(x, `${where}[${i}]`));
      if (v instanceof PySet) return v.items.map((x, i) => this.plain(x, `${where}{${i}}`));
      if (v instanceof PyDict) {
        const o: { [k: string]: PyPlain } = {};
        for (const [k, x] of v.map) o[String(k)] = this.plain(x, `${where}.${String(k)}`);
        return o;
      }
    } finally {
      this.onPath.delete(v);
    }
    return this.fail(`${where}: unexpected ${describe(v)}`);
  }

  private tensor(ref: TensorRef): TorchTensor {
    const dt = ref.storage.dtype;
    const data = dt === 'uint8' || dt === 'bool' ? new Uint8Array(0) : dt.startsWith('int') ? new Int32Array(0) : new Float32Array(0);
    const t: TorchTensor = { dtype: dt, shape: ref.size, data };
    if (this.withData) this.pending.push({ ref, t });
    return t;
  }

  /** Reads every pending tensor's elements (yielding between tensors for progress and cancellation). */
  async materialise(opts: ReadOptions): Promise<void> {
    const total = this.pending.reduce((s, p) => s + p.ref.size.reduce((a, b) => a * b, 1) * ELEMENT_SIZE[p.ref.storage.dtype], 0);
    let done = 0, sinceYield = 0, reported = false;
    for (const p of this.pending) {
      throwIfAborted(opts.signal, 'reading the pickle');
      p.t.data = readTensor(p.ref, this.file);
      const n = p.t.data.length * ELEMENT_SIZE[p.ref.storage.dtype];
      done += n;
      sinceYield += n;
      if (sinceYield > 16 << 20) {
        sinceYield = 0;
        reported = true;
        opts.onProgress?.(done, total);
        await new Promise((r) => setImmediate(r));
      }
    }
    if (reported) opts.onProgress?.(total, total);
  }
}

/** One tensor's elements, contiguous row-major; floats as float32. */
function readTensor(ref: TensorRef, file: string): Float32Array | Int32Array | Uint8Array {
  const s = ref.storage;
  if (!s.data) throw new PickleError(`tensor storage '${s.key}' has no data`, file);
  const es = ELEMENT_SIZE[s.dtype];
  const numel = ref.size.reduce((a, b) => a * b, 1);
  const contiguous = ref.size.every((_, i) => ref.size[i] === 1 || ref.stride[i] === ref.size.slice(i + 1).reduce((a, b) => a * b, 1));
  // Span of storage elements the tensor touches.
  const lastEl = numel === 0 ? ref.offset : ref.offset + ref.size.reduce((acc, sz, i) => acc + (sz - 1) * ref.stride[i], 0);
  const spanStart = ref.offset, spanLen = numel === 0 ? 0 : lastEl - spanStart + 1;
  if ((spanStart + spanLen) * es > s.data.length) throw new PickleError(`tensor reaches past the end of its storage '${s.key}' (corrupt file)`, file);
  const raw = new Uint8Array(spanLen * es);
  s.data.source.readInto(s.data.offset + spanStart * es, raw);
  const elems = decode(raw, s.dtype, spanLen, file);
  if (contiguous) return elems;
  const out = new (elems.constructor as { new (n: number): typeof elems })(numel);
  const idx = new Array(ref.size.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let off = 0;
    for (let d = 0; d < idx.length; d++) off += idx[d] * ref.stride[d];
    out[i] = elems[off];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < ref.size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function decode(raw: Uint8Array, dtype: TorchStorage['dtype'], n: number, file: string): Float32Array | Int32Array | Uint8Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'float32': return new Float32Array(raw.buffer, raw.byteOffset, n); // raw is a fresh, aligned buffer
    case 'float64': { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = dv.getFloat64(i * 8, true); return o; }
    case 'float16': { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = halfToFloat(dv.getUint16(i * 2, true)); return o; }
    case 'bfloat16': { const o = new Float32Array(n); const u = new Uint32Array(o.buffer); for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16; return o; }
    case 'int32': return new Int32Array(raw.buffer, raw.byteOffset, n);
    case 'int16': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = dv.getInt16(i * 2, true); return o; }
    case 'int8': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = dv.getInt8(i); return o; }
    case 'uint8': case 'bool': return raw;
    case 'int64': {
      const o = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw new PickleError(`int64 tensor value ${v} does not fit in 32 bits`, file);
        o[i] = Number(v);
      }
      return o;
    }
  }
}

/** Reads any torch.save / pickle file into plain values (tests and tools): tensors become TorchTensor. */
export async function readTorchFile(file: string): Promise<PyPlain> {
  const source = new FileSource(file);
  try {
    const v = parseGuarded(source);
    const conv = new Converter(file);
    const plain = conv.plain(v, 'object');
    await conv.materialise({});
    return plain;
  } finally {
    source.close();
  }
}
