#!/usr/bin/python3
"""scikit-learn 1.2 MLPClassifier reference for the small-table MLP benchmark.

    /usr/bin/python3 bench/nn/sklearn_mlp_ref.py --train train.csv --test test.csv
        [--epochs 50] [--seeds 0,1,2] [--out result.json]

The CSVs are the ones bench_nn.py writes for Lathe too: numeric feature columns and a
last column `label`. Features are standardised with a StandardScaler fitted on train
(Lathe: transform/standardize), then MLPClassifier((100, 100), relu, adam, lr 1e-3,
betas 0.9/0.999, eps 1e-8, batch min(64, n), alpha 0 = no L2, like Lathe's
weight_decay 0) runs exactly --epochs epochs: sklearn stops early once the training
loss has not improved by tol for n_iter_no_change epochs, so n_iter_no_change is set
above max_iter (and tol to 0), and n_iter_ is checked afterwards.

Prints one JSON object: per seed, the fit() wall time and the held-out accuracy.
"""
import argparse
import csv
import json
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    li = header.index("label")
    X = np.array([[float(v) for i, v in enumerate(r) if i != li] for r in rows])
    y = np.array([r[li] for r in rows])
    return X, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--out")
    args = ap.parse_args()
    Xtr, ytr = read(args.train)
    Xte, yte = read(args.test)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        m = MLPClassifier(hidden_layer_sizes=(100, 100), activation="relu", solver="adam",
                          alpha=0.0, batch_size=min(64, len(Xtr)), learning_rate_init=1e-3,
                          beta_1=0.9, beta_2=0.999, epsilon=1e-8, max_iter=args.epochs,
                          shuffle=True, tol=0.0, n_iter_no_change=args.epochs + 1,
                          early_stopping=False, random_state=seed)
        with warnings.catch_warnings():
            # Reaching max_iter is the point here, not a convergence problem.
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = time.perf_counter()
            m.fit(Xtr, ytr)
            fit_s = time.perf_counter() - t
        if m.n_iter_ != args.epochs:
            raise SystemExit("MLPClassifier ran %d epochs, not %d" % (m.n_iter_, args.epochs))
        pred = m.predict(Xte)
        runs.append({"seed": seed, "fit_seconds": fit_s, "epochs": m.n_iter_,
                     "accuracy": accuracy_score(yte, pred),
                     "macro_f1": f1_score(yte, pred, average="macro"),
                     "final_loss": m.loss_})
    res = {"framework": "sklearn", "n_train": len(Xtr), "n_test": len(Xte),
           "n_features": Xtr.shape[1], "runs": runs}
    text = json.dumps(res)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
