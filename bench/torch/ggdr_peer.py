#!/usr/bin/python3
"""
PyTorch peer of GAN Inspector's training step, for `npm run bench` (bench/run.ts).

Re-implements, from our TypeScript sources (src/core/networks/{ops,generator,discriminator}.ts and
src/core/training/{losses,trainer,adam}.ts), the same small StyleGAN2 generator, ResNet
discriminator with GGDR decoder and the phases Gmain / Dmain (+GGDR) / Dreg (lazy R1) with G_ema.
Layout is NCHW (PyTorch's native one); every function computes the same math as ours, written
with PyTorch's natural ops (F.interpolate bilinear == our [¾,¼] matmul upsample, avg_pool2d(2) ==
our 2×2 box mean, leaky_relu(0.2)·√2 == our 0.6x+0.4|x| form).

Prints one JSON object on stdout: parameter counts, and per GGDR on/off the timing of plain steps
and of lazy-R1 steps, the amortised sec/step, images/s and sec/kimg.

Usage: /usr/bin/python3 bench/torch/ggdr_peer.py --config CONFIG.json [--reals reals.f32]
  CONFIG.json holds {"model": <ModelConfig>, "ggdr": {"weight", "res"}, "threads", "warmup",
  "timed", "r1Steps", "seed"} as written by bench/run.ts from src/core/config/options.ts.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def channels_at(m, res):
    return max(1, min(m["channelBase"] // res, m["channelMax"]))


def block_resolutions(resolution):
    out, r = [], 4
    while r <= resolution:
        out.append(r)
        r *= 2
    return out


def lrelu(x, gain=SQRT2):
    # == ours: 0.6·g·x + 0.4·g·|x| (slope 0.2, gain √2)
    return F.leaky_relu(x, 0.2) * gain


def dense(x, w, b, lr_mul=1.0):
    """Equalized-lr dense: x [N,I] · (w [I,O] · lrMul/√I) + b·lrMul."""
    y = x.matmul(w * (lr_mul / math.sqrt(w.shape[0])))
    if b is not None:
        y = y + (b if lr_mul == 1.0 else b * lr_mul)
    return y


def conv(x, w, b):
    """Equalized-lr stride-1 'same' conv: x [N,I,H,W], w [O,I,k,k] scaled by 1/√(k·k·I)."""
    o, i, kh, kw = w.shape
    return F.conv2d(x, w * (1.0 / math.sqrt(kh * kw * i)), b, padding=kh // 2)


def mod_conv(x, w, s, demodulate):
    """Non-fused modulated conv: scale input channels by s [N,I], conv, scale output by demod [N,O]."""
    o, i, kh, kw = w.shape
    ws = w * (1.0 / math.sqrt(kh * kw * i))
    y = F.conv2d(x * s[:, :, None, None], ws, padding=kh // 2)
    if demodulate:
        wsq = ws.square().sum(dim=[2, 3])                              # [O,I]
        d = torch.rsqrt(s.square().matmul(wsq.t()) + 1e-8)              # [N,O]
        y = y * d[:, :, None, None]
    return y


def upsample2x(x):
    # bilinear, half-pixel centres, edge clamp == ours' [2L,L] interpolation matrices
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def downsample2x(x):
    return F.avg_pool2d(x, 2)


def normalize_channels(x, eps=1e-8):
    return x / torch.sqrt(x.square().sum(dim=1, keepdim=True) + eps)


def minibatch_std(x, group):
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(g, n // g, c, h, w)                                    # [G,M,C,H,W]; sample = g·M + m as ours
    y = y - y.mean(dim=0, keepdim=True)
    std = torch.sqrt(y.square().mean(dim=0) + 1e-8)                      # [M,C,H,W]
    s = std.mean(dim=[1, 2, 3])                                          # [M]
    s = s.reshape(1, n // g, 1, 1, 1).repeat(g, 1, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, s], dim=1)


def group_size_for(n, want):
    g = min(want, n)
    while g > 1:
        if n % g == 0:
            return g
        g -= 1
    return 1


class ParamSet(torch.nn.Module):
    """Named parameters (trainable) and buffers, like our ParamSet; names use '.' for '/'."""

    def normal(self, name, shape, scale=1.0, trainable=True):
        t = torch.randn(*shape) * scale if shape else torch.randn(()) * scale
        self._put(name, t, trainable)

    def constant(self, name, shape, value, trainable=True):
        self._put(name, torch.full(tuple(shape), float(value)), trainable)

    def _put(self, name, t, trainable):
        key = name.replace("/", "__")
        if trainable:
            self.register_parameter(key, torch.nn.Parameter(t))
        else:
            self.register_buffer(key, t)

    def p(self, name):
        return getattr(self, name.replace("/", "__"))


def block_layers(res):
    return ["conv1"] if res == 4 else ["conv0", "conv1"]


class Generator(ParamSet):
    def __init__(self, m):
        super().__init__()
        self.m = m
        self.resolutions = block_resolutions(m["resolution"])
        lr_mul = m["mappingLrMul"]
        for i in range(m["mappingLayers"]):
            in_dim = m["zDim"] if i == 0 else m["wDim"]
            self.normal(f"mapping/fc{i}/weight", [in_dim, m["wDim"]], 1.0 / lr_mul)
            self.constant(f"mapping/fc{i}/bias", [m["wDim"]], 0)
        self.constant("mapping/w_avg", [m["wDim"]], 0, trainable=False)
        c4 = channels_at(m, 4)
        self.normal("synthesis/const", [c4, 4, 4])
        cin = c4
        for r in self.resolutions:
            cout = channels_at(m, r)
            for layer in block_layers(r):
                ci = cin if layer == "conv0" else cout
                base = f"synthesis/b{r}/{layer}"
                self.normal(f"{base}/affine/weight", [m["wDim"], ci])
                self.constant(f"{base}/affine/bias", [ci], 1)
                self.normal(f"{base}/weight", [cout, ci, 3, 3])
                self.constant(f"{base}/bias", [cout], 0)
                self.constant(f"{base}/noise_strength", [], 0)
                self.normal(f"{base}/noise_const", [1, r, r], trainable=False)
            tb = f"synthesis/b{r}/torgb"
            self.normal(f"{tb}/affine/weight", [m["wDim"], cout])
            self.constant(f"{tb}/affine/bias", [cout], 1)
            self.normal(f"{tb}/weight", [m["channels"], cout, 1, 1])
            self.constant(f"{tb}/bias", [m["channels"]], 0)
            cin = cout

    def mapping(self, z):
        m = self.m
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        for i in range(m["mappingLayers"]):
            x = lrelu(dense(x, self.p(f"mapping/fc{i}/weight"), self.p(f"mapping/fc{i}/bias"), m["mappingLrMul"]))
        return x

    def update_w_avg(self, w, beta=0.995):
        avg = self.p("mapping/w_avg")
        with torch.no_grad():
            avg.copy_((avg - w.mean(dim=0)) * beta + w.mean(dim=0))

    def synthesis(self, w, keep_features=()):
        n = w.shape[0]
        feats = {}
        x = self.p("synthesis/const").unsqueeze(0).repeat(n, 1, 1, 1)
        img = None
        for r in self.resolutions:
            if r > 4:
                x = upsample2x(x)
            for layer in block_layers(r):
                base = f"synthesis/b{r}/{layer}"
                s = dense(w, self.p(f"{base}/affine/weight"), self.p(f"{base}/affine/bias"))
                x = mod_conv(x, self.p(f"{base}/weight"), s, True)
                noise = torch.randn(n, 1, r, r)                          # 'random' noise mode, as in training
                x = x + noise * self.p(f"{base}/noise_strength")
                x = lrelu(x + self.p(f"{base}/bias")[None, :, None, None])
            if r in keep_features:
                feats[r] = x
            tb = f"synthesis/b{r}/torgb"
            s = dense(w, self.p(f"{tb}/affine/weight"), self.p(f"{tb}/affine/bias"))
            y = mod_conv(x, self.p(f"{tb}/weight"), s, False) + self.p(f"{tb}/bias")[None, :, None, None]
            img = y if img is None else upsample2x(img) + y
        return img, feats


def decoder_steps(res):
    if res == 4:
        return [(4, 4, True)]
    steps, r = [], 4
    while r < res:
        steps.append((r, r * 2, r == 4))
        r *= 2
    return steps


class Discriminator(ParamSet):
    def __init__(self, m, ggdr_res):
        super().__init__()
        self.m = m
        R = m["resolution"]
        self.block_res = [r for r in block_resolutions(R) if r > 4][::-1]
        self.ggdr_res = ggdr_res
        ch = lambda r: channels_at(m, r)
        self.normal("fromrgb/weight", [ch(R), m["channels"], 1, 1])
        self.constant("fromrgb/bias", [ch(R)], 0)
        for r in self.block_res:
            ci, co = ch(r), ch(r // 2)
            self.normal(f"b{r}/conv0/weight", [ci, ci, 3, 3])
            self.constant(f"b{r}/conv0/bias", [ci], 0)
            self.normal(f"b{r}/conv1/weight", [co, ci, 3, 3])
            self.constant(f"b{r}/conv1/bias", [co], 0)
            self.normal(f"b{r}/skip/weight", [co, ci, 1, 1])
        c4 = ch(4)
        self.normal("b4/conv/weight", [c4, c4 + 1, 3, 3])
        self.constant("b4/conv/bias", [c4], 0)
        self.normal("b4/fc/weight", [c4 * 16, c4])
        self.constant("b4/fc/bias", [c4], 0)
        self.normal("b4/out/weight", [c4, 1])
        self.constant("b4/out/bias", [1], 0)
        if ggdr_res:
            for frm, to, first in decoder_steps(ggdr_res):
                ci = c4 if first else ch(frm) + ch(frm)                  # genChannels(from) + D channels(from)
                self.normal(f"decoder/{to}/weight", [ch(to), ci, 1, 1])   # output = generator channels at `to`
                self.constant(f"decoder/{to}/bias", [ch(to)], 0)

    def encoder_params(self):
        return [p for name, p in self.named_parameters() if not name.startswith("decoder__")]

    def forward(self, x, with_decoder=False):
        p = self.p
        feats = {}
        h = lrelu(conv(x, p("fromrgb/weight"), p("fromrgb/bias")))
        for r in self.block_res:
            feats[r] = h
            skip = conv(downsample2x(h), p(f"b{r}/skip/weight"), None)
            y = lrelu(conv(h, p(f"b{r}/conv0/weight"), p(f"b{r}/conv0/bias")))
            y = lrelu(conv(downsample2x(y), p(f"b{r}/conv1/weight"), p(f"b{r}/conv1/bias")))
            h = (skip + y) * math.sqrt(0.5)
        decoded = None
        if with_decoder and self.ggdr_res:
            y = h
            for frm, to, first in decoder_steps(self.ggdr_res):
                inp = y if first else torch.cat([y, feats[frm]], dim=1)
                up = upsample2x(inp) if to > frm else inp
                y = conv(up, p(f"decoder/{to}/weight"), p(f"decoder/{to}/bias"))
            decoded = y
        n = x.shape[0]
        e = minibatch_std(h, group_size_for(n, self.m["mbstdGroup"]))
        e = lrelu(conv(e, p("b4/conv/weight"), p("b4/conv/bias")))
        fc = lrelu(dense(e.reshape(n, -1), p("b4/fc/weight"), p("b4/fc/bias")))
        logits = dense(fc, p("b4/out/weight"), p("b4/out/bias"))
        return logits, decoded


def ggdr_loss(decoded, target, weight):
    cos = (normalize_channels(decoded) * normalize_channels(target)).sum(dim=1)   # [N,H,W]
    return (1 - cos).mean() * weight


def set_requires_grad(params, flag):
    for p in params:
        p.requires_grad_(flag)


class Trainer:
    """One step = Gmain + Dmain (+GGDR) [+ Dreg every r1Interval steps], then G_ema; mirrors GanTrainer."""

    def __init__(self, m, ggdr):
        self.m, self.ggdr = m, ggdr
        self.G = Generator(m)
        self.G_ema = Generator(m)
        self.G_ema.load_state_dict(self.G.state_dict())
        self.D = Discriminator(m, ggdr["res"] if ggdr["enabled"] else 0)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=m["glr"], betas=(0.0, 0.99), eps=1e-8)
        lazy = m["r1Gamma"] > 0 and m["r1Interval"] > 0
        c = m["r1Interval"] / (m["r1Interval"] + 1) if lazy else 1.0
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=m["dlr"] * c, betas=(0.0 ** c, 0.99 ** c), eps=1e-8)
        self.step = 0
        self.nimg = 0

    def train_step(self, reals):
        m, ggdr_on = self.m, self.ggdr["enabled"]
        n = reals.shape[0]
        G, D = self.G, self.D
        g_params, d_params = list(G.parameters()), list(D.parameters())

        # ---- Gmain
        set_requires_grad(g_params, True)
        set_requires_grad(d_params, False)           # ours: D weights are off the tape's X→Y path
        z = torch.randn(n, m["zDim"])
        img, _ = G.synthesis(G.mapping(z))
        logits, _ = D(img)
        loss_g = F.softplus(-logits).reshape(-1)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.mean().backward()
        _ = loss_g.detach().numpy().copy(), logits.detach().numpy().copy()   # stats read back, as ours
        self.opt_g.step()
        with torch.no_grad():
            G.update_w_avg(G.mapping(z))

        # ---- Dmain (+ GGDR on the fakes; generator images and features are detached targets)
        set_requires_grad(g_params, False)
        set_requires_grad(d_params, True)
        z = torch.randn(n, m["zDim"])
        with torch.no_grad():
            keep = (self.ggdr["res"],) if ggdr_on else ()
            fake, feats = G.synthesis(G.mapping(z), keep)
        f_logits, decoded = D(fake, ggdr_on)
        r_logits, _ = D(reals)
        loss_fake = F.softplus(f_logits).reshape(-1)
        loss_real = F.softplus(-r_logits).reshape(-1)
        total = loss_fake.mean() + loss_real.mean()
        if ggdr_on:
            gl = ggdr_loss(decoded, feats[self.ggdr["res"]], self.ggdr["weight"])
            total = total + gl
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        _ = (loss_fake + loss_real).detach().numpy().copy(), r_logits.detach().numpy().copy()
        if ggdr_on:
            _ = gl.item()
        self.opt_d.step()

        # ---- Dreg: lazy R1 on reals, scaled by the interval
        if m["r1Gamma"] > 0 and m["r1Interval"] > 0 and self.step % m["r1Interval"] == 0:
            set_requires_grad(d_params, False)
            set_requires_grad(D.encoder_params(), True)
            x = reals.detach().requires_grad_(True)
            logits, _ = D(x)
            (g,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
            pen = g.square().sum(dim=[1, 2, 3])
            self.opt_d.zero_grad(set_to_none=True)
            (pen.mean() * (m["r1Gamma"] / 2 * m["r1Interval"])).backward()
            _ = pen.detach().numpy().copy()
            self.opt_d.step()

        self.step += 1
        self.nimg += n
        self.update_ema(n)

    @torch.no_grad()
    def update_ema(self, batch):
        m = self.m
        ema_nimg = m["emaKimg"] * 1000
        if m["emaRampup"] > 0:
            ema_nimg = min(ema_nimg, self.nimg * m["emaRampup"])
        beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(p.lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def time_config(cfg, reals_batches, ggdr_enabled):
    m = cfg["model"]
    ggdr = {"enabled": ggdr_enabled, "weight": cfg["ggdr"]["weight"], "res": cfg["ggdr"]["res"]}
    torch.manual_seed(cfg.get("seed", 0))
    tr = Trainer(m, ggdr)
    counts = {"G": num_params(tr.G), "D": num_params(tr.D)}
    interval = m["r1Interval"] if m["r1Gamma"] > 0 else 0
    warmup, timed, r1_steps = cfg["warmup"], cfg["timed"], cfg["r1Steps"]
    if interval and warmup + timed > interval:
        raise SystemExit(f"warmup + timed ({warmup + timed}) must not reach the next R1 step ({interval})")
    batch = lambda i: reals_batches[i % len(reals_batches)]
    for i in range(warmup):                      # step 0 is an R1 step: R1's first run is warmed up too
        tr.train_step(batch(i))
    plain, plain_cpu = [], []
    for i in range(timed):
        t0, c0 = time.perf_counter(), time.process_time()
        tr.train_step(batch(warmup + i))
        plain.append(time.perf_counter() - t0)
        plain_cpu.append(time.process_time() - c0)
    r1, r1_cpu = [], []
    for k in range(r1_steps if interval else 0):
        tr.step = interval * (k + 1)             # the next lazy-R1 step
        t0, c0 = time.perf_counter(), time.process_time()
        tr.train_step(batch(k))
        r1.append(time.perf_counter() - t0)
        r1_cpu.append(time.process_time() - c0)
    res = summarize(plain, r1, interval, m["batch"])
    res.update({"plainStepSec": plain, "r1StepSec": r1, "plainStepCpuSec": plain_cpu, "r1StepCpuSec": r1_cpu,
                "cpu": summarize(plain_cpu, r1_cpu, interval, m["batch"])})
    return counts, res


def summarize(plain, r1, interval, batch):
    plain_med = float(np.median(plain))
    r1_med = float(np.median(r1)) if r1 else plain_med
    per_step = plain_med + (r1_med - plain_med) / interval if interval else plain_med
    ips = batch / per_step
    return {"plainStepMedianSec": plain_med, "r1StepMedianSec": r1_med, "secPerStep": per_step,
            "imagesPerSec": ips, "secPerKimg": 1000.0 / ips}


def profile_forward_flops(m, ggdr_res):
    """Forward MACs of G, D's encoder and the decoder per torch.profiler (conv/matmul ops only): a cross-check of bench/flops.ts."""
    from torch.profiler import profile, ProfilerActivity
    ops = ("aten::conv2d", "aten::mm", "aten::addmm", "aten::bmm", "aten::matmul")

    def macs(f):
        with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
            f()
        return sum(e.flops for e in prof.key_averages() if e.key in ops) / 2

    G, D = Generator(m), Discriminator(m, ggdr_res)
    z = torch.randn(m["batch"], m["zDim"])
    with torch.no_grad():
        img, _ = G.synthesis(G.mapping(z))
        g = macs(lambda: G.synthesis(G.mapping(z)))
        d = macs(lambda: D(img))
        dd = macs(lambda: D(img, True))
    return {"G": g, "Denc": d, "decoder": dd - d}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--profile-flops", action="store_true", help="also report forward MACs per torch.profiler")
    ap.add_argument("--reals", help="float32 NHWC batches [B,N,R,R,C] in [-1,1] (e.g. MNIST), else uniform noise")
    a = ap.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    threads = int(cfg["threads"])
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    m = cfg["model"]
    n, R, C = m["batch"], m["resolution"], m["channels"]
    if a.reals:
        arr = np.fromfile(a.reals, dtype=np.float32)
        per = n * R * R * C
        if arr.size == 0 or arr.size % per:
            raise SystemExit(f"{a.reals}: {arr.size} floats is not a whole number of [{n},{R},{R},{C}] batches")
        arr = arr.reshape(-1, n, R, R, C).transpose(0, 1, 4, 2, 3)      # NHWC → NCHW
        reals = [torch.from_numpy(np.ascontiguousarray(b)) for b in arr]
    else:
        reals = [torch.rand(n, C, R, R) * 2 - 1 for _ in range(4)]
    out = {
        "torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "threads": torch.get_num_threads(), "interopThreads": torch.get_num_interop_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "protocol": {"warmup": cfg["warmup"], "timed": cfg["timed"], "r1Steps": cfg["r1Steps"]},
        "runs": {},
    }
    for enabled in cfg.get("ggdrConfigs", (True, False)):  # the scaling section times GGDR on only
        counts, res = time_config(cfg, reals, enabled)
        out["runs"]["ggdr" if enabled else "noggdr"] = {"params": counts, **res}
    if a.profile_flops:
        out["profilerForwardMacs"] = profile_forward_flops(m, cfg["ggdr"]["res"])
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
