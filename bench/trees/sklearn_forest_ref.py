#!/usr/bin/python3
"""scikit-learn 1.2 RandomForestClassifier reference for the forest benchmark.

    /usr/bin/python3 bench/trees/sklearn_forest_ref.py --train train.csv --test test.csv
        --predict predict.csv --params '{"n_estimators": 100, ...}' [--seed 0] [--threads 2]

The CSVs are the ones bench_trees.py writes for Lathe too: numeric feature columns and
a last column `label`. One process per seed, like one `lathe run` per seed, so that
the peak RSS the harness measures is one fit's.

Timed: fit() (the forest, n_jobs=--threads, float64 input converted by scikit-learn
to float32 as it always does for trees) and predict() on every row of --predict (the
100k-row timing set). Also reported: held-out accuracy and macro-F1 on --test, the
accuracy on the predict set, and the size of pickle.dumps(model).

Prints one JSON object.
"""
import argparse
import json
import pickle
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score


def read(path):
    """X (float64) and the label strings; the label is the last column."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
    if header[-1] != "label":
        raise SystemExit("%s: the last column must be 'label', not %r" % (path, header[-1]))
    d = len(header) - 1
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(d), ndmin=2)
    y = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[d], dtype=str, ndmin=1)
    return X, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--predict", required=True)
    ap.add_argument("--params", default="{}", help="RandomForestClassifier kwargs, JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    Xtr, ytr = read(args.train)
    Xte, yte = read(args.test)
    Xpr, ypr = read(args.predict)
    params = json.loads(args.params)
    m = RandomForestClassifier(random_state=args.seed, n_jobs=args.threads, **params)
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    pred = m.predict(Xte)
    t = time.perf_counter()
    pred_big = m.predict(Xpr)
    predict_s = time.perf_counter() - t
    res = {"framework": "sklearn", "seed": args.seed, "params": m.get_params(),
           "n_train": len(Xtr), "n_test": len(Xte), "n_features": Xtr.shape[1],
           "fit_seconds": fit_s, "predict_rows": len(Xpr), "predict_seconds": predict_s,
           "accuracy": accuracy_score(yte, pred),
           "macro_f1": f1_score(yte, pred, average="macro"),
           "predict_set_accuracy": accuracy_score(ypr, pred_big),
           "model_bytes": len(pickle.dumps(m)),
           "mean_depth": float(np.mean([e.get_depth() for e in m.estimators_])),
           "mean_leaves": float(np.mean([e.get_n_leaves() for e in m.estimators_]))}
    if getattr(m, "oob_score", False):
        res["oob_accuracy"] = m.oob_score_
    print(json.dumps(res))


if __name__ == "__main__":
    main()
