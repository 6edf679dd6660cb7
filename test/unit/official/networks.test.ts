/**
 * The official networks in tfjs against the outputs the official PyTorch code computed from the
 * same checkpoint (../shared/fixtures/official-ggdr-pkl/reference-outputs, see its manifest.json).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { readOfficialCheckpoint } from '../../../src/core/official/pickle/index';
import type { OfficialCheckpoint, OfficialModule } from '../../../src/core/official/types';
import { OfficialDiscriminator, OfficialGenerator, quantizeOfficial } from '../../../src/core/official/networks/index';
import { isUserError } from '../../../src/core/errors';
import { FIXTURE_PKL, reference, requireFixture } from './fixture';

let ck: OfficialCheckpoint;
let z: tf.Tensor2D;

before(async () => {
  await useTestBackend();
  requireFixture();
  ck = await readOfficialCheckpoint(FIXTURE_PKL);
  const zr = reference('z.npy');
  z = tf.tensor2d(Float32Array.from(zr.data as Float64Array), zr.shape as [number, number]); // generate.py: z.to(float32) in the mapping
});

/** NHWC (ours) → NCHW (the reference's) when rank 4. */
function toNCHW(t: tf.Tensor): Float32Array {
  return tf.tidy(() => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t).dataSync() as Float32Array);
}

/** Max abs error and max abs error relative to the reference's largest magnitude. */
const measured: string[] = [];
after(() => {
  // The errors measured, for the record (node:test shows them as comments).
  console.log(`official networks vs reference (max abs / relative to max |ref|):\n  ${measured.join('\n  ')}`);
});

function compare(mine: tf.Tensor, refName: string): { abs: number; rel: number } {
  const ref = reference(refName);
  const expectShape = mine.rank === 4 ? [mine.shape[0], mine.shape[3], mine.shape[1], mine.shape[2]] : mine.shape;
  assert.deepEqual(ref.shape, expectShape, `${refName}: shape`);
  const a = toNCHW(mine);
  const b = ref.data as Float32Array;
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  measured.push(`${refName.padEnd(24)} ${abs.toExponential(2)}  ${(abs / scale).toExponential(2)}`);
  return { abs, rel: abs / scale };
}

function assertRel(mine: tf.Tensor, refName: string, tol = 1e-3): void {
  const { abs, rel } = compare(mine, refName);
  assert.ok(rel <= tol, `${refName}: relative error ${rel.toExponential(2)} (max abs ${abs.toExponential(2)}) > ${tol}`);
}

test('official G_ema: ws, images, every block feature map and running image at ψ 1 and 0.7', () => {
  const G = new OfficialGenerator(ck.G_ema!, 'G_ema');
  try {
    assert.equal(G.zDim, 512);
    assert.equal(G.numWs, 8);
    assert.equal(G.resolution, 32);
    assert.equal(G.imgChannels, 1);
    assert.deepEqual(G.resolutions, [4, 8, 16, 32]);
    assert.deepEqual(G.resolutions.map((r) => G.channelsAt(r)), [64, 64, 32, 16]);
    for (const psi of [1, 0.7]) {
      const ws = G.mapping(z, psi);
      assertRel(ws, `ws_psi${psi}.npy`);
      const out = G.synthesis(ws, { keepRgb: true });
      const img = compare(out.image!, `img_psi${psi}.npy`);
      assert.ok(img.abs <= 1e-3, `img ψ=${psi}: max abs error ${img.abs}`);
      for (const r of G.resolutions) {
        assertRel(out.features.get(r)!, `feat_psi${psi}_b${r}.npy`);
        assertRel(out.rgb!.get(r)!, `rgb_psi${psi}_b${r}.npy`);
      }
      if (psi === 1) {
        const q = quantizeOfficial(out.image!);
        const ref = reference('img_psi1_uint8_NHWC.npy').data as Uint8Array;
        let same = 0;
        for (let i = 0; i < ref.length; i++) if (q[i] === ref[i]) same++;
        measured.push(`uint8 identical            ${same}/${ref.length}`);
        assert.ok(same / ref.length >= 0.999, `uint8 pixels identical: ${same}/${ref.length}`);
      }
      tf.dispose([ws, out.image!, ...out.features.values(), ...out.rgb!.values()]);
    }
  } finally {
    G.dispose();
  }
});

test('official G (not EMA): image at ψ 1', () => {
  const G = new OfficialGenerator(ck.G!, 'G');
  try {
    const ws = G.mapping(z);
    const out = G.synthesis(ws, { keepFeatures: [] });
    assert.equal(out.features.size, 0);
    const { abs } = compare(out.image!, 'img_G_psi1.npy');
    assert.ok(abs <= 1e-3, `max abs error ${abs}`);
    tf.dispose([ws, out.image!]);
  } finally {
    G.dispose();
  }
});

test('official G: maxRes stops early (features only), truncation cutoff, const noise deterministic, no leaked tensors', () => {
  const before = tf.memory().numTensors;
  const G = new OfficialGenerator(ck.G_ema!, 'G_ema');
  const ws = G.mapping(z);
  const full = G.synthesis(ws);
  const part = G.synthesis(ws, { maxRes: 16, keepFeatures: [8, 16] });
  assert.equal(part.image, null);
  assert.deepEqual([...part.features.keys()], [8, 16]);
  assert.deepEqual(Array.from(part.features.get(16)!.dataSync()), Array.from(full.features.get(16)!.dataSync()));
  // ψ = 0.7 with cutoff 3: rows 0..2 truncated, the rest as at ψ = 1.
  const cut = G.mapping(z, 0.7, { cutoff: 3 });
  const t = G.mapping(z, 0.7);
  const rows = (x: tf.Tensor3D, a: number, b: number) => Array.from(tf.slice(x, [0, a, 0], [-1, b - a, -1]).dataSync());
  assert.deepEqual(rows(cut, 0, 3), rows(t, 0, 3));
  assert.deepEqual(rows(cut, 3, 8), rows(ws, 3, 8));
  // Random noise: seeded, and different from const noise.
  const r1 = G.synthesis(ws, { noiseMode: 'random', noiseSeed: 1, keepFeatures: [] }).image!;
  const r2 = G.synthesis(ws, { noiseMode: 'random', noiseSeed: 1, keepFeatures: [] }).image!;
  assert.deepEqual(Array.from(r1.dataSync()), Array.from(r2.dataSync()));
  assert.notDeepEqual(Array.from(r1.dataSync()), Array.from(full.image!.dataSync()));
  tf.dispose([full.image!, ...full.features.values(), ws, ...part.features.values(), cut, t, r1, r2]);
  G.dispose();
  // tf.slice results inside `rows` are the only intentional leftovers: 4 of them.
  assert.equal(tf.memory().numTensors - before, 4);
});

test('official D: logits (batch 8 and batch 1), block outputs, GGDR decoder maps', () => {
  const D = new OfficialDiscriminator(ck.D!, 'D');
  const ir = reference('img_psi1.npy');
  const img = tf.tidy(() => tf.transpose(tf.tensor4d(ir.data as Float32Array, ir.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);
  try {
    assert.equal(D.ggdrRes, 16);
    assert.equal(D.cDim, 0);
    assert.equal(D.resolution, 32);
    assert.equal(D.imgChannels, 1);
    const out = D.apply(img, { keepBlocks: true });
    assertRel(out.logits, 'D_logits.npy');
    for (const r of [32, 16, 8]) assertRel(out.blocks!.get(r)!, `D_feat_b${r}.npy`);
    assertRel(out.decodedAll!.get(8)!, 'D_dec_b8.npy');
    assertRel(out.decoded!, 'D_dec_b16.npy');
    const singles = [];
    for (let i = 0; i < 8; i++) {
      const one = tf.slice(img, [i, 0, 0, 0], [1, -1, -1, -1]);
      const o = D.apply(one, { withDecoder: false });
      assert.equal(o.decoded, null);
      singles.push(o.logits);
      one.dispose();
    }
    const l1 = tf.concat(singles);
    assertRel(l1, 'D_logits_batch1.npy');
    // Batch 8 and batch 1 differ (minibatch stddev): the two references are not interchangeable.
    assert.ok(compare(l1, 'D_logits.npy').rel > 1e-3);
    measured.pop(); // (that one is a deliberate mismatch, not a measurement)
    tf.dispose([out.logits, out.decoded!, ...out.decodedAll!.values(), ...out.blocks!.values(), l1, ...singles]);
  } finally {
    img.dispose();
    D.dispose();
  }
});

/** A deep copy of a record with one edit, to see how unsupported networks are refused. */
function edited(m: OfficialModule, path: string[], edit: (m: OfficialModule) => void): OfficialModule {
  const copy: OfficialModule = { ...m, attrs: { ...m.attrs }, modules: { ...m.modules } };
  if (path.length === 0) edit(copy);
  else copy.modules[path[0]] = edited(m.modules[path[0]]!, path.slice(1), edit);
  return copy;
}

test('official networks: unsupported records are refused with a UserError naming module, class and attribute', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => new OfficialGenerator(edited(ck.G_ema!, ['synthesis', 'b8'], (m) => { m.attrs.architecture = 'fancy'; }), 'G_ema'), /G_ema\.synthesis\.b8 \(SynthesisBlock\) has architecture 'fancy'/],
    [() => new OfficialGenerator(edited(ck.G_ema!, ['synthesis', 'b16', 'conv1'], (m) => { m.attrs.activation = 'gelu'; }), 'G_ema'), /G_ema\.synthesis\.b16\.conv1 \(SynthesisLayer\) uses activation 'gelu'/],
    [() => new OfficialGenerator(edited(ck.G_ema!, ['synthesis'], (m) => { m.className = 'SynthesisNetworkV3'; }), 'G_ema'), /G_ema\.synthesis \(SynthesisNetworkV3\) is not a SynthesisNetwork/],
    [() => new OfficialDiscriminator(edited(ck.D!, ['b16', 'conv1'], (m) => { m.attrs.down = 4; }), 'D'), /D\.b16\.conv1 \(Conv2dLayer\) resamples with up=1, down=4/],
    [() => new OfficialDiscriminator(ck.G_ema!, 'G_ema'), /G_ema \(Generator\) is not a Discriminator/],
  ];
  for (const [make, msg] of cases) {
    assert.throws(make, (e: unknown) => isUserError(e) && msg.test((e as Error).message), String(msg));
  }
  // Minibatch stddev with group 32: a batch of 33 cannot be split into groups (the official code fails too).
  const before = tf.memory().numTensors;
  const D = new OfficialDiscriminator(ck.D!, 'D');
  const img = tf.zeros([33, 32, 32, 1]) as tf.Tensor4D;
  assert.throws(() => D.apply(img), (e: unknown) => isUserError(e) && /multiple of its group size 32/.test((e as Error).message));
  img.dispose();
  D.dispose();
  assert.equal(tf.memory().numTensors, before, 'a failed apply leaks nothing');
});
