/**
 * The safe unpickler on real pickles written by PyTorch 1.13 (Debian's python3-torch: torch.save in
 * both formats, pickle.dumps of tensors, persistent-record checkpoints), on the official GGDR
 * fixture, and on hostile inputs: each hostile case gives a clear error and runs nothing.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readOfficialCheckpoint, readOfficialCheckpointBuffer, readTorchFile, PickleError, ForbiddenGlobalError } from '../../../src/core/official/pickle/index';
import type { PyPlain, TorchTensor } from '../../../src/core/official/types';
import { FIXTURE_DIR } from './fixture';

const SYS_PYTHON = '/usr/bin/python3';
let dir: string;
let values: Record<string, { shape: number[]; values: number[] }>;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-pickle-'));
  try {
    execFileSync(SYS_PYTHON, [path.join(__dirname, 'make_pickles.py'), dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`These tests need PyTorch in the system Python (apt-get install python3-torch; npm test installs it): ${(e as Error).message}`);
  }
  values = JSON.parse(fs.readFileSync(path.join(dir, 'values.json'), 'utf8'));
});

const isTensor = (v: PyPlain): v is TorchTensor => typeof v === 'object' && v !== null && !Array.isArray(v) && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as TorchTensor).data);

function checkTensors(obj: PyPlain, what: string): void {
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${what}: a dict`);
  const o = obj as Record<string, PyPlain>;
  for (const [k, ref] of Object.entries(values)) {
    const t = o[k];
    assert.ok(isTensor(t), `${what}.${k} is a tensor`);
    assert.deepEqual(t.shape, ref.shape, `${what}.${k} shape`);
    assert.equal(t.data.length, ref.values.length, `${what}.${k} numel`);
    const tol = k === 'f16' ? 0 : 1e-6;
    for (let i = 0; i < ref.values.length; i++) {
      assert.ok(Math.abs(Number(t.data[i]) - ref.values[i]) <= tol * Math.max(1, Math.abs(ref.values[i])), `${what}.${k}[${i}] = ${t.data[i]}, want ${ref.values[i]}`);
    }
  }
  assert.equal((o.f16 as TorchTensor).dtype, 'float16');
  assert.equal((o.i64 as TorchTensor).dtype, 'int64');
}

test('torch.save legacy format: every dtype, a transposed view and a view with a storage offset', async () => {
  checkTensors(await readTorchFile(path.join(dir, 'legacy.pt')), 'legacy.pt');
});

test('torch.save zip format', async () => {
  checkTensors(await readTorchFile(path.join(dir, 'zip.pt')), 'zip.pt');
});

test('pickle.dumps of tensors (storages as nested torch.save blobs), protocols 2 and 4', async () => {
  checkTensors(await readTorchFile(path.join(dir, 'dumps-p2.pkl')), 'dumps-p2');
  checkTensors(await readTorchFile(path.join(dir, 'dumps-p4.pkl')), 'dumps-p4');
});

test('persistent records become modules: class, attrs (numpy scalars as numbers), params, buffers, children; module_src is never run', async () => {
  const c = await readOfficialCheckpoint(path.join(dir, 'checkpoint.pkl'));
  assert.ok(c.G && c.G_ema);
  assert.equal(c.D, undefined);
  assert.equal(c.G.className, 'Generator');
  assert.equal(c.G.attrs.z_dim, 3);
  assert.equal(c.G.attrs.fp, 1.5);
  assert.equal(c.G.attrs.i, 7);
  assert.deepEqual(c.G.attrs.block_resolutions, [4, 8]);
  assert.equal('module_src' in c.G.attrs, false);
  assert.deepEqual(Array.from(c.G.buffers.w_avg!.data as Float32Array).map((x) => +x.toFixed(6)), [0, 0.333333, 0.666667, 1]);
  assert.equal(c.G.buffers.missing, null);
  assert.equal(c.G.modules.none, null);
  const fc = c.G.modules.fc!;
  assert.equal(fc.className, 'FullyConnectedLayer');
  assert.ok(Math.abs((fc.attrs.weight_gain as number) - 1 / Math.sqrt(3)) < 1e-12);
  assert.deepEqual(fc.params.weight!.shape, [4, 3]);
  assert.deepEqual(fc.attrs._init_kwargs, { lr_multiplier: 0.01 });
  assert.deepEqual(c.trainingSetKwargs, { path: '/data/x.zip', resolution: 32, use_labels: false });
});

test('the official GGDR fixture pickle: G, G_ema, D with the decoder, w_avg and every tensor finite', async (t) => {
  const file = path.join(FIXTURE_DIR, 'training-runs', '00000-mnist32-cifar-kimg5-batch16', 'network-snapshot-000005.pkl');
  assert.ok(fs.existsSync(file), `official fixture missing: ${file} (../shared/fixtures/official-ggdr-pkl must be beside the repo; CI has it)`);
  const c = await readOfficialCheckpoint(file, { networks: ['G', 'G_ema', 'D', 'augment_pipe'] });
  assert.equal(c.G_ema!.className, 'Generator');
  assert.equal(c.D!.className, 'Discriminator');
  assert.equal(c.augmentPipe!.className, 'AugmentPipeGFeat');
  assert.deepEqual(c.D!.attrs.dec_resolutions, [8, 16]);
  assert.deepEqual(c.G_ema!.modules.synthesis!.attrs.block_resolutions, [4, 8, 16, 32]);
  let count = 0;
  const walk = (m: NonNullable<typeof c.G>) => {
    for (const t of [...Object.values(m.params), ...Object.values(m.buffers)]) {
      if (!t) continue;
      count++;
      assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
      for (const v of t.data as Float32Array) if (!Number.isFinite(v)) throw new Error('non-finite weight');
    }
    for (const ch of Object.values(m.modules)) if (ch) walk(ch);
  };
  walk(c.G!); walk(c.G_ema!); walk(c.D!);
  t.diagnostic(`${count} tensors`);
  assert.ok(count > 150);
  // Only G_ema asked: D and G are not read.
  const only = await readOfficialCheckpoint(file, { networks: ['G_ema'] });
  assert.ok(only.G_ema && !only.G && !only.D);
});

// ---- hostile inputs ------------------------------------------------------------------------

/** A tiny pickle assembler for hand-made hostile inputs. */
const op = {
  proto: (p: number) => [0x80, p],
  global: (m: string, n: string) => [0x63, ...Buffer.from(`${m}\n${n}\n`, 'latin1')],
  str: (s: string) => { const b = Buffer.from(s, 'utf8'); return [0x8c, b.length, ...b]; },
  tuple1: [0x85], tuple: [0x74], mark: [0x28], reduce: [0x52], stop: [0x2e], emptyDict: [0x7d], setitem: [0x73],
  int1: (n: number) => [0x4b, n],
  binbytes8: (n: bigint) => { const b = Buffer.alloc(9); b[0] = 0x8e; b.writeBigUInt64LE(n, 1); return [...b]; },
  emptyList: [0x5d], memoize: [0x94], binget: (i: number) => [0x68, i], append: [0x61],
};
const bytesOf = (...parts: Array<number[] | number>) => new Uint8Array(parts.flatMap((p) => (Array.isArray(p) ? p : [p])));

async function rejects(buf: Uint8Array, re: RegExp, name = 'hostile.pkl'): Promise<Error> {
  let err: Error | undefined;
  try {
    await readOfficialCheckpointBuffer(buf, name);
  } catch (e) {
    err = e as Error;
  }
  assert.ok(err, `${name}: expected an error`);
  assert.ok(err instanceof PickleError, `${name}: a PickleError, got ${err!.name}: ${err!.message}`);
  assert.match(err!.message, re);
  assert.ok(err!.message.includes(name), 'the message names the file');
  return err!;
}

test('hostile: posix.system / builtins.eval / os.system globals are refused by name and nothing runs', async () => {
  const marker = path.join(dir, 'pwned');
  for (const [m, n] of [['posix', 'system'], ['os', 'system'], ['builtins', 'eval'], ['subprocess', 'check_call']]) {
    const e = await rejects(bytesOf(op.proto(4), op.global(m, n), op.str(`touch ${marker}`), op.tuple1, op.reduce, op.stop), new RegExp(`${m}\\.${n}.*would run code.*Nothing was executed`));
    assert.ok(e instanceof ForbiddenGlobalError);
  }
  assert.equal(fs.existsSync(marker), false, 'no command ran');
});

test('hostile: unknown classes and TensorFlow-era pickles are named', async () => {
  await rejects(bytesOf(op.proto(2), op.global('dnnlib.tflib.network', 'Network'), op.stop), /TensorFlow-era StyleGAN2 pickle: it references dnnlib\.tflib\.network\.Network/);
  await rejects(bytesOf(op.proto(2), op.global('mymodule', 'Thing'), op.stop), /mymodule\.Thing, which is not one of the classes/);
});

test('hostile: StyleGAN3 pickles are refused with the class name', async () => {
  await assert.rejects(readOfficialCheckpoint(path.join(dir, 'stylegan3.pkl')), /StyleGAN3 pickles are not supported: class SynthesisInput/);
});

test('hostile: a huge declared length is an error, not an allocation', async () => {
  const before = process.memoryUsage().rss;
  await rejects(bytesOf(op.proto(4), op.binbytes8(1n << 40n), op.stop), /declares 1099511627776 bytes .* remain|absurd/);
  await rejects(bytesOf(op.proto(4), op.binbytes8(1n << 62n), op.stop), /absurd|declares/);
  assert.ok(process.memoryUsage().rss - before < 200 << 20, 'no huge allocation');
});

test('hostile: a truncated checkpoint (every cut of the real fixture tried at 40 places) is a clear error', async () => {
  const file = path.join(FIXTURE_DIR, 'training-runs', '00000-mnist32-cifar-kimg5-batch16', 'network-snapshot-000005.pkl');
  assert.ok(fs.existsSync(file), `official fixture missing: ${file}`);
  const whole = fs.readFileSync(file);
  for (let i = 1; i <= 40; i++) {
    const cut = Math.floor((whole.length * i) / 41);
    await rejects(whole.subarray(0, cut), /truncated|corrupt|remain|past the end|MARK|underflow|opcode/, `cut-${cut}.pkl`);
  }
  await rejects(new Uint8Array(0), /not a pickle|truncated|remain/, 'empty.pkl');
  await rejects(new Uint8Array(Buffer.from('PK\x03\x04 not really a zip')), /zip|truncated/, 'fake.zip.pkl');
});

test('hostile: a storage offset outside its blob, and a bad element count, are errors', async () => {
  // Take a real legacy blob of 4 floats and ask for a tensor of 4 elements starting at offset 10.
  const src = fs.readFileSync(path.join(dir, 'dumps-p4.pkl'));
  // Rewrite the pickle by hand instead: REDUCE(_rebuild_tensor_v2, (load_from_bytes(blob), 10, (4,), (1,), False, OrderedDict()))
  const blob = legacyBlob(4);
  const mk = (offset: number, size: number) => bytesOf(
    op.proto(4), op.emptyDict, op.str('G'),
    op.global('torch._utils', '_rebuild_tensor_v2'), op.mark,
    op.global('torch.storage', '_load_from_bytes'), [0x42, ...u32(blob.length), ...blob], op.tuple1, op.reduce,
    op.int1(offset), op.int1(size), op.tuple1, op.int1(1), op.tuple1, [0x89], op.global('collections', 'OrderedDict'), [0x29], op.reduce,
    op.tuple, op.reduce, op.setitem, op.stop);
  await rejects(mk(10, 4), /outside its storage of 4 elements/);
  await rejects(mk(1, 4), /outside its storage/);
  void src;
  // Count mismatch inside the blob: the key list says 4 elements, the data says 5.
  const bad = legacyBlob(4, 5);
  await rejects(bytesOf(op.proto(4), op.global('torch.storage', '_load_from_bytes'), [0x42, ...u32(bad.length), ...bad], op.tuple1, op.reduce, op.stop), /declares 4 elements but its data holds 5|remain/);
});

test('hostile: a reference cycle is reported, not followed forever', async () => {
  await assert.rejects(readOfficialCheckpoint(path.join(dir, 'cycle-attrs.pkl')), /reference cycle at G\.loop/);
  await assert.rejects(readTorchFile(path.join(dir, 'cycle-list.pkl')), /reference cycle/);
});

test('hostile: a pickle that is not a checkpoint dict says so', async () => {
  await rejects(bytesOf(op.proto(4), op.emptyList, op.stop), /holds a list, not the dict/);
  await rejects(bytesOf(op.proto(4), op.emptyDict, op.str('x'), op.int1(1), op.setitem, op.stop), /has none of G, G_ema, D/);
  await rejects(bytesOf(op.proto(4), op.binget(3), op.stop), /memo entry 3 does not exist/);
  await rejects(bytesOf(op.proto(4), 0xff), /unknown opcode 0xff/);
});

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}

/** A legacy torch.save stream of one float storage of `numel` elements, whose data section says `dataCount`. */
function legacyBlob(numel: number, dataCount = numel): number[] {
  const magic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
  const proto = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]; // 1001
  const sys = [0x80, 0x02, 0x7d, 0x2e];
  const obj = [0x80, 0x02, ...op.mark, ...op.str('storage'), ...op.global('torch', 'FloatStorage'), ...op.str('k0'), ...op.str('cpu'), ...op.int1(numel), 0x4e, ...op.tuple, 0x51, 0x2e];
  const keys = [0x80, 0x02, ...op.mark, ...op.str('k0'), 0x6c, 0x2e];
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(dataCount));
  return [...magic, ...proto, ...sys, ...obj, ...keys, ...count, ...new Uint8Array(dataCount * 4)];
}
