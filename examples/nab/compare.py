#!/usr/bin/env python3
"""One design against NAB's published detectors, file by file, with a
bootstrap over the 53 files: is the difference more than which files happen
to be in the corpus?

    python3 compare.py PATH/TO/lathe --pipeline FILE --evaluator NODE
                       [--set NODE.PARAM=VALUE ...] [--markdown] [--resamples N]

Runs the pipeline once (seed 0), reads the evaluator's per-file raw NAB
scores (leave-one-file-out, as nab53.py reports them) and, for each published
detector and profile with scores for all the files (published.py), prints
both normalised scores, their difference, a 95% percentile interval of the
difference over N resamples of the files with replacement (each resample
normalised with its own windows, null = -A_FN and perfect = +1 per window),
and the share of resamples where the design scores higher. The files are
the same on both sides (a paired bootstrap); the resampling seed is fixed.
"""
import os
import random
import sys

from nabrun import load, run_metrics_artifacts
from published import PROFILES, detectors, file_scores, window_counts

EVAL_PROFILE = {"standard": "standard", "reward_low_FP_rate": "reward_low_FP",
                "reward_low_FN_rate": "reward_low_FN"}


def normalised(scores, files, windows, a_fn):
    n = sum(windows[f] for f in files)
    return 100.0 * (sum(scores[f] for f in files) + a_fn * n) / ((1.0 + a_fn) * n)


def main():
    args = sys.argv[1:]
    if not args or "--pipeline" not in args or "--evaluator" not in args:
        sys.exit(__doc__)
    lathe = os.path.abspath(args[0])
    name = args[args.index("--pipeline") + 1]
    ev = args[args.index("--evaluator") + 1]
    resamples = int(args[args.index("--resamples") + 1]) if "--resamples" in args else 10000
    markdown = "--markdown" in args
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    art = run_metrics_artifacts(lathe, load(name), [ev], 0, sets)[ev]
    windows = window_counts()
    rng = random.Random(17)
    rows = []
    for suffix, _, a_fn in PROFILES:
        ours = {f: v["score"] for f, v in art["profiles"][EVAL_PROFILE[suffix]]["files"].items()}
        files = sorted(ours)
        draws = [[rng.choice(files) for _ in files] for _ in range(resamples)]
        for det in detectors():
            pub = file_scores(det, suffix)
            if pub is None or any(f not in pub for f in files):
                continue
            diffs = sorted(normalised(ours, d, windows, a_fn) - normalised(pub, d, windows, a_fn)
                           for d in draws)
            a, b = normalised(ours, files, windows, a_fn), normalised(pub, files, windows, a_fn)
            rows.append((EVAL_PROFILE[suffix], det, a, b, a - b, diffs[int(0.025 * resamples)],
                         diffs[int(0.975 * resamples) - 1],
                         sum(x > 0 for x in diffs) / resamples))
    print("%s, %s, %d files, %d resamples" % (name, ev, len(files), resamples))
    head = ("profile", "detector", "design", "published", "difference", "95% interval",
            "P(design higher)")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|---|---:|---:|---:|---:|---:|")
    for p, det, a, b, dlt, lo, hi, share in rows:
        cells = (p, det, "%.1f" % a, "%.1f" % b, "%+.1f" % dlt, "[%+.1f, %+.1f]" % (lo, hi),
                 "%.2f" % share)
        print("| %s |" % " | ".join(cells) if markdown else "%-14s %-17s %6s %6s %6s %16s %5s" % cells)


if __name__ == "__main__":
    main()
