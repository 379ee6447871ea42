"""IDEKO recordings for the neural benchmarks: listing, the split and the preprocessing.

Shared by the harness (bench_nn.py: listing, split, longest recording) and the
PyTorch reference (torch_ref.py: loading and preprocessing). Only numpy and the
standard library, so importing it costs the reference no memory it would not
spend anyway.

A recording is <root>/<class>/<day>/<file>.zip holding one ';'-separated CSV
with header "time;f1;f2;f3;f4"; its label is the name of the top-level folder.
"""
import io
import os
import zipfile

import numpy as np


def list_recordings(root):
    """Sorted (relative path, class) of every .zip under root; class = top folder.

    Symlinks are followed, since the harness's train/test folders are made of them.
    """
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(".zip"):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                out.append((rel, rel.split(os.sep)[0]))
    out.sort()
    return out


def _csv_bytes(path):
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise ValueError("%s: expected exactly one CSV in the zip, found %d" % (path, len(names)))
        return z.read(names[0])


def count_rows(path):
    """Data rows of one recording (non-empty lines after the header), without parsing."""
    lines = _csv_bytes(path).splitlines()
    return sum(1 for l in lines[1:] if l.strip())


def read_columns(path, columns):
    """float64 array steps x len(columns) of the named columns of one recording."""
    data = _csv_bytes(path)
    header = data.split(b"\n", 1)[0].decode().strip().split(";")
    try:
        idx = [header.index(c) for c in columns]
    except ValueError:
        raise ValueError("%s: columns %s not all in header %s" % (path, columns, header))
    x = np.loadtxt(io.BytesIO(data), delimiter=";", skiprows=1, usecols=idx, dtype=np.float64,
                   ndmin=2)
    return x


def load(root, columns=("f3",)):
    """(list of steps x channels float64 arrays, list of class names), in list_recordings order."""
    recs = list_recordings(root)
    xs = [read_columns(os.path.join(root, rel), list(columns)) for rel, _ in recs]
    return xs, [c for _, c in recs]


def downsample(xs, factor, mode="every"):
    """Every factor-th step starting at step 0 (length ceil(L/factor)), or the mean of each
    block of factor steps (the last block may be shorter): transform/downsample's modes."""
    if factor == 1:
        return xs
    if mode == "every":
        return [x[::factor] for x in xs]
    out = []
    for x in xs:
        n = -(-len(x) // factor)
        out.append(np.stack([x[i * factor:(i + 1) * factor].mean(axis=0) for i in range(n)]))
    return out


def rolling(xs, window, stats=("mean", "std")):
    """Appends trailing rolling statistics of every channel: [x, mean_w(x), std_w(x)].

    At step t the window is steps max(0, t-window+1)..t (partial windows at the start);
    std is the population standard deviation (ddof 0), as transform/rolling computes it
    (bench_nn.py's input check compares the results).
    """
    out = []
    for x in xs:
        cols = [x]
        c1 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
        c2 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x * x]), axis=0)
        t = np.arange(len(x))
        lo = np.maximum(0, t - window + 1)
        n = (t + 1 - lo)[:, None]
        s1 = c1[t + 1] - c1[lo]
        s2 = c2[t + 1] - c2[lo]
        mean = s1 / n
        for s in stats:
            if s == "mean":
                cols.append(mean)
            elif s == "std":
                cols.append(np.sqrt(np.maximum(s2 / n - mean * mean, 0.0)))
            else:
                raise ValueError("unknown rolling stat %r" % s)
        out.append(np.hstack(cols))
    return out


def fit_standardize(xs):
    """Per-channel mean and population std over every valid step of every recording.
    A constant channel gets std 1 (it is only centred)."""
    allx = np.vstack(xs)
    mean = allx.mean(axis=0)
    std = allx.std(axis=0)
    std[std == 0] = 1.0
    return mean, std


def pad(xs, length):
    """float32 array n x length x channels, zero post-padded (or cut), and the valid lengths."""
    ch = xs[0].shape[1]
    out = np.zeros((len(xs), length, ch), dtype=np.float32)
    lengths = np.zeros(len(xs), dtype=np.int64)
    for i, x in enumerate(xs):
        n = min(len(x), length)
        out[i, :n] = x[:n]
        lengths[i] = n
    return out, lengths


def windows(xs, labels, seq_len, stride):
    """Every full window (start 0, stride, ...; start + seq_len <= length) of every recording,
    as float32 n x seq_len x channels, with its recording's label and index."""
    w, y, g = [], [], []
    for i, x in enumerate(xs):
        for s in range(0, len(x) - seq_len + 1, stride):
            w.append(x[s:s + seq_len])
            y.append(labels[i])
            g.append(i)
    return np.asarray(w, dtype=np.float32), y, np.asarray(g)
