#!/usr/bin/env python3
"""Run examples/nab/pipeline.json with run seeds 0..N-1 and summarise.

The isolation forests are random, and leave-one-file-out choices move with
them, so one seed says little. This copies the pipeline with each seed (paths
made absolute), runs it, and prints every seed's normalised scores and their
minimum, median and maximum.

    python3 seeds.py PATH/TO/lathe [N_SEEDS=10] [NODE.PARAM=VALUE ...]

Extra arguments are passed to `lathe run --set`. Set SEEDS_KEYS (comma
separated metric names) to print other metrics; `--markdown` as the first
extra argument prints a Markdown table. Uses a temporary run store and cache,
removed afterwards.
"""
import os
import statistics
import sys

from nabrun import load, run_seeds

KEYS = ["nab.standard", "nab.reward_low_FP", "nab.reward_low_FN",
        "nab_raw.standard", "nab_raw.reward_low_FP", "nab_raw.reward_low_FN",
        "nab_global.standard", "nab_raw_global.standard"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lathe = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    extra = sys.argv[3:]
    markdown = bool(extra) and extra[0] == "--markdown"
    if markdown:
        extra = extra[1:]
    keys = os.environ["SEEDS_KEYS"].split(",") if os.environ.get("SEEDS_KEYS") else KEYS
    base = load("pipeline.json")
    rows = []
    if markdown:
        print("| seed | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
    for seed, metrics in run_seeds(lathe, base, range(n), extra):
        rows.append([metrics.get(k, float("nan")) for k in keys])
        if markdown:
            print("| %d | " % seed + " | ".join("%.1f" % v for v in rows[-1]) + " |",
                  flush=True)
        else:
            print("seed %2d  " % seed + "  ".join("%s %6.1f" % (k, v)
                                                  for k, v in zip(keys, rows[-1])),
                  flush=True)
    for name, fn in (("min", min), ("median", statistics.median), ("max", max)):
        cols = [fn(c) for c in zip(*rows)]
        if markdown:
            print("| **%s** | " % name + " | ".join("**%.1f**" % v for v in cols) + " |")
        else:
            print("%-8s " % name + "  ".join("%s %6.1f" % (k, v) for k, v in zip(keys, cols)))


if __name__ == "__main__":
    main()
