#!/usr/bin/python3
"""Side-by-side check of model/iforest against scikit-learn's IsolationForest
on the NAB files (features [value, diff], as ../shared/ANCHORS.md §2).

Usage: LATHE_IFOREST_DUMP=DIR test-model-iforest -p /model-iforest/nab-auc
       compare-sklearn.py NAB_DIR DIR
where DIR then holds model/iforest's scores per file and seed (FILE.SEED). Prints, per file:
sklearn's fit+score time (n_jobs=2) and ROC-AUC (median of 5 seeds), the mean
|s_lathe - s_sklearn| per row, and for scale the same between two sklearn seeds.
"""
import json, os, sys, time
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

nab, dump = sys.argv[1], sys.argv[2]
windows = json.load(open(os.path.join(nab, "labels", "combined_windows.json")))
for rel in sorted(k for k in windows if os.path.exists(os.path.join(nab, "data", k))):
    rows = [l.strip().split(",") for l in open(os.path.join(nab, "data", rel)).readlines()[1:] if l.strip()]
    v = np.array([float(r[1]) for r in rows], dtype=np.float32)
    x = np.column_stack([v, np.diff(v, prepend=v[0])])
    y = np.array([any(w[0][:19] <= r[0][:19] <= w[1][:19] for w in windows[rel]) for r in rows])
    times, aucs, scores = [], [], []
    for rep in range(5):
        t0 = time.perf_counter()
        m = IsolationForest(n_estimators=100, n_jobs=2, random_state=rep).fit(x)
        s = -m.score_samples(x)
        times.append(time.perf_counter() - t0)
        aucs.append(roc_auc_score(y, s))
        scores.append(s)
    ours_all = [np.loadtxt(os.path.join(dump, "%s.%d" % (os.path.basename(rel), k))) for k in range(5)]
    ours = ours_all[0]
    print("%-45s sklearn fit+score %.3f s  AUC %.3f | mean|lathe-sk| %.4f  mean|sk0-sk1| %.4f  "
          "mean score over 5 seeds lathe %.4f+-%.4f sk %.4f+-%.4f" % (
              os.path.basename(rel), np.median(times), np.median(aucs),
              np.mean(np.abs(ours - scores[0])), np.mean(np.abs(scores[1] - scores[0])),
              np.mean([o.mean() for o in ours_all]), np.std([o.mean() for o in ours_all]),
              np.mean([s.mean() for s in scores]), np.std([s.mean() for s in scores])))
