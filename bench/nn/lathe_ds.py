"""Reads a Lathe dataset artifact (LATHEDS1, sdk/lathe-dataset.c) into numpy.

The harness uses it to check that the Lathe pipeline and the PyTorch reference feed
their models the same numbers (bench_nn.py: check_inputs).

Encoding, little-endian: "LATHEDS1", u32 n_rows, n_cols, n_classes, n_groups, flags
(1 labels, 2 groups, 4 sequence, 8 lengths), u32 seq_len if flag 4; the strings
(u32 length + bytes) of columns, classes, group names; x as f32; labels, groups as
i32; lengths as u32.
"""
import struct

import numpy as np


def read(path):
    """dict: x (n_rows x n_cols float32), seq_len, columns, classes, group_names,
    labels, groups, lengths (None when absent)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"LATHEDS1":
        raise ValueError("%s: not a Lathe dataset (no LATHEDS1 magic)" % path)
    o = 8
    n_rows, n_cols, n_classes, n_groups, flags = struct.unpack_from("<5I", b, o)
    o += 20
    seq_len = 0
    if flags & 4:
        (seq_len,) = struct.unpack_from("<I", b, o)
        o += 4

    def strings(n):
        nonlocal o
        out = []
        for _ in range(n):
            (size,) = struct.unpack_from("<I", b, o)
            o += 4
            out.append(b[o:o + size].decode())
            o += size
        return out

    def array(dtype, count):
        nonlocal o
        a = np.frombuffer(b, dtype, count, o)
        o += a.nbytes
        return a

    columns = strings(n_cols)
    classes = strings(n_classes) if flags & 1 else []
    group_names = strings(n_groups) if flags & 2 else []
    x = array(np.float32, n_rows * n_cols).reshape(n_rows, n_cols)
    labels = array(np.int32, n_rows) if flags & 1 else None
    groups = array(np.int32, n_rows) if flags & 2 else None
    lengths = array(np.uint32, n_rows) if flags & 8 else None
    return {"x": x, "seq_len": seq_len, "columns": columns, "classes": classes,
            "group_names": group_names, "labels": labels, "groups": groups, "lengths": lengths}
