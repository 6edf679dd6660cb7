/**
 * The official train.py's command line (src/core/official/trainer/args.ts) and the settings checks
 * (check.ts) against real interpreters: the stand-in train.py under ./standin (NOT the official code:
 * it only answers --help like it), stand-in `torch` packages, and — when OFFICIAL_GGDR_DIR points at a
 * checkout of naver-ai/GGDR and /usr/bin/python3 has PyTorch — the real train.py --help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUserError } from '../../../src/core/errors';
import {
  buildTrainArgs, commandLine, DEFAULT_OFFICIAL_CHOICES, isOfficialChoices, outputDirFromLine, parseTrainHelp, tracebackTail, type OfficialChoices,
} from '../../../src/core/official/trainer/args';
import { checkOfficialTrainer, checkPython, officialSetupProblems, readTrainHelp } from '../../../src/core/official/trainer/check';

const STANDIN = path.join(__dirname, 'standin');
const PY = 'python3';

/** The options part of the official GGDR train.py --help (commit 7071792), as click prints it. */
const GGDR_HELP = `Usage: train.py [OPTIONS]

  Train a GAN using the techniques described in the paper.

  Base configs (--cfg):
    auto       Automatically select reasonable defaults based on resolution

Options:
  --outdir DIR                    Where to save the results  [required]
  --gpus INT                      Number of GPUs to use [default: 1]
  --snap INT                      Snapshot interval [default: 50 ticks]
  --metrics LIST                  Comma-separated list or "none" [default:
                                  fid50k_full]
  --seed INT                      Random seed [default: 0]
  -n, --dry-run                   Print training options and exit
  --data PATH                     Training data (directory or zip)  [required]
  --cond BOOL                     Train conditional model based on dataset
                                  labels [default: false]
  --mirror BOOL                   Enable dataset x-flips [default: false]
  --cfg [auto|stylegan2|paper256|paper512|paper1024|cifar|cifarbaseline|dcgan]
                                  Base config [default: auto]
  --kimg INT                      Override training duration
  --batch INT                     Override batch size
  --aug [noaug|ada|fixed]         Augmentation mode [default: ada]
  --resume PKL                    Resume training [default: noresume]
  --fp32 BOOL                     Disable mixed-precision training
  --workers INT                   Override number of DataLoader workers
  --reg_type [none|ggdr]          Regularization type
  --ggdr_res INT                  Resolution of feature maps for GGDR
                                  [default: 64]
  --help                          Show this message and exit.
`;

const choices = (o: Partial<OfficialChoices> = {}): OfficialChoices => ({ ...DEFAULT_OFFICIAL_CHOICES, data: '/d/mnist32.zip', ...o });

test('parseTrainHelp: flags, metavars and choice lists of click help', () => {
  const h = parseTrainHelp(GGDR_HELP);
  assert.deepEqual(h.options.get('--cfg')?.choices, ['auto', 'stylegan2', 'paper256', 'paper512', 'paper1024', 'cifar', 'cifarbaseline', 'dcgan']);
  assert.deepEqual(h.options.get('--reg_type')?.choices, ['none', 'ggdr']);
  assert.equal(h.options.get('--gpus')?.metavar, 'INT');
  assert.ok(h.options.has('--dry-run'));
  assert.equal(h.options.get('--dry-run')?.metavar, undefined);
  // Continuation lines ("fid50k_full]", "[default: 64]") are not options; lines before "Options:" are ignored.
  assert.ok(![...h.options.keys()].some((k) => !k.startsWith('--')));
  assert.equal(h.options.size, 19);
});

test('buildTrainArgs: a GGDR run on MNIST, only flags the help declares, --reg_type always passed', () => {
  const h = parseTrainHelp(GGDR_HELP);
  const { args, omitted } = buildTrainArgs(choices({ cfg: 'cifar', ggdrRes: 16, batch: 16, kimg: 1, snap: 1, fp32: true }), { outdir: '/w/runs', help: h, extraArgs: ['--workers=1'] });
  assert.deepEqual(args, [
    '--outdir=/w/runs', '--data=/d/mnist32.zip', '--cfg=cifar', '--gpus=1', '--batch=16', '--kimg=1', '--snap=1', '--metrics=none', '--seed=0',
    '--mirror=false', '--fp32=true', '--reg_type=ggdr', '--ggdr_res=16', '--workers=1',
  ]);
  assert.deepEqual(omitted, []);
  // GGDR off: --reg_type none (GGDR's train.py crashes without it), no --ggdr_res; 0 means "train.py's default" (flag left out).
  const off = buildTrainArgs(choices({ aug: 'noaug', ggdr: false, ggdrRes: 32, gpus: 8, mirror: true, resume: '/r/network-snapshot-000100.pkl', metrics: 'fid50k_full, kid50k_full' }), { outdir: '/o', help: h });
  assert.deepEqual(off.args, ['--outdir=/o', '--data=/d/mnist32.zip', '--cfg=auto', '--gpus=8', '--metrics=fid50k_full,kid50k_full', '--seed=0', '--mirror=true', '--aug=noaug', '--resume=/r/network-snapshot-000100.pkl', '--reg_type=none']);
});

test('buildTrainArgs: stock StyleGAN2-ADA (no --reg_type) refuses GGDR, and leaves out what it does not declare', () => {
  const stock = parseTrainHelp(GGDR_HELP.replace(/^ {2}--(reg_type|ggdr_res|workers|fp32).*\n(?: {30,}.*\n)?/gm, ''));
  assert.ok(!stock.options.has('--reg_type') && !stock.options.has('--fp32'));
  assert.throws(() => buildTrainArgs(choices({ ggdr: true }), { outdir: '/o', help: stock, trainPy: '/x/train.py' }), (e: unknown) => isUserError(e) && /\/x\/train\.py has no --reg_type/.test((e as Error).message) && /naver-ai\/GGDR/.test((e as Error).message));
  const r = buildTrainArgs(choices({ ggdr: false, fp32: true }), { outdir: '/o', help: stock });
  assert.ok(!r.args.some((a) => a.startsWith('--reg_type') || a.startsWith('--fp32')));
  assert.deepEqual(r.omitted, ['--fp32=true']);
});

test('buildTrainArgs: bad choices and unknown extra args are UserErrors naming the problem', () => {
  const h = parseTrainHelp(GGDR_HELP);
  const bad = (c: Partial<OfficialChoices>, re: RegExp, extra?: string[]) =>
    assert.throws(() => buildTrainArgs(choices(c), { outdir: '/o', help: h, extraArgs: extra }), (e: unknown) => isUserError(e) && re.test((e as Error).message));
  bad({ kimg: 1.5 }, /--kimg .*whole kimg/);
  bad({ gpus: 0 }, /--gpus must be an integer ≥ 1/);
  bad({ batch: 10, gpus: 4 }, /--batch 10 is not divisible by --gpus 4/);
  bad({ ggdrRes: 24 }, /--ggdr_res must be 0 .* power of two/);
  bad({ cfg: 'paper2048' }, /--cfg paper2048 is not one of .*cifar/);
  bad({ metrics: 'fid50k; rm -rf /' }, /--metrics/);
  bad({ data: ' ' }, /Choose a dataset/);
  bad({}, /extraArgs has options .* does not declare: --cbase/, ['--cbase=512', '--workers=1']);
  // A checkout with the local --cbase flag accepts it.
  const local = parseTrainHelp(`${GGDR_HELP}  --cbase INT                     LOCAL EDIT: override channel_base\n`);
  assert.deepEqual(buildTrainArgs(choices(), { outdir: '/o', help: local, extraArgs: ['--cbase=512'] }).args.slice(-1), ['--cbase=512']);
  // A help without --outdir/--data is not StyleGAN2-ADA's train.py.
  assert.throws(() => buildTrainArgs(choices({ ggdr: false }), { outdir: '/o', help: parseTrainHelp('Options:\n  --foo INT  x\n') }), /no --outdir option/);
});

test('commandLine quotes what a shell needs; isOfficialChoices guards stored answers', () => {
  assert.equal(commandLine('/usr/bin/python3', '/src/GGDR', ['--outdir=/w/my runs', '--cfg=cifar'], { OMP_NUM_THREADS: '1' }),
    "cd /src/GGDR && OMP_NUM_THREADS=1 /usr/bin/python3 train.py '--outdir=/w/my runs' --cfg=cifar");
  assert.ok(isOfficialChoices(choices()));
  assert.ok(!isOfficialChoices({ ...choices(), aug: 'lots' }));
  assert.ok(!isOfficialChoices({ ...choices(), gpus: '2' }));
  assert.ok(!isOfficialChoices(null));
});

test('outputDirFromLine and tracebackTail read train.py output', () => {
  assert.equal(outputDirFromLine('Output directory:   /w/runs/00003-mnist32-cifar-kimg1-batch16'), '/w/runs/00003-mnist32-cifar-kimg1-batch16');
  assert.equal(outputDirFromLine('Training data:      /x.zip'), undefined);
  const lines = ['tick 0 kimg 0.0', 'Traceback (most recent call last):', '  File "train.py", line 3, in <module>', '    main()', 'RuntimeError: CUDA out of memory.', ''];
  const t = tracebackTail(lines, 3);
  assert.equal(t.exception, 'RuntimeError: CUDA out of memory.');
  assert.deepEqual(t.tail, ['  File "train.py", line 3, in <module>', '    main()', 'RuntimeError: CUDA out of memory.']);
  assert.deepEqual(tracebackTail(['a', 'b'], 5), { tail: ['a', 'b'] });
});

test('checks against real interpreters: missing python, torch that fails to import, stand-in torch, train.py --help', async () => {
  const env = (dir: string) => ({ ...process.env, PYTHONPATH: path.join(STANDIN, dir) });
  await assert.rejects(checkPython('/nonexistent/bin/python3', process.env), (e: unknown) => isUserError(e) && /"\/nonexistent\/bin\/python3" was not found \(ganInspector\.officialTrainer\.python\)/.test((e as Error).message));
  await assert.rejects(checkPython(PY, env('torchbroken')), (e: unknown) => isUserError(e) && /PyTorch cannot be imported by .*ImportError: libtorch_cpu\.so/.test((e as Error).message));
  // A "python" that is not Python.
  await assert.rejects(checkPython('/bin/false', process.env), (e: unknown) => isUserError(e) && /did not run as Python/.test((e as Error).message));
  const info = await checkPython(PY, env('torchstub'));
  assert.equal(info.torchVersion, '0.0+standin');
  assert.equal(info.cuda, false);

  const { help } = await readTrainHelp(PY, STANDIN, process.env);
  assert.ok(help.options.has('--reg_type'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-ofc-'));
  await assert.rejects(readTrainHelp(PY, tmp, process.env), (e: unknown) => isUserError(e) && /has no train\.py/.test((e as Error).message));
  await assert.rejects(readTrainHelp(PY, path.join(tmp, 'nope'), process.env), (e: unknown) => isUserError(e) && /does not exist/.test((e as Error).message));
  fs.writeFileSync(path.join(tmp, 'train.py'), 'import click_is_not_installed_here\n');
  await assert.rejects(readTrainHelp(PY, tmp, process.env), (e: unknown) => isUserError(e) && /train\.py --help failed [\s\S]*ModuleNotFoundError/.test((e as Error).message));

  const s = { python: PY, repo: STANDIN, env: {}, extraArgs: [] };
  const ok = await checkOfficialTrainer(s, { env: env('torchstub'), wantGgdr: true });
  assert.equal(ok.ggdr, true);
  assert.match(ok.warnings.join(' '), /no CUDA GPU/);
  await assert.rejects(checkOfficialTrainer(s, { env: { ...env('torchstub'), STANDIN_NO_GGDR: '1' }, wantGgdr: true }), (e: unknown) => isUserError(e) && /has no --reg_type/.test((e as Error).message));
  assert.deepEqual(officialSetupProblems({ python: PY, repo: STANDIN }), []);
  assert.match(officialSetupProblems({ python: PY, repo: '' }).join(' '), /officialTrainer\.repo is not set/);
  assert.match(officialSetupProblems({ python: PY, repo: tmp + '/x' }).join(' '), /No train\.py in/);
});

test('the real official train.py --help (needs OFFICIAL_GGDR_DIR and /usr/bin/python3 with PyTorch)', async (t) => {
  const dir = process.env.OFFICIAL_GGDR_DIR;
  if (!dir || !fs.existsSync(path.join(dir, 'train.py'))) {
    t.skip('DID NOT RUN: set OFFICIAL_GGDR_DIR to a checkout of naver-ai/GGDR to check the real train.py --help');
    return;
  }
  const c = await checkOfficialTrainer({ python: '/usr/bin/python3', repo: dir, env: {}, extraArgs: [] }, { env: process.env, wantGgdr: true });
  assert.ok(c.ggdr);
  const { args } = buildTrainArgs(choices({ cfg: 'cifar', ggdrRes: 16, batch: 16, kimg: 1, snap: 1, fp32: true }), { outdir: '/o', help: c.help });
  assert.ok(args.includes('--reg_type=ggdr') && args.includes('--ggdr_res=16') && args.includes('--fp32=true'));
  assert.deepEqual(c.help.options.get('--reg_type')?.choices, ['none', 'ggdr']);
});
