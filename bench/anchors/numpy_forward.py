#!/usr/bin/env python3
"""Plain float32 numpy forward of a Mixtral-style checkpoint: the speed anchor of bench/scale/forward.ts.

What a straightforward numpy port computes: RMSNorm, RoPE (HF rotate_half), causal multi-head attention
with GQA, a softmax router with top-k (renormalised, as Mixtral), SwiGLU experts on just their routed
tokens, final norm and lm_head. Weights are read with the tiny safetensors reader below (BF16/F16/F32
decoded to f32) once, before timing. Timing covers embedding to logits of every position.

  numpy_forward.py --model DIR --ids ids.json [--reps 3] [--logits-out FILE] [--float64]

ids.json holds {"ids": [[...], ...]} (B equal-length sequences). Prints one JSON line: tokensPerSecond
(best of --reps), seconds, batch, seqLen, logitsChecksum (sum of all logits, f64) and, with
--logits-out, writes the logits of sequence 0 as raw little-endian f32 [T, V]. BLAS threads follow
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS as usual. --float64 runs the same forward in float64 (RoPE tables
still rounded to f32 as HF computes them): the reference both f32 forwards are measured against, since
two f32 orderings of this model differ by more than either's rounding would suggest.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time

import numpy as np

_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2)}


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Every tensor of one .safetensors file as a float32 array (u64 LE header size, JSON header, data)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _DTYPES:
            raise SystemExit(f"{path}: tensor {name}: dtype {dt} not supported (expected F32, F16, BF16)")
        npdt, size = _DTYPES[dt]
        start, end = info["data_offsets"]
        shape = info["shape"]
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * size:
            raise SystemExit(f"{path}: tensor {name}: {end - start} bytes, expected {count}*{size}")
        raw = np.frombuffer(buf, dtype=npdt, count=count, offset=base + start)
        # bf16 is the top half of an f32: shifting it into place is exact
        arr = (raw.astype(np.uint32) << 16).view(np.float32) if dt == "BF16" else raw.astype(np.float32)
        out[name] = np.ascontiguousarray(arr.reshape(shape))
    return out


def load(model_dir: str) -> tuple[dict, dict[str, np.ndarray]]:
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "mixtral":
        raise SystemExit(f"{model_dir}: model_type {cfg.get('model_type')!r}; this anchor runs mixtral only")
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return cfg, read_safetensors(single)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    weights: dict[str, np.ndarray] = {}
    for s in shards:
        weights.update(read_safetensors(os.path.join(model_dir, s)))
    return cfg, weights


class Forward:
    def __init__(self, cfg: dict, w: dict[str, np.ndarray], dt=np.float32):
        self.dt = dt
        w = {k: v.astype(dt) for k, v in w.items()} if dt is not np.float32 else w
        self.H = cfg["num_attention_heads"]
        self.KV = cfg.get("num_key_value_heads", self.H)
        self.h = cfg["hidden_size"]
        self.D = cfg.get("head_dim") or self.h // self.H
        self.L = cfg["num_hidden_layers"]
        self.N = cfg["num_local_experts"]
        self.k = cfg["num_experts_per_tok"]
        self.eps = dt(cfg["rms_norm_eps"])
        rope = cfg.get("rope_parameters") or {}
        self.theta = float(rope.get("rope_theta", cfg.get("rope_theta", 10000.0)))
        if cfg.get("sliding_window") not in (None, 0):
            raise SystemExit("sliding_window is set; this anchor runs full causal attention only")
        self.embed = w["model.embed_tokens.weight"]
        head = "model.embed_tokens.weight" if cfg.get("tie_word_embeddings") else "lm_head.weight"
        # [in, out] once, so every product below is a plain x @ W
        self.headT = np.ascontiguousarray(w[head].T)
        self.final_norm = w["model.norm.weight"]
        self.layers = []
        for l in range(self.L):
            p = f"model.layers.{l}."
            t = lambda n: np.ascontiguousarray(w[p + n].T)  # noqa: E731
            experts = [
                (t(f"block_sparse_moe.experts.{e}.w1.weight"), t(f"block_sparse_moe.experts.{e}.w3.weight"),
                 t(f"block_sparse_moe.experts.{e}.w2.weight"))
                for e in range(self.N)
            ]
            self.layers.append({
                "in_norm": w[p + "input_layernorm.weight"],
                "post_norm": w[p + "post_attention_layernorm.weight"],
                "q": t("self_attn.q_proj.weight"), "k": t("self_attn.k_proj.weight"),
                "v": t("self_attn.v_proj.weight"), "o": t("self_attn.o_proj.weight"),
                "router": t("block_sparse_moe.gate.weight"), "experts": experts,
            })

    def rms(self, x, w):
        ms = np.mean(x * x, axis=-1, keepdims=True, dtype=self.dt)
        return (x / np.sqrt(ms + self.eps)) * w

    def rope(self, T):
        # HF: inv_freq = 1 / theta ** (arange(0, D, 2) / D) in f32, angles t * inv_freq, cat(freqs, freqs)
        inv = (1.0 / (np.float32(self.theta) ** (np.arange(0, self.D, 2, dtype=np.float32) / np.float32(self.D))))
        ang = np.arange(T, dtype=np.float32)[:, None] * inv.astype(np.float32)[None, :]
        emb = np.concatenate([ang, ang], axis=-1)
        return np.cos(emb).astype(np.float32).astype(self.dt), np.sin(emb).astype(np.float32).astype(self.dt)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        B, T = ids.shape
        H, KV, D, h = self.H, self.KV, self.D, self.h
        g = H // KV
        cos, sin = self.rope(T)
        half = D // 2
        mask = np.triu(np.full((T, T), -np.inf, dtype=self.dt), k=1)
        scale = self.dt(1.0 / np.sqrt(D))

        def rot(x):  # [B, n, T, D]
            r = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
            return x * cos + r * sin

        x = self.embed[ids.reshape(-1)]  # [B·T, h]
        for L in self.layers:
            xn = self.rms(x, L["in_norm"])
            q = (xn @ L["q"]).reshape(B, T, H, D).transpose(0, 2, 1, 3)
            k = (xn @ L["k"]).reshape(B, T, KV, D).transpose(0, 2, 1, 3)
            v = (xn @ L["v"]).reshape(B, T, KV, D).transpose(0, 2, 1, 3)
            q, k = rot(q), rot(k)
            # GQA: the g query heads of kv head j are heads j·g .. j·g+g-1 (HF repeat_kv)
            qg = q.reshape(B, KV, g * T, D)
            s = (qg @ k.transpose(0, 1, 3, 2)) * scale  # [B, KV, g·T, T]
            s = s.reshape(B, KV, g, T, T) + mask
            s = s - s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            a = (s.reshape(B, KV, g * T, T) @ v).reshape(B, H, T, D)
            x = x + a.transpose(0, 2, 1, 3).reshape(B * T, H * D) @ L["o"]

            hn = self.rms(x, L["post_norm"])
            logits = hn @ L["router"]
            p = np.exp(logits - logits.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            top = np.argsort(-p, axis=-1, kind="stable")[:, : self.k]
            wts = np.take_along_axis(p, top, axis=-1)
            wts /= wts.sum(axis=-1, keepdims=True)
            y = np.zeros_like(x)
            for e, (wg, wu, wd) in enumerate(L["experts"]):
                rows, slot = np.nonzero(top == e)
                if rows.size == 0:
                    continue
                xe = hn[rows]
                gt = xe @ wg
                act = (gt / (1.0 + np.exp(-gt))) * (xe @ wu)
                y[rows] += (act @ wd) * wts[rows, slot][:, None]
            x = x + y
        return self.rms(x, self.final_norm) @ self.headT  # [B·T, V]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--logits-out")
    ap.add_argument("--float64", action="store_true", help="run in float64 (the accuracy reference)")
    a = ap.parse_args(argv)
    with open(a.ids) as f:
        ids = np.asarray(json.load(f)["ids"], dtype=np.int64)
    if ids.ndim == 1:
        ids = ids[None, :]
    cfg, w = load(a.model)
    fwd = Forward(cfg, w, np.float64 if a.float64 else np.float32)
    best = float("inf")
    z = None
    for _ in range(max(1, a.reps)):
        t0 = time.perf_counter()
        z = fwd(ids)
        best = min(best, time.perf_counter() - t0)
    B, T = ids.shape
    if a.logits_out:
        z[:T].astype("<f4").tofile(a.logits_out)
    print(json.dumps({
        "tokensPerSecond": B * T / best,
        "seconds": best,
        "batch": int(B),
        "seqLen": int(T),
        "logitsChecksum": float(z.astype(np.float64).sum()),
        "blasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
