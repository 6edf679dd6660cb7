#!/usr/bin/python3
"""
Float32 matmul peak of this machine for `npm run bench`: numpy (the system OpenBLAS) and torch.mm,
best of several runs per size. Thread count: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS must be set by
the caller before this starts (numpy reads them at import); torch is set to the same with --threads.
Prints one JSON object.
"""
import argparse
import json
import time

import numpy as np


def best_gflops(f, n, reps):
    f()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return {"n": n, "bestSec": best, "gflops": 2 * n ** 3 / best / 1e9}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--sizes", default="512,1024,2048")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--torch", action="store_true", help="also time torch.mm")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    out = {"threads": a.threads, "numpy": np.__version__, "numpyResults": [], "torchResults": []}
    try:
        cfg = np.show_config(mode="dicts")  # numpy ≥ 1.25
        out["blas"] = cfg.get("Build Dependencies", {}).get("blas", {}).get("name")
    except TypeError:
        out["blas"] = "system libblas.so.3 (see update-alternatives)"
    rng = np.random.default_rng(0)
    for n in sizes:
        x = rng.standard_normal((n, n), dtype=np.float32)
        y = rng.standard_normal((n, n), dtype=np.float32)
        out["numpyResults"].append(best_gflops(lambda: x @ y, n, a.reps))
    if a.torch:
        import torch
        torch.set_num_threads(a.threads)
        out["torch"] = torch.__version__
        for n in sizes:
            x = torch.randn(n, n)
            y = torch.randn(n, n)
            out["torchResults"].append(best_gflops(lambda: torch.mm(x, y), n, a.reps))
    out["numpyBestGflops"] = max(r["gflops"] for r in out["numpyResults"])
    if out["torchResults"]:
        out["torchBestGflops"] = max(r["gflops"] for r in out["torchResults"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
