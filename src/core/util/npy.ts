/**
 * NumPy `.npy` files (format versions 1–3): little-endian float32/float64/uint8/int32/int64 arrays
 * in C order. Reading copies the payload into an aligned typed array; writing supports float32 and
 * uint8 (what we hand back to Python tools: images, feature maps).
 */
import * as fs from 'node:fs';

export type NpyDType = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';
export type NpyData = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, NpyDType> = {
  '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<u1': 'uint8',
  '<i4': 'int32', '<i8': 'int64',
};
const BYTES: Record<NpyDType, number> = { float32: 4, float64: 8, uint8: 1, int32: 4, int64: 8 };

/** Parses a .npy file's bytes. Throws on big-endian, Fortran-order or unsupported dtypes. */
export function parseNpy(buf: Uint8Array): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw new Error('Not a .npy file (bad magic)');
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) { headerLen = view.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) { headerLen = view.getUint32(8, true); start = 12; }
  else throw new Error(`Unsupported .npy format version ${major}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`Malformed .npy header: ${header.trim()}`);
  const dtype = DESCR[descr];
  if (!dtype) throw new Error(`Unsupported .npy dtype '${descr}' (supported: little-endian float32, float64, uint8, int32, int64)`);
  if (fortran === 'True') throw new Error('Fortran-ordered .npy arrays are not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const nbytes = count * BYTES[dtype];
  if (buf.byteLength < offset + nbytes) throw new Error(`Truncated .npy: ${buf.byteLength - offset} data bytes, expected ${nbytes}`);
  const bytes = new Uint8Array(nbytes); // fresh, aligned copy (Buffer#slice would only be a view)
  bytes.set(buf.subarray(offset, offset + nbytes));
  const ab = bytes.buffer;
  const data: NpyData =
    dtype === 'float32' ? new Float32Array(ab, 0, count)
    : dtype === 'float64' ? new Float64Array(ab, 0, count)
    : dtype === 'int32' ? new Int32Array(ab, 0, count)
    : dtype === 'int64' ? new BigInt64Array(ab, 0, count)
    : new Uint8Array(ab, 0, count);
  return { dtype, shape, data };
}

/** Reads a .npy file. */
export function readNpy(file: string): NpyArray {
  return parseNpy(fs.readFileSync(file));
}

/** Serialises a float32 or uint8 array (C order) as a version-1 .npy file. */
export function encodeNpy(data: Float32Array | Uint8Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape}] holds ${count} values, data has ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends with '\n'.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes a float32 or uint8 array as .npy. */
export function writeNpy(file: string, data: Float32Array | Uint8Array, shape: number[]): void {
  fs.writeFileSync(file, encodeNpy(data, shape));
}
