"""Tiny HTTP client for the `lathe serve` integration tests (stdlib only)."""
import json
import urllib.error
import urllib.request


def call(url, method="GET", body=None, headers=None, timeout=30):
    """(status, headers, parsed JSON or text) of one request."""
    data = None
    hs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hs.setdefault("Content-Type", "application/json")
    r = urllib.request.Request(url, data=data, method=method, headers=hs)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            code, rh, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        code, rh, raw = e.code, dict(e.headers), e.read()
    try:
        return code, rh, json.loads(raw)
    except ValueError:
        return code, rh, raw.decode(errors="replace")


def predict(url, rows, headers=None, **extra):
    body = {"rows": rows}
    body.update(extra)
    return call(url + "/predict", "POST", body, headers)


def iris_rows(path):
    """(features, species) of every row of iris.csv."""
    out = []
    with open(path) as f:
        names = f.readline().strip().split(",")
        for line in f:
            v = line.strip().split(",")
            if len(v) != len(names):
                continue
            row = dict(zip(names, v))
            out.append(([float(row[c]) for c in ("sepal_length", "sepal_width", "petal_length", "petal_width")],
                        row["species"]))
    return out
