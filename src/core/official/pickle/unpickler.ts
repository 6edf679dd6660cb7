/**
 * A pickle virtual machine that only builds inert values (./values). It implements the opcodes of
 * protocols 0–5, but a global (GLOBAL, STACK_GLOBAL, INST) is resolved only when it is on the
 * allow-list below, and "calling" one (REDUCE, NEWOBJ, OBJ, INST, BUILD) runs our own small
 * constructor for it — never Python code. `module_src` inside official pickles is kept as a string
 * and never looked at. Anything else is a clear error naming the global and the file.
 */
import { ForbiddenGlobalError, PickleError } from './errors';
import { BufferSource, readSlice, type SourceReader } from './source';
import {
  NUMPY_TYPES, NumpyArrayStub, NumpyDType, PersistentRecord, PyBytes, PyDict, PyGlobal, PySet, PyTuple, type PyValue,
  STORAGE_TYPES, TensorRef, TorchStorage,
} from './values';

/** Called for BINPERSID/PERSID (torch.save's storage references). */
export type PersistentLoad = (pid: PyValue) => PyValue;

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** The globals a StyleGAN2-ADA / GGDR checkpoint or a torch.save file may name, and what they become. */
const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'dnnlib.util.EasyDict',
  'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct',
  'numpy.ndarray', 'numpy.dtype',
  'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state',
  'torch.storage._load_from_bytes',
  'torch_utils.persistence._reconstruct_persistent_obj',
  'torch.Size', 'torch.device',
  'builtins.set', 'builtins.frozenset', '__builtin__.set',
  '_codecs.encode',
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
  ...['float32', 'float16', 'float64', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'].map((d) => `torch.${d}`),
]);

export interface UnpickleOptions {
  persistentLoad?: PersistentLoad;
  /** Handles torch.storage._load_from_bytes(bytes) (a nested legacy torch.save blob). */
  loadFromBytes?: (b: PyBytes) => PyValue;
  /** Upper bound on opcodes executed (a guard against runaway inputs). */
  maxOps?: number;
}

/** Runs one pickle starting at reader.pos; returns the value STOP leaves and leaves reader.pos after STOP. */
export function unpickle(reader: SourceReader, opts: UnpickleOptions = {}): PyValue {
  const file = reader.source.name;
  const fail = (msg: string): never => {
    throw new PickleError(`${msg} (at offset ${reader.pos})`, file);
  };
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const maxOps = opts.maxOps ?? 50_000_000;
  let ops = 0;

  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) fail('stack underflow (corrupt pickle)');
    if (v === MARK) fail('unexpected MARK (corrupt pickle)');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('stack underflow (corrupt pickle)');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK missing (corrupt pickle)');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!ALLOWED.has(q)) throw new ForbiddenGlobalError(q, file);
    return new PyGlobal(module, name);
  };
  const text = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  const bytes = (n: number): PyBytes => new PyBytes(reader.skipSlice(n));
  const memoGet = (i: number): PyValue => {
    if (!memo.has(i)) fail(`memo entry ${i} does not exist (corrupt pickle)`);
    return memo.get(i)!;
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal)) return fail(`REDUCE on a non-callable ${describe(fn)}`);
    if (!(args instanceof PyTuple)) return fail(`REDUCE arguments are not a tuple for ${fn.qualified}`);
    return callAllowed(fn, args.items, file, opts);
  };

  for (;;) {
    if (++ops > maxOps) fail(`more than ${maxOps} opcodes`);
    const op = reader.u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = reader.u8();
        if (p > 5) fail(`pickle protocol ${p} is newer than any Python writes`);
        break;
      }
      case 0x95: reader.u64(); break; // FRAME: a hint only
      case 0x2e: { // STOP
        const v = pop();
        return v;
      }
      case 0x28: stack.push(MARK); break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(reader.i32()); break; // BININT
      case 0x4b: stack.push(reader.u8()); break; // BININT1
      case 0x4d: stack.push(reader.u16()); break; // BININT2
      case 0x8a: stack.push(readLong(reader, reader.u8(), fail)); break; // LONG1
      case 0x8b: { // LONG4
        const n = reader.u32();
        if (n > 64) fail(`integer of ${n} bytes`);
        stack.push(readLong(reader, n, fail));
        break;
      }
      case 0x49: { // INT (text)
        const s = reader.line();
        stack.push(s === '01' ? true : s === '00' ? false : parseIntText(s, fail));
        break;
      }
      case 0x4c: stack.push(parseIntText(reader.line().replace(/L$/, ''), fail)); break; // LONG (text)
      case 0x46: stack.push(Number(reader.line())); break; // FLOAT
      case 0x47: stack.push(reader.f64be()); break; // BINFLOAT
      case 0x58: stack.push(text(reader.take(reader.u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text(reader.take(reader.u8()))); break; // SHORT_BINUNICODE
      case 0x8d: { // BINUNICODE8
        const n = reader.u64();
        stack.push(text(reader.take(n)));
        break;
      }
      case 0x56: stack.push(reader.line()); break; // UNICODE (raw-unicode-escape; ASCII in practice)
      case 0x53: stack.push(reader.line().replace(/^'(.*)'$|^"(.*)"$/, '$1$2')); break; // STRING
      case 0x54: stack.push(Buffer.from(reader.take(reader.i32() >>> 0)).toString('latin1')); break; // BINSTRING
      case 0x55: stack.push(Buffer.from(reader.take(reader.u8())).toString('latin1')); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(reader.u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(reader.u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(reader.u64())); break; // BINBYTES8
      case 0x96: stack.push(bytes(reader.u64())); break; // BYTEARRAY8
      case 0x97: fail('out-of-band buffers (NEXT_BUFFER) are not supported'); break;
      case 0x98: break; // READONLY_BUFFER: no-op on our values
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break;
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; }
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail(`APPEND to ${describe(l)}`);
        (l as PyValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail(`APPENDS to ${describe(l)}`);
        for (const v of items) (l as PyValue[]).push(v);
        break;
      }
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        const d = new PyDict();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        const d = top();
        if (!(d instanceof PyDict)) fail(`SETITEM on ${describe(d)}`);
        (d as PyDict).set(k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        if (!(d instanceof PyDict)) fail(`SETITEMS on ${describe(d)}`);
        for (let i = 0; i + 1 < items.length; i += 2) (d as PyDict).set(items[i], items[i + 1]);
        break;
      }
      case 0x8f: stack.push(new PySet()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) fail(`ADDITEMS on ${describe(s)}`);
        (s as PySet).items.push(...items);
        break;
      }
      case 0x91: { const s = new PySet(); s.items.push(...popMark()); stack.push(s); break; } // FROZENSET
      case 0x63: { // GLOBAL
        const module = reader.line(), name = reader.line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const _kwargs = pop(), args = pop(), cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x69: { // INST
        const module = reader.line(), name = reader.line();
        const g = resolveGlobal(module, name);
        stack.push(call(g, new PyTuple(popMark())));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        const cls = items.shift();
        stack.push(call(cls ?? null, new PyTuple(items)));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        build(top(), state, fail);
        break;
      }
      case 0x50: { // PERSID
        const pid = reader.line();
        if (!opts.persistentLoad) fail('a persistent id where none is expected');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('a persistent id where none is expected');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x70: memo.set(parseIntText(reader.line(), fail) as number, top()); break; // PUT
      case 0x71: memo.set(reader.u8(), top()); break; // BINPUT
      case 0x72: memo.set(reader.u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: stack.push(memoGet(parseIntText(reader.line(), fail) as number)); break; // GET
      case 0x68: stack.push(memoGet(reader.u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(reader.u32())); break; // LONG_BINGET
      case 0x82: case 0x83: case 0x84: fail('extension registry codes (EXT1/2/4) are not supported'); break;
      default:
        fail(`unknown opcode 0x${op.toString(16)} (not a pickle, or corrupt)`);
    }
  }
}

function readLong(reader: SourceReader, n: number, fail: (m: string) => never): number | bigint {
  if (n === 0) return 0;
  const b = reader.take(n);
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  void fail;
  return v;
}

function parseIntText(s: string, fail: (m: string) => never): number | bigint {
  if (!/^[-+]?\d+$/.test(s.trim())) fail(`bad integer text '${s.slice(0, 40)}'`);
  const v = BigInt(s.trim());
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return `a ${(v as object).constructor.name}`;
  return `a ${typeof v}`;
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isInteger(v);

/** Our constructor for an allow-listed callable. */
function callAllowed(fn: PyGlobal, args: PyValue[], file: string, opts: UnpickleOptions): PyValue {
  const bad = (why: string): never => {
    throw new PickleError(`${fn.qualified}: ${why}`, file);
  };
  switch (fn.qualified) {
    case 'collections.OrderedDict': {
      const d = new PyDict();
      const items = args[0];
      if (Array.isArray(items)) for (const kv of items) if (kv instanceof PyTuple && kv.items.length === 2) d.set(kv.items[0], kv.items[1]);
      return d;
    }
    case 'dnnlib.util.EasyDict':
      return new PyDict();
    case 'builtins.set': case 'builtins.frozenset': case '__builtin__.set': {
      const s = new PySet();
      if (Array.isArray(args[0])) s.items.push(...(args[0] as PyValue[]));
      return s;
    }
    case 'torch.Size':
      return args[0] instanceof PyTuple ? args[0] : bad('expects a tuple');
    case 'torch.device':
      return typeof args[0] === 'string' ? args[0] : bad('expects a string');
    case '_codecs.encode': {
      const [s, enc] = args;
      if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) return bad('only latin1 strings are decoded');
      const buf = Buffer.from(s, 'latin1');
      return new PyBytes({ source: new BufferSource(buf, file), offset: 0, length: buf.length });
    }
    case 'numpy.dtype': {
      const t = args[0];
      if (typeof t !== 'string') return bad('expects a type string');
      return new NumpyDType(t);
    }
    case 'numpy.core.multiarray.scalar': case 'numpy._core.multiarray.scalar': {
      const [dt, data] = args;
      if (!(dt instanceof NumpyDType) || !(data instanceof PyBytes)) return bad('expects (dtype, bytes)');
      return numpyScalar(dt, readSlice(data.slice), bad);
    }
    case 'numpy.core.multiarray._reconstruct': case 'numpy._core.multiarray._reconstruct':
      return new NumpyArrayStub();
    case 'torch.storage._load_from_bytes': {
      if (!(args[0] instanceof PyBytes)) return bad('expects bytes');
      if (!opts.loadFromBytes) return bad('not expected here');
      return opts.loadFromBytes(args[0]);
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof TorchStorage)) return bad(`expects a storage, got ${describe(storage)}`);
      if (!isInt(offset) || offset < 0) return bad('bad storage offset');
      const sz = intTuple(size), st = intTuple(stride);
      if (!sz || !st || sz.length !== st.length) return bad('bad size/stride');
      if (sz.some((s) => s < 0) || st.some((s) => s < 0)) return bad('negative size or stride');
      const numel = sz.reduce((a, b) => a * b, 1);
      if (numel > 0) {
        const last = offset + sz.reduce((acc, s, i) => acc + (s - 1) * st[i], 0);
        if (last >= storage.numel) return bad(`tensor of size [${sz}] at storage offset ${offset} (stride [${st}]) reaches element ${last}, outside its storage of ${storage.numel} elements (corrupt file)`);
      }
      return new TensorRef(storage, offset, sz, st);
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      if (!(args[0] instanceof TensorRef)) return bad(`expects a tensor, got ${describe(args[0])}`);
      return args[0];
    }
    case 'torch_utils.persistence._reconstruct_persistent_obj': {
      if (!(args[0] instanceof PyDict)) return bad('expects a metadata dict');
      return new PersistentRecord(args[0]);
    }
    default:
      if (fn.module === 'torch' && fn.name.endsWith('Storage')) return bad('storage classes are only valid inside a storage reference');
      if (fn.module === 'torch') return `torch.${fn.name}`; // dtype constants
      return bad('cannot be called');
  }
}

function intTuple(v: PyValue): number[] | null {
  if (!(v instanceof PyTuple)) return null;
  return v.items.every(isInt) ? (v.items as number[]) : null;
}

function numpyScalar(dt: NumpyDType, b: Uint8Array, bad: (w: string) => never): number | boolean | bigint {
  const t = dt.str.replace(/^[<>|=]/, '');
  const le = !(dt.str.startsWith('>') || dt.byteOrder === '>');
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const need = (n: number) => { if (b.length < n) bad(`${n}-byte ${t} scalar has ${b.length} bytes`); };
  switch (t) {
    case 'f8': need(8); return view.getFloat64(0, le);
    case 'f4': need(4); return view.getFloat32(0, le);
    case 'f2': need(2); return halfToFloat(view.getUint16(0, le));
    case 'i8': need(8); { const v = view.getBigInt64(0, le); return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
    case 'u8': need(8); { const v = view.getBigUint64(0, le); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
    case 'i4': need(4); return view.getInt32(0, le);
    case 'u4': need(4); return view.getUint32(0, le);
    case 'i2': need(2); return view.getInt16(0, le);
    case 'u2': need(2); return view.getUint16(0, le);
    case 'i1': need(1); return view.getInt8(0);
    case 'u1': need(1); return view.getUint8(0);
    case 'b1': need(1); return b[0] !== 0;
    default: return bad(`numpy scalar of type '${dt.str}' is not supported`);
  }
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** BUILD: only the objects we know how to complete. */
function build(obj: PyValue, state: PyValue, fail: (m: string) => never): void {
  if (obj instanceof NumpyDType) {
    if (state instanceof PyTuple && typeof state.items[1] === 'string') obj.byteOrder = state.items[1];
    return;
  }
  if (obj instanceof PyDict) {
    // EasyDict / OrderedDict instance state: a dict of attributes (usually empty); merge it.
    if (state instanceof PyDict) for (const [k, v] of state.map) obj.map.set(k, v);
    return;
  }
  if (obj instanceof NumpyArrayStub) {
    // (version, shape, dtype, is_fortran, raw bytes)
    if (!(state instanceof PyTuple) || state.items.length < 5) fail('numpy array state is not (version, shape, dtype, fortran, data)');
    const [, shape, dtype, fortran, raw] = (state as PyTuple).items;
    const sz = intTuple(shape);
    if (!sz || !(dtype instanceof NumpyDType) || !(raw instanceof PyBytes)) fail('numpy array state has unexpected types (object arrays are not supported)');
    const t = NUMPY_TYPES[(dtype as NumpyDType).str.replace(/^[<>|=]/, '')];
    if (!t || (dtype as NumpyDType).str.startsWith('>')) fail(`numpy array of dtype '${(dtype as NumpyDType).str}' is not supported`);
    const numel = sz!.reduce((a, b) => a * b, 1);
    const storage = new TorchStorage(t, 'numpy', numel);
    const sl = (raw as PyBytes).slice;
    storage.data = sl;
    const strides = sz!.map((_, i) => sz!.slice(i + 1).reduce((a, b) => a * b, 1));
    if (fortran) fail('Fortran-ordered numpy arrays are not supported');
    obj.tensor = new TensorRef(storage, 0, sz!, strides);
    return;
  }
  if (obj instanceof TensorRef) return; // torch tensors' BUILD carries hooks/requires_grad only
  fail(`BUILD on ${describe(obj)} is not supported`);
}

/** torch.save's persistent storage id: ('storage', torch.XStorage, key, location, numel[, view_metadata]). */
export function storageFromPid(pid: PyValue, file: string): TorchStorage {
  const bad = (why: string): never => {
    throw new PickleError(`bad storage reference: ${why}`, file);
  };
  if (!(pid instanceof PyTuple)) return bad('not a tuple');
  const [tag, type, key, _location, numel, view] = pid.items;
  if (tag !== 'storage') return bad(`tag ${String(tag)}`);
  let dtype;
  if (type instanceof PyGlobal && type.module === 'torch') dtype = STORAGE_TYPES[type.name];
  if (!dtype) return bad(`storage type ${type instanceof PyGlobal ? type.qualified : describe(type)}`);
  if (typeof key !== 'string' && typeof key !== 'number') return bad('key');
  if (!isInt(numel as PyValue) || (numel as number) < 0) return bad('element count');
  if (view !== undefined && view !== null) return bad('storage views (view_metadata) of PyTorch < 0.4 are not supported');
  return new TorchStorage(dtype, String(key), numel as number);
}
