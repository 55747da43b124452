#!/usr/bin/env python3
"""Writes the binary seed inputs of the fuzz targets (NPY, safetensors, llama2.c tokenizer)
into the folders beside this script. Standard library only; run it again to regenerate."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def npy(descr, shape, values, fmt, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", repr(tuple(shape)))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
            + struct.pack("<%d%s" % (len(values), fmt), *values))


write("fuzz_npy", "f8_2x3.npy", npy("<f8", (2, 3), [1, 2, 3, 4.5, -6e2, 7], "d"))
write("fuzz_npy", "f4_row.npy", npy("<f4", (4,), [0.25, 1, -2, 8], "f"))
write("fuzz_npy", "f4_3x1.npy", npy("<f4", (3, 1), [1, 2, 3], "f"))


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("fuzz_safetensors_header", "mixed.safetensors", safetensors({
    "a.weight": ("F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3)),
    "b.weight": ("F16", [3], struct.pack("<3H", 0x3C00, 0xC000, 0x7BFF)),
    "c.weight": ("BF16", [1, 2], struct.pack("<2H", 0x3F80, 0x4000)),
    "d.ids": ("I64", [2], struct.pack("<2q", 7, -1)),
}, {"format": "pt"}))
write("fuzz_safetensors_header", "empty_tensor.safetensors",
      safetensors({"e": ("F32", [0, 4], b"")}))


def llama2c_tokenizer(extra):
    pieces = [b"<unk>", b"<s>", b"</s>"] + [("<0x%02X>" % b).encode() for b in range(256)] + extra
    out = struct.pack("<I", max(len(p) for p in pieces))
    for i, piece in enumerate(pieces):
        out += struct.pack("<fi", -float(i) if i >= 259 else 0.0, len(piece)) + piece
    return out


write("fuzz_tokenizer_bin", "tiny.bin",
      llama2c_tokenizer([b" ", b"e", b"l", b"o", b"H", b"ll", b"llo", b" w", b"\xe2\x96\x81"]))
