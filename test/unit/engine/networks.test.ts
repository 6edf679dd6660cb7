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

  it('gradient reaches the decoder and the encoder of D, and never G', () => {
    const o = resolveOptions({ preset: 'tiny' });
    const t = new GanTrainer(o);
    const z = t.latents('test', 0, 4);
    const out = t.G.generate(z, 1, { keepFeatures: [o.ggdr.res] });
    const allVars = [...t.D.params.trainable(), ...t.G.params.trainable()];
    const { value, grads } = tf.variableGrads(() => {
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
    // G is not on the path at all: the generated image and features are constants here.
    assert.ok(t.G.params.trainable().every((v) => norm(v) === 0), 'no gradient into G');
    tf.dispose([value, z, out.image, ...out.features.values(), ...Object.values(grads)]);
    t.dispose();
  });
});
