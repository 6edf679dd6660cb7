/**
 * The CLI end to end: flag parsing and overrides (`train --dry-run`), errors and their exit codes,
 * help pages, `--resume --dry-run`, and `generate` / `cluster` on a snapshot trained here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { resolveOptions, type TrainingOptions } from '../../../src/core/config/options';
import { parseSeeds } from '../../../src/core/analysis/samples';
import { isUserError } from '../../../src/core/errors';
import { FlagReader, MODEL_FLAGS, parseArgv, TRAIN_HELP } from '../../../src/cli/args';
import { runCli } from '../../../src/cli/main';
import { METRICS_HELP } from '../../../src/cli/metricsCommand';

const ROOT = path.resolve(__dirname, '../../..');

/** Runs the CLI in this process and collects what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false });
  return { code, out, err };
}

/** Asserts exit code 2 with an "Error: …" line matching `re` on stderr and nothing on stdout. */
async function expectUsageError(argv: string[], re: RegExp): Promise<void> {
  const r = await cli(...argv);
  assert.equal(r.code, 2, `${argv.join(' ')} → exit ${r.code}\n${r.err}`);
  assert.match(r.err, /^Error: /, argv.join(' '));
  assert.match(r.err, re, argv.join(' '));
  assert.doesNotMatch(r.err, /Internal error|    at /, 'a usage error must not print a stack');
  assert.equal(r.out, '', `${argv.join(' ')} printed to stdout`);
}

const readPng = (file: string) => PNG.sync.read(fs.readFileSync(file));

describe('parseSeeds', () => {
  it('expands ranges and lists in order', () => {
    assert.deepEqual(parseSeeds('0-3,7'), [0, 1, 2, 3, 7]);
    assert.deepEqual(parseSeeds(' 5 , 1-2 ,9-9'), [5, 1, 2, 9]);
    assert.deepEqual(parseSeeds('42'), [42]);
  });

  it('rejects bad input with a UserError that names the part', () => {
    for (const [spec, re] of [['a', /bad seed 'a'/], ['3-1', /bad seed range '3-1'/], ['', /no seeds/], [' , ', /no seeds/],
      ['-1', /bad seed '-1'/], ['1.5', /bad seed '1.5'/], ['0-2000', /too many seeds/], ['0-3;7', /bad seed '0-3;7'/]] as const) {
      assert.throws(() => parseSeeds(spec), (e: unknown) => isUserError(e) && re.test((e as Error).message), `spec '${spec}'`);
    }
  });
});

describe('argument parsing', () => {
  it('parseArgv: --a 1, --b=2, bare flags, positionals', () => {
    const p = parseArgv(['train', '--a', '1', '--b=2', '--flag', '--c', 'x', 'pos']);
    assert.equal(p.command, 'train');
    assert.deepEqual([...p.flags], [['a', '1'], ['b', '2'], ['flag', true], ['c', 'x']]);
    assert.deepEqual(p.positional, ['pos']);
    assert.equal(parseArgv([]).command, 'help');
  });

  it('every model field has a flag, listed in train --help', () => {
    assert.deepEqual(Object.keys(MODEL_FLAGS).sort(), Object.keys(resolveOptions().model).sort());
    for (const { flag } of Object.values(MODEL_FLAGS)) assert.match(TRAIN_HELP, new RegExp(`--${flag} `), `--${flag} missing from help`);
    const flags = Object.values(MODEL_FLAGS).map((s) => s.flag);
    assert.equal(new Set(flags).size, flags.length, 'duplicate flag names');
  });

  it('FlagReader: numbers, booleans and unknown flags', () => {
    const f = new FlagReader(parseArgv(['x', '--n', '3', '--ggdr', 'false', '--no-mirror', '--typo', '1']).flags);
    assert.equal(f.num('n', { int: true }), 3);
    assert.equal(f.bool('ggdr'), false);
    assert.equal(f.bool('mirror'), false);
    assert.equal(f.num('absent'), undefined);
    assert.throws(() => f.rejectUnknown('x'), /Unknown option for 'x': --typo/);
  });
});

describe('train --dry-run', () => {
  it('prints the resolved options with every override applied, and trains nothing', async () => {
    const model = {
      resolution: 32, channels: 3, zDim: 24, wDim: 20, mappingLayers: 3, mappingLrMul: 0.05, channelBase: 256, channelMax: 32,
      mbstdGroup: 2, batch: 6, glr: 0.001, dlr: 0.002, r1Gamma: 0.5, r1Interval: 8, emaKimg: 1.5, emaRampup: 0.1, kimgPerTick: 0.25, snapshotTicks: 3,
    };
    const modelArgs = Object.entries(model).flatMap(([k, v]) => [`--${MODEL_FLAGS[k as keyof typeof model].flag}`, String(v)]);
    const outdir = path.join(os.tmpdir(), `gi-cli-dry-${process.pid}`);
    const r = await cli('train', '--dry-run', '--preset', 'tiny', '--data', 'some/folder', '--kimg', '2.5', '--outdir', outdir, '--seed', '7',
      '--backend', 'cpu', '--desc', 'abc', '--max-images', '100', '--mirror', '--grid', '3', '--metrics', 'fid2k_lenet, kid2k_lenet',
      '--metrics-kimg', '0.5', '--ggdr-weight', '5', '--ggdr-res', '16', '--aug-xflip', '--aug-translate', '2', ...modelArgs);
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out) as TrainingOptions;
    assert.deepEqual(o, {
      preset: 'tiny', data: 'some/folder', datasetXflip: true, maxImages: 100, kimg: 2.5, seed: 7, backend: 'cpu', outdir, desc: 'abc',
      model, ggdr: { enabled: true, weight: 5, res: 16 }, augment: { xflip: true, translate: 2 }, gridSize: 3,
      metrics: ['fid2k_lenet', 'kid2k_lenet'], metricsKimg: 0.5,
    });
    assert.equal(fs.existsSync(outdir), false, 'a dry run must not create the outdir');
  });

  it('without flags prints the preset as resolveOptions gives it; --no-ggdr and --metrics none', async () => {
    const plain = await cli('train', '--dry-run');
    assert.equal(plain.code, 0, plain.err);
    assert.deepEqual(JSON.parse(plain.out), resolveOptions({}));
    const r = await cli('train', '--dry-run', '--preset', 'mnist32', '--no-ggdr', '--metrics', 'none', '--resolution', '16');
    const o = JSON.parse(r.out) as TrainingOptions;
    assert.equal(o.ggdr.enabled, false);
    assert.deepEqual(o.metrics, []);
    assert.equal(o.metricsKimg, resolveOptions({ preset: 'mnist32' }).metricsKimg, 'metricsKimg keeps the preset value unless given');
    assert.equal(o.ggdr.res, 4, 'ggdr res follows an overridden resolution (resolution/4)');
  });
});

describe('usage errors exit 2 with a clear message', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '--bogus', '--dry-run'], /Unknown option for 'train': --bogus\.[\s\S]*gan-inspector train --help/],
    [['train', '--kimg', 'abc', '--dry-run'], /--kimg abc is not a valid number/],
    [['train', '--seed', '1.5', '--dry-run'], /--seed 1\.5 is not a valid integer ≥ 0/],
    [['train', '--seed', '-3', '--dry-run'], /--seed -3 is not a valid integer ≥ 0/],
    [['train', '--kimg', '--dry-run'], /--kimg needs a value/],
    [['train', '--preset', 'huge', '--dry-run'], /Unknown preset 'huge'[\s\S]*tiny, mnist32, small64/],
    [['train', '--backend', 'gpu', '--dry-run'], /backend 'gpu'[\s\S]*auto, tensorflow, webgpu, wasm, cpu/],
    [['train', '--ggdr', 'maybe', '--dry-run'], /--ggdr takes no value \(or true\/false\), got 'maybe'/],
    [['train', '--resolution', '24', '--dry-run'], /Invalid option: resolution 24[\s\S]*power of two/],
    [['train', '--kimg', '0', '--dry-run'], /Invalid option: kimg 0/],
    [['train', '--mapping-lr-mul', '0', '--dry-run'], /Invalid option: mappingLrMul 0/],
    [['train', '--mbstd-group', '0', '--dry-run'], /--mbstd-group 0 is not a valid integer ≥ 1/],
    [['train', '--metrics-kimg', '-1', '--dry-run'], /--metrics-kimg -1 is not a valid number ≥ 0/],
    [['train', '--preset', 'tiny', '--aug-translate', '3', '--dry-run'], /translate 3 with GGDR at res 8[\s\S]*multiple of resolution\/ggdrRes = 2/],
    [['train', 'mnist', '--dry-run'], /Unexpected argument for 'train': 'mnist'/],
    [['frobnicate'], /Unknown command 'frobnicate'/],
    [['help', 'frobnicate'], /No help for 'frobnicate'/],
    [['generate', '--seeds', '0-3'], /--snapshot is required/],
    [['generate', '--snapshot', '/nonexistent/x', '--noise', 'loud'], /--noise loud: use const, random or none/],
    [['generate', '--snapshot', '/nonexistent/x', '--which', 'D'], /--which D: use G_ema or G/],
    [['generate', '--snapshot', '/nonexistent/x', '--cols', '0'], /--cols 0 is not a valid integer ≥ 1/],
    [['generate', '--snapshot', '/nonexistent/x', '--seeds', '0-3'], /Snapshot not found: \/nonexistent\/x/],
    [['cluster', '--snapshot', '/nonexistent/x', '--metric', 'l1'], /--metric l1: use cosine or euclidean/],
    [['cluster', '--snapshot', '/nonexistent/x', '--res', '8,x'], /--res 8,x: use resolutions like 8,16/],
    [['cluster', '--snapshot', '/nonexistent/x', '--kk', '3'], /Unknown option for 'cluster': --kk/],
    [['train', '--resume', '/nonexistent/run', '--dry-run'], /Run folder not found: \/nonexistent\/run/],
    [['metrics', '--metrics', 'fid2k_lenet'], /--snapshot is required/],
  ];
  for (const [argv, re] of cases) it(argv.join(' '), () => expectUsageError(argv, re));

  it('through the real entry point: exit status 2 and the message on stderr; --help exits 0', () => {
    const run = (...a: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...a], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const bad = run('train', '--dry-run', '--batchsize', '4');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /^Error: Unknown option for 'train': --batchsize\./);
    assert.equal(bad.stdout, '');
    const ok = run('train', '--help');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, TRAIN_HELP);
  });
});

describe('help', () => {
  it('top level lists every command; each command has its page (--help, -h, help CMD)', async () => {
    const top = await cli('--help');
    assert.equal(top.code, 0);
    for (const c of ['train', 'generate', 'cluster', 'metrics']) assert.match(top.out, new RegExp(`^  ${c} `, 'm'));
    assert.equal((await cli()).out, top.out);
    assert.equal((await cli('train', '--help')).out, TRAIN_HELP);
    assert.equal((await cli('train', '-h')).out, TRAIN_HELP);
    assert.equal((await cli('help', 'train')).out, TRAIN_HELP);
    assert.equal((await cli('metrics', '--help')).out, METRICS_HELP);
    assert.equal((await cli('help', 'metrics')).out, METRICS_HELP);
    const gen = await cli('generate', '--help');
    assert.equal(gen.code, 0);
    for (const f of ['--snapshot', '--seeds', '--psi', '--noise', '--which', '--cols', '--out', '--backend']) assert.ok(gen.out.includes(f), `generate help lacks ${f}`);
    const clu = await cli('cluster', '--help');
    assert.equal(clu.code, 0);
    for (const f of ['--snapshot', '--seeds', '--res', '--k', '--metric', '--psi', '--kmeans-seed', '--max-pixels', '--out']) assert.ok(clu.out.includes(f), `cluster help lacks ${f}`);
    for (const f of ['--preset', '--kimg', '--outdir', '--seed', '--ggdr', '--no-ggdr', '--ggdr-weight', '--ggdr-res', '--backend', '--resume', '--dry-run', '--data', '--metrics-kimg']) {
      assert.ok(TRAIN_HELP.includes(f + ' '), `train help lacks ${f}`);
    }
  });
});

describe('on a snapshot trained by the CLI', () => {
  let tmp = '';
  let runDir = '';
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gi-cli-'));
    const r = await cli('train', '--preset', 'tiny', '--kimg', '0.016', '--outdir', tmp, '--seed', '3');
    assert.equal(r.code, 0, r.out + r.err);
    const m = /^Run folder: (.+)$/m.exec(r.out);
    assert.ok(m, r.out);
    runDir = m[1];
    assert.match(r.out, /generate --snapshot /);
  });
  after(async () => { if (tmp) await fsp.rm(tmp, { recursive: true, force: true }); });

  it('generate writes a grid of 16-px cells for the seeds; each cell is that seed\'s sample', async () => {
    const grid = path.join(tmp, 'grid.png');
    const r = await cli('generate', '--snapshot', runDir, '--seeds', '0-3,7', '--cols', '3', '--out', grid);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `Wrote ${grid}\n`);
    const g = readPng(grid);
    assert.deepEqual([g.width, g.height], [3 * 16, 2 * 16], '5 seeds in 3 columns → 2 rows');
    // Seed 7 alone must equal the 5th cell (row 1, col 1): the seeds reach the generator.
    const one = path.join(tmp, 'seed7.png');
    assert.equal((await cli('generate', '--snapshot', runDir, '--seeds', '7', '--out', one)).code, 0);
    const s = readPng(one);
    assert.deepEqual([s.width, s.height], [16, 16]);
    const cell = (img: PNG, x0: number, y0: number) => {
      const out: number[] = [];
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) out.push(img.data[((y0 + y) * img.width + x0 + x) * 4]);
      return out;
    };
    assert.deepEqual(cell(g, 16, 16), cell(s, 0, 0));
    assert.notDeepEqual(cell(g, 0, 0), cell(g, 16, 0), 'different seeds give different samples');
    // ψ = 0 maps every latent to w_avg: with constant noise all cells are the same picture.
    const trunc = path.join(tmp, 'psi0.png');
    assert.equal((await cli('generate', '--snapshot', runDir, '--seeds', '0-1', '--psi', '0', '--out', trunc)).code, 0);
    const t = readPng(trunc);
    assert.deepEqual([t.width, t.height], [32, 16], 'default columns: ceil(√2) = 2');
    assert.deepEqual(cell(t, 0, 0), cell(t, 16, 0));
  });

  it('generate without --out writes next to the snapshot; a run without snapshots is a clear error', async () => {
    const r = await cli('generate', '--snapshot', runDir, '--seeds', '0-3');
    assert.equal(r.code, 0, r.err);
    const file = /^Wrote (.+)$/m.exec(r.out)![1];
    assert.equal(path.dirname(file), runDir);
    assert.deepEqual([readPng(file).width, readPng(file).height], [32, 32]);
    const empty = path.join(tmp, '00099-empty');
    await fsp.mkdir(empty);
    await expectUsageError(['generate', '--snapshot', empty], /No loadable snapshot in/);
  });

  it('cluster writes samples + one row per resolution + the GGDR decoder row', async () => {
    const out = path.join(tmp, 'cluster.png');
    const r = await cli('cluster', '--snapshot', runDir, '--seeds', '0-4', '--res', '8,16', '--k', '3', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}8×8: c0 [\d.]+%/m);
    assert.match(r.out, /^ {2}16×16: c0 [\d.]+%/m);
    const p = readPng(out);
    // 5 columns of 16 px with 1-px gaps; rows: samples, 8×8, 16×16, decoder (GGDR on) → 4 rows.
    assert.deepEqual([p.width, p.height], [5 * 16 + 4, 4 * 16 + 3]);
    const one = path.join(tmp, 'cluster1.png');
    assert.equal((await cli('cluster', '--snapshot', runDir, '--seeds', '2', '--res', '16', '--out', one)).code, 0);
    assert.deepEqual([readPng(one).width, readPng(one).height], [16, 3 * 16 + 2]);
    await expectUsageError(['cluster', '--snapshot', runDir, '--res', '32'], /Resolution 32 is not a generator block of this 16px model/);
  });

  it('train --resume RUN --dry-run prints the run\'s stored options; other options and non-runs are refused', async () => {
    const r = await cli('train', '--resume', runDir, '--dry-run');
    assert.equal(r.code, 0, r.err);
    const stored = JSON.parse(fs.readFileSync(path.join(runDir, 'training_options.json'), 'utf8')).options;
    assert.deepEqual(JSON.parse(r.out), stored);
    assert.deepEqual(JSON.parse(r.out), resolveOptions({ preset: 'tiny', kimg: 0.016, outdir: tmp, seed: 3 }));
    assert.match(r.err, /Would resume .* from network-snapshot-000000\.016/);
    await expectUsageError(['train', '--resume', runDir, '--kimg', '1', '--dry-run'], /--resume continues a run with its own options; --kimg cannot be combined/);
    await expectUsageError(['train', '--resume', runDir, '--no-ggdr', '--dry-run'], /--no-ggdr cannot be combined/);
    await expectUsageError(['train', '--resume', tmp, '--dry-run'], /is not a run folder: it has no training_options\.json/);
    await expectUsageError(['train', '--resume', path.join(runDir, 'training_options.json'), '--dry-run'], /Not a folder/);
    // A run folder whose snapshots are gone cannot be resumed (the same check as the training loop).
    const bare = path.join(tmp, '00098-bare');
    await fsp.mkdir(bare);
    await fsp.copyFile(path.join(runDir, 'training_options.json'), path.join(bare, 'training_options.json'));
    await expectUsageError(['train', '--resume', bare, '--dry-run'], /00098-bare has no loadable snapshot to resume from/);
  });
});
