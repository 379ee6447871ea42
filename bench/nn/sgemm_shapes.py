#!/usr/bin/python3
"""What cblas_sgemm alone reaches on the GEMMs of one MLP training epoch.

    /usr/bin/python3 bench/nn/sgemm_shapes.py [--rows 124] [--dims 19309,100,100,100,3]
        [--batch 64] [--threads 2] [--layouts out-in,in-out] [--min-time 0.2] [--reps 7]
        [--out result.json]

It calls cblas_sgemm through ctypes in libopenblas.so.0, the library Lathe's plugins
link (numpy only holds the buffers): row-major, with the transpose flags and leading
dimensions Lathe's nn/nn-gemm.c passes, so each call is exactly one of Lathe's. (numpy's
matmul is not used for the timing: for a transposed operand it may issue a different
but equivalent call, e.g. compute C^T = B^T A^T, which OpenBLAS runs at another speed.)
The time of these calls is what the GEMMs of a training epoch cost with no framework
around them: a floor for Lathe's epoch time. The OpenBLAS kernels (core) are reported
from the library itself (openblas_get_corename).

The GEMMs of one step on a batch of b rows, for each dense layer in -> out, with the
weights stored W[out][in] (layout "out-in": Lathe's nn/layer-dense.c and PyTorch):
  forward   Y  = X @ W.T     b x in  @ in x out   (W.T a transposed operand)
  weights   dW = dY.T @ X    out x b @ b x in
  input     dX = dY @ W      b x out @ out x in   (not for the first layer: the data
                                                   needs no gradient)
or stored W[in][out] (layout "in-out"): Y = X @ W, dW = X.T @ dY (in x b @ b x out),
dX = dY @ W.T. Same FLOPs, but OpenBLAS runs the shapes at different speeds, so the
first layout listed (out-in, what Lathe calls) is the comparison; the other is for
context. Each GEMM is 2*b*in*out FLOPs. An epoch is ceil(rows / batch) steps (the last
one shorter).
Each GEMM is timed as the median of --reps timings, each the mean of a loop of at least
--min-time seconds, after one warm-up (as in ANCHORS.md section 1).

Prints one JSON object: each GEMM's shape, seconds and GFLOP/s, and the epoch's totals.
"""
import argparse
import ctypes
import json
import os
import statistics
import time


def gemms(rows, dims, batch, layout="out-in"):
    """(label, m, k, n, trans_a, trans_b, count) for every GEMM of one epoch."""
    sizes = [batch] * (rows // batch) + ([rows % batch] if rows % batch else [])
    by_size = {}
    for b in sizes:
        by_size[b] = by_size.get(b, 0) + 1
    out = []
    for b, count in sorted(by_size.items(), reverse=True):
        for i in range(len(dims) - 1):
            din, dout = dims[i], dims[i + 1]
            if layout == "out-in":
                out.append(("fwd L%d" % (i + 1), b, din, dout, False, True, count))
                out.append(("dW  L%d" % (i + 1), dout, b, din, True, False, count))
                if i > 0:
                    out.append(("dX  L%d" % (i + 1), b, dout, din, False, False, count))
            elif layout == "in-out":
                out.append(("fwd L%d" % (i + 1), b, din, dout, False, False, count))
                out.append(("dW  L%d" % (i + 1), din, b, dout, True, False, count))
                if i > 0:
                    out.append(("dX  L%d" % (i + 1), b, dout, din, False, True, count))
            else:
                raise ValueError("unknown layout %r; use out-in or in-out" % layout)
    return out


class Blas:
    """cblas_sgemm of libopenblas.so.0, called as Lathe calls it (row-major)."""
    ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

    def __init__(self):
        self.lib = ctypes.CDLL("libopenblas.so.0")
        f = self.lib.cblas_sgemm
        i, p, fl = ctypes.c_int, ctypes.c_void_p, ctypes.c_float
        f.argtypes = [i, i, i, i, i, i, fl, p, i, p, i, fl, p, i]
        f.restype = None
        self.sgemm = f
        self.lib.openblas_get_corename.restype = ctypes.c_char_p
        self.lib.openblas_get_num_threads.restype = ctypes.c_int

    def core(self):
        return self.lib.openblas_get_corename().decode()

    def threads(self):
        return self.lib.openblas_get_num_threads()


def time_gemm(np, blas, m, k, n, trans_a, trans_b, min_time, reps):
    rng = np.random.default_rng(0)
    # Row-major buffers as Lathe stores them: op(A) is m x k, op(B) is k x n.
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    args = (blas.ROW_MAJOR, blas.TRANS if trans_a else blas.NO_TRANS,
            blas.TRANS if trans_b else blas.NO_TRANS, m, n, k, 1.0, a.ctypes.data, a.shape[1],
            b.ctypes.data, b.shape[1], 0.0, c.ctypes.data, n)
    sgemm = blas.sgemm
    sgemm(*args)
    loops = 1
    while True:
        t = time.perf_counter()
        for _ in range(loops):
            sgemm(*args)
        dt = time.perf_counter() - t
        if dt >= min_time:
            break
        loops = max(loops * 2, int(loops * min_time / max(dt, 1e-9)) + 1)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(loops):
            sgemm(*args)
        times.append((time.perf_counter() - t) / loops)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=124)
    ap.add_argument("--dims", default="19309,100,100,100,3")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layouts", default="out-in,in-out")
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--out")
    args = ap.parse_args()
    # OpenBLAS reads this once, when numpy loads it.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np
    blas = Blas()
    dims = [int(d) for d in args.dims.split(",")]
    layouts = {}
    for layout in args.layouts.split(","):
        rows = []
        total_flops = total_s = 0.0
        for label, m, k, n, ta, tb, count in gemms(args.rows, dims, args.batch, layout):
            s = time_gemm(np, blas, m, k, n, ta, tb, args.min_time, args.reps)
            flops = 2.0 * m * k * n
            rows.append({"gemm": label, "m": m, "k": k, "n": n, "trans_a": ta, "trans_b": tb,
                         "count_per_epoch": count, "seconds": s, "gflops": flops / s / 1e9})
            total_flops += flops * count
            total_s += s * count
        layouts[layout] = {"gemms": rows, "epoch_flops": total_flops,
                           "epoch_gemm_seconds": total_s,
                           "epoch_gflops": total_flops / total_s / 1e9}
    first = layouts[args.layouts.split(",")[0]]
    res = {"library": "libopenblas.so.0", "blas_core": blas.core(), "threads": blas.threads(),
           "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
           "rows": args.rows, "dims": dims, "batch": args.batch,
           "layout": args.layouts.split(",")[0], "layouts": layouts, "gemms": first["gemms"],
           "epoch_flops": first["epoch_flops"], "epoch_gemm_seconds": first["epoch_gemm_seconds"],
           "epoch_gflops": first["epoch_gflops"]}
    text = json.dumps(res)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
