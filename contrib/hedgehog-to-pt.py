#!/usr/bin/python3
"""hedgehog-to-pt - turn hedgehog-train's safetensors weights into the .pt
state dict that LoLCATs loads (torch.load(path)['model_state_dict'], then
model.load_state_dict(sd, strict=False)).

    hedgehog-to-pt.py [--dtype float32|bfloat16|float16] weights.safetensors out_distill.pt

Debian bookworm has python3-torch but no python3-safetensors, so the file
is read with the standard library (8-byte little-endian header length,
JSON header, raw little-endian data) and each tensor made with
torch.frombuffer.  The __metadata__ block (feature map variant, dims,
layout, training settings) is kept under 'hedgehog_metadata'.

Only the names and layout of hedgehog-train's default (--fmap hedgehog,
no bias) match LoLCATs' FeatureMap modules exactly; see hedgehog-train(1).
"""
import argparse
import json
import struct
import sys

DTYPES = {"F32": ("float32", 4), "F64": ("float64", 8), "F16": ("float16", 2),
          "BF16": ("bfloat16", 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    return header, meta, data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights")
    ap.add_argument("out")
    ap.add_argument("--dtype", default="float32",
                    choices=["float32", "bfloat16", "float16"],
                    help="dtype of the saved tensors (LoLCATs models run in bfloat16)")
    a = ap.parse_args()
    import torch

    header, meta, data = read_safetensors(a.weights)
    sd = {}
    for name, t in sorted(header.items()):
        if t["dtype"] not in DTYPES:
            sys.exit("%s: tensor %s: dtype %s not supported" % (a.weights, name, t["dtype"]))
        begin, end = t["data_offsets"]
        dt = getattr(torch, DTYPES[t["dtype"]][0])
        x = torch.frombuffer(bytearray(data[begin:end]), dtype=dt)
        sd[name] = x.reshape(t["shape"]).to(getattr(torch, a.dtype))
    torch.save({"model_state_dict": sd, "hedgehog_metadata": meta}, a.out)
    for name, x in sd.items():
        print("%s %s %s" % (name, list(x.shape), str(x.dtype).replace("torch.", "")))


if __name__ == "__main__":
    main()
