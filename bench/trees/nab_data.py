"""The five NAB series (realKnownCause) as the isolation-forest benchmark sees them.

Features [value, diff] as in ANCHORS.md section 2: diff[t] = value[t] - value[t-1],
and 0 for the first row (ANCHORS.md does not say; 0 keeps every row, so both sides
score the same rows as NAB does). The point label is 1 when the row's timestamp lies
inside any window of labels/combined_windows.json (both ends included, as NAB's
scorer), else 0; it is used for ROC-AUC only, never as a feature.
"""
import datetime
import json
import os

import numpy as np

FILES = ["ambient_temperature_system_failure", "cpu_utilization_asg_misconfiguration",
         "ec2_request_latency_system_failure", "machine_temperature_system_failure",
         "nyc_taxi"]
SUBDIR = "realKnownCause"


def _ts(text):
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError("unreadable NAB timestamp %r" % text)


def load(root, name):
    """dict: rows, timestamps, value, diff, label (int 0/1), windows (count)."""
    path = os.path.join(root, "data", SUBDIR, name + ".csv")
    stamps, values = [], []
    with open(path) as f:
        if f.readline().strip() != "timestamp,value":
            raise ValueError("%s: expected the header timestamp,value" % path)
        for line in f:
            if line.strip():
                t, v = line.rsplit(",", 1)
                stamps.append(_ts(t))
                values.append(float(v))
    windows = json.load(open(os.path.join(root, "labels", "combined_windows.json")))
    key = "%s/%s.csv" % (SUBDIR, name)
    if key not in windows:
        raise ValueError("combined_windows.json has no entry %s" % key)
    value = np.array(values)
    diff = np.diff(value, prepend=value[0])
    label = np.zeros(len(value), dtype=int)
    for start, end in windows[key]:
        a, b = _ts(start), _ts(end)
        label |= np.array([a <= t <= b for t in stamps], dtype=int)
    return {"rows": len(value), "value": value, "diff": diff, "label": label,
            "windows": len(windows[key])}


def write_csv(series, path):
    """value,diff,label: the file both sides read."""
    with open(path, "w") as f:
        f.write("value,diff,label\n")
        for v, d, l in zip(series["value"], series["diff"], series["label"]):
            f.write("%r,%r,%d\n" % (float(v), float(d), int(l)))
