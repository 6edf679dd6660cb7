/**
 * The inert values the unpickler builds. Nothing here is a live Python object: a "global" is just
 * a name from the allow-list, a storage is a typed span of the file, a persistent network record
 * is its metadata dict.
 */
import type { TorchDType } from '../types';
import type { ByteSlice } from './source';

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyBytes {
  constructor(readonly slice: ByteSlice) {}
}

/** dict / OrderedDict / EasyDict. Keys are kept in insertion order; str and int keys are looked up directly. */
export class PyDict {
  readonly map = new Map<string | number | boolean | null | bigint, PyValue>();
  set(k: PyValue, v: PyValue): void {
    this.map.set(dictKey(k), v);
  }
  get(k: string): PyValue | undefined {
    return this.map.get(k);
  }
}

export class PySet {
  readonly items: PyValue[] = [];
}

/** A name from the allow-list, not yet called. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** numpy.dtype('f8', …). */
export class NumpyDType {
  byteOrder = '<';
  constructor(readonly str: string) {}
}

/** A torch storage: element type and where its bytes are (filled in after the legacy key list is read). */
export class TorchStorage {
  data: ByteSlice | null = null;
  constructor(readonly dtype: TorchDType, readonly key: string, readonly numel: number) {}
}

/** A tensor view into a storage (torch._utils._rebuild_tensor_v2), or a numpy array (data in `storage`). */
export class TensorRef {
  constructor(readonly storage: TorchStorage, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

/** A torch_utils.persistence record: `meta = {type, version, module_src, class_name, state}`. */
export class PersistentRecord {
  constructor(readonly meta: PyDict) {}
}

/** numpy.core.multiarray._reconstruct result, completed by BUILD. */
export class NumpyArrayStub {
  tensor: TensorRef | null = null;
}

export type PyValue =
  | null | boolean | number | bigint | string
  | PyTuple | PyBytes | PyDict | PySet | PyGlobal | NumpyDType | TorchStorage | TensorRef | PersistentRecord | NumpyArrayStub
  | PyValue[];

function dictKey(k: PyValue): string | number | boolean | null | bigint {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint') return k;
  if (k instanceof PyTuple) return `(${k.items.map((x) => String(dictKey(x))).join(', ')})`;
  return `<${k.constructor.name}>`;
}

export const ELEMENT_SIZE: Record<TorchDType, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** torch.<X>Storage → element type. */
export const STORAGE_TYPES: Record<string, TorchDType> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

/** numpy typestr (without byte order) → element type. */
export const NUMPY_TYPES: Record<string, TorchDType> = {
  f4: 'float32', f2: 'float16', f8: 'float64', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', b1: 'bool',
};
