#!/usr/bin/env python3
"""Self-consistency checks of hf_moe_reference.py.

Run: python3 tests/reference/test_reference.py [CKPT_ROOT]
CKPT_ROOT holds <arch>/ folders from `npx tsx scripts/make-tiny-checkpoints.ts --out CKPT_ROOT`; without it
the checkpoints are generated into a temporary folder (needs node + tsx). Prints one line per check and
exits non-zero on the first failure.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True  # keep tests/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_moe_reference as ref  # noqa: E402

ARCHS = ["mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek", "phimoe"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check(cond, msg):
    if not cond:
        print(f"FAIL {msg}")
        sys.exit(1)
    print(f"ok   {msg}")


def ids_for(T, seed=0, vocab=258):
    rng = np.random.default_rng(seed)
    return [256] + rng.integers(0, vocab - 2, T - 1).tolist()


def unit_checks():
    # sparsemixer on a hand-checked row: scores [2.0, 1.9, 0.0, -1.0], eps=0.1 -> threshold 0.2 relative
    m = ref.Model.__new__(ref.Model)
    idx, w = m.sparsemixer(np.array([[2.0, 1.9, 0.0, -1.0]]), 0.1)
    # top1: (2-1.9)/2 = 0.05 <= 0.2 kept; (2-0)/2 = 1 > 0.2 masked; (2+1)/2 masked -> softmax([2,1.9])[0]
    w1 = np.exp(2.0) / (np.exp(2.0) + np.exp(1.9))
    # top2 among [-inf,1.9,0,-1]: (1.9-0)/1.9 = 1 masked, (1.9+1)/1.9 masked -> weight 1
    check(idx.tolist() == [[0, 1]] and abs(w[0, 0] - w1) < 1e-15 and w[0, 1] == 1.0, "sparsemixer hand example")
    idx, w = m.sparsemixer(np.array([[1.0, -3.0, 0.999, 0.5]]), 0.01)
    check(idx.tolist() == [[0, 2]], "sparsemixer second choice excludes the first")
    # RoPE is a rotation: norms preserved, position 0 untouched
    cos, sin = ref.rope_cos_sin(7, 8, 10000.0)
    x = np.random.default_rng(1).normal(size=(7, 3, 8))
    y = ref.apply_rope(x, cos, sin)
    check(np.allclose(np.linalg.norm(x, axis=-1), np.linalg.norm(y, axis=-1)) and np.allclose(x[0], y[0]),
          "rope preserves norms, identity at position 0")
    msk = ref.causal_mask(6, 3)
    check(msk.sum(1).tolist() == [1, 2, 3, 3, 3, 3] and msk[5, 3] and not msk[5, 2],
          "sliding window of 3 sees exactly 3 keys incl. itself")
    try:
        ref.Cfg({"model_type": "mixtral", "num_attention_heads": 4, "rope_theta": 1.0,
                 "rope_scaling": {"type": "yarn", "factor": 4}})
        check(False, "unsupported rope_scaling raises")
    except NotImplementedError:
        check(True, "unsupported rope_scaling raises")


def model_checks(root):
    for arch in ARCHS:
        config, weights = ref.load_checkpoint(os.path.join(root, arch))
        model = ref.Model(config, weights)
        ids = ids_for(24, seed=ARCHS.index(arch))
        full = model.forward(ids)
        check(full.shape == (24, config["vocab_size"]) and np.isfinite(full).all(), f"{arch}: shape and finite")
        # causal consistency: row t of the full pass == last row of the prefix pass
        worst = 0.0
        for t in (0, 5, 15, 16, 17, 23):
            worst = max(worst, float(np.abs(model.forward(ids[: t + 1])[-1] - full[t]).max()))
        check(worst < 1e-10, f"{arch}: prefix-by-prefix last-token logits equal full pass ({worst:.1e})")
        model.forward(ids)
        for layer, r in model.records.items():
            s = r["weights"].sum(1)
            if arch == "mixtral" or (arch in ("qwen2_moe", "qwen3_moe", "olmoe") and config.get("norm_topk_prob")):
                check(np.allclose(s, 1.0), f"{arch}: layer {layer} routing weights renormalised")
            elif arch in ("olmoe", "qwen2_moe", "deepseek"):
                check(np.all(s < 1.0) and np.all(s > 0), f"{arch}: layer {layer} top-k weights NOT renormalised")
            if r["probs"] is not None:
                top = np.sort(r["probs"], axis=1)[:, ::-1][:, : r["experts"].shape[1]]
                chosen = np.take_along_axis(r["probs"], r["experts"], 1)
                check(np.allclose(np.sort(top, 1), np.sort(chosen, 1)), f"{arch}: layer {layer} picks the top-k")
            check(len(np.unique(r["experts"])) > r["experts"].shape[1], f"{arch}: layer {layer} routing varies")
        if arch == "qwen2_moe":
            check(sorted(model.records) == [0], "qwen2_moe: mlp_only_layers=[1] makes layer 1 dense")
        if arch == "deepseek":
            check(sorted(model.records) == [1], "deepseek: first_k_dense_replace=1 makes layer 0 dense")
        if arch == "qwen3_moe":
            check("lm_head.weight" not in weights, "qwen3_moe: tied embeddings, no lm_head tensor")

    # the interesting flags really change the output (so an engine ignoring them is caught)
    def variant(arch, **changes):
        config, weights = ref.load_checkpoint(os.path.join(root, arch))
        c2 = copy.deepcopy(config)
        c2.update(changes)
        ids = ids_for(24, seed=7)
        return ref.Model(config, weights).forward(ids), ref.Model(c2, weights).forward(ids)

    a, b = variant("mixtral", sliding_window=None)
    check(np.abs(a[:16] - b[:16]).max() < 1e-12 and np.abs(a[16:] - b[16:]).max() > 1e-4,
          "mixtral: sliding_window=16 matters only beyond 16 tokens")
    a, b = variant("olmoe", clip_qkv=None)
    check(np.abs(a - b).max() > 1e-4, "olmoe: clip_qkv clamps something")
    a, b = variant("phimoe", router_jitter_noise=0.0)
    check(np.abs(a - b).max() > 1e-4, "phimoe: sparsemixer threshold (router_jitter_noise) matters in eval")
    a, b = variant("qwen3_moe", norm_topk_prob=False)
    check(np.abs(a - b).max() > 1e-4, "qwen3_moe: norm_topk_prob matters")
    a, b = variant("deepseek", norm_topk_prob=True)
    check(np.abs(a - b).max() > 1e-4, "deepseek: norm_topk_prob matters")

    # BF16 and sharded copies of mixtral: sharded F32 is bit-identical, BF16 close
    if os.path.isdir(os.path.join(root, "_variants")):
        cfg, w = ref.load_checkpoint(os.path.join(root, "mixtral"))
        ids = ids_for(20, seed=3)
        base = ref.Model(cfg, w).forward(ids)
        cfg2, w2 = ref.load_checkpoint(os.path.join(root, "_variants", "mixtral-f32-sharded"))
        check(np.array_equal(base, ref.Model(cfg2, w2).forward(ids)), "sharded F32 == single-file F32")
        cfg3, w3 = ref.load_checkpoint(os.path.join(root, "_variants", "mixtral-bf16"))
        d = np.abs(base - ref.Model(cfg3, w3).forward(ids)).max()
        check(0 < d < 0.2, f"BF16 copy differs only by rounding ({d:.3f})")


def generate(root):
    tsx = os.path.join(REPO, "node_modules", ".bin", "tsx")
    script = os.path.join(REPO, "scripts", "make-tiny-checkpoints.ts")
    subprocess.run([tsx, script, "--out", root], check=True, stdout=subprocess.DEVNULL)
    v = os.path.join(root, "_variants")
    subprocess.run([tsx, script, "--out", os.path.join(v, "mixtral-f32-sharded"), "--arch", "mixtral",
                    "--shards", "3"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([tsx, script, "--out", os.path.join(v, "mixtral-bf16"), "--arch", "mixtral",
                    "--dtype", "BF16"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    unit_checks()
    if len(sys.argv) > 1:
        model_checks(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp)
            model_checks(tmp)
    print("all reference self-checks passed")
