"""STAND-IN for the official StyleGAN2-ADA / GGDR train.py, used by GAN Inspector's unit tests.

It is NOT the official code and trains nothing. It imitates only what the launcher relies on:
click-style --help listing the official flags, the "Output directory:" line, a new NNNNN-<desc> run
folder under --outdir with training_options.json (total_kimg), log.txt teed from stdout/stderr
(like dnnlib.util.Logger), one flushed stats.jsonl line per tick in StyleGAN2-ADA's format,
network-snapshot-NNNNNN.pkl files (placeholder bytes), "Exiting..." at the end, and Python's own
behaviour on SIGINT (click's "Aborted!", exit 1) and on exceptions (traceback). Knobs (environment):
  STANDIN_TICK_SEC       seconds per tick (default 0.2)
  STANDIN_CRASH_AT_TICK  raise RuntimeError at that tick
  STANDIN_IGNORE_SIGNALS ignore SIGINT and SIGTERM (to test escalation to SIGKILL)
  STANDIN_NO_GGDR        --help without --reg_type/--ggdr_res (stock StyleGAN2-ADA)
  STANDIN_DUMP_ENV       write the environment to <run>/env.json
"""
import json
import os
import re
import signal
import sys
import time

GGDR = not os.environ.get('STANDIN_NO_GGDR')
CFGS = ['auto', 'stylegan2', 'paper256', 'paper512', 'paper1024', 'cifar']
OPTS = [
    ('--outdir', 'DIR', 'Where to save the results  [required]'),
    ('--gpus', 'INT', 'Number of GPUs to use [default: 1]'),
    ('--snap', 'INT', 'Snapshot interval [default: 50 ticks]'),
    ('--metrics', 'LIST', 'Comma-separated list or "none" [default: fid50k_full]'),
    ('--seed', 'INT', 'Random seed [default: 0]'),
    ('-n, --dry-run', None, 'Print training options and exit'),
    ('--data', 'PATH', 'Training data (directory or zip)  [required]'),
    ('--cond', 'BOOL', 'Train conditional model based on dataset labels'),
    ('--mirror', 'BOOL', 'Enable dataset x-flips [default: false]'),
    ('--cfg', '[' + '|'.join(CFGS) + ']', 'Base config [default: auto]'),
    ('--kimg', 'INT', 'Override training duration'),
    ('--batch', 'INT', 'Override batch size'),
    ('--aug', '[noaug|ada|fixed]', 'Augmentation mode [default: ada]'),
    ('--resume', 'PKL', 'Resume training [default: noresume]'),
    ('--fp32', 'BOOL', 'Disable mixed-precision training'),
    ('--workers', 'INT', 'Override number of DataLoader workers'),
]
if GGDR:
    OPTS += [('--reg_type', '[none|ggdr]', 'Regularization type'), ('--ggdr_res', 'INT', 'Resolution of feature maps for GGDR [default: 64]')]
OPTS += [('--help', None, 'Show this message and exit.')]


def print_help():
    print('Usage: train.py [OPTIONS]\n\n  STAND-IN train.py (GAN Inspector tests).\n\nOptions:')
    for flag, meta, text in OPTS:
        left = flag if flag.startswith('-n') else flag
        left = f'{left} {meta}' if meta else left
        print(f'  {left:<30}  {text}')


class Logger:
    """Tees stdout/stderr into a file, like dnnlib.util.Logger(should_flush=True)."""

    def __init__(self, file_name):
        self.file = open(file_name, 'a')
        self.stdout, self.stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(self.file, self.stdout), _Tee(self.file, self.stderr)


class _Tee:
    def __init__(self, file, stream):
        self.file, self.stream = file, stream

    def write(self, text):
        self.file.write(text)
        self.stream.write(text)
        self.file.flush()
        self.stream.flush()

    def flush(self):
        self.file.flush()
        self.stream.flush()


def main(argv):
    if '--help' in argv:
        print_help()
        return 0
    known = {f.split()[-1] for f, _, _ in OPTS}
    opts = {}
    for a in argv:
        m = re.match(r'^(--[\w-]+)=(.*)$', a)
        if not m or m.group(1) not in known:
            print(f"Error: No such option: {a.split('=')[0]}", file=sys.stderr)
            return 2
        opts[m.group(1)[2:]] = m.group(2)
    for req in ('outdir', 'data'):
        if req not in opts:
            print(f"Error: Missing option '--{req}'.", file=sys.stderr)
            return 2
    if os.environ.get('STANDIN_IGNORE_SIGNALS'):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if opts['data'].endswith('.zip') and os.path.exists(opts['data']):
        import zipfile
        zipfile.ZipFile(opts['data']).close()  # like the official dataset class, before any run folder: a bad zip raises
    total_kimg = int(opts.get('kimg', 3))
    snap = int(opts.get('snap', 50))
    tick_sec = float(os.environ.get('STANDIN_TICK_SEC', '0.2'))
    crash_at = int(os.environ.get('STANDIN_CRASH_AT_TICK', '-1'))
    outdir = opts['outdir']
    os.makedirs(outdir, exist_ok=True)
    prev = [int(x[:5]) for x in os.listdir(outdir) if re.match(r'^\d{5}-', x)]
    run_id = max(prev, default=-1) + 1
    data_name = os.path.splitext(os.path.basename(opts['data'].rstrip('/')))[0]
    desc = f"{data_name}-{opts.get('cfg', 'auto')}-kimg{total_kimg}"
    run_dir = os.path.join(outdir, f'{run_id:05d}-{desc}')
    options = {
        'standin': True, 'num_gpus': int(opts.get('gpus', 1)), 'network_snapshot_ticks': snap, 'random_seed': int(opts.get('seed', 0)),
        'training_set_kwargs': {'class_name': 'training.dataset.ImageFolderDataset', 'path': opts['data'], 'use_labels': False, 'xflip': opts.get('mirror') == 'true', 'resolution': 32},
        'reg_type': opts.get('reg_type', 'none'), 'total_kimg': total_kimg, 'batch_size': int(opts.get('batch', 16)), 'run_dir': run_dir,
        'argv': argv,
    }
    if opts.get('reg_type') == 'ggdr':
        options['loss_kwargs'] = {'class_name': 'training.loss_ggdr.StyleGAN2GGDRLoss', 'ggdr_res': int(opts.get('ggdr_res', 64))}
    print('\nTraining options:')
    print(json.dumps(options, indent=2))
    print(f'\nOutput directory:   {run_dir}')
    print(f'Training duration:  {total_kimg} kimg')
    print('\nCreating output directory...')
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, 'training_options.json'), 'wt') as f:
        json.dump(options, f, indent=2)
    Logger(os.path.join(run_dir, 'log.txt'))
    if os.environ.get('STANDIN_DUMP_ENV'):
        with open(os.path.join(run_dir, 'env.json'), 'wt') as f:
            json.dump(dict(os.environ), f)
    print('Launching processes...')
    stats = open(os.path.join(run_dir, 'stats.jsonl'), 'wt')
    t0 = time.time()
    tick = 0
    kimg = 0.0
    while True:
        if tick == crash_at:
            raise RuntimeError(f'stand-in crash at tick {tick}')
        now = time.time()
        rec = {
            'Loss/G/loss': {'num': 16, 'mean': 0.7 + 0.01 * tick, 'std': 0.1},
            'Loss/D/loss': {'num': 16, 'mean': 1.3 - 0.01 * tick, 'std': 0.1},
            'Progress/tick': {'num': 1, 'mean': float(tick), 'std': 0.0},
            'Progress/kimg': {'num': 1, 'mean': kimg, 'std': 0.0},
            'Timing/total_sec': {'num': 1, 'mean': now - t0, 'std': 0.0},
            'Timing/sec_per_kimg': {'num': 1, 'mean': tick_sec * 1000 / 1, 'std': 0.0},
            # The official stats.jsonl has NaN where a stat had no samples (Python's json writes NaN, not JSON).
            'Loss/G/reg': {'num': 0, 'mean': float('nan'), 'std': float('nan')},
            'timestamp': now,
        }
        if opts.get('reg_type') == 'ggdr':
            rec['Loss/D/loss_gen_reg'] = {'num': 1, 'mean': 10.0 - tick, 'std': 0.0}
        print(f'tick {tick:<5d} kimg {kimg:<8.1f} time {now - t0:.0f}s  sec/kimg {tick_sec * 1000:.2f}')
        if tick % snap == 0 or kimg >= total_kimg:
            with open(os.path.join(run_dir, f'network-snapshot-{int(kimg):06d}.pkl'), 'wb') as f:
                f.write(b'STAND-IN placeholder, not a pickle')
        stats.write(json.dumps(rec) + '\n')
        stats.flush()
        if kimg >= total_kimg:
            break
        time.sleep(tick_sec)
        tick += 1
        kimg += 1.0
    print('\nExiting...')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        # What click does with Ctrl-C/SIGINT in the official train.py: "Aborted!" on stderr, exit 1, no traceback.
        print('\nAborted!', file=sys.stderr)
        sys.exit(1)
