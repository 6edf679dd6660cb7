/**
 * The official-trainer check is kept by (python, repo, train.py's mtime, env): a second use and a new
 * window (a new cache over the same persisted store) do not run Python again; a changed train.py does;
 * failures are not kept; GGDR is judged from the kept result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUserError } from '../../../src/core/errors';
import type { OfficialTrainerCheck } from '../../../src/core/official/trainer/check';
import { parseTrainHelp } from '../../../src/core/official/trainer/args';
import { CHECK_STORE_KEY, TrainerCheckCache, trainerCheckKey, type CheckStore } from '../../../src/host/official/trainerCheckCache';

/** globalState's contract: values survive as JSON. */
class JsonStore implements CheckStore {
  private readonly values = new Map<string, string>();
  get(key: string): unknown {
    const v = this.values.get(key);
    return v === undefined ? undefined : JSON.parse(v);
  }
  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.stringify(value));
    return Promise.resolve();
  }
}

const HELP = 'Usage: train.py [OPTIONS]\n\nOptions:\n  --outdir DIR        Where to save the results  [required]\n  --reg_type [none|ggdr]  Regularization\n  --help              Show this message and exit.\n';

function repoWithTrainPy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-check-'));
  fs.writeFileSync(path.join(dir, 'train.py'), '# stand-in\n');
  return dir;
}

function checkOf(repo: string, ggdr: boolean): OfficialTrainerCheck {
  const help = parseTrainHelp(ggdr ? HELP : HELP.replace(/ {2}--reg_type.*\n/, ''));
  return {
    python: { python: '/usr/bin/python3', pythonVersion: '3.11.2', torchVersion: '2.3.0', cuda: false, gpuCount: 0 },
    repo, trainPy: path.join(repo, 'train.py'), help, ggdr: help.options.has('--reg_type'), warnings: ['no CUDA'],
  };
}

test('kept by python, repo, train.py mtime and env: in memory and across a reload; a changed train.py runs again', async () => {
  const repo = repoWithTrainPy();
  const s = { python: 'python3', env: { A: '1' } };
  const store = new JsonStore();
  let runs = 0;
  const run = () => Promise.resolve((runs++, checkOf(repo, true)));
  const cache = new TrainerCheckCache(store);
  const key = trainerCheckKey(s, repo);
  assert.ok(key);
  const first = await cache.get(key, false, run);
  assert.equal(first.ran, true);
  const second = await cache.get(key, true, run);
  assert.deepEqual([second.ran, runs], [false, 1]);

  // A reload: a new cache over the same store; the check comes back whole (help options as a Map).
  const reloaded = await new TrainerCheckCache(store).get(key, true, run);
  assert.deepEqual([reloaded.ran, runs], [false, 1]);
  assert.ok(reloaded.check.help.options.get('--reg_type')?.choices?.includes('ggdr'));
  assert.deepEqual(reloaded.check, first.check);

  // Another interpreter or env is another key.
  assert.notEqual(trainerCheckKey({ ...s, python: '/opt/venv/bin/python' }, repo), key);
  assert.notEqual(trainerCheckKey({ ...s, env: { A: '2' } }, repo), key);

  // A pull changes train.py: checked again.
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(repo, 'train.py'), later, later);
  const key2 = trainerCheckKey(s, repo);
  assert.notEqual(key2, key);
  assert.equal((await cache.get(key2, false, run)).ran, true);
  assert.equal(runs, 2);
  assert.equal((store.get(CHECK_STORE_KEY) as { key: string }).key, key2);
  // force runs it again.
  assert.equal((await cache.get(key2, false, run, true)).ran, true);
  assert.equal(runs, 3);
});

test('GGDR on a kept checkout without --reg_type: the check\'s message, without running Python again', async () => {
  const repo = repoWithTrainPy();
  const key = trainerCheckKey({ python: 'python3', env: {} }, repo);
  let runs = 0;
  const cache = new TrainerCheckCache(new JsonStore());
  await cache.get(key, false, () => Promise.resolve((runs++, checkOf(repo, false))));
  await assert.rejects(cache.get(key, true, () => Promise.resolve((runs++, checkOf(repo, false)))), (e: unknown) => isUserError(e) && /has no --reg_type/.test((e as Error).message));
  assert.equal(runs, 1);
});

test('a failed check is not kept; no train.py means no key (nothing kept)', async () => {
  const repo = repoWithTrainPy();
  const key = trainerCheckKey({ python: 'python3', env: {} }, repo);
  const store = new JsonStore();
  const cache = new TrainerCheckCache(store);
  let runs = 0;
  await assert.rejects(cache.get(key, false, () => Promise.reject(new Error((runs++, 'No module named torch')))), /torch/);
  assert.equal(store.get(CHECK_STORE_KEY), undefined);
  assert.equal((await cache.get(key, false, () => Promise.resolve((runs++, checkOf(repo, true))))).ran, true);
  assert.equal(runs, 2);
  assert.equal(trainerCheckKey({ python: 'python3', env: {} }, path.join(repo, 'missing')), undefined);
});
