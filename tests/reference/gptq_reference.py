#!/usr/bin/env python3
"""Logits of a GPTQ checkpoint folder, dequantized the way AutoGPTQ's reference path does it
(auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py, QuantLinear.forward without the CUDA kernel),
then run through the numpy port of the HF modeling code (hf_moe_reference.py). Independent of the
engine's TypeScript unpacking: a test compares the two.

  zeros  = (qzeros[:, :, None] >> [0, b, 2b, ...]) & mask, flattened per group; + 1 for checkpoint_format "gptq"
  weight = (qweight[:, None, :] >> [0, b, 2b, ...]) & mask, flattened along the input dimension
  W[j, o] = scales[g_idx[j], o] * (weight[j, o] - zeros[g_idx[j], o]);  linear.weight = W.T

The reference multiplies in float16 (torch); here in float64, the exact value (the engine's f32
dequantization is exact too, since scale·integer fits an f32 mantissa).

usage: gptq_reference.py logits --model DIR --ids IDS.json --out OUT.json
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_moe_reference as hf  # noqa: E402

_DT = {"F32": (np.float32, 4), "F16": (np.float16, 2), "I32": (np.int32, 4)}


def read_all(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        npdt, size = _DT[info["dtype"]]
        start, end = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert end - start == count * size, name
        out[name] = np.frombuffer(buf, dtype=npdt, count=count, offset=8 + n + start).reshape(info["shape"])
    return out


def dequantize(t, prefix, bits, fmt):
    qweight, qzeros = t[prefix + ".qweight"], t[prefix + ".qzeros"]
    scales, g_idx = t[prefix + ".scales"].astype(np.float64), t[prefix + ".g_idx"]
    mask = (1 << bits) - 1
    wf = np.arange(0, 32, bits, dtype=np.int32)
    zeros = (qzeros[:, :, None] >> wf[None, None, :]) & mask
    zeros = zeros.reshape(zeros.shape[0], -1)
    if fmt == "gptq":
        zeros = zeros + 1
    weight = (qweight[:, None, :] >> wf[None, :, None]) & mask
    weight = weight.reshape(-1, weight.shape[2])
    inp, out = g_idx.shape[0], qweight.shape[1]
    weight = weight[:inp].astype(np.float64)
    z = zeros[g_idx, :out].astype(np.float64)
    s = scales[g_idx]
    return (s * (weight - z)).T  # [out, in]


def main(argv=None):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("logits")
    s.add_argument("--model", required=True)
    s.add_argument("--ids", required=True)
    s.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    q = config["quantization_config"]
    assert q["quant_method"] == "gptq"
    t = read_all(os.path.join(a.model, "model.safetensors"))
    weights = {}
    for name, v in t.items():
        if name.endswith(".qweight"):
            p = name[: -len(".qweight")]
            weights[p + ".weight"] = dequantize(t, p, q["bits"], q.get("checkpoint_format", "gptq"))
        elif not name.endswith((".qzeros", ".scales", ".g_idx")):
            weights[name] = v.astype(np.float64)
    model = hf.Model(config, weights)
    with open(a.ids) as f:
        ids = json.load(f)["ids"]
    logits = model.forward(ids)
    with open(a.out, "w") as f:
        json.dump({"shape": list(logits.shape), "logits": [float(v) for v in logits.ravel()]}, f)


if __name__ == "__main__":
    main()
