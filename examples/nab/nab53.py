#!/usr/bin/env python3
"""Score the 53-file designs and print them next to NAB's published detectors.

    python3 nab53.py PATH/TO/lathe [--markdown] [--seeds N] [--pipeline FILE]
                     [--set NODE.PARAM=VALUE ...]

Runs pipeline-53.json (all 53 development files: ../shared/data/nab and
../shared/data/nab-more) with leave-one-file-out choices of column, threshold
and suppression (evaluator/nab threshold_mode leave_one_out: no file is
scored with anything chosen on its own labels). The streaming detectors are
deterministic, so one run is enough; --seeds N runs N seeds (0..N-1) and
prints the median and range, for random designs. Then prints published.py's
table on the same 53 files. Uses a temporary run store and cache.
"""
import os
import statistics
import subprocess
import sys

from nabrun import HERE, load, run_seeds

PROFILES = ["standard", "reward_low_FP", "reward_low_FN"]


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    lathe = os.path.abspath(args[0])
    markdown = "--markdown" in args
    seeds = int(args[args.index("--seeds") + 1]) if "--seeds" in args else 1
    name = args[args.index("--pipeline") + 1] if "--pipeline" in args else "pipeline-53.json"
    base = load(name)
    evaluators = [n["id"] for n in base["nodes"] if n["use"] == "evaluator/nab"]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    runs = [metrics for _, metrics in run_seeds(lathe, base, range(seeds), sets)]
    print("%s, leave-one-file-out, %d seed(s)" % (name, seeds))
    if markdown:
        print("| design (evaluator node) | " + " | ".join(PROFILES) + " |")
        print("|---|" + "---:|" * len(PROFILES))
    for ev in evaluators:
        cells = []
        for p in PROFILES:
            vals = [m.get("%s.%s" % (ev, p), float("nan")) for m in runs]
            if len(vals) == 1:
                cells.append("%.1f" % vals[0])
            else:
                cells.append("%.1f (%.1f-%.1f)" % (statistics.median(vals), min(vals), max(vals)))
        if markdown:
            print("| %s | %s |" % (ev, " | ".join(cells)))
        else:
            print("%-24s " % ev + "  ".join("%s %s" % (p, c) for p, c in zip(PROFILES, cells)))
    print()
    print("NAB's published detectors on the same 53 files (published.py):")
    subprocess.run([sys.executable, os.path.join(HERE, "published.py")] +
                   (["--markdown"] if markdown else []), check=True)


if __name__ == "__main__":
    main()
