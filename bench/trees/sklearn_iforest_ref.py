#!/usr/bin/python3
"""scikit-learn 1.2 IsolationForest reference for the NAB benchmark.

    /usr/bin/python3 bench/trees/sklearn_iforest_ref.py --csv series.csv [--seed 0]
        [--params '{"n_estimators": 100}'] [--threads 2] [--scores-out scores.npy]

The CSV is the one bench_trees.py writes for Lathe too: columns value, diff (the
features) and label (1 inside a NAB anomaly window, else 0; never a feature).

Timed: fit() on the whole series plus score_samples() on it, as ANCHORS.md section 2;
then the same again with n_jobs=1 (fit_score_seconds_1thread), for context.
The anomaly score is -score_samples(x) = 2^(-E[h(x)] / c(n)), the same quantity
Lathe's model/iforest outputs as its first prediction column. Reported: the ROC-AUC
of that score against the point labels (sklearn.metrics.roc_auc_score, the function
the harness uses for Lathe's scores too).

Prints one JSON object.
"""
import argparse
import json
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--params", default="{}", help="IsolationForest kwargs, JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scores-out")
    args = ap.parse_args()
    with open(args.csv) as f:
        header = f.readline().strip().split(",")
    if header != ["value", "diff", "label"]:
        raise SystemExit("%s: expected the columns value,diff,label, got %s" % (args.csv, header))
    data = np.loadtxt(args.csv, delimiter=",", skiprows=1, ndmin=2)
    X, y = data[:, :2], data[:, 2].astype(int)
    m = IsolationForest(random_state=args.seed, n_jobs=args.threads, **json.loads(args.params))
    t = time.perf_counter()
    m.fit(X)
    fit_s = time.perf_counter() - t
    scores = -m.score_samples(X)
    total = time.perf_counter() - t
    if args.scores_out:
        np.save(args.scores_out, scores)
    pred = m.predict(X)
    # The same with n_jobs=1: on series this small, joblib's thread pool costs more than
    # the second thread saves, and the README says so with this number.
    m1 = IsolationForest(random_state=args.seed, n_jobs=1, **json.loads(args.params))
    t = time.perf_counter()
    m1.fit(X)
    m1.score_samples(X)
    total1 = time.perf_counter() - t
    print(json.dumps({"framework": "sklearn", "seed": args.seed, "rows": len(X),
                      "params": {k: v for k, v in m.get_params().items() if k != "random_state"},
                      "fit_seconds": fit_s, "fit_score_seconds": total,
                      "fit_score_seconds_1thread": total1,
                      "auc": roc_auc_score(y, scores), "offset": m.offset_,
                      "anomalies": int((pred == -1).sum()),
                      "score_min": float(scores.min()), "score_max": float(scores.max())}))


if __name__ == "__main__":
    main()
