/**
 * The raw-output CLI the official cross-check uses, on the official GGDR fixture pickle: what
 * `gan-inspector generate --npy` and `gan-inspector features --npy` write equals the outputs the
 * official code computed from the same pickle (reference-outputs/), and `generate`/`cluster` write
 * PNGs from a .pkl and from an official run folder (its newest pickle). Seeds are numpy's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { runCli } from '../../../src/cli/main';
import { readNpy } from '../../../src/core/util/npy';
import { FIXTURE_PKL, reference, requireFixture } from './fixture';

let tmp: string;
before(() => {
  requireFixture();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-cliraw-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli([...argv, '--backend', process.env.GAN_TEST_BACKEND ?? 'wasm'], { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false });
  return { code, out, err };
}

/** Max |a−b| relative to max |b|, after checking shapes. */
function relErr(file: string, ref: string): number {
  const a = readNpy(file), b = reference(ref);
  assert.deepEqual(a.shape, b.shape, `${path.basename(file)} shape vs ${ref}`);
  let m = 0, s = 0;
  for (let i = 0; i < b.data.length; i++) {
    m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])));
    s = Math.max(s, Math.abs(Number(b.data[i])));
  }
  return m / s;
}

test('generate --npy: images at ψ 1 and 0.7 equal the official ones (NCHW, before clamping)', async () => {
  for (const [psi, ref] of [['1', 'img_psi1.npy'], ['0.7', 'img_psi0.7.npy']] as const) {
    const f = path.join(tmp, `img-${psi}.npy`);
    const r = await cli('generate', '--snapshot', FIXTURE_PKL, '--seeds', '0-7', '--psi', psi, '--noise', 'const', '--npy', f);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /float32 \[8, 1, 32, 32\], NCHW, before clamping/);
    const a = readNpy(f), b = reference(ref);
    let maxAbs = 0;
    for (let i = 0; i < b.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(Number(a.data[i]) - Number(b.data[i])));
    assert.ok(maxAbs < 1e-3, `ψ ${psi}: max abs error ${maxAbs}`);
  }
});

test('features --npy: G_ema block outputs at every resolution and the GGDR decoder maps equal the official ones', async () => {
  for (const res of [4, 8, 16, 32]) {
    const f = path.join(tmp, `g${res}.npy`);
    const r = await cli('features', '--snapshot', FIXTURE_PKL, '--seeds', '0-7', '--net', 'G', '--res', String(res), '--npy', f);
    assert.equal(r.code, 0, r.err);
    const e = relErr(f, `feat_psi1_b${res}.npy`);
    assert.ok(e < 1e-3, `G features at ${res}: relative error ${e}`);
  }
  for (const res of [8, 16]) {
    const f = path.join(tmp, `d${res}.npy`);
    const r = await cli('features', '--snapshot', FIXTURE_PKL, '--seeds', '0-7', '--net', 'D-decoder', '--res', String(res), '--npy', f);
    assert.equal(r.code, 0, r.err);
    const e = relErr(f, `D_dec_b${res}.npy`);
    assert.ok(e < 1e-3, `decoder at ${res}: relative error ${e}`);
  }
});

test('features: clear errors for a resolution that is not a block or decoder level, and a missing --npy', async () => {
  let r = await cli('features', '--snapshot', FIXTURE_PKL, '--res', '64', '--npy', path.join(tmp, 'x.npy'));
  assert.equal(r.code, 2);
  assert.match(r.err, /--res 64 is not a synthesis block of this 32px generator/);
  r = await cli('features', '--snapshot', FIXTURE_PKL, '--net', 'D-decoder', '--res', '32', '--npy', path.join(tmp, 'y.npy'));
  assert.equal(r.code, 2);
  assert.match(r.err, /the GGDR decoder outputs at 8, 16/);
  r = await cli('features', '--snapshot', FIXTURE_PKL, '--res', '8');
  assert.equal(r.code, 2);
  assert.match(r.err, /--npy FILE is required/);
  assert.equal(fs.existsSync(path.join(tmp, 'x.npy')), false);
});

test('generate and cluster PNGs from a .pkl and from an official run folder (its newest pickle)', async () => {
  const grid = path.join(tmp, 'grid.png');
  let r = await cli('generate', '--snapshot', FIXTURE_PKL, '--seeds', '0-3', '--out', grid);
  assert.equal(r.code, 0, r.err);
  const png = PNG.sync.read(fs.readFileSync(grid));
  assert.deepEqual([png.width, png.height], [64, 64]);
  // generate.py's quantisation of seed 0 equals the grid's first cell for ≥ 99.9% of pixels.
  const q = reference('img_psi1_uint8_NHWC.npy');
  let same = 0;
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (png.data[(y * 64 + x) * 4] === Number(q.data[y * 32 + x])) same++;
  assert.ok(same / 1024 >= 0.999, `seed 0: ${same}/1024 pixels equal generate.py's`);
  const seg = path.join(tmp, 'seg.png');
  r = await cli('cluster', '--snapshot', path.dirname(FIXTURE_PKL), '--seeds', '0-3', '--out', seg);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /8×8: .*\n.*16×16: .*\n.*32×32/);
  const s = PNG.sync.read(fs.readFileSync(seg));
  assert.equal(s.width, 4 * 32 + 3);
  assert.ok(s.height > 4 * 32, 'samples, three G rows and the decoder row');
});
