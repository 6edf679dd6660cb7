/**
 * A run records the absolute path of its dataset (training_options.json `dataPath`), and the one
 * dataset resolver tries it first: a run started with a cwd-relative --data still finds its images
 * from another working directory, where the older rules (the path as written, relative to the run's
 * parents or the cwd, datasets/ folders) cannot.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions } from '../../../src/core/config/options';
import { isUserError } from '../../../src/core/errors';
import { encodePng } from '../../../src/core/image/codec';
import { loadCheckpointDataset, locateDataset } from '../../../src/core/checkpoints/dataset';
import { RUN_FILES, writeTrainingOptions, type OurTrainingOptionsFile } from '../../../src/core/runs/runDir';
import { train } from '../../../src/core/training/trainingLoop';
import { TEST_BACKEND, useTestBackend } from './testBackend';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-datapath-')));
before(async () => { await useTestBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A folder of `n` 16×16 grey PNGs. */
function writeImages(dir: string, n: number): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(16 * 16).map((_, p) => (p * 7 + i * 31) & 255);
    fs.writeFileSync(path.join(dir, `img${i}.png`), encodePng({ width: 16, height: 16, channels: 1, data }));
  }
}

it('training_options.json of a new run records the absolute dataPath, and the run finds its data from another cwd', async () => {
  const project = path.join(tmp, 'project');
  writeImages(path.join(project, 'digits'), 6);
  const outdir = path.join(tmp, 'elsewhere', 'runs'); // not below the project: no parent of the run holds digits/
  const cwd = process.cwd();
  process.chdir(project);
  let r: Awaited<ReturnType<typeof train>>;
  try {
    r = await train({ options: resolveOptions({
      preset: 'tiny', data: 'digits', outdir, backend: TEST_BACKEND, metrics: [],
      model: { channelMax: 8, batch: 4, kimgPerTick: 0.008 }, kimg: 0.008, gridSize: 2,
    }) });
  } finally {
    process.chdir(cwd);
  }
  assert.equal(r.state, 'finished', r.error);
  const runDir = r.runDir!;
  const file = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.options), 'utf8')) as OurTrainingOptionsFile;
  assert.equal(file.options.data, 'digits');
  assert.equal(file.dataPath, path.join(project, 'digits'));

  assert.notEqual(process.cwd(), project);
  assert.equal(locateDataset({ path: 'digits' }, runDir), path.join(project, 'digits'));
  const ds = await loadCheckpointDataset({ dataset: { path: 'digits' }, runDir, resolution: 16, channels: 1, options: file.options });
  assert.equal(ds.count, 6);

  // Without the recorded path (a run from before dataPath) the older rules cannot find it.
  const older: Partial<OurTrainingOptionsFile> = { ...file };
  delete older.dataPath;
  fs.writeFileSync(path.join(runDir, RUN_FILES.options), JSON.stringify(older));
  assert.throws(() => locateDataset({ path: 'digits' }, runDir), (e: unknown) => isUserError(e) && /'digits' was not found/.test((e as Error).message));
});

it('dataPath is made absolute when written, and used only for the dataset it was recorded with', async () => {
  const runDir = path.join(tmp, 'runs2', '00000-x');
  fs.mkdirSync(runDir, { recursive: true });
  const data = path.join(tmp, 'other-place', 'faces');
  writeImages(data, 2);
  const options = resolveOptions({ preset: 'tiny', data: 'faces' });
  const rel = path.relative(process.cwd(), data);
  const file = await writeTrainingOptions(runDir, options, { name: 'wasm' }, { dataPath: rel });
  assert.equal(file.dataPath, data);
  assert.equal(locateDataset({ path: 'faces' }, runDir), data);
  // A reference to another dataset (e.g. a checkpoint of another run copied here) ignores it.
  assert.throws(() => locateDataset({ path: 'cats' }, runDir), (e: unknown) => isUserError(e));
  // The built-in MNIST is never a path.
  const mnist = await writeTrainingOptions(runDir, resolveOptions({ preset: 'tiny' }), { name: 'wasm' });
  assert.equal(mnist.dataPath, undefined);
});
