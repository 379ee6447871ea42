#!/usr/bin/env python3
"""Run examples/nab/pipeline.json with several run seeds and summarise.

The isolation forest is random, and leave-one-file-out thresholds move with
it, so one seed says little. This copies the pipeline with each seed (paths
made absolute), runs it, and prints every seed's normalised scores and their
medians.

    python3 seeds.py PATH/TO/lathe [N_SEEDS=8] [NODE.PARAM=VALUE ...]

Extra arguments are passed to `lathe run --set`. Uses a temporary run store
and cache, removed afterwards.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["nab.standard", "nab.reward_low_FP", "nab.reward_low_FN",
        "nab_global.standard", "nab_global.reward_low_FP", "nab_global.reward_low_FN"]


def absolutise(pipeline):
    for node in pipeline["nodes"]:
        w = node.get("with", {})
        for key in ("path", "windows"):
            if isinstance(w.get(key), str):
                w[key] = os.path.normpath(os.path.join(HERE, w[key]))
    return pipeline


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lathe = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    sets = [a for arg in sys.argv[3:] for a in ("--set", arg)]
    with open(os.path.join(HERE, "pipeline.json")) as f:
        base = absolutise(json.load(f))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LATHE_CACHE_DIR=os.path.join(tmp, "cache"))
        for seed in range(n):
            base["seed"] = seed
            path = os.path.join(tmp, "pipeline-%d.json" % seed)
            with open(path, "w") as f:
                json.dump(base, f)
            out = subprocess.run([lathe, "run", "--json", "--store", os.path.join(tmp, "store"),
                                  *sets, path], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit("seed %d failed:\n%s" % (seed, out.stderr))
            metrics = json.loads(out.stdout)["metrics"]
            rows.append([metrics[k] for k in KEYS])
            print("seed %2d  " % seed + "  ".join("%s %6.1f" % (k, v)
                                                  for k, v in zip(KEYS, rows[-1])), flush=True)
    print("median   " + "  ".join("%s %6.1f" % (k, statistics.median(c))
                                  for k, c in zip(KEYS, zip(*rows))))


if __name__ == "__main__":
    main()
