import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../../src/core/util/npy';
import { reference } from './fixture';

test('npy: float32 and uint8 round-trip through a file, data 64-byte aligned', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-'));
  try {
    const f = new Float32Array([1.5, -2, 3.25, 0, 1e-30, -7]);
    writeNpy(path.join(dir, 'f.npy'), f, [2, 3]);
    const a = readNpy(path.join(dir, 'f.npy'));
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data as Float32Array), Array.from(f));
    const u = new Uint8Array([0, 255, 7]);
    const bytes = encodeNpy(u, [3]);
    assert.equal((bytes.length - 3) % 64, 0);
    const b = parseNpy(bytes);
    assert.equal(b.dtype, 'uint8');
    assert.deepEqual(b.shape, [3]);
    assert.deepEqual(Array.from(b.data as Uint8Array), [0, 255, 7]);
    const s = parseNpy(encodeNpy(new Float32Array([4]), []));
    assert.deepEqual(s.shape, []);
    assert.equal((s.data as Float32Array)[0], 4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npy: version-2 header, int64 and float64 payloads; bad input rejected', () => {
  const header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
  const padded = header + ' '.repeat(64 - ((12 + header.length + 1) % 64)) + '\n';
  const buf = new Uint8Array(12 + padded.length + 16);
  buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(buf.buffer).setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) buf[12 + i] = padded.charCodeAt(i);
  new DataView(buf.buffer).setBigInt64(12 + padded.length, -5n, true);
  new DataView(buf.buffer).setBigInt64(12 + padded.length + 8, 1n << 40n, true);
  const a = parseNpy(buf);
  assert.equal(a.dtype, 'int64');
  assert.deepEqual(Array.from(a.data as BigInt64Array), [-5n, 1n << 40n]);
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), /bad magic/);
  const big = encodeNpy(new Float32Array([1]), [1]);
  const text = new TextDecoder('latin1').decode(big).replace("'<f4'", "'>f4'");
  assert.throws(() => parseNpy(Uint8Array.from(text, (c) => c.charCodeAt(0))), /Unsupported .npy dtype '>f4'/);
});

test('npy: reads the official fixture arrays (float64 z, float32 ws, uint8 NHWC images)', () => {
  const z = reference('z.npy');
  assert.equal(z.dtype, 'float64');
  assert.deepEqual(z.shape, [8, 512]);
  const ws = reference('ws_psi1.npy');
  assert.equal(ws.dtype, 'float32');
  assert.deepEqual(ws.shape, [8, 8, 512]);
  const img = reference('img_psi1_uint8_NHWC.npy');
  assert.equal(img.dtype, 'uint8');
  assert.deepEqual(img.shape, [8, 32, 32, 1]);
  assert.ok((img.data as Uint8Array).some((v) => v > 0));
});
