"""Independent FID/KID reference for the metrics tests (numpy + scipy.linalg.sqrtm).

Usage: python3 fid_reference.py DIR
DIR/cases.json lists cases; each names little-endian float32 feature files [n, d] and, for KID,
int32 files of subset indices [num_subsets, m] (so both sides average over the same subsets).
Prints {"name": {"fid": ..., "kid": ...}, ...} as JSON.
"""
import json
import os
import sys

import numpy as np
import scipy.linalg


def load(d, case, key, dim):
    return np.fromfile(os.path.join(d, case[key]), dtype="<f4").astype(np.float64).reshape(-1, dim)


def fid(x, y):
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def kid(x, y, gen_idx, real_idx):
    n = x.shape[1]
    m = gen_idx.shape[1]
    t = 0.0
    for gi, ri in zip(gen_idx, real_idx):
        a, b = x[gi], y[ri]
        kxx = (a @ a.T / n + 1) ** 3
        kyy = (b @ b.T / n + 1) ** 3
        kxy = (a @ b.T / n + 1) ** 3
        t += (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m - 1) - 2.0 * kxy.sum() / m
    return float(t / gen_idx.shape[0] / m)


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    out = {}
    for case in cases:
        dim = case["d"]
        x, y = load(d, case, "gen", dim), load(d, case, "real", dim)
        res = {"fid": fid(x, y)}
        if "kidGen" in case:
            m = case["kidM"]
            gi = np.fromfile(os.path.join(d, case["kidGen"]), dtype="<i4").reshape(-1, m)
            ri = np.fromfile(os.path.join(d, case["kidReal"]), dtype="<i4").reshape(-1, m)
            res["kid"] = kid(x, y, gi, ri)
        out[case["name"]] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
