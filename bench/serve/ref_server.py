#!/usr/bin/python3
"""The reference server for bench/serve: FastAPI + Uvicorn serving a
scikit-learn RandomForestClassifier trained on examples/iris/iris.csv.

    /usr/bin/python3 bench/serve/ref_server.py --port N --params JSON [--seed S]

POST /predict takes the body `lathe serve`'s /predict takes ({"rows": [[...]]},
{"rows": [{name: value}]} or {"columns": {name: [...]}}) and answers the same
shape: predictions, model, version, classes, probabilities. GET /health for
readiness. Uvicorn runs as documented by default: one worker, one process,
log level warning (so no access log). The forest predicts with n_jobs=1:
joblib's thread pool costs far more than it saves on a few rows.
"""
import argparse
import csv
import json
import os

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from sklearn.ensemble import RandomForestClassifier

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_iris(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    label = header.index("species")
    features = [h for h in header if h != "species"]
    X = np.array([[float(r[i]) for i in range(len(header)) if i != label] for r in rows])
    y = np.array([r[label] for r in rows])
    return features, X, y


def make_app(model, features):
    app = FastAPI()
    classes = [str(c) for c in model.classes_]
    index = {name: i for i, name in enumerate(features)}

    def matrix(body):
        if "rows" in body:
            rows = body["rows"]
            if rows and isinstance(rows[0], dict):
                return [[r[f] for f in features] for r in rows]
            return rows
        if "columns" in body:
            cols = body["columns"]
            unknown = [c for c in cols if c not in index]
            if unknown:
                raise ValueError("unknown column %r" % unknown[0])
            n = len(next(iter(cols.values())))
            return [[cols[f][k] for f in features] for k in range(n)]
        raise ValueError("give rows or columns")

    @app.get("/health")
    def health():
        return {"live": True, "ready": True}

    @app.post("/predict")
    async def predict(request: Request):
        try:
            X = np.asarray(matrix(await request.json()), dtype=np.float64)
            if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] != len(features):
                raise ValueError("expected rows of %d numbers" % len(features))
        except (ValueError, KeyError, TypeError, IndexError, StopIteration) as e:
            raise HTTPException(status_code=400, detail=str(e))
        proba = model.predict_proba(X)
        pred = model.classes_[proba.argmax(axis=1)]
        return {"predictions": [str(p) for p in pred], "model": "iris", "version": 1,
                "classes": classes, "probabilities": proba.tolist()}

    return app


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--params", default="{}", help="RandomForestClassifier kwargs, JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=os.path.join(SRC, "examples", "iris", "iris.csv"))
    args = ap.parse_args()
    features, X, y = load_iris(args.data)
    model = RandomForestClassifier(random_state=args.seed, n_jobs=1, **json.loads(args.params))
    model.fit(X, y)
    uvicorn.run(make_app(model, features), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
