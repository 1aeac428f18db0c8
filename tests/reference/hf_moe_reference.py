#!/usr/bin/env python3
"""Independent numpy reference of the HF eval-mode forward pass of six MoE causal LMs.

Architectures (config.json `model_type`): mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek (DeepSeek-MoE v1,
remote code), phimoe. Everything is computed in float64 from the checkpoint's stored values (F32/F16/BF16
are upcast exactly), so the result is the "infinite precision" value of what HF computes in eval mode.
See tests/reference/README.md for the HF files/commits mirrored and every semantic subtlety.

CLI:
  logits --model DIR --ids ids.json --out logits.json     ids.json = {"ids": [...]}
  ppl    --model DIR --ids ids.json --seq-len N [--max-windows K]
  route  --model DIR --ids ids.json --layer L
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

# ----------------------------------------------------------------------------------------------
# safetensors reading (format: u64 LE header length, JSON header, raw little-endian data)
# ----------------------------------------------------------------------------------------------

_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2), "F64": (np.float64, 8)}


def read_safetensors(path: str) -> dict[str, np.ndarray]:
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
            raise ValueError(f"{path}: tensor {name}: dtype {dt} not supported (expected F32, F16, BF16, F64)")
        npdt, size = _DTYPES[dt]
        start, end = info["data_offsets"]
        shape = info["shape"]
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * size:
            raise ValueError(f"{path}: tensor {name}: byte range {end - start} != {count}*{size}")
        raw = np.frombuffer(buf, dtype=npdt, count=count, offset=base + start)
        if dt == "BF16":
            # bf16 is the top half of an f32: shift into place, exact
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = raw
        out[name] = arr.astype(np.float64).reshape(shape)
    return out


def load_checkpoint(model_dir: str) -> tuple[dict, dict[str, np.ndarray]]:
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    weights: dict[str, np.ndarray] = {}
    if os.path.exists(single):
        weights = read_safetensors(single)
    elif os.path.exists(index):
        with open(index) as f:
            wmap = json.load(f)["weight_map"]
        for shard in sorted(set(wmap.values())):
            part = read_safetensors(os.path.join(model_dir, shard))
            for k, v in part.items():
                if wmap.get(k) != shard:
                    raise ValueError(f"{shard}: tensor {k} not mapped to this shard in the index")
                weights[k] = v
        missing = [k for k in wmap if k not in weights]
        if missing:
            raise ValueError(f"{index}: tensors listed but absent from shards: {missing[:5]}")
    else:
        raise FileNotFoundError(f"{model_dir}: neither model.safetensors nor model.safetensors.index.json")
    return config, weights


# ----------------------------------------------------------------------------------------------
# config normalisation: defaults are those of each HF config class (see README for the sources)
# ----------------------------------------------------------------------------------------------

_DEFAULTS = {
    # configuration_mixtral.py MixtralConfig.__init__
    "mixtral": dict(rms_norm_eps=1e-5, rope_theta=1e6, sliding_window=None, num_experts_per_tok=2,
                    num_local_experts=8, tie_word_embeddings=False, hidden_act="silu", head_dim=None),
    # configuration_qwen2_moe.py Qwen2MoeConfig
    "qwen2_moe": dict(rms_norm_eps=1e-6, rope_theta=10000.0, use_sliding_window=False, sliding_window=4096,
                      max_window_layers=28, decoder_sparse_step=1, num_experts_per_tok=4, num_experts=60,
                      norm_topk_prob=False, mlp_only_layers=[], qkv_bias=True, tie_word_embeddings=False,
                      hidden_act="silu", head_dim=None),
    # configuration_qwen3_moe.py Qwen3MoeConfig
    "qwen3_moe": dict(rms_norm_eps=1e-6, rope_theta=10000.0, use_sliding_window=False, sliding_window=4096,
                      attention_bias=False, decoder_sparse_step=1, num_experts_per_tok=8, num_experts=128,
                      norm_topk_prob=False, mlp_only_layers=[], tie_word_embeddings=False, hidden_act="silu",
                      head_dim=None),
    # configuration_olmoe.py OlmoeConfig
    "olmoe": dict(rms_norm_eps=1e-5, rope_theta=10000.0, attention_bias=False, clip_qkv=None,
                  num_experts_per_tok=8, num_experts=64, norm_topk_prob=False, tie_word_embeddings=False,
                  hidden_act="silu"),
    # deepseek-ai/deepseek-moe-16b-base configuration_deepseek.py DeepseekConfig
    "deepseek": dict(rms_norm_eps=1e-6, rope_theta=10000.0, attention_bias=False, n_shared_experts=None,
                     n_routed_experts=None, num_experts_per_tok=None, moe_layer_freq=1, first_k_dense_replace=0,
                     norm_topk_prob=False, scoring_func="softmax", tie_word_embeddings=False, hidden_act="silu",
                     pretraining_tp=1),
    # configuration_phimoe.py PhimoeConfig
    "phimoe": dict(rms_norm_eps=1e-5, rope_theta=1e6, sliding_window=None, num_experts_per_tok=2,
                   num_local_experts=16, router_jitter_noise=0.01, input_jitter_noise=0.0, attention_bias=False,
                   lm_head_bias=False, tie_word_embeddings=False, hidden_act="silu"),
}


class Cfg:
    def __init__(self, raw: dict):
        mt = raw.get("model_type")
        if mt not in _DEFAULTS:
            raise ValueError(f"config.json: model_type {mt!r} not supported (expected one of {sorted(_DEFAULTS)})")
        self.arch = mt
        merged = dict(_DEFAULTS[mt])
        merged.update({k: v for k, v in raw.items()})
        # keys whose JSON null means "use the class default"
        for k in ("mlp_only_layers",):
            if merged.get(k) is None:
                merged[k] = []
        self.d = merged
        if merged.get("num_key_value_heads") is None:
            merged["num_key_value_heads"] = merged["num_attention_heads"]
        self.rope_theta = self._rope_theta()

    def __getattr__(self, k):
        d = self.__dict__["d"]
        if k in d:
            return d[k]
        raise AttributeError(f"config.json: field {k!r} missing for model_type {self.__dict__['arch']}")

    def get(self, k, default=None):
        return self.d.get(k, default)

    def _rope_theta(self) -> float:
        # transformers v5 stores RoPE as `rope_parameters`; v4 as `rope_theta` + `rope_scaling`
        rp = self.d.get("rope_parameters")
        rs = self.d.get("rope_scaling")
        for block, field in ((rp, "rope_parameters"), (rs, "rope_scaling")):
            if isinstance(block, dict):
                rtype = block.get("rope_type", block.get("type", "default"))
                if rtype not in (None, "default"):
                    raise NotImplementedError(
                        f"config.json: {field}.rope_type={rtype!r} not implemented by the reference (default RoPE only)")
        if isinstance(rp, dict) and "rope_theta" in rp:
            return float(rp["rope_theta"])
        return float(self.d["rope_theta"])


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------


def linear(x, w, b=None):
    y = x @ w.T
    return y + b if b is not None else y


def rms_norm(x, w, eps):
    # MixtralRMSNorm.forward (identical in every arch here): x * rsqrt(mean(x^2) + eps), then weight *
    var = np.mean(x * x, axis=-1, keepdims=True)
    return w * (x / np.sqrt(var + eps))


def layer_norm(x, w, b, eps):
    # torch.nn.LayerNorm (Phimoe): biased variance
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def act(name, x):
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "relu":
        return np.maximum(x, 0)
    if name in ("gelu_pytorch_tanh", "gelu_new"):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    raise NotImplementedError(f"config.json: hidden_act={name!r} not implemented (silu, relu, gelu_pytorch_tanh)")


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def rope_cos_sin(T, head_dim, theta, partial_rotary_factor=1.0):
    # MixtralRotaryEmbedding.compute_default_rope_parameters + forward: inv_freq over dim = head_dim * prf,
    # emb = cat(freqs, freqs) (rotate_half layout, NOT interleaved pairs)
    dim = int(head_dim * partial_rotary_factor)
    if dim != head_dim:
        raise NotImplementedError("config.json: partial_rotary_factor != 1 is not used by these architectures")
    inv_freq = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim))
    freqs = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def apply_rope(x, cos, sin):
    # x: [T, H, D]; apply_rotary_pos_emb: x*cos + rotate_half(x)*sin
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def causal_mask(T, sliding_window=None):
    # masking_utils.causal_mask_function (kv <= q) and sliding_window_overlay (kv > q - window);
    # identical to the older _prepare_4d_causal_attention_mask_with_cache_position
    # (masked when kv <= q - sliding_window): each query sees at most `sliding_window` keys incl. itself.
    q = np.arange(T)[:, None]
    k = np.arange(T)[None, :]
    allowed = k <= q
    if sliding_window is not None:
        allowed &= k > q - sliding_window
    return allowed


# ----------------------------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------------------------


class Model:
    def __init__(self, raw_config: dict, weights: dict[str, np.ndarray]):
        self.c = Cfg(raw_config)
        self.w = weights
        c = self.c
        self.H = c.num_attention_heads
        self.KV = c.num_key_value_heads
        if c.arch in ("mixtral", "qwen2_moe", "qwen3_moe"):
            # MixtralAttention: getattr(config, "head_dim", None) or hidden // heads
            self.D = c.get("head_dim") or c.hidden_size // self.H
        else:
            # olmoe, phimoe, deepseek: head_dim = hidden_size // num_heads (config head_dim ignored)
            self.D = c.hidden_size // self.H
        if self.H % self.KV:
            raise ValueError("config.json: num_attention_heads must be a multiple of num_key_value_heads")
        self.eps = c.rms_norm_eps
        self.records: dict[int, dict] = {}

    # -- weights ------------------------------------------------------------------------------
    def W(self, name):
        if name not in self.w:
            raise KeyError(f"model.safetensors: tensor {name!r} missing")
        return self.w[name]

    def Wopt(self, name):
        return self.w.get(name)

    # -- norms --------------------------------------------------------------------------------
    def norm(self, x, prefix):
        if self.c.arch == "phimoe":
            # PhimoeDecoderLayer: nn.LayerNorm(hidden, eps=config.rms_norm_eps, elementwise_affine=True)
            return layer_norm(x, self.W(prefix + ".weight"), self.W(prefix + ".bias"), self.eps)
        return rms_norm(x, self.W(prefix + ".weight"), self.eps)

    # -- attention ----------------------------------------------------------------------------
    def sliding_window_for(self, layer: int):
        c = self.c
        if c.arch in ("mixtral", "phimoe"):
            # MixtralModel.forward: create_sliding_window_causal_mask iff config.sliding_window is not None
            return c.get("sliding_window")
        if c.arch == "qwen3_moe":
            # Qwen3MoeConfig: sliding_window = sliding_window if use_sliding_window else None; all layers
            return c.sliding_window if c.get("use_sliding_window") else None
        if c.arch == "qwen2_moe":
            if not c.get("use_sliding_window"):
                return None
            # transformers v5 Qwen2MoeConfig.layer_types; older releases differ (see README), so we follow
            # the explicit layer_types when present and the v5 rule otherwise
            lt = c.get("layer_types")
            if lt is None:
                lt = ["sliding_attention" if ((i + 1) % 2) and i < c.max_window_layers else "full_attention"
                      for i in range(c.num_hidden_layers)]
            return c.sliding_window if lt[layer] == "sliding_attention" else None
        return None

    def attention(self, x, layer, cos, sin):
        c, p = self.c, f"model.layers.{layer}.self_attn."
        T = x.shape[0]
        if c.arch == "mixtral":
            qb, ob = False, False
        elif c.arch == "qwen2_moe":
            qb, ob = bool(c.qkv_bias), False  # Qwen2MoeAttention: q/k/v bias=config.qkv_bias, o_proj none
        else:
            qb = ob = bool(c.attention_bias)  # qwen3_moe, olmoe, deepseek, phimoe: all four projections
        q = linear(x, self.W(p + "q_proj.weight"), self.W(p + "q_proj.bias") if qb else None)
        k = linear(x, self.W(p + "k_proj.weight"), self.W(p + "k_proj.bias") if qb else None)
        v = linear(x, self.W(p + "v_proj.weight"), self.W(p + "v_proj.bias") if qb else None)
        if c.arch == "olmoe":
            # OlmoeAttention.forward: q_norm/k_norm over the FULL projected width (H*D and KV*D), before
            # the head split; then clip_qkv clamps q, k AND v
            q = rms_norm(q, self.W(p + "q_norm.weight"), self.eps)
            k = rms_norm(k, self.W(p + "k_norm.weight"), self.eps)
            if c.get("clip_qkv") is not None:
                cl = float(c.clip_qkv)
                q, k, v = np.clip(q, -cl, cl), np.clip(k, -cl, cl), np.clip(v, -cl, cl)
        q = q.reshape(T, self.H, self.D)
        k = k.reshape(T, self.KV, self.D)
        v = v.reshape(T, self.KV, self.D)
        if c.arch == "qwen3_moe":
            # Qwen3MoeAttention.forward: per-head RMSNorm over head_dim, before RoPE
            q = rms_norm(q, self.W(p + "q_norm.weight"), self.eps)
            k = rms_norm(k, self.W(p + "k_norm.weight"), self.eps)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        rep = self.H // self.KV
        # repeat_kv: kv head j serves query heads j*rep .. j*rep+rep-1
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(self.D)
        allowed = causal_mask(T, self.sliding_window_for(layer))
        scores = np.where(allowed[None], scores, -np.inf)
        probs = softmax(scores, axis=-1)
        out = np.einsum("hqk,khd->qhd", probs, v).reshape(T, self.H * self.D)
        return linear(out, self.W(p + "o_proj.weight"), self.W(p + "o_proj.bias") if ob else None)

    # -- MLPs ---------------------------------------------------------------------------------
    def gated_mlp(self, x, prefix, names=("gate_proj", "up_proj", "down_proj")):
        g, u, d = names
        h = act(self.c.hidden_act, linear(x, self.W(f"{prefix}.{g}.weight"))) * linear(x, self.W(f"{prefix}.{u}.weight"))
        return linear(h, self.W(f"{prefix}.{d}.weight"))

    def is_moe_layer(self, layer: int) -> bool:
        c = self.c
        if c.arch in ("qwen2_moe", "qwen3_moe"):
            # Qwen2MoeDecoderLayer.__init__
            return (layer not in c.mlp_only_layers) and c.num_experts > 0 and (layer + 1) % c.decoder_sparse_step == 0
        if c.arch == "deepseek":
            # DeepseekDecoderLayer.__init__ (remote code)
            return (c.get("n_routed_experts") is not None and layer >= c.first_k_dense_replace
                    and layer % c.moe_layer_freq == 0)
        return True

    def route_softmax_topk(self, logits, k, renorm, eps_denominator=0.0):
        # F.softmax(router_logits, dim=1, dtype=torch.float) -> torch.topk -> optional renormalisation.
        probs = softmax(logits, axis=-1)
        # torch.topk: largest first; ties resolved to the lower index here (stable sort)
        idx = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
        wts = np.take_along_axis(probs, idx, axis=-1)
        if renorm:
            wts = wts / (wts.sum(-1, keepdims=True) + eps_denominator)
        return idx, wts, probs

    def sparsemixer(self, scores, jitter_eps):
        # modeling_phimoe.sparsemixer(scores, jitter_eps, training=False, top_k=2)
        T, E = scores.shape
        rows = np.arange(T)
        mx = scores.max(-1, keepdims=True)
        ind1 = np.argmax(scores, -1)
        factor = np.maximum(np.abs(scores), mx)  # scores.abs().clamp(min=max)
        with np.errstate(invalid="ignore", divide="ignore"):
            mask = ((mx - scores) / factor) > (2 * jitter_eps)
        g1 = softmax(np.where(mask, -np.inf, scores))
        m1 = g1[rows, ind1]
        masked = scores.copy()
        masked[rows, ind1] = -np.inf
        mx2 = masked.max(-1, keepdims=True)
        ind2 = np.argmax(masked, -1)
        factor2 = np.maximum(np.abs(scores), mx2)  # NB: built from the unmasked scores, as in HF
        with np.errstate(invalid="ignore", divide="ignore"):
            mask2 = ((mx2 - scores) / factor2) > (2 * jitter_eps)
        g2 = softmax(np.where(mask2, -np.inf, masked))
        m2 = g2[rows, ind2]
        return np.stack([ind1, ind2], -1), np.stack([m1, m2], -1)

    def moe(self, x, layer):
        c = self.c
        L = f"model.layers.{layer}"
        if c.arch in ("mixtral", "phimoe"):
            p = f"{L}.block_sparse_moe"
            logits = linear(x, self.W(p + ".gate.weight"))
            if c.arch == "mixtral":
                # MixtralSparseMoeBlock.forward: softmax over all experts (fp32), topk, ALWAYS renormalise
                idx, wts, probs = self.route_softmax_topk(logits, c.num_experts_per_tok, True)
            else:
                if c.num_experts_per_tok != 2:
                    raise ValueError("config.json: phimoe sparsemixer requires num_experts_per_tok == 2")
                idx, wts = self.sparsemixer(logits, float(c.router_jitter_noise))
                probs = None
            names = ("w1", "w3", "w2")
            ep = p + ".experts"
        else:
            p = f"{L}.mlp"
            logits = linear(x, self.W(p + ".gate.weight"))
            if c.arch == "deepseek":
                if c.get("scoring_func", "softmax") != "softmax":
                    raise NotImplementedError(f"config.json: scoring_func={c.scoring_func!r} not implemented")
                k = c.num_experts_per_tok
                # MoEGate.forward: normalise only when top_k > 1 and norm_topk_prob, denominator + 1e-20
                idx, wts, probs = self.route_softmax_topk(logits, k, k > 1 and c.norm_topk_prob, 1e-20)
            else:
                # Qwen2MoeSparseMoeBlock / Qwen3MoeSparseMoeBlock / OlmoeSparseMoeBlock
                idx, wts, probs = self.route_softmax_topk(logits, c.num_experts_per_tok, bool(c.norm_topk_prob))
            names = ("gate_proj", "up_proj", "down_proj")
            ep = p + ".experts"
        self.records[layer] = {"logits": logits, "experts": idx, "weights": wts, "probs": probs}
        out = np.zeros_like(x)
        for e in np.unique(idx):
            rows, slot = np.nonzero(idx == e)
            y = self.gated_mlp(x[rows], f"{ep}.{e}", names)
            np.add.at(out, rows, y * wts[rows, slot][:, None])
        if c.arch == "qwen2_moe":
            # shared_expert(x) * sigmoid(shared_expert_gate(x))
            s = self.gated_mlp(x, p + ".shared_expert")
            gate = 1.0 / (1.0 + np.exp(-linear(x, self.W(p + ".shared_expert_gate.weight"))))
            out = out + gate * s
        if c.arch == "deepseek" and c.get("n_shared_experts") is not None:
            # DeepseekMoE.forward: y + shared_experts(identity), no gate
            out = out + self.gated_mlp(x, p + ".shared_experts")
        return out

    def mlp(self, x, layer):
        if self.is_moe_layer(layer):
            return self.moe(x, layer)
        # dense MLP (Qwen2MoeMLP with intermediate_size / DeepseekMLP)
        return self.gated_mlp(x, f"model.layers.{layer}.mlp")

    # -- full forward --------------------------------------------------------------------------
    def forward(self, ids) -> np.ndarray:
        c = self.c
        ids = np.asarray(ids, dtype=np.int64)
        V = c.vocab_size
        if ids.ndim != 1 or ids.size == 0:
            raise ValueError("ids: expected a non-empty 1-D list of token ids")
        if ids.min() < 0 or ids.max() >= V:
            raise ValueError(f"ids: token id out of range [0, {V})")
        self.records = {}
        T = ids.size
        emb = self.W("model.embed_tokens.weight")
        x = emb[ids]
        cos, sin = rope_cos_sin(T, self.D, self.rope_theta_for(), c.get("partial_rotary_factor", 1.0))
        for layer in range(c.num_hidden_layers):
            L = f"model.layers.{layer}"
            h = self.norm(x, L + ".input_layernorm")
            x = x + self.attention(h, layer, cos, sin)
            h = self.norm(x, L + ".post_attention_layernorm")
            x = x + self.mlp(h, layer)
        x = self.norm(x, "model.norm")
        if c.get("tie_word_embeddings", False):
            head = emb
        else:
            head = self.W("lm_head.weight")
        bias = self.W("lm_head.bias") if (c.arch == "phimoe" and c.lm_head_bias) else None
        return linear(x, head, bias)

    def rope_theta_for(self):
        return self.c.rope_theta


# ----------------------------------------------------------------------------------------------
# evaluators
# ----------------------------------------------------------------------------------------------


def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def perplexity(model: Model, ids, seq_len: int, max_windows: int | None = None) -> dict:
    # METHODS §8.1: non-overlapping windows of seq_len, tail dropped, CE of positions 1..L-1 from logits 0..L-2
    ids = list(ids)
    n = len(ids) // seq_len
    if max_windows is not None:
        n = min(n, max_windows)
    if n == 0:
        raise ValueError(f"ids: {len(ids)} tokens is shorter than one window of {seq_len}")
    nll, count = 0.0, 0
    for w in range(n):
        win = ids[w * seq_len : (w + 1) * seq_len]
        lp = log_softmax(model.forward(win))
        tgt = np.asarray(win[1:])
        nll -= float(lp[np.arange(seq_len - 1), tgt].sum())
        count += seq_len - 1
    return {"ppl": math.exp(nll / count), "nll": nll, "tokens": count, "windows": n}


def _read_ids(path):
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("ids"), list):
        raise ValueError(f"{path}: expected {{\"ids\": [int, ...]}}")
    return data["ids"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("logits", "ppl", "route"):
        s = sub.add_parser(name)
        s.add_argument("--model", required=True)
        s.add_argument("--ids", required=True)
        if name == "logits":
            s.add_argument("--out", required=True)
        if name == "ppl":
            s.add_argument("--seq-len", type=int, required=True)
            s.add_argument("--max-windows", type=int, default=None)
        if name == "route":
            s.add_argument("--layer", type=int, required=True)
    a = ap.parse_args(argv)
    config, weights = load_checkpoint(a.model)
    model = Model(config, weights)
    ids = _read_ids(a.ids)
    if a.cmd == "logits":
        logits = model.forward(ids)
        with open(a.out, "w") as f:
            json.dump({"shape": list(logits.shape), "logits": [float(v) for v in logits.ravel()]}, f)
    elif a.cmd == "ppl":
        print(json.dumps(perplexity(model, ids, a.seq_len, a.max_windows)))
    else:
        model.forward(ids)
        if a.layer not in model.records:
            raise SystemExit(f"--layer {a.layer}: not a MoE layer (MoE layers: {sorted(model.records)})")
        r = model.records[a.layer]
        print(json.dumps({
            "layer": a.layer,
            "experts": r["experts"].tolist(),
            "weights": r["weights"].tolist(),
            "router_logits": r["logits"].tolist(),
        }))


if __name__ == "__main__":
    main()
