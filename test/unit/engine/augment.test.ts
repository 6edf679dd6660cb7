/**
 * Augmentation (x-flip + integer translation) for D's inputs: the same plan must move an image and its
 * generator-feature GGDR targets by the same geometric transform at every resolution, and the trainer
 * must apply one plan to both.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions, translateUnit } from '../../../src/core/config/options';
import { ggdrLoss } from '../../../src/core/training/losses';
import { applyAugment, type AugmentPlan, GanTrainer } from '../../../src/core/training/trainer';
import { Rng } from '../../../src/core/util/rng';
import { useTestBackend } from './testBackend';

before(async () => { await useTestBackend(); });

type Shape4 = [number, number, number, number];

/**
 * Reference of one sample's transform on a [H,W,C] array: flip columns (x → W−1−x) if `flip`, then
 * move content by (dx, dy) pixels of this array (positive = right/down), zero where nothing lands.
 */
function refSample(src: ArrayLike<number>, h: number, w: number, c: number, flip: boolean, dx: number, dy: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = y - dy, sxShifted = x - dx;
      if (sy < 0 || sy >= h || sxShifted < 0 || sxShifted >= w) continue;
      const sx = flip ? w - 1 - sxShifted : sxShifted;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = src[(sy * w + sx) * c + k];
    }
  }
  return out;
}

/** The plan applied by the reference to [N,H,W,C] data, shifts scaled by H / plan.resolution (must stay integral). */
function refAugment(data: ArrayLike<number>, [n, h, w, c]: Shape4, plan: AugmentPlan): Float32Array {
  const scale = h / plan.resolution;
  const per = h * w * c;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const dx = plan.dx[i] * scale, dy = plan.dy[i] * scale;
    assert.ok(Number.isInteger(dx) && Number.isInteger(dy), `shift (${plan.dx[i]},${plan.dy[i]}) is not whole at ${h} px`);
    out.set(refSample(Array.prototype.slice.call(data, i * per, (i + 1) * per), h, w, c, plan.flip[i], dx, dy), i * per);
  }
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('applyAugment', () => {
  const R = 16;
  const n = 4;
  // Shifts in image px; multiples of 4 stay whole down to 4×4 feature maps.
  const plan4: AugmentPlan = { resolution: R, flip: [true, false, true, false], dx: [4, -4, 0, 8], dy: [-4, 8, 4, 0] };
  // Multiples of 2: whole at 16 and 8 (GGDR at res 8 on a 16-px model: translateUnit = 2).
  const plan2: AugmentPlan = { resolution: R, flip: [false, true, true, false], dx: [2, -6, 0, 14], dy: [-2, 2, 6, -14] };

  it('is the reference flip + shift on images and on feature maps of every resolution (shift scaled by r/R)', () => {
    const before = tf.memory().numTensors;
    for (const [plan, resolutions] of [[plan4, [16, 8, 4]], [plan2, [16, 8]]] as const) {
      // Grayscale and RGB images, and feature maps whose width differs from / equals the batch size.
      for (const r of resolutions) for (const c of [1, 3, n, 5]) {
        const shape: Shape4 = [n, r, r, c];
        const data = Float32Array.from(Rng.for(1, 'aug', r, c).normalArray(n * r * r * c));
        const x = tf.tensor4d(data, shape);
        const y = applyAugment(x, plan);
        assert.deepEqual(y.shape, shape, `${r}×${r}×${c}`);
        assert.equal(maxAbsDiff(y.dataSync(), refAugment(data, shape, plan)), 0, `${r}×${r}×${c}`);
        tf.dispose([x, y]);
      }
      // Flip alone (no shift) takes its own path.
      const flipOnly: AugmentPlan = { ...plan, dx: plan.dx.map(() => 0), dy: plan.dy.map(() => 0) };
      for (const c of [1, 3]) {
        const shape: Shape4 = [n, R, R, c];
        const data = Float32Array.from(Rng.for(3, 'aug', c).normalArray(n * R * R * c));
        const x = tf.tensor4d(data, shape);
        const y = applyAugment(x, flipOnly);
        assert.deepEqual(y.shape, shape, `flip only, ${c} channels`);
        assert.equal(maxAbsDiff(y.dataSync(), refAugment(data, shape, flipOnly)), 0, `flip only, ${c} channels`);
        tf.dispose([x, y]);
      }
    }
    assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
  });

  it('commutes with going down in resolution: augment(pool(x)) = pool(augment(x)) at 8×8 and 4×4', () => {
    // A feature map that is a k×k average of the image is tied to its geometry: the same plan must move
    // it exactly as it moves the image (this is what keeps GGDR targets aligned with D's augmented input).
    const data = Float32Array.from(Rng.for(2, 'aug').normalArray(n * R * R * 3));
    const x = tf.tensor4d(data, [n, R, R, 3]);
    for (const [plan, ks] of [[plan4, [2, 4]], [plan2, [2]]] as const) {
      for (const k of ks) {
        const viaFeatures = tf.tidy(() => applyAugment(tf.avgPool(x, k, k, 'valid'), plan));
        const viaImage = tf.tidy(() => tf.avgPool(applyAugment(x, plan), k, k, 'valid'));
        assert.deepEqual(viaFeatures.shape, [n, R / k, R / k, 3]);
        const d = maxAbsDiff(viaFeatures.dataSync(), viaImage.dataSync());
        assert.ok(d < 1e-6, `pool ${k}: max diff ${d}`);
        tf.dispose([viaFeatures, viaImage]);
      }
    }
    // And the check can fail: an unscaled shift (image px applied to the 8×8 map) does not commute.
    const wrong: AugmentPlan = { ...plan2, resolution: R / 2 };
    const a = tf.tidy(() => applyAugment(tf.avgPool(x, 2, 2, 'valid'), wrong));
    const b = tf.tidy(() => tf.avgPool(applyAugment(x, plan2), 2, 2, 'valid'));
    assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) > 0.1);
    tf.dispose([x, a, b]);
  });

  it('a null plan returns the input itself; an identity plan returns equal values', () => {
    const x = tf.randomNormal([2, 8, 8, 2]) as tf.Tensor4D;
    assert.equal(applyAugment(x, null), x);
    const y = applyAugment(x, { resolution: 16, flip: [false, false], dx: [0, 0], dy: [0, 0] });
    assert.equal(maxAbsDiff(y.dataSync(), x.dataSync()), 0);
    tf.dispose([x, y]);
  });
});

describe('the trainer', () => {
  it('applies one plan to the fakes D sees and to their GGDR feature targets', async () => {
    // tiny: 16 px, GGDR at 8 → shifts come in steps of 2 px (1 feature px).
    const o = resolveOptions({ preset: 'tiny', augment: { xflip: true, translate: 4 } });
    const unit = translateUnit(o);
    assert.equal(unit, 2);
    const t = new GanTrainer(o);
    const gr = o.ggdr.res, R = o.model.resolution;
    // Observe (not replace) the networks: G's forward that makes the GGDR targets, and D's decoder call.
    let gen: { image: Float32Array; feat: Float32Array; featShape: Shape4 } | null = null;
    let disc: { input: Float32Array; decoded: Float32Array; decShape: Shape4 } | null = null;
    const synthesis = t.G.synthesis.bind(t.G);
    t.G.synthesis = (w, opts) => {
      const out = synthesis(w, opts);
      if (opts?.keepFeatures?.includes(gr)) {
        const f = out.features.get(gr)!;
        gen = { image: out.image.dataSync().slice() as Float32Array, feat: f.dataSync().slice() as Float32Array, featShape: f.shape };
      }
      return out;
    };
    const apply = t.D.apply.bind(t.D);
    t.D.apply = (x, withDecoder) => {
      const out = apply(x, withDecoder);
      if (withDecoder) disc = { input: x.dataSync().slice() as Float32Array, decoded: out.decoded!.dataSync().slice() as Float32Array, decShape: out.decoded!.shape };
      return out;
    };
    const reals = tf.randomUniform([o.model.batch, R, R, 1], -1, 1, 'float32', 9) as tf.Tensor4D;
    const n = o.model.batch;
    const per = R * R;
    const seen = { flipped: 0, unflipped: 0, shifted: 0 };
    // Plans are random per step: run steps until the D steps have included flipped and unflipped
    // samples and shifts, checking every step.
    for (let step = 0; step < 6 && !(seen.flipped && seen.unflipped && seen.shifted); step++) {
      gen = null; disc = null;
      const stats = await t.trainStep(reals);
      assert.ok(gen && disc, 'the D step ran G for GGDR targets and D with its decoder');
      const g = gen as { image: Float32Array; feat: Float32Array; featShape: Shape4 };
      const d = disc as { input: Float32Array; decoded: Float32Array; decShape: Shape4 };
      assert.equal(d.input.length, g.image.length, `step ${step}: D's input has the shape of G's image`);

      // Recover each sample's plan from G's image and what D was given: exactly one flip/shift must match.
      const plan: AugmentPlan = { resolution: R, flip: [], dx: [], dy: [] };
      for (let i = 0; i < n; i++) {
        const img = g.image.subarray(i * per, (i + 1) * per), input = d.input.subarray(i * per, (i + 1) * per);
        const matches: Array<[boolean, number, number]> = [];
        for (const flip of [false, true]) {
          for (let dy = -R + 1; dy < R; dy++) {
            for (let dx = -R + 1; dx < R; dx++) {
              if (maxAbsDiff(refSample(img, R, R, 1, flip, dx, dy), input) === 0) matches.push([flip, dx, dy]);
            }
          }
        }
        assert.equal(matches.length, 1, `step ${step} sample ${i}: D's input is one flip+shift of G's image (${JSON.stringify(matches)})`);
        const [flip, dx, dy] = matches[0];
        assert.ok(dx % unit === 0 && dy % unit === 0 && Math.abs(dx) <= 4 && Math.abs(dy) <= 4, `step ${step} sample ${i}: shift (${dx},${dy})`);
        plan.flip.push(flip); plan.dx.push(dx); plan.dy.push(dy);
        seen[flip ? 'flipped' : 'unflipped']++;
        if (dx || dy) seen.shifted++;
      }

      // The GGDR term the trainer reported must be the loss against the targets moved by that same plan.
      const dec = tf.tensor4d(d.decoded, d.decShape);
      const moved = tf.tensor4d(refAugment(g.feat, g.featShape, plan), g.featShape);
      const unmoved = tf.tensor4d(g.feat, g.featShape);
      const expected = ggdrLoss(dec, moved, o.ggdr.weight).dataSync()[0];
      const ifUnaligned = ggdrLoss(dec, unmoved, o.ggdr.weight).dataSync()[0];
      const got = stats['Loss/D/ggdr'] as number;
      assert.ok(Math.abs(got - expected) <= 1e-5 * Math.abs(expected), `step ${step}: trainer ${got} vs same-plan targets ${expected}`);
      if (plan.flip.some(Boolean) || plan.dx.some((v) => v !== 0) || plan.dy.some((v) => v !== 0)) {
        assert.ok(Math.abs(got - ifUnaligned) > 1e-3, `step ${step}: the check distinguishes unaligned targets (${ifUnaligned})`);
      }
      tf.dispose([dec, moved, unmoved]);
    }
    assert.ok(seen.flipped && seen.unflipped && seen.shifted, `augmentation exercised: ${JSON.stringify(seen)}`);
    reals.dispose();
    t.dispose();
  });
});
