/**
 * `gan-inspector metrics` through runMetricsCommand on a tiny snapshot trained here (tiny preset,
 * 0.016 kimg): results on stdout and metric-*.jsonl lines appended, with a feature model given by URL
 * (downloaded once into $GAN_INSPECTOR_CACHE_DIR, then read from there), --no-append, input errors as
 * exit code 2, and Ctrl-C (SIGINT) stopping cleanly with exit code 130 and nothing appended — in this
 * process and in a real child process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRICS_HELP, runMetricsCommand } from '../../../src/cli/metricsCommand';
import { modelCacheDir } from '../../../src/core/metrics/tfjsModel';
import { asMetricLine } from '../../../src/shared/jsonl';
import { TEST_BACKEND } from '../inference/helpers';
import { metricFileLines, tinyRunWithServedModel, type ModelServer } from './modelFixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let tmp: string;
let runDir: string;
let snap: string;
let server: ModelServer;
let url: string;
let cacheDir: string;
const savedEnv = process.env.GAN_INSPECTOR_CACHE_DIR;

const metricFile = (name: string) => path.join(runDir, `metric-${name}.jsonl`);
const fileLines = (name: string) => metricFileLines(runDir, name);

async function cli(args: string[], onErr?: (s: string) => void): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runMetricsCommand(args, { out: (s) => (out += s), err: (s) => { err += s; onErr?.(s); }, tty: false });
  return { code, out, err };
}

before(async () => {
  ({ tmp, runDir, snap, server, url } = await tinyRunWithServedModel('gi-mcli-'));
  cacheDir = path.join(tmp, 'cache');
  process.env.GAN_INSPECTOR_CACHE_DIR = cacheDir;
});

after(async () => {
  if (savedEnv === undefined) delete process.env.GAN_INSPECTOR_CACHE_DIR;
  else process.env.GAN_INSPECTOR_CACHE_DIR = savedEnv;
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--help, and bad input is exit code 2 with a clear message', async () => {
  assert.deepEqual(await cli(['--help']), { code: 0, out: METRICS_HELP, err: '' });
  assert.match(METRICS_HELP, /--snapshot PATH .*--metrics LIST .*--no-append .*--feature-model PATH\|URL .*--feature-model-name NAME/s);
  const cases: Array<[string[], RegExp]> = [
    [['--metrics', 'fid1k_lenet'], /^Error: --snapshot is required\./],
    [['--snapshot', snap], /^Error: --metrics is required\./],
    [['--snapshot', snap, '--metrics', 'fid_lenet'], /^Error: Unknown metric 'fid_lenet'\./],
    [['--snapshot', snap, '--metrics', 'fid1k_lenet', '--bogus', '1'], /^Error: Unknown option for 'metrics': --bogus\./],
    [['--snapshot', snap, '--metrics', 'fid1k_incv3'], /^Error: No feature extractor called 'incv3'\./],
    [['--snapshot', snap, '--metrics', 'fid1k_lenet', '--feature-model', url], /cannot tell its name from --metrics \(only lenet metrics\)/],
    [['--snapshot', snap, '--metrics', 'fid1k_x', '--feature-model', url, '--feature-model-name', 'lenet'], /cannot be called 'lenet'/],
    [['--snapshot', snap, '--metrics', 'fid1k_x', '--feature-model-name', 'x'], /--feature-model-name needs --feature-model/],
    [['--snapshot', path.join(tmp, 'nowhere'), '--metrics', 'fid1k_lenet'], /^Error: Snapshot not found: /],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.out, '');
  }
});

test('metrics with a feature model by URL: printed, appended, downloaded once into $GAN_INSPECTOR_CACHE_DIR', async () => {
  server.requests.length = 0;
  const r = await cli(['metrics', '--snapshot', runDir, '--metrics', 'fid200_inception_v3,kid200_inception_v3', '--feature-model', url, '--backend', TEST_BACKEND]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(server.requests.map((q) => q.split('/').pop()).sort(), ['group1-shard1of1.bin', 'model.json']);
  assert.ok(fs.existsSync(path.join(modelCacheDir(url, cacheDir), 'model.json')), 'cached in $GAN_INSPECTOR_CACHE_DIR/models/');
  const fid = fileLines('fid200_inception_v3').map((t) => asMetricLine(JSON.parse(t))!);
  const kid = fileLines('kid200_inception_v3').map((t) => asMetricLine(JSON.parse(t))!);
  assert.equal(fid.length, 1);
  assert.equal(kid.length, 1);
  assert.equal(fid[0].snapshot_pkl, path.basename(snap), 'the run folder means its newest snapshot');
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines[0], `${path.basename(runDir)}/${path.basename(snap)}`);
  assert.match(lines[1], /^ {2}extractor inception_v3 \(TF\.js graph model, 4-d features at 8×8×3, downloaded now from http:\/\/127\.0\.0\.1:\d+\/inception_v3\/model\.json\)$/);
  assert.match(lines[2], new RegExp(`^  fid200_inception_v3  ${fid[0].results.fid200_inception_v3.toFixed(4)}  \\(\\d+s\\)$`));
  assert.match(lines[3], /^ {2}kid200_inception_v3  -?\d/);
  assert.equal(lines[4], `Appended to ${metricFile('fid200_inception_v3')}, ${metricFile('kid200_inception_v3')}`);
  assert.match(r.err, /^Snapshot .*\nBackend (wasm|cpu) /);
  assert.match(r.err, /downloading group1-shard1of1\.bin \(2\/2\)/);
  assert.match(r.err, /fid200_inception_v3, kid200_inception_v3: generated images \d+\/200/);

  // --no-append; the name comes from --feature-model-name; the model from the cache (no request).
  server.requests.length = 0;
  const again = await cli(['--snapshot', snap, '--metrics', 'fid200_inception_v3', '--feature-model', url, '--feature-model-name', 'inception_v3', '--no-append', '--backend', TEST_BACKEND]);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(server.requests, []);
  assert.match(again.out, /extractor inception_v3 .*cached download of http/);
  assert.match(again.out, new RegExp(`fid200_inception_v3  ${fid[0].results.fid200_inception_v3.toFixed(4)} `), 'same model, same seeds: same FID');
  assert.doesNotMatch(again.out, /Appended/);
  assert.equal(fileLines('fid200_inception_v3').length, 1);
});

test('Ctrl-C (SIGINT) stops at the next batch: exit code 130, nothing appended', async () => {
  let sent = false;
  const r = await cli(['--snapshot', snap, '--metrics', 'fid5k_inception_v3', '--feature-model', url, '--backend', TEST_BACKEND], (s) => {
    if (!sent && /generated images/.test(s)) {
      sent = true;
      process.emit('SIGINT'); // what the terminal's Ctrl-C delivers to the listeners
    }
  });
  assert.ok(sent);
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /Stopping at the next batch \(nothing is appended\)/);
  assert.match(r.err, /Interrupted: no metric was appended\.\n$/);
  assert.equal(r.out, '');
  assert.deepEqual(fileLines('fid5k_inception_v3'), []);
  assert.equal(process.listenerCount('SIGINT'), 0, 'the handler is removed again');
});

test('Ctrl-C in a real CLI process: a SIGINT ends it with 130 and nothing appended', async () => {
  const script = path.join(tmp, 'metrics-cli.cjs');
  fs.writeFileSync(script, `require(${JSON.stringify(path.join(ROOT, 'src', 'cli', 'metricsCommand.ts'))}).runMetricsCommand(process.argv.slice(2)).then((c) => process.exit(c));\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', script, 'metrics', '--snapshot', snap, '--metrics', 'fid5k_inception_v3', '--feature-model', url, '--backend', TEST_BACKEND],
    { cwd: ROOT, env: { ...process.env, GAN_INSPECTOR_CACHE_DIR: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      if (/generated images/.test(err)) resolve();
    });
    void exited.then(() => reject(new Error(`exited before generating:\n${err}`)));
  });
  child.kill('SIGINT');
  assert.equal(await exited, 130, err);
  assert.match(err, /Interrupted: no metric was appended\./);
  assert.equal(out, '');
  assert.deepEqual(fileLines('fid5k_inception_v3'), []);
});
