import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { channelsAt, resolveOptions } from '../../../src/core/config/options';
import { Generator } from '../../../src/core/networks/generator';
import { Discriminator, decoderSteps } from '../../../src/core/networks/discriminator';
import { ggdrLoss } from '../../../src/core/training/losses';
import { GanTrainer } from '../../../src/core/training/trainer';
import { useTestBackend } from './testBackend';

before(async () => { await useTestBackend(); });

describe('generator', () => {
  it('returns the image and every block feature map with the configured widths', () => {
    const o = resolveOptions({ preset: 'mnist32', model: { channelMax: 16 } });
    const G = new Generator(o.model, 1);
    const z = tf.randomNormal([3, o.model.zDim]) as tf.Tensor2D;
    const out = G.generate(z);
    assert.deepEqual(out.image.shape, [3, 32, 32, 1]);
    assert.deepEqual([...out.features.keys()], [4, 8, 16, 32]);
    for (const [r, f] of out.features) assert.deepEqual(f.shape, [3, r, r, channelsAt(o.model, r)]);
    tf.dispose([z, out.image, ...out.features.values()]);
    G.dispose();
  });

  it('truncation ψ=0 maps every latent to w_avg', () => {
    const o = resolveOptions({ preset: 'tiny' });
    const G = new Generator(o.model, 2);
    G.params.get('mapping/w_avg').assign(tf.randomNormal([o.model.wDim]));
    const w = G.mapping(tf.randomNormal([4, o.model.zDim]) as tf.Tensor2D, 0);
    const diff = tf.max(tf.abs(tf.sub(w, G.params.get('mapping/w_avg')))).dataSync()[0];
    assert.ok(diff < 1e-6, `max |w - w_avg| = ${diff}`);
    w.dispose();
    G.dispose();
  });
});

describe('discriminator + GGDR decoder', () => {
  for (const [res, ggdrRes] of [[16, 8], [32, 8], [32, 16], [16, 4]] as const) {
    it(`logits [N,1] and decoder output at ggdr_res ${ggdrRes} with G's channels (resolution ${res})`, () => {
      const o = resolveOptions({ preset: 'tiny', model: { resolution: res, channelBase: 256, channelMax: 32 }, ggdr: { res: ggdrRes } });
      const G = new Generator(o.model, 0);
      const D = new Discriminator(o.model, 0, { res: ggdrRes, genChannels: (r) => G.channelsAt(r) });
      const x = tf.randomNormal([4, res, res, 1]) as tf.Tensor4D;
      const out = D.apply(x, true);
      assert.deepEqual(out.logits.shape, [4, 1]);
      assert.deepEqual(out.decoded!.shape, [4, ggdrRes, ggdrRes, G.channelsAt(ggdrRes)]);
      const noDec = D.apply(x, false);
      assert.equal(noDec.decoded, null);
      tf.dispose([x, out.logits, out.decoded!, noDec.logits]);
      G.dispose(); D.dispose();
    });
  }

  it('every encoder block maps [N,r,r,C_r] to [N,r/2,r/2,C_r/2]; every decoder step has the U-Net input and G\'s width', async () => {
    // channelBase 192 / channelMax 48 at 32 px gives distinct widths per resolution (6, 12, 24, 48), so each
    // conv is identified by its weight's shape (none equals the [1,1,L,2L] filters of the 2× upsampling).
    const o = resolveOptions({ preset: 'tiny', model: { resolution: 32, channelBase: 192, channelMax: 48 }, ggdr: { res: 16 } });
    const G = new Generator(o.model, 0);
    const D = new Discriminator(o.model, 0, { res: 16, genChannels: (r) => G.channelsAt(r) });
    const n = 3;
    const c = (r: number) => channelsAt(o.model, r);
    const x = tf.randomNormal([n, 32, 32, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // Every conv the forward pass runs, with its input/filter/output shapes, as tfjs's profiler records them.
    const prof = await tf.profile(() => {
      const out = D.apply(x, true);
      tf.dispose([out.logits, out.decoded!]);
      return [];
    });
    assert.equal(tf.memory().numTensors, before);
    const convs = prof.kernels.filter((k) => k.name === 'Conv2D').map((k) => ({ x: k.inputShapes[0], w: k.inputShapes[1], y: k.outputShapes[0] }));
    const byWeight = (name: string) => {
      const ws = D.params.get(name).shape;
      const found = convs.filter((k) => JSON.stringify(k.w) === JSON.stringify(ws));
      assert.equal(found.length, 1, `${name} ${JSON.stringify(ws)}: ${found.length} convs`);
      return found[0];
    };
    assert.deepEqual(D.blockRes, [32, 16, 8]);
    assert.deepEqual(byWeight('fromrgb/weight').y, [n, 32, 32, c(32)]);
    for (const r of D.blockRes) {
      const h = r / 2;
      // The block's input is the previous block's (or fromRGB's) output.
      assert.deepEqual(byWeight(`b${r}/conv0/weight`).x, [n, r, r, c(r)], `block ${r} input`);
      assert.deepEqual(byWeight(`b${r}/conv0/weight`).y, [n, r, r, c(r)], `block ${r} conv0`);
      assert.deepEqual(byWeight(`b${r}/conv1/weight`).y, [n, h, h, c(h)], `block ${r} conv1 (after 2× down)`);
      assert.deepEqual(byWeight(`b${r}/skip/weight`).y, [n, h, h, c(h)], `block ${r} skip`);
    }
    // The last block's output [N,4,4,C4] plus the minibatch-stddev channel enters the epilogue conv.
    assert.deepEqual(byWeight('b4/conv/weight').x, [n, 4, 4, c(4) + 1]);
    assert.deepEqual(byWeight('b4/conv/weight').y, [n, 4, 4, c(4)]);
    // Decoder: 4→8 from the encoder output alone; 8→16 from [y ⊕ encoder feature at 8], both 2× upsampled.
    assert.deepEqual(byWeight('decoder/8/weight').x, [n, 8, 8, c(4)]);
    assert.deepEqual(byWeight('decoder/8/weight').y, [n, 8, 8, G.channelsAt(8)]);
    assert.deepEqual(byWeight('decoder/16/weight').x, [n, 16, 16, G.channelsAt(8) + c(8)]);
    assert.deepEqual(byWeight('decoder/16/weight').y, [n, 16, 16, G.channelsAt(16)]);
    x.dispose();
    G.dispose(); D.dispose();
  });

  it('decoder steps: no concatenation at the first step, one 2× step per octave', () => {
    assert.deepEqual(decoderSteps(16), [{ from: 4, to: 8, first: true }, { from: 8, to: 16, first: false }]);
    assert.deepEqual(decoderSteps(4), [{ from: 4, to: 4, first: true }]);
  });

  it('GGDR off: the discriminator has no decoder parameters at all', () => {
    const o = resolveOptions({ preset: 'tiny', ggdr: { enabled: false } });
    const t = new GanTrainer(o);
    assert.equal([...t.D.params.vars.keys()].filter((k) => k.startsWith('decoder/')).length, 0);
    t.dispose();
  });
});

describe('GGDR loss', () => {
  it('matches a hand computation of λ·mean(1 − cos) on fixed tensors', () => {
    // Two pixels, 2 channels: cos((1,0),(1,0)) = 1; cos((1,1),(−1,0)) = −1/√2.
    const dec = tf.tensor4d([1, 0, 1, 1], [1, 1, 2, 2]);
    const tgt = tf.tensor4d([3, 0, -2, 0], [1, 1, 2, 2]);
    const l = ggdrLoss(dec, tgt, 10).dataSync()[0];
    const expected = 10 * ((1 - 1) + (1 + 1 / Math.SQRT2)) / 2;
    assert.ok(Math.abs(l - expected) < 1e-5, `${l} vs ${expected}`);
    tf.dispose([dec, tgt]);
  });

  it('is about λ for unrelated random maps (an untrained decoder)', () => {
    const a = tf.randomNormal([4, 8, 8, 32], 0, 1, 'float32', 1) as tf.Tensor4D;
    const b = tf.randomNormal([4, 8, 8, 32], 0, 1, 'float32', 2) as tf.Tensor4D;
    const l = ggdrLoss(a, b, 10).dataSync()[0];
    assert.ok(Math.abs(l - 10) < 0.3, `loss ${l}`);
    tf.dispose([a, b]);
  });

  it('gradient reaches the decoder and the encoder of D, not the logit head; with G inside the tape it would reach G', () => {
    const o = resolveOptions({ preset: 'tiny' });
    const t = new GanTrainer(o);
    const z = t.latents('test', 0, 4);
    const allVars = [...t.D.params.trainable(), ...t.G.params.trainable()];
    // G's forward runs inside the gradient computation here: nothing detaches the targets.
    const { value, grads } = tf.variableGrads(() => {
      const out = t.G.generate(z, 1, { keepFeatures: [o.ggdr.res] });
      const d = t.D.apply(out.image, true);
      return ggdrLoss(d.decoded!, out.features.get(o.ggdr.res)!, 10);
    }, allVars);
    const norm = (v: tf.Variable) => (grads[v.name] ? tf.sum(tf.abs(grads[v.name])).dataSync()[0] : 0);
    const dec = t.D.params.trainable().filter((v) => t.D.params.canonicalOf(v).startsWith('decoder/'));
    const enc = t.D.params.trainable().filter((v) => t.D.params.canonicalOf(v).startsWith('b16/conv0'));
    const epilogue = t.D.params.trainable().filter((v) => t.D.params.canonicalOf(v).startsWith('b4/'));
    assert.ok(dec.every((v) => norm(v) > 0), 'decoder gets gradient');
    assert.ok(enc.every((v) => norm(v) > 0), 'encoder gets gradient');
    assert.ok(epilogue.every((v) => norm(v) === 0), 'the logit head is not on the GGDR path');
    // So the GGDR term has a path into G (targets and D's input both come from G): only detaching
    // them, as the trainer must, keeps it out. The next two tests check that the trainer does.
    const synth = t.G.params.trainable().filter((v) => t.G.params.canonicalOf(v).startsWith('synthesis/b8/'));
    assert.ok(synth.length > 0 && synth.some((v) => norm(v) > 0), 'undetached, the GGDR term reaches G');
    tf.dispose([value, z, ...Object.values(grads)]);
    t.dispose();
  });

  it('the trainer computes the GGDR targets (and D\'s fakes) outside any gradient tape', async () => {
    const o = resolveOptions({ preset: 'tiny' });
    const t = new GanTrainer(o);
    // Observe (not replace) G's forward: record whether a tape is recording when features for GGDR are produced.
    const calls: Array<{ keep: number[] | undefined; tape: boolean }> = [];
    const synthesis = t.G.synthesis.bind(t.G);
    t.G.synthesis = (w, opts) => {
      calls.push({ keep: opts?.keepFeatures, tape: tf.engine().isTapeOn() });
      return synthesis(w, opts);
    };
    const reals = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    await t.trainStep(reals);
    const ggdrCalls = calls.filter((c) => c.keep?.includes(o.ggdr.res));
    assert.equal(ggdrCalls.length, 1, `G forwards producing GGDR targets in one step: ${JSON.stringify(calls)}`);
    assert.equal(ggdrCalls[0].tape, false, 'the D step must produce the GGDR targets outside the gradient tape (detached)');
    assert.ok(calls.some((c) => c.tape), 'the G step does run G inside a tape (the probe sees tapes)');
    reals.dispose();
    t.dispose();
  });

  it('a training step moves G identically whatever the GGDR weight (no GGDR gradient into G), and D differently', async () => {
    const reals = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 6) as tf.Tensor4D;
    const after = async (weight: number) => {
      const t = new GanTrainer(resolveOptions({ preset: 'tiny', ggdr: { weight } }));
      const stats = await t.trainStep(reals);
      const read = (p: { vars: Map<string, tf.Variable> }) => new Map([...p.vars].map(([k, v]) => [k, Array.from(v.dataSync())]));
      const out = { G: read(t.G.params), G_ema: read(t.G_ema.params), D: read(t.D.params), ggdr: stats['Loss/D/ggdr'] as number };
      t.dispose();
      return out;
    };
    const off = await after(0);
    const heavy = await after(1000);
    assert.ok(heavy.ggdr > 100, `GGDR term active (λ=1000 · mean(1−cos)): ${heavy.ggdr}`);
    assert.equal(off.ggdr, 0);
    for (const net of ['G', 'G_ema'] as const) {
      for (const [k, v] of off[net]) assert.deepEqual(heavy[net].get(k), v, `${net}/${k} depends on the GGDR weight`);
    }
    const changed = [...off.D].filter(([k, v]) => JSON.stringify(heavy.D.get(k)) !== JSON.stringify(v)).map(([k]) => k);
    assert.ok(changed.some((k) => k.startsWith('decoder/')) && changed.some((k) => k.startsWith('b16/')), `D params changed by the GGDR weight: ${changed}`);
    reals.dispose();
  });
});
