#!/usr/bin/env python3
"""LAPACK anchors of bench/scale/linalg.ts, on the same matrices (written and read as raw little-endian files).

  numpy_linalg.py make   DIR   writes DIR/w.bin (f32 1024×2048, σ_i ≈ ∝ 1/(i+1)) and DIR/gram.bin (f64 4096×4096)
  numpy_linalg.py anchor DIR   times LAPACK on them; writes DIR/sigma.bin (f64 exact singular values of w)
  numpy_linalg.py check  DIR   identity errors of OUR factors DIR/L.bin and DIR/Linv.bin (f64 4096×4096)

Each prints one JSON line. The test matrices: W = X·diag(1/(i+1))·Y with Gaussian X, Y (the power-law matrix
of bench/linalg.bench.ts), and the Gram of a calibration-like input G = X Xᵀ/2048 + 1e-6·I with X 4096×2048
(rank-deficient before the shift, as the SVD-LLM whitening Grams are: κ ≈ 1e9). The full SVD anchor is the thin
LAPACK SVD (gesdd) of the 1024×2048 matrix, all triplets: at the 4096×14336 Mixtral expert shape one numpy SVD takes
minutes, too long for this bench. The triangular inverse anchor is LAPACK dtrtri (scipy) when scipy is present,
numpy.linalg.inv otherwise. BLAS threads follow OPENBLAS_NUM_THREADS as usual (the caller pins them).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

M, N, K = 1024, 2048, 1024
NG, KG = 4096, 2048


def best_of(f, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def make(d: str) -> dict:
    rng = np.random.default_rng(18)
    x = rng.standard_normal((M, K), dtype=np.float32)
    y = rng.standard_normal((K, N), dtype=np.float32)
    w = (x * (1.0 / np.arange(1, K + 1, dtype=np.float32))) @ y
    w.astype("<f4").tofile(os.path.join(d, "w.bin"))
    xg = rng.standard_normal((NG, KG))
    g = xg @ xg.T / KG
    g[np.diag_indices(NG)] += 1e-6
    g.astype("<f8").tofile(os.path.join(d, "gram.bin"))
    return {"w": [M, N], "gram": NG}


def invert_lower(l: np.ndarray):
    try:
        from scipy.linalg.lapack import dtrtri

        return lambda: dtrtri(l, lower=1)[0], "dtrtri"
    except ImportError:
        return lambda: np.linalg.inv(l), "numpy.linalg.inv"


def anchor(d: str) -> dict:
    w = np.fromfile(os.path.join(d, "w.bin"), dtype="<f4").reshape(M, N).astype(np.float64)
    out: dict = {}
    s = np.linalg.svd(w, compute_uv=False)
    s.astype("<f8").tofile(os.path.join(d, "sigma.bin"))
    out["lapackSvdSeconds"] = best_of(lambda: np.linalg.svd(w, full_matrices=False), 2)
    g = np.fromfile(os.path.join(d, "gram.bin"), dtype="<f8").reshape(NG, NG)
    out["lapackCholesky4096Seconds"] = best_of(lambda: np.linalg.cholesky(g), 3)
    l = np.linalg.cholesky(g)
    inv, how = invert_lower(l)
    out["lapackInvLower4096Seconds"] = best_of(inv, 3)
    out["lapackInvLowerRoutine"] = how
    li = inv()
    out["lapackCholeskyIdentityError"] = float(np.linalg.norm(l @ l.T - g) / np.linalg.norm(g))
    out["lapackInvIdentityError"] = float(np.linalg.norm(l @ li - np.eye(NG)) / np.sqrt(NG))
    return out


def check(d: str) -> dict:
    g = np.fromfile(os.path.join(d, "gram.bin"), dtype="<f8").reshape(NG, NG)
    l = np.fromfile(os.path.join(d, "L.bin"), dtype="<f8").reshape(NG, NG)
    li = np.fromfile(os.path.join(d, "Linv.bin"), dtype="<f8").reshape(NG, NG)
    return {
        # ‖L·Lᵀ − G‖_F / ‖G‖_F and ‖L·L⁻¹ − I‖_F / √n, products in f64 BLAS
        "choleskyIdentityError": float(np.linalg.norm(l @ l.T - g) / np.linalg.norm(g)),
        "invIdentityError": float(np.linalg.norm(l @ li - np.eye(NG)) / np.sqrt(NG)),
    }


if __name__ == "__main__":
    cmd, folder = sys.argv[1], sys.argv[2]
    result = {"make": make, "anchor": anchor, "check": check}[cmd](folder)
    print(json.dumps(result))
