import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { NumpyRandomState, officialLatent } from '../../../src/core/official/numpyRandom';
import { reference } from './fixture';

test('numpyRandom: z for seeds 0-7 equals the fixture z.npy bit for bit', () => {
  const z = reference('z.npy');
  const ref = z.data as Float64Array;
  for (let s = 0; s < 8; s++) {
    const mine = officialLatent(s, 512);
    for (let i = 0; i < 512; i++) assert.equal(mine[i], ref[s * 512 + i], `seed ${s}, index ${i}`);
  }
});

test('numpyRandom: first MT19937 outputs of seed 5489 are the reference sequence', () => {
  const r = new NumpyRandomState(5489);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [3499211612, 581869302, 3890346734]);
});

const PY = '/usr/bin/python3';
test('numpyRandom: randn and random_sample match numpy live (bit for bit but for glibc log rounding)', { skip: fs.existsSync(PY) ? false : `${PY} is absent` }, () => {
  const seeds = [42, 123456789, 4294967295, 2 ** 31, 99991, 7, 8, 9, 10, 11];
  const script = `import numpy as np, json, sys
out = {}
for s in ${JSON.stringify(seeds)}:
    r = np.random.RandomState(s)
    out[str(s)] = [r.randn(1, 1001).ravel().tolist(), r.random_sample(3).tolist()]
out['arr'] = np.random.RandomState([1, 2, 3]).randn(5).tolist()
print(json.dumps(out))`;
  const py = JSON.parse(execFileSync(PY, ['-c', script], { encoding: 'utf8' })) as Record<string, unknown>;
  let exact = 0;
  let total = 0;
  for (const s of seeds) {
    const [n, u] = py[String(s)] as [number[], number[]];
    const r = new NumpyRandomState(s);
    const mine = r.randn(1001);
    for (let i = 0; i < n.length; i++) {
      total++;
      if (mine[i] === n[i]) exact++;
      // glibc's log is not correctly rounded for ~0.07% of arguments (ours is): then f·x differs by an ulp or two.
      else assert.ok(Math.abs(mine[i] - n[i]) <= 4.5e-16 * Math.abs(n[i]), `seed ${s}, draw ${i}: ${mine[i]} vs ${n[i]}`);
    }
    // The 1001st deviate leaves one cached; random_sample continues from the same MT19937 stream, exactly.
    assert.deepEqual([r.nextDouble(), r.nextDouble(), r.nextDouble()], u, `random_sample, seed ${s}`);
  }
  assert.ok(exact / total >= 0.999, `bit-identical draws: ${exact}/${total}`);
  assert.deepEqual(Array.from(new NumpyRandomState([1, 2, 3]).randn(5)), py.arr);
});
