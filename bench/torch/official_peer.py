"""PyTorch peer of the bench's "official checkpoints" section (bench/run.ts --only official).

Runs the *official* StyleGAN2-ADA / GGDR G_ema on an official network pickle, on the CPU, doing the same
work as our side (bench/child.ts officialInfer): load the pickle, render full images from seeds, compute the
generator's features up to one resolution only, render a batch with every block's features (the
segmentation's generator pass). This file is our own driver: the official code is NOT part of this repo.
It is imported at run time from the checkout given with --ggdr-dir (OFFICIAL_GGDR_DIR), whose `legacy` /
`dnnlib` / `torch_utils` modules are what unpickles the networks (the pickles embed their class sources).

    /usr/bin/python3 bench/torch/official_peer.py --ggdr-dir DIR --pkl FILE --threads 1 \
        --batch 2 --reps 3 [--feat-res 64] [--seg-seeds 8] [--dump FILE]

Seeds as in the official generate.py: z = np.random.RandomState(seed).randn(1, z_dim). Warm-up batch =
seeds 0..batch-1, then `reps` timed batches of the next seeds. noise_mode 'const', truncation psi 1,
force_fp32=True (the CPU cannot run the fp16 layers; ours evaluates them in fp32 too). The full render
includes the uint8 conversion generate.py does (our renderSeeds downloads uint8 too). Prints one JSON
object as the last stdout line.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ggdr-dir', required=True)
    ap.add_argument('--pkl', required=True)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--feat-res', type=int, default=0, help='features-only pass up to this block (0: skip)')
    ap.add_argument('--seg-seeds', type=int, default=0, help='one batch of this many seeds with every block\'s features (0: skip)')
    ap.add_argument('--dump', default='', help='write the warm-up batch\'s float32 NCHW image here (raw bytes) for the cross-check')
    a = ap.parse_args()

    import numpy as np
    import torch
    torch.set_num_threads(a.threads)
    sys.path.insert(0, os.path.abspath(a.ggdr_dir))
    import dnnlib  # noqa: F401  (official, imported from --ggdr-dir)
    import legacy  # official

    out = {'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads(), 'ggdrDir': os.path.abspath(a.ggdr_dir),
           'pkl': a.pkl, 'bytes': os.path.getsize(a.pkl), 'baselineRssMB': rss_mb()}

    # ---- Load (the official loader unpickles everything: G, D, G_ema, augment_pipe).
    t0 = time.perf_counter()
    c0 = time.process_time()
    with open(a.pkl, 'rb') as f:
        data = legacy.load_network_pkl(f)
    out['loadSec'] = time.perf_counter() - t0
    out['loadCpuSec'] = time.process_time() - c0
    out['loadRssMB'] = rss_mb()
    G = data['G_ema'].eval().requires_grad_(False)
    del data
    out['model'] = {'resolution': G.img_resolution, 'channels': G.img_channels, 'z_dim': G.z_dim, 'c_dim': G.c_dim,
                    'params': sum(p.numel() for p in G.parameters())}
    res_list = list(G.synthesis.block_resolutions)

    def latents(seeds):
        z = np.concatenate([np.random.RandomState(s).randn(1, G.z_dim) for s in seeds])
        return torch.from_numpy(z).to(torch.float32)

    def labels(n):
        return torch.zeros([n, G.c_dim]) if G.c_dim else None  # class 0, as ours defaults to

    @torch.no_grad()
    def full(seeds):
        z = latents(seeds)
        img = G(z, labels(len(seeds)), truncation_psi=1, noise_mode='const', force_fp32=True)
        u8 = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()
        return img, u8

    @torch.no_grad()
    def features_upto(seeds, max_res):
        # SynthesisNetwork.forward's own loop, stopped after block b{max_res}.
        z = latents(seeds)
        ws = G.mapping(z, labels(len(seeds)), truncation_psi=1).to(torch.float32)
        syn = G.synthesis
        x = img = None
        w_idx = 0
        for res in syn.block_resolutions:
            block = getattr(syn, f'b{res}')
            cur = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, cur, noise_mode='const', force_fp32=True)
            if res == max_res:
                return x.float().numpy()
        raise ValueError(f'no block b{max_res}')

    @torch.no_grad()
    def full_with_features(seeds):
        z = latents(seeds)
        ws = G.mapping(z, labels(len(seeds)), truncation_psi=1)
        img, feats = G.synthesis(ws, get_feat=True, noise_mode='const', force_fp32=True)
        u8 = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()
        return u8, {r: v.numpy() for r, v in feats.items()}

    def timed(fn):
        t = time.perf_counter()
        c = time.process_time()
        fn()
        return time.perf_counter() - t, time.process_time() - c

    def protocol(fn):
        b = a.batch
        warm = timed(lambda: fn(list(range(b))))
        runs = [timed(lambda i=i: fn(list(range(b * (i + 1), b * (i + 2))))) for i in range(a.reps)]
        wall = [r[0] for r in runs]
        cpu = [r[1] for r in runs]
        return {'batch': b, 'warmupSec': warm[0], 'batchSec': wall, 'batchCpuSec': cpu,
                'secPerImage': statistics.median(wall) / b, 'cpuSecPerImage': statistics.median(cpu) / b}

    if a.dump:
        img, _ = full(list(range(a.batch)))
        img.numpy().astype('<f4').tofile(a.dump)
    out['full'] = protocol(lambda s: full(s))
    if a.feat_res:
        if a.feat_res not in res_list:
            raise SystemExit(f'--feat-res {a.feat_res} is not a block of {res_list}')
        out['features'] = {'maxRes': a.feat_res, **protocol(lambda s: features_upto(s, a.feat_res))}
    if a.seg_seeds:
        seeds = list(range(a.seg_seeds))
        w, c = timed(lambda: full_with_features(seeds))
        out['segmentRender'] = {'seeds': a.seg_seeds, 'sec': w, 'cpuSec': c, 'secPerImage': w / a.seg_seeds}
    out['maxRssMB'] = rss_mb()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
