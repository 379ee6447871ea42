#!/usr/bin/env python3
"""NAB's published detectors on exactly the 53 development files.

Reads published/<detector>_<profile>.csv (File,Score: the per-file raw NAB
scores of NAB's results/ folder, kept for the 53 files of ../shared/data/nab
and ../shared/data/nab-more only; see published/README.md) and prints each
detector's normalised score per profile, normalised the way evaluator/nab
normalises Lathe's own runs, so the two tables compare like with like:

    score_norm = 100 * (S - S_null) / (S_perfect - S_null)

summed over the files, with S_null = -A_FN x windows (the null detector:
NAB's results/null files give exactly this, -1 per window on the standard
profile) and S_perfect = A_TP x windows (A_TP = 1 on every profile).

    python3 published.py [--markdown] [--files LIST]

--files: a text file of NAB keys (one per line) to restrict the sum to.
A detector/profile whose file lacks a row for one of the chosen files is
reported as missing rather than summed over fewer files.
"""
import csv
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))
PROFILES = [("standard", "standard", 1.0), ("reward_low_FP_rate", "reward_low_FP", 1.0),
            ("reward_low_FN_rate", "reward_low_FN", 2.0)]  # (file suffix, name, A_FN)


def dev_files():
    keys = []
    for root in ("nab/data", "nab-more/data"):
        base = os.path.join(SHARED, root)
        for path in glob.glob(os.path.join(base, "*", "*.csv")):
            keys.append(os.path.relpath(path, base))
    return sorted(keys)


def window_counts():
    """{NAB key: number of windows} for every file of combined_windows.json."""
    with open(os.path.join(SHARED, "nab", "labels", "combined_windows.json")) as f:
        return {k: len(v) for k, v in json.load(f).items()}


def detectors():
    """The detectors with at least one file in published/, sorted."""
    found = set()
    for p in glob.glob(os.path.join(HERE, "published", "*.csv")):
        name = os.path.basename(p)[:-4]
        for suffix, _, _ in PROFILES:
            if name.endswith("_" + suffix):
                found.add(name[:-len(suffix) - 1])
    return sorted(found)


def file_scores(det, suffix):
    """{NAB key: NAB's raw per-file score} of @det on profile file @suffix, or None."""
    path = os.path.join(HERE, "published", "%s_%s.csv" % (det, suffix))
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r["File"]: float(r["Score"]) for r in csv.DictReader(f)}


def main():
    args = sys.argv[1:]
    markdown = "--markdown" in args
    files = dev_files()
    if "--files" in args:
        with open(args[args.index("--files") + 1]) as f:
            files = [line.strip() for line in f if line.strip()]
    windows = window_counts()
    n_windows = sum(windows[k] for k in files)
    rows = []
    for det in detectors():
        cells = []
        for suffix, _, a_fn in PROFILES:
            scores = file_scores(det, suffix)
            if scores is None or any(k not in scores for k in files):
                cells.append(None)
                continue
            s = sum(scores[k] for k in files)
            null, perfect = -a_fn * n_windows, 1.0 * n_windows
            cells.append(100.0 * (s - null) / (perfect - null))
        rows.append((det, cells))
    rows.sort(key=lambda r: -(r[1][0] if r[1][0] is not None else -1e9))
    head = ["detector"] + [name for _, name, _ in PROFILES]
    fmt = lambda v: "-" if v is None else "%.1f" % v
    print("%d files, %d windows" % (len(files), n_windows))
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * len(PROFILES))
        for det, cells in rows:
            print("| %s | %s |" % (det, " | ".join(fmt(c) for c in cells)))
    else:
        print("%-20s %10s %14s %14s" % tuple(head))
        for det, cells in rows:
            print("%-20s %10s %14s %14s" % ((det,) + tuple(fmt(c) for c in cells)))


if __name__ == "__main__":
    main()
