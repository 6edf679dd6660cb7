#!/usr/bin/env python3
"""Cross-checks GAN Inspector against outputs the official StyleGAN2-ADA / GGDR code computed.

Usage: /usr/bin/python3 scripts/crosscheck-official.py DIR [DIR ...]

Each DIR holds one official `network-snapshot-*.pkl` and `reference-outputs/` with `manifest.json`
and the official arrays (the layout of ../shared/fixtures/official-ggdr-pkl/reference-outputs:
z, img_psi{1,0.7}, feat_psi{1,0.7}_b{r}, D_dec_b{r}, img_psi1_uint8_NHWC, c for conditional models).
Our side runs through the CLI only (`gan-inspector generate --npy`, `features --npy`), so this
checks exactly what users get. Prints one line per array: max abs error, error relative to the
reference's scale, and for images the share of uint8 pixels equal to generate.py's. Exit 1 when
anything is over 1e-3.
"""
import glob, json, os, subprocess, sys, tempfile
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = [os.environ.get('NODE', 'node'), os.path.join(REPO, 'bin', 'gan-inspector.js')]


def run(*args):
    r = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"gan-inspector {' '.join(args)} failed:\n{r.stderr}")


def check(dirpath):
    pkl = sorted(glob.glob(os.path.join(dirpath, 'network-snapshot-*.pkl')))[-1]
    ref = os.path.join(dirpath, 'reference-outputs')
    manifest = json.load(open(os.path.join(ref, 'manifest.json')))
    files = manifest.get('files', {})
    seeds = manifest.get('seeds', list(range(8)))
    seed_spec = ','.join(str(s) for s in seeds)
    extra = []
    if 'c.npy' in files:
        labels = np.load(os.path.join(ref, 'c.npy')).argmax(1)
        extra = ['--class', ','.join(str(int(l)) for l in labels)]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        def compare(ours, name, uint8=None):
            nonlocal worst
            a, b = np.load(ours), np.load(os.path.join(ref, name))
            assert a.shape == b.shape, f'{name}: shape {a.shape} vs {b.shape}'
            err = float(np.abs(a - b).max())
            rel = err / max(float(np.abs(b).max()), 1e-12)
            worst = max(worst, rel)
            line = f'  {name:24s} max abs {err:.2e}  rel {rel:.2e}'
            if uint8 is not None:
                q = np.clip(a.transpose(0, 2, 3, 1) * 127.5 + 128, 0, 255).astype(np.uint8)
                line += f'  uint8 equal {np.mean(q == np.load(os.path.join(ref, uint8))) * 100:.3f}%'
            print(line)

        for psi in ['1', '0.7']:
            name = f'img_psi{psi}.npy'
            if name in files:
                out = os.path.join(tmp, name)
                run('generate', '--snapshot', pkl, '--seeds', seed_spec, '--psi', psi, '--noise', 'const', '--npy', out, *extra)
                compare(out, name, 'img_psi1_uint8_NHWC.npy' if psi == '1' and 'img_psi1_uint8_NHWC.npy' in files else None)
            for f in sorted(k for k in files if k.startswith(f'feat_psi{psi}_b')):
                res = f[len(f'feat_psi{psi}_b'):-4]
                out = os.path.join(tmp, f)
                run('features', '--snapshot', pkl, '--seeds', seed_spec, '--psi', psi, '--net', 'G', '--res', res, '--npy', out, *extra)
                compare(out, f)
        for f in sorted(k for k in files if k.startswith('D_dec_b')):
            res = f[len('D_dec_b'):-4]
            out = os.path.join(tmp, f)
            run('features', '--snapshot', pkl, '--seeds', seed_spec, '--net', 'D-decoder', '--res', res, '--npy', out, *extra)
            compare(out, f)
    return worst


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    bad = False
    for d in sys.argv[1:]:
        print(d)
        w = check(d)
        print(f'  worst relative error {w:.2e}')
        bad |= w > 1e-3
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
