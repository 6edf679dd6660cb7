/** Training options that the loop depends on: metrics cadence, GGDR translation, stored-option upgrades. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS, resolveOptions, upgradeStoredOptions, validateOptions, type TrainingOptions } from '../../../src/core/config/options';
import { metricsDue } from '../../../src/core/training/trainingLoop';

describe('metricsKimg', () => {
  it('defaults: tiny and small64 have no metrics, mnist32 records FID/KID and mode coverage every 4 kimg', () => {
    assert.deepEqual([resolveOptions({ preset: 'tiny' }).metrics, resolveOptions({ preset: 'small64' }).metrics], [[], []]);
    const mn = resolveOptions({ preset: 'mnist32' });
    assert.deepEqual(mn.metrics, ['fid2k_lenet', 'kid2k_lenet', 'modes2k_lenet']);
    assert.equal(mn.metricsKimg, 4);
    assert.deepEqual(resolveOptions({ preset: 'mnist32', metrics: [] }).metrics, [], 'metrics can be turned off');
    assert.equal(resolveOptions({ preset: 'mnist32', metricsKimg: 0.5 }).metricsKimg, 0.5);
    assert.notEqual(resolveOptions({ preset: 'mnist32' }).metrics, PRESETS.mnist32.metrics, 'a copy, not the preset array');
  });

  it('rejects negative or non-finite values with a clear message', () => {
    for (const v of [-1, -0.001, NaN, Infinity]) {
      assert.throws(() => resolveOptions({ preset: 'tiny', metricsKimg: v }), (e: Error) => /Invalid option: metricsKimg/.test(e.message) && /non-negative/.test(String((e as { hint?: string }).hint ?? e.message)), String(v));
    }
  });

  it('cadence: first snapshot at/after each multiple, always the final one, 0 = every snapshot', () => {
    // Snapshots every 8 images (kimgPerTick 0.008), final at 40; multiples of 12 images.
    const run = (metricsKimg: number, snaps: number[], first: number) => {
      let next = first;
      const out: number[] = [];
      for (const n of snaps) {
        const r = metricsDue(n, n === snaps[snaps.length - 1], metricsKimg, next);
        next = r.next;
        if (r.due) out.push(n);
      }
      return out;
    };
    assert.deepEqual(run(0.012, [8, 16, 24, 32, 40], 12), [16, 24, 40]);
    assert.deepEqual(run(0.016, [8, 16, 24, 32, 40], 16), [16, 32, 40]);
    assert.deepEqual(run(0.048, [8, 16, 24, 32, 40], 48), [40], 'never a multiple: only the final snapshot');
    assert.deepEqual(run(0, [8, 16, 24], 0), [8, 16, 24]);
    assert.deepEqual(run(0.008, [8, 16, 24], 8), [8, 16, 24]);
    // kimg values that are not exact in binary still count whole images: 0.048 kimg = 48 images.
    assert.deepEqual(run(0.048, [16, 32, 48, 64, 80, 96, 100], 48), [48, 96, 100]);
  });
});

describe('GGDR and translation', () => {
  it('a translation that GGDR cannot follow is a clear error, not silently ignored', () => {
    // tiny: 16 px, ggdr res 8 → shifts move in steps of 2 px.
    assert.throws(() => resolveOptions({ preset: 'tiny', augment: { translate: 1 } }), /Invalid option: translate 1 with GGDR at res 8/);
    assert.throws(() => resolveOptions({ preset: 'tiny', augment: { translate: 3 } }), /translate 3/);
    assert.throws(() => resolveOptions({ preset: 'mnist32', augment: { translate: 2 } }), (e: Error & { hint?: string }) => /multiple of resolution\/ggdrRes = 4 px/.test(`${e.message} ${e.hint ?? ''}`));
    assert.equal(resolveOptions({ preset: 'tiny', augment: { translate: 2 } }).augment.translate, 2);
    assert.equal(resolveOptions({ preset: 'tiny', augment: { translate: 1 }, ggdr: { enabled: false } }).augment.translate, 1, 'any integer without GGDR');
    assert.equal(resolveOptions({ preset: 'tiny', augment: { translate: 1 }, ggdr: { res: 16 } }).augment.translate, 1, 'GGDR at full resolution: 1 px steps');
  });

  it('options stored by older versions load with the values they effectively trained with', () => {
    const stored = { ...resolveOptions({ preset: 'tiny', metrics: ['fid200_lenet'] }), augment: { xflip: false, translate: 3 } } as Partial<TrainingOptions>;
    delete stored.metricsKimg;
    const up = upgradeStoredOptions(stored as TrainingOptions);
    assert.equal(up.metricsKimg, 0, 'metrics ran at every snapshot');
    assert.equal(up.augment.translate, 2, 'a 3 px translation moved by 2 px');
    assert.equal(stored.augment!.translate, 3, 'the input is not modified');
    validateOptions(up);
  });
});
