/**
 * The up-front snapshot compatibility check (src/core/runs/snapshotCompat.ts): its parameter lists
 * equal what the real Generator / Discriminator constructors create, and describeSnapshot reports a
 * snapshot whose snapshot.json was edited (resolution, channelMax, zDim) or whose manifest lacks a
 * tensor — each of which really fails to load — before anything is rendered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveOptions, type TrainingOverrides } from '../../../src/core/config/options';
import { Discriminator } from '../../../src/core/networks/discriminator';
import { Generator } from '../../../src/core/networks/generator';
import { discriminatorParamShapes, generatorParamShapes, snapshotCompatProblem, snapshotNetworkShapes } from '../../../src/core/runs/snapshotCompat';
import { loadNetworks } from '../../../src/core/training/snapshot';
import { describeSnapshot } from '../../../src/host/inference/snapshotInfo';
import { tmpDir, trainTinyRun } from './helpers';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form parsed JSON, read field by field

let out = '';
let snap = '';
let work = '';

before(async () => {
  out = tmpDir('gi-compat-');
  const run = await trainTinyRun(out, { kimg: 0.008 });
  snap = run.snapshots[run.snapshots.length - 1];
  work = path.join(out, 'edited');
  fs.mkdirSync(work);
});

after(() => fs.rmSync(out, { recursive: true, force: true }));

/** Copies the trained snapshot to a new folder and applies `edit` to its snapshot.json (and weights). */
function editedCopy(tag: string, edit: (meta: Json, weights: Buffer) => Buffer | void): string {
  const dir = path.join(work, `network-snapshot-${tag}`);
  fs.cpSync(snap, dir, { recursive: true });
  const metaFile = path.join(dir, 'snapshot.json');
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Json;
  const w = edit(meta, fs.readFileSync(path.join(dir, 'weights.bin')));
  if (w) fs.writeFileSync(path.join(dir, 'weights.bin'), w);
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return dir;
}

test('the parameter lists equal the real constructors (names, shapes, order) across configurations', () => {
  const cases: TrainingOverrides[] = [
    { preset: 'tiny' }, { preset: 'mnist32' }, { preset: 'mnist32', ggdr: { enabled: false } },
    { preset: 'tiny', ggdr: { res: 4 } }, { preset: 'tiny', ggdr: { res: 16 } },
    { preset: 'tiny', model: { channels: 3, mappingLayers: 3, zDim: 12, wDim: 20, channelBase: 100, channelMax: 24 } },
    { preset: 'small64', model: { channelBase: 256, channelMax: 32 } },
  ];
  for (const over of cases) {
    const o = resolveOptions(over);
    const G = new Generator(o.model, 0, 'G');
    const D = new Discriminator(o.model, 0, o.ggdr.enabled ? { res: o.ggdr.res, genChannels: (r) => G.channelsAt(r) } : null, 'D');
    try {
      const real = (ps: Generator['params']) => [...ps.vars].map(([name, v]) => ({ name, shape: [...v.shape] }));
      assert.deepEqual(generatorParamShapes(o.model), real(G.params), `G of ${JSON.stringify(over)}`);
      assert.deepEqual(discriminatorParamShapes(o.model, o.ggdr.enabled ? o.ggdr.res : null), real(D.params), `D of ${JSON.stringify(over)}`);
    } finally {
      G.dispose();
      D.dispose();
    }
  }
});

test('a trained snapshot passes: its manifest holds every network tensor with the implied shape', async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(snap, 'snapshot.json'), 'utf8')) as Json;
  assert.equal(snapshotCompatProblem(meta.options, meta.weightsManifest), null);
  const names = new Set((meta.weightsManifest[0].weights as Json[]).map((w) => w.name as string));
  for (const w of snapshotNetworkShapes(resolveOptions(meta.options))) assert.ok(names.has(w.name), w.name);
  const info = await describeSnapshot(snap);
  assert.equal(info.error, undefined);
  assert.deepEqual([info.resolution, info.blockResolutions], [16, [4, 8, 16]]);
});

/** describeSnapshot's message, and proof that loading really fails on the same folder. */
async function problemOf(dir: string): Promise<string> {
  const info = await describeSnapshot(path.join(dir, 'snapshot.json'));
  assert.ok(info.error, `describeSnapshot flags ${path.basename(dir)}`);
  await assert.rejects(loadNetworks(dir, { withD: true }), `loading ${path.basename(dir)} fails too`);
  return info.error!;
}

test('options.model.resolution edited: weights 16-px / 16-channel, options 32 px', async () => {
  const dir = editedCopy('res32', (m) => { m.options.model.resolution = 32; });
  const err = await problemOf(dir);
  assert.match(err, /^network-snapshot-res32 cannot be loaded: this snapshot's weights are 16-px \/ 16-channel grayscale but its options say 32-px \/ 16-channel grayscale: it was made by a different preset or edited/);
  assert.match(err, /tensors its options imply are missing \(G\/synthesis\/b32\//);
  const info = await describeSnapshot(dir);
  assert.equal(info.resolution, 32, 'the panel still shows what the options say');
});

test('options.model.channelMax edited: 16-channel weights, options 8', async () => {
  const err = await problemOf(editedCopy('cmax8', (m) => { m.options.model.channelMax = 8; }));
  assert.match(err, /weights are 16-px \/ 16-channel grayscale but its options say 16-px \/ 8-channel grayscale: it was made by a different preset or edited \(\d+ of \d+ network tensors have other shapes \(G\/synthesis\/const is \[4,4,16\], the options imply \[4,4,8\]/);
});

test('a change that keeps the geometry (zDim) is named tensor by tensor', async () => {
  const err = await problemOf(editedCopy('zdim', (m) => { m.options.model.zDim = 32; }));
  assert.match(err, /weights do not match its options: 2 of \d+ network tensors have other shapes \(G\/mapping\/fc0\/weight is \[16,16\], the options imply \[32,16\], G_ema\/mapping\/fc0\/weight is \[16,16\], the options imply \[32,16\]\)\. It was made by a different preset or version, or snapshot.json was edited/);
});

test('a manifest without one tensor (its bytes removed too, so the file sizes agree)', async () => {
  const gone = 'G_ema/mapping/fc0/bias';
  const dir = editedCopy('missing', (m, w) => {
    const specs = m.weightsManifest[0].weights as Json[];
    let off = 0;
    for (const [i, s] of specs.entries()) {
      const bytes = (s.shape as number[]).reduce((a, b) => a * b, 1) * 4;
      if (s.name === gone) {
        specs.splice(i, 1);
        m.weightsBytes -= bytes;
        return Buffer.concat([w.subarray(0, off), w.subarray(off + bytes)]);
      }
      off += bytes;
    }
    throw new Error(`${gone} not in the manifest`);
  });
  const err = await problemOf(dir);
  assert.match(err, /weights do not match its options: 1 tensors its options imply are missing \(G_ema\/mapping\/fc0\/bias\)/);
  assert.doesNotMatch(err, /incomplete snapshot/, 'the files themselves are consistent');
});

test('invalid options and a malformed manifest are reported, not thrown', () => {
  const meta = JSON.parse(fs.readFileSync(path.join(snap, 'snapshot.json'), 'utf8')) as Json;
  assert.match(snapshotCompatProblem({ ...meta.options, model: { ...meta.options.model, resolution: 24 } }, meta.weightsManifest) ?? '', /its options are invalid \(Invalid option: resolution 24\)/);
  assert.match(snapshotCompatProblem(meta.options, [{ weights: [{ name: 'x' }] }]) ?? '', /weights manifest is malformed/);
  assert.match(snapshotCompatProblem(meta.options, []) ?? '', /tensors its options imply are missing/);
});
