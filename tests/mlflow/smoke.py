#!/usr/bin/python3
"""The MLflow test server's smoke test, run by test-mlflow-server.sh once a server
is up (tests/mlflow/mlflow-env.sh). `smoke.py main` checks the API, the limits,
the registry, the artifacts, the faults and the outage mode against an open
server; `smoke.py token` and `smoke.py basic` check authentication against a
server started with --token or --basic (MLFLOW_TEST_TOKEN, MLFLOW_TEST_BASIC)."""
import base64
import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import smoke_check  # noqa: E402  (tests/common: TAP checks, one HTTP call)
from smoke_check import ok, raw_call  # noqa: E402

URI = os.environ["MLFLOW_TRACKING_URI"]
CTL = os.environ["MLFLOW_CONTROL_URL"]
HEX32 = re.compile(r"^[0-9a-f]{32}$")
AUTH = {}


def call(method, path, body=None, query=None, ctype="application/json", headers=None, raw=None, timeout=10):
    """path: under /api/2.0/mlflow unless it starts with /api."""
    url = URI + (path if path.startswith("/api") else "/api/2.0/mlflow" + path)
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    h = dict(AUTH)
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None and ctype:
        h["Content-Type"] = ctype
    h.update(headers or {})
    r = raw_call(method, url, data, h, timeout)
    if r.status == 500:
        print("not ok - %s %s: 500 %s" % (method, path, r.body[:500]), flush=True)
        sys.exit(1)
    return r


def post(path, body, **kw):
    return call("POST", path, body, **kw)


def get(endpoint, **query):
    return call("GET", endpoint, query=query)


def refused(r, status, code, what, contains=None):
    good = r.status == status
    try:
        j = r.json()
        good = good and j.get("error_code") == code and isinstance(j.get("message"), str)
        if contains:
            good = good and contains in j["message"]
    except ValueError:
        good = False
    ok(good, "%s: %d %s (%r)" % (what, status, code, r))


def ctl(method, path, body=None):
    r = raw_call(method, CTL + path, json.dumps(body).encode() if body is not None else None,
                 {"Content-Type": "application/json"})
    assert r.status == 200, r
    return r.json()


def state():
    return ctl("GET", "/state")


def new_run(eid, **kw):
    body = {"experiment_id": eid, "start_time": int(time.time() * 1000)}
    body.update(kw)
    r = post("/runs/create", body)
    assert r.status == 200, r
    return r.json()["run"]["info"]["run_id"]


# ---------------------------------------------------------------- the API

def experiments():
    r = get("/experiments/get", experiment_id="0")
    ok(r.status == 200 and r.json()["experiment"]["name"] == "Default", "the Default experiment 0 exists")
    r = post("/experiments/create", {"name": "smoke", "tags": [{"key": "team", "value": "ml"}]})
    ok(r.status == 200 and r.json()["experiment_id"].isdigit(), "experiments/create answers an id")
    eid = r.json()["experiment_id"]
    refused(post("/experiments/create", {"name": "smoke"}), 400, "RESOURCE_ALREADY_EXISTS",
            "a duplicate experiment name", "already exists")
    e = get("/experiments/get-by-name", experiment_name="smoke").json()["experiment"]
    ok(e["experiment_id"] == eid and e["lifecycle_stage"] == "active" and
       e["artifact_location"] == "mlflow-artifacts:/" + eid and e["tags"] == [{"key": "team", "value": "ml"}],
       "get-by-name: id, active, mlflow-artifacts:/ location, tags")
    refused(get("/experiments/get-by-name", experiment_name="nope"), 404, "RESOURCE_DOES_NOT_EXIST",
            "get-by-name of an unknown experiment")
    refused(get("/experiments/get", experiment_id="999"), 404, "RESOURCE_DOES_NOT_EXIST",
            "get of an unknown experiment id")
    ok(post("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "k", "value": "v"}).status == 200,
       "set-experiment-tag")
    r = post("/experiments/search", {"filter": "name = 'smoke'", "max_results": 10})
    ok(r.status == 200 and [x["name"] for x in r.json()["experiments"]] == ["smoke"], "experiments/search by name")
    r = get("/experiments/search", filter="tags.k = 'v'", max_results="5")
    ok(r.status == 200 and [x["name"] for x in r.json()["experiments"]] == ["smoke"],
       "experiments/search as GET, by tag")
    gone = post("/experiments/create", {"name": "gone"}).json()["experiment_id"]
    ok(post("/experiments/delete", {"experiment_id": gone}).status == 200, "experiments/delete")
    ok(get("/experiments/get", experiment_id=gone).json()["experiment"]["lifecycle_stage"] == "deleted",
       "a deleted experiment is lifecycle_stage deleted")
    refused(post("/runs/create", {"experiment_id": gone}), 400, "INVALID_PARAMETER_VALUE",
            "a run in a deleted experiment", "active")
    refused(post("/experiments/create", {"name": "gone"}), 400, "RESOURCE_ALREADY_EXISTS",
            "the name of a deleted experiment stays taken")
    ok(post("/experiments/restore", {"experiment_id": gone}).status == 200 and
       get("/experiments/get", experiment_id=gone).json()["experiment"]["lifecycle_stage"] == "active",
       "experiments/restore")
    refused(post("/runs/create", {"experiment_id": "424242"}), 404, "RESOURCE_DOES_NOT_EXIST",
            "a run in an unknown experiment")
    return eid


def strictness(eid):
    refused(post("/experiments/create", {"name": "x1", "nmae": "typo"}), 400, "INVALID_PARAMETER_VALUE",
            "an unknown field", "nmae")
    refused(post("/experiments/create", {"name": 5}), 400, "INVALID_PARAMETER_VALUE", "a number for a string",
            "'name'")
    refused(post("/experiments/create", {}), 400, "INVALID_PARAMETER_VALUE", "a missing required field",
            "Missing value for required parameter 'name'")
    refused(post("/experiments/create", {"name": ""}), 400, "INVALID_PARAMETER_VALUE", "an empty required field")
    refused(post("/runs/create", {"experiment_id": eid, "start_time": "soon"}), 400, "INVALID_PARAMETER_VALUE",
            "a string for an int64", "start_time")
    refused(post("/runs/create", {"experiment_id": eid, "start_time": 1.5}), 400, "INVALID_PARAMETER_VALUE",
            "a fraction for an int64")
    refused(post("/runs/create", {"experiment_id": eid, "tags": {"key": "a"}}), 400, "INVALID_PARAMETER_VALUE",
            "an object for a repeated field")
    refused(post("/runs/create", {"experiment_id": eid, "tags": [{"key": "a", "value": 3}]}), 400,
            "INVALID_PARAMETER_VALUE", "a wrong type inside a nested message", "tags[0].value")
    refused(post("/runs/create", {"experiment_id": eid, "tags": [{"key": "a", "colour": "red"}]}), 400,
            "INVALID_PARAMETER_VALUE", "an unknown field inside a nested message", "colour")
    refused(post("/experiments/create", None, raw=b'{"name": "x2"', ctype="application/json"), 400,
            "MALFORMED_REQUEST", "a body that is not JSON")
    refused(post("/experiments/create", None, raw=b'{"name": "x3"}', ctype="text/plain"), 400,
            "INVALID_PARAMETER_VALUE", "a POST that is not application/json", "Content-Type")
    refused(post("/experiments/create", None, raw=b'["name"]'), 400, "INVALID_PARAMETER_VALUE",
            "a JSON array for a message")
    refused(get("/experiments/get", experiment_id="0", verbose="1"), 400, "INVALID_PARAMETER_VALUE",
            "an unknown GET query parameter", "verbose")
    refused(get("/experiments/get"), 400, "INVALID_PARAMETER_VALUE", "a GET without its required parameter")
    refused(call("GET", "/no/such/endpoint"), 404, "ENDPOINT_NOT_FOUND", "an unknown endpoint")
    refused(call("GET", "/experiments/create"), 405, "ENDPOINT_NOT_FOUND", "a known path with the wrong method")
    refused(post("/runs/update", {"run_id": "0" * 32, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE",
            "a value outside the RunStatus enum", "RUNNING")


def runs(eid):
    user_tags = [{"key": "mlflow.user", "value": "lathe"}, {"key": "mlflow.source.name", "value": "pipeline.yaml"},
                 {"key": "mlflow.source.type", "value": "LOCAL"}]
    r = post("/runs/create", {"experiment_id": eid, "run_name": "parent", "start_time": 1700000000000,
                              "user_id": "lathe", "tags": user_tags})
    ok(r.status == 200, "runs/create")
    run = r.json()["run"]
    info = run["info"]
    rid = info["run_id"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    ok(HEX32.match(rid) and info["run_uuid"] == rid and info["status"] == "RUNNING" and
       info["run_name"] == "parent" and info["start_time"] == 1700000000000 and
       info["artifact_uri"] == "mlflow-artifacts:/%s/%s/artifacts" % (eid, rid) and
       info["lifecycle_stage"] == "active" and info["user_id"] == "lathe",
       "a run: 32-hex id, RUNNING, its name, start_time, artifact_uri mlflow-artifacts:/<exp>/<run>/artifacts")
    ok(tags.get("mlflow.runName") == "parent" and tags.get("mlflow.source.type") == "LOCAL" and
       tags.get("mlflow.user") == "lathe", "the run's system tags (mlflow.runName set by the server)")
    child = new_run(eid, tags=[{"key": "mlflow.parentRunId", "value": rid}])
    cr = get("/runs/get", run_id=child).json()["run"]
    ok({"key": "mlflow.parentRunId", "value": rid} in cr["data"]["tags"] and cr["info"]["run_name"],
       "a nested run keeps mlflow.parentRunId and gets a generated name")
    refused(post("/runs/create", {"experiment_id": eid, "run_name": "a",
                                  "tags": [{"key": "mlflow.runName", "value": "b"}]}), 400,
            "INVALID_PARAMETER_VALUE", "run_name and a different mlflow.runName tag")
    refused(get("/runs/get", run_id="f" * 32), 404, "RESOURCE_DOES_NOT_EXIST", "get of an unknown run")

    # params: the same value again is accepted, a different one is refused
    ok(post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"}).status == 200, "log-parameter")
    ok(post("/runs/log-parameter", {"run_id": rid, "key": "empty", "value": ""}).status == 200 and
       post("/runs/set-tag", {"run_id": rid, "key": "empty", "value": ""}).status == 200,
       "an empty param or tag value is accepted (as MLflow's handlers do)")
    refused(post("/runs/log-parameter", {"run_id": rid, "key": "novalue"}), 400, "INVALID_PARAMETER_VALUE",
            "a param without its value", "'value'")
    ok(post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"}).status == 200,
       "the same param value logged again is accepted")
    refused(post("/runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.2"}), 400,
            "INVALID_PARAMETER_VALUE", "a param logged again with a different value", "Changing param values")
    ok(post("/runs/log-batch", {"run_id": rid, "params": [{"key": "lr", "value": "0.1"}]}).status == 200,
       "log-batch re-logging a param with the same value")
    refused(post("/runs/log-batch", {"run_id": rid, "params": [{"key": "lr", "value": "0.3"}],
                                     "metrics": [{"key": "side", "value": 1, "timestamp": 1}]}), 400,
            "INVALID_PARAMETER_VALUE", "log-batch changing a param")
    ok(not any(m["key"] == "side" for m in state()["tracking"]["runs"][rid]["metrics"]),
       "a refused batch leaves nothing behind (its metric is absent)")
    refused(post("/runs/log-batch", {"run_id": rid, "params": [{"key": "a", "value": "1"},
                                                               {"key": "a", "value": "1"}]}), 400,
            "INVALID_PARAMETER_VALUE", "the same param key twice in one batch", "Duplicate parameter keys")

    # metrics: non-finite values as proto3 JSON strings, identical re-logs stored once
    ms = [{"key": "loss", "value": 0.5, "timestamp": 10, "step": 0},
          {"key": "loss", "value": "NaN", "timestamp": 11, "step": 1},
          {"key": "loss", "value": "Infinity", "timestamp": 12, "step": 2},
          {"key": "loss", "value": "-Infinity", "timestamp": "13", "step": 3},
          {"key": "acc", "value": "0.75", "timestamp": 14}]
    ok(post("/runs/log-batch", {"run_id": rid, "metrics": ms}).status == 200,
       "log-batch with \"NaN\", \"Infinity\", \"-Infinity\", a numeric string and an int64 string")
    ok(post("/runs/log-batch", {"run_id": rid, "metrics": ms}).status == 200, "the same batch again")
    h = get("/metrics/get-history", run_id=rid, metric_key="loss").json()["metrics"]
    ok([m["value"] for m in h] == [0.5, "NaN", 1.7976931348623157e308, -1.7976931348623157e308] and
       [m["step"] for m in h] == [0, 1, 2, 3],
       "get-history: NaN as \"NaN\", +-Infinity stored as +-max double (the SQL store), identical re-logs once")
    ok(post("/runs/log-metric", {"run_id": rid, "key": "acc", "value": 0.8, "timestamp": 15, "step": 1}).status == 200,
       "log-metric")
    refused(post("/runs/log-metric", {"run_id": rid, "key": "acc", "value": 0.8}), 400, "INVALID_PARAMETER_VALUE",
            "log-metric without its timestamp")
    refused(post("/runs/log-batch", None, raw=('{"run_id": "%s", "metrics": [{"key": "x", "value": NaN, '
                                               '"timestamp": 1}]}' % rid).encode()), 400, "MALFORMED_REQUEST",
            "a bare NaN token (not JSON)")
    refused(post("/runs/log-metric", {"run_id": rid, "key": "acc", "value": "high", "timestamp": 1}), 400,
            "INVALID_PARAMETER_VALUE", "a metric value that is no number")
    latest = {m["key"]: m["value"] for m in get("/runs/get", run_id=rid).json()["run"]["data"]["metrics"]}
    ok(latest == {"loss": -1.7976931348623157e308, "acc": 0.8}, "runs/get shows each metric's latest value")

    # tags, update
    ok(post("/runs/set-tag", {"run_id": rid, "key": "stage", "value": "train"}).status == 200, "set-tag")
    ok(post("/runs/delete-tag", {"run_id": rid, "key": "stage"}).status == 200, "delete-tag")
    refused(post("/runs/delete-tag", {"run_id": rid, "key": "stage"}), 404, "RESOURCE_DOES_NOT_EXIST",
            "delete-tag of a missing tag")
    r = post("/runs/update", {"run_id": rid, "status": "FINISHED", "end_time": 1700000001000, "run_name": "final"})
    ri = r.json()["run_info"]
    ok(r.status == 200 and ri["status"] == "FINISHED" and ri["end_time"] == 1700000001000 and
       ri["run_name"] == "final", "runs/update: status, end_time, run_name")
    ok(state()["tracking"]["runs"][rid]["tags"]["mlflow.runName"] == "final", "run_name updates mlflow.runName")

    # inputs
    ds = {"tags": [{"key": "mlflow.data.context", "value": "training"}],
          "dataset": {"name": "ideko", "digest": "3f2a9c1e", "source_type": "local",
                      "source": "{\"uri\": \"file:///data\"}", "schema": "{}"}}
    ok(post("/runs/log-inputs", {"run_id": rid, "datasets": [ds]}).status == 200, "log-inputs")
    ok(post("/runs/log-inputs", {"run_id": rid, "datasets": [ds]}).status == 200, "log-inputs again")
    di = get("/runs/get", run_id=rid).json()["run"]["inputs"]["dataset_inputs"]
    ok(len(di) == 1 and di[0]["dataset"]["digest"] == "3f2a9c1e" and di[0]["tags"][0]["value"] == "training",
       "the run's dataset input, once")
    bad = json.loads(json.dumps(ds))
    del bad["dataset"]["digest"]
    refused(post("/runs/log-inputs", {"run_id": rid, "datasets": [bad]}), 400, "INVALID_PARAMETER_VALUE",
            "a dataset without its required digest", "digest")

    # search
    other = new_run(eid, run_name="other")
    post("/runs/log-batch", {"run_id": other, "metrics": [{"key": "acc", "value": 0.3, "timestamp": 1}],
                             "params": [{"key": "lr", "value": "0.5"}]})
    r = post("/runs/search", {"experiment_ids": [eid],
                              "filter": "metrics.acc > 0.5 AND params.lr = '0.1' and attributes.status = 'FINISHED'"})
    ok(r.status == 200 and [x["info"]["run_id"] for x in r.json()["runs"]] == [rid],
       "runs/search: metric, param and attribute clauses joined by AND")
    r = post("/runs/search", {"experiment_ids": [eid], "filter": "tags.`mlflow.runName` != 'final'"})
    ok(rid not in [x["info"]["run_id"] for x in r.json().get("runs", [])], "runs/search: != on a backquoted tag")
    r = post("/runs/search", {"experiment_ids": [eid], "order_by": ["metrics.acc DESC"], "max_results": 1})
    j = r.json()
    ok(r.status == 200 and [x["info"]["run_id"] for x in j["runs"]] == [rid] and j.get("next_page_token"),
       "runs/search: order_by a metric, max_results 1 and a next_page_token")
    r2 = post("/runs/search", {"experiment_ids": [eid], "order_by": ["metrics.acc DESC"], "max_results": 1,
                               "page_token": j["next_page_token"]})
    ok(r2.json()["runs"][0]["info"]["run_id"] == other, "runs/search: the second page")
    refused(post("/runs/search", {"experiment_ids": [eid], "filter": "metrics.acc > 'x' OR"}), 400,
            "INVALID_PARAMETER_VALUE", "an invalid search filter")

    # delete, restore
    ok(post("/runs/delete", {"run_id": other}).status == 200, "runs/delete")
    refused(post("/runs/log-parameter", {"run_id": other, "key": "z", "value": "1"}), 400,
            "INVALID_PARAMETER_VALUE", "logging to a deleted run", "active")
    r = post("/runs/search", {"experiment_ids": [eid]})
    ok(other not in [x["info"]["run_id"] for x in r.json()["runs"]], "a deleted run is not searched (ACTIVE_ONLY)")
    r = post("/runs/search", {"experiment_ids": [eid], "run_view_type": "DELETED_ONLY"})
    ok([x["info"]["run_id"] for x in r.json()["runs"]] == [other], "... but DELETED_ONLY finds it")
    ok(post("/runs/restore", {"run_id": other}).status == 200, "runs/restore")
    return rid


def limits(eid):
    rid = new_run(eid, run_name="limits")

    def batch(**kw):
        return post("/runs/log-batch", dict(run_id=rid, **kw))

    ms = lambda n, p="m": [{"key": "%s%d" % (p, i), "value": i, "timestamp": 1} for i in range(n)]  # noqa: E731
    ps = lambda n, p="p": [{"key": "%s%d" % (p, i), "value": "v"} for i in range(n)]  # noqa: E731
    ts = lambda n, p="t": [{"key": "%s%d" % (p, i), "value": "v"} for i in range(n)]  # noqa: E731
    ok(batch(metrics=ms(1000)).status == 200, "log-batch: 1000 metrics")
    refused(batch(metrics=ms(1001)), 400, "INVALID_PARAMETER_VALUE", "log-batch: 1001 metrics", "at most 1000 metrics")
    ok(batch(params=ps(100)).status == 200, "log-batch: 100 params")
    refused(batch(params=ps(101, "q")), 400, "INVALID_PARAMETER_VALUE", "log-batch: 101 params", "at most 100 params")
    ok(batch(tags=ts(100)).status == 200, "log-batch: 100 tags")
    refused(batch(tags=ts(101, "u")), 400, "INVALID_PARAMETER_VALUE", "log-batch: 101 tags", "at most 100 tags")
    ok(batch(metrics=ms(800, "n"), params=ps(100, "r"), tags=ts(100, "s")).status == 200,
       "log-batch: 1000 items in all")
    refused(batch(metrics=ms(801, "o"), params=ps(100, "w"), tags=ts(100, "x")), 400, "INVALID_PARAMETER_VALUE",
            "log-batch: 1001 items in all", "at most 1000 metrics, params, and tags")
    ok(not any(k.startswith("q") or k.startswith("w") for k in state()["tracking"]["runs"][rid]["params"]),
       "refused batches logged none of their params")
    k250, k251 = "k" * 250, "k" * 251
    ok(batch(params=[{"key": k250, "value": "1"}], metrics=[{"key": k250, "value": 1, "timestamp": 1}],
             tags=[{"key": k250, "value": "1"}]).status == 200, "keys of 250 characters")
    refused(batch(params=[{"key": k251, "value": "1"}]), 400, "INVALID_PARAMETER_VALUE", "a param key of 251")
    refused(batch(metrics=[{"key": k251, "value": 1, "timestamp": 1}]), 400, "INVALID_PARAMETER_VALUE",
            "a metric key of 251")
    refused(batch(tags=[{"key": k251, "value": "1"}]), 400, "INVALID_PARAMETER_VALUE", "a tag key of 251")
    ok(batch(params=[{"key": "v6000", "value": "x" * 6000}]).status == 200, "a param value of 6000")
    refused(batch(params=[{"key": "v6001", "value": "x" * 6001}]), 400, "INVALID_PARAMETER_VALUE",
            "a param value of 6001", "exceeded length limit of 6000")
    ok(post("/runs/log-parameter", {"run_id": rid, "key": "w6000", "value": "y" * 6000}).status == 200,
       "log-parameter: a value of 6000")
    refused(post("/runs/log-parameter", {"run_id": rid, "key": "w6001", "value": "y" * 6001}), 400,
            "INVALID_PARAMETER_VALUE", "log-parameter: a value of 6001")
    ok(batch(tags=[{"key": "t8000", "value": "x" * 8000}]).status == 200, "a tag value of 8000")
    refused(batch(tags=[{"key": "t8001", "value": "x" * 8001}]), 400, "INVALID_PARAMETER_VALUE",
            "a tag value of 8001")
    for key in ("a b/c-d.e_f", ):
        ok(batch(params=[{"key": key, "value": "1"}]).status == 200, "a key with space, slash, dash, period, "
           "underscore")
    for key, why in (("a*b", "a star"), ("a:b", "a colon"), ("a/../b", "a path that resolves elsewhere"),
                     ("/abs", "a leading slash"), ("", "an empty key")):
        refused(batch(params=[{"key": key, "value": "1"}]), 400, "INVALID_PARAMETER_VALUE", "a key with " + why)
    ok(post("/runs/log-metric", {"run_id": rid, "key": "é", "value": 1, "timestamp": 1}).status == 200,
       "a Unicode letter is an alphanumeric (Python's \\w, as MLflow's key rule)")
    # the body: at most 1,000,000 bytes, counted on the wire (whitespace included)
    base = json.dumps({"run_id": rid, "params": [{"key": "size", "value": "1"}]}).encode()
    body = base[:-1] + b" " * (1000000 - len(base)) + b"}"
    ok(len(body) == 1000000 and post("/runs/log-batch", None, raw=body).status == 200,
       "log-batch: a body of exactly 1,000,000 bytes")
    base = json.dumps({"run_id": rid, "params": [{"key": "size2", "value": "1"}]}).encode()
    body = base[:-1] + b" " * (1000001 - len(base)) + b"}"
    refused(post("/runs/log-batch", None, raw=body), 400, "INVALID_PARAMETER_VALUE",
            "log-batch: a body of 1,000,001 bytes", "at most 1000000 bytes")
    ok("size2" not in state()["tracking"]["runs"][rid]["params"], "... and its param was not logged")


def artifacts(eid, rid):
    data = os.urandom(3 * 1024 * 1024 + 17)
    rel = "%s/%s/artifacts/model/weights.bin" % (eid, rid)
    r = call("PUT", "/api/2.0/mlflow-artifacts/artifacts/" + rel, raw=data, ctype="application/octet-stream")
    ok(r.status == 200 and r.json() == {}, "artifact PUT (3 MiB, streamed to disk)")
    r = call("GET", "/api/2.0/mlflow-artifacts/artifacts/" + rel)
    ok(r.status == 200 and r.body == data, "artifact GET gives the same bytes back")
    ctl("POST", "/faults", {"kind": "drop_after", "match": "artifacts.downloadArtifact", "after_bytes": 100000})
    try:
        r = call("GET", "/api/2.0/mlflow-artifacts/artifacts/" + rel)
        cut = False
    except http.client.IncompleteRead as e:
        cut = len(e.partial) == 100000 and e.partial == data[:100000]
    ok(cut, "drop_after with after_bytes: a download cut off after 100000 bytes (full Content-Length sent)")
    call("PUT", "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/MLmodel" % (eid, rid), raw=b"flavors: {}\n",
         ctype="text/plain")
    r = call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": "%s/%s/artifacts" % (eid, rid)})
    ok(r.status == 200 and r.json()["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 12},
                                                 {"path": "model", "is_dir": True}],
       "artifact list (mlflow-artifacts): basenames, is_dir, file_size")
    r = get("/artifacts/list", run_id=rid, path="model")
    j = r.json()
    ok(r.status == 200 and j["root_uri"] == "mlflow-artifacts:/%s/%s/artifacts" % (eid, rid) and
       j["files"] == [{"path": "model/weights.bin", "is_dir": False, "file_size": len(data)}],
       "artifacts/list of a run: root_uri and paths under the run's root")
    r = call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": "nothing/here"})
    ok(r.status == 200 and r.json() == {}, "listing a missing folder is empty")
    refused(call("GET", "/api/2.0/mlflow-artifacts/artifacts/%s/nope.bin" % eid), 404, "RESOURCE_DOES_NOT_EXIST",
            "GET of a missing artifact")
    refused(call("PUT", "/api/2.0/mlflow-artifacts/artifacts/%s/..%%2F..%%2Fescape" % eid, raw=b"x"), 400,
            "INVALID_PARAMETER_VALUE", "an artifact path with ..")
    ok(call("DELETE", "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/MLmodel" % (eid, rid)).status == 200 and
       call("GET", "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/MLmodel" % (eid, rid)).status == 404,
       "artifact DELETE")


def registry(rid):
    r = post("/registered-models/create", {"name": "ideko-model", "description": "d",
                                           "tags": [{"key": "owner", "value": "lathe"}]})
    ok(r.status == 200 and r.json()["registered_model"]["name"] == "ideko-model", "registered-models/create")
    refused(post("/registered-models/create", {"name": "ideko-model"}), 400, "RESOURCE_ALREADY_EXISTS",
            "a duplicate registered model", "already exists")
    src = "mlflow-artifacts:/1/%s/artifacts/model" % rid
    v1 = post("/model-versions/create", {"name": "ideko-model", "source": src, "run_id": rid,
                                         "tags": [{"key": "pipeline", "value": "p1"}]}).json()["model_version"]
    v2 = post("/model-versions/create", {"name": "ideko-model", "source": src, "run_id": rid}).json()["model_version"]
    ok(v1["version"] == "1" and v2["version"] == "2" and v1["status"] == "READY" and v1["source"] == src and
       v1["run_id"] == rid and v1["tags"] == [{"key": "pipeline", "value": "p1"}] and v1["current_stage"] == "None",
       "model-versions/create: versions \"1\", \"2\" (strings), READY, source, run_id, tags")
    refused(post("/model-versions/create", {"name": "no-such-model", "source": src}), 404,
            "RESOURCE_DOES_NOT_EXIST", "a version of an unknown model")
    refused(post("/model-versions/create", {"name": "ideko-model"}), 400, "INVALID_PARAMETER_VALUE",
            "a version without its source")
    ok(get("/model-versions/get", name="ideko-model", version="2").json()["model_version"]["version"] == "2",
       "model-versions/get")
    refused(get("/model-versions/get", name="ideko-model", version="9"), 404, "RESOURCE_DOES_NOT_EXIST",
            "an unknown version")
    refused(get("/model-versions/get", name="ideko-model", version="two"), 400, "INVALID_PARAMETER_VALUE",
            "a version that is not an integer")
    # aliases
    ok(post("/registered-models/alias", {"name": "ideko-model", "alias": "champion", "version": "2"}).status == 200,
       "set alias champion -> 2")
    r = get("/registered-models/alias", name="ideko-model", alias="champion")
    ok(r.status == 200 and r.json()["model_version"]["version"] == "2" and
       r.json()["model_version"]["aliases"] == ["champion"], "get by alias: version 2, with its aliases")
    rm = get("/registered-models/get", name="ideko-model").json()["registered_model"]
    ok(rm["aliases"] == [{"alias": "champion", "version": "2"}] and rm["tags"] == [{"key": "owner", "value": "lathe"}]
       and [v["version"] for v in rm["latest_versions"]] == ["2"], "registered-models/get: aliases, tags, latest")
    post("/registered-models/alias", {"name": "ideko-model", "alias": "champion", "version": "1"})
    ok(get("/registered-models/alias", name="ideko-model", alias="champion").json()["model_version"]["version"] == "1",
       "setting an alias again moves it")
    for alias, why in (("latest", "reserved 'latest'"), ("v3", "reserved version alias"), ("a b", "a space")):
        refused(post("/registered-models/alias", {"name": "ideko-model", "alias": alias, "version": "1"}), 400,
                "INVALID_PARAMETER_VALUE", "alias with " + why)
    refused(post("/registered-models/alias", {"name": "ideko-model", "alias": "x", "version": "7"}), 404,
            "RESOURCE_DOES_NOT_EXIST", "an alias to a missing version")
    ok(call("DELETE", "/registered-models/alias", {"name": "ideko-model", "alias": "champion"}).status == 200,
       "delete alias (DELETE with a JSON body)")
    refused(get("/registered-models/alias", name="ideko-model", alias="champion"), 404, "RESOURCE_DOES_NOT_EXIST",
            "a deleted alias")
    # versions: update, tags, latest, search
    r = call("PATCH", "/model-versions/update", {"name": "ideko-model", "version": "1", "description": "first"})
    ok(r.status == 200 and r.json()["model_version"]["description"] == "first", "model-versions/update (PATCH)")
    ok(post("/model-versions/set-tag", {"name": "ideko-model", "version": "2", "key": "k", "value": "v"}).status
       == 200 and call("DELETE", "/model-versions/delete-tag", {"name": "ideko-model", "version": "2",
                                                                 "key": "k"}).status == 200,
       "model-versions set-tag and delete-tag")
    r = post("/registered-models/get-latest-versions", {"name": "ideko-model", "stages": ["None"]})
    ok([v["version"] for v in r.json()["model_versions"]] == ["2"], "get-latest-versions")
    r = get("/model-versions/search", filter="name = 'ideko-model'")
    ok([v["version"] for v in r.json()["model_versions"]] == ["2", "1"], "model-versions/search by name")
    r = get("/model-versions/search", filter="run_id = '%s'" % rid, max_results="1")
    ok(len(r.json()["model_versions"]) == 1 and r.json().get("next_page_token"),
       "model-versions/search by run_id, paged")
    r = get("/registered-models/search", filter="name LIKE 'ideko%'")
    ok([m["name"] for m in r.json()["registered_models"]] == ["ideko-model"], "registered-models/search LIKE")
    ok(call("DELETE", "/model-versions/delete", {"name": "ideko-model", "version": "1"}).status == 200,
       "model-versions/delete")
    v3 = post("/model-versions/create", {"name": "ideko-model", "source": src}).json()["model_version"]
    ok(v3["version"] == "3", "version numbers are not reused after a delete")
    r = post("/registered-models/rename", {"name": "ideko-model", "new_name": "ideko"})
    ok(r.status == 200 and get("/model-versions/get", name="ideko", version="3").status == 200,
       "registered-models/rename keeps the versions")
    ok(call("DELETE", "/registered-models/delete", {"name": "ideko"}).status == 200, "registered-models/delete")
    refused(get("/registered-models/get", name="ideko"), 404, "RESOURCE_DOES_NOT_EXIST", "a deleted model")
    sources(rid)


def sources(rid):
    """MLflow's checks of a version's source and run (server/handlers.py)."""
    post("/registered-models/create", {"name": "src-model"})
    ghost = "0" * 32
    v = post("/model-versions/create", {"name": "src-model", "source": "mlflow-artifacts:/lathe/m",
                                        "run_id": ghost})
    ok(v.status == 200 and v.json()["model_version"]["run_id"] == ghost,
       "a run_id beside a non-local source is stored unchecked, as MLflow does")
    for src in ("/tmp/model", "file:///tmp/model", "model"):
        refused(post("/model-versions/create", {"name": "src-model", "source": src}), 400,
                "INVALID_PARAMETER_VALUE", "a local source %s without a run" % src, "run_id request parameter")
    refused(post("/model-versions/create", {"name": "src-model", "source": "/tmp/model", "run_id": ghost}),
            404, "RESOURCE_DOES_NOT_EXIST", "a local source with a run that does not exist", "not found")
    refused(post("/model-versions/create", {"name": "src-model", "source": "/tmp/model", "run_id": rid}),
            400, "INVALID_PARAMETER_VALUE", "a local source outside the run's (proxied) artifacts")
    for src in ("mlflow-artifacts:/a/../b", "s3://b/x/./y", "mlflow-artifacts:/a/%2e%2e/b", "s3://bucket"):
        refused(post("/model-versions/create", {"name": "src-model", "source": src}), 400,
                "INVALID_PARAMETER_VALUE", "a relative source %s" % src, "absolute path")
    ok([x["version"] for x in get("/model-versions/search", filter="name = 'src-model'").json()
        ["model_versions"]] == ["1"], "refused versions leave nothing")
    call("DELETE", "/registered-models/delete", {"name": "src-model"})


# ---------------------------------------------------------------- faults

def connection_dropped(fn):
    try:
        fn()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.BadStatusLine):
        return True
    return False


def faults(eid):
    rid = new_run(eid, run_name="faults")
    ctl("DELETE", "/counts")
    ctl("POST", "/faults", {"kind": "fail", "status": 503, "count": 2, "match": "logBatch", "retry_after": 1})
    batch = {"run_id": rid, "params": [{"key": "p", "value": "1"}],
             "metrics": [{"key": "m", "value": 1, "timestamp": 5}]}
    r1, r2, r3 = post("/runs/log-batch", batch), post("/runs/log-batch", batch), post("/runs/log-batch", batch)
    refused(r1, 503, "TEMPORARILY_UNAVAILABLE", "an injected 503")
    ok(r2.status == 503 and r1.headers.get("retry-after") == "1", "... twice, with Retry-After: 1")
    ok(r3.status == 200, "... then the request goes through")
    ok(ctl("GET", "/counts").get("logBatch") == 3, "counts: logBatch 3")
    ctl("POST", "/faults", {"kind": "fail", "status": 429, "retry_after": 2, "match": "getRun"})
    r = get("/runs/get", run_id=rid)
    refused(r, 429, "REQUEST_LIMIT_EXCEEDED", "an injected 429")
    ok(r.headers.get("retry-after") == "2", "... with Retry-After: 2")
    ctl("POST", "/faults", {"kind": "delay", "ms": 400, "match": "getRun"})
    t = time.time()
    ok(get("/runs/get", run_id=rid).status == 200 and time.time() - t >= 0.39, "a delay of 400 ms")
    ctl("POST", "/faults", {"kind": "unauth", "match": "getRun"})
    refused(get("/runs/get", run_id=rid), 401, "UNAUTHENTICATED", "an injected 401")
    # drop before: no answer and no effect
    ctl("POST", "/faults", {"kind": "drop_before", "match": "logParam"})
    ok(connection_dropped(lambda: post("/runs/log-parameter", {"run_id": rid, "key": "before", "value": "1"})),
       "drop_before: the connection closes with no answer")
    ok("before" not in state()["tracking"]["runs"][rid]["params"], "... and the param was not logged")
    # drop after: no answer, but the effect stays; a retry must not duplicate anything
    ctl("POST", "/faults", {"kind": "drop_after", "match": "logBatch"})
    again = {"run_id": rid, "params": [{"key": "after", "value": "1"}],
             "metrics": [{"key": "after_m", "value": 2.5, "timestamp": 7, "step": 1}],
             "tags": [{"key": "after_t", "value": "x"}]}
    ok(connection_dropped(lambda: post("/runs/log-batch", again)), "drop_after: the connection closes with no answer")
    run = state()["tracking"]["runs"][rid]
    ok(run["params"].get("after") == "1" and run["tags"].get("after_t") == "x" and
       [m for m in run["metrics"] if m["key"] == "after_m"] == [{"key": "after_m", "value": 2.5, "timestamp": 7,
                                                                 "step": 1}],
       "... but the batch was applied")
    ok(post("/runs/log-batch", again).status == 200, "the client's retry of the same batch is accepted")
    run = state()["tracking"]["runs"][rid]
    ok(len([m for m in run["metrics"] if m["key"] == "after_m"]) == 1 and list(run["params"]).count("after") == 1,
       "state: no duplicate metric or param after the retry")
    ctl("POST", "/faults", {"kind": "drop_after", "match": "createRegisteredModel"})
    ok(connection_dropped(lambda: post("/registered-models/create", {"name": "dropped"})), "drop_after on create")
    refused(post("/registered-models/create", {"name": "dropped"}), 400, "RESOURCE_ALREADY_EXISTS",
            "a blind retry of the create then meets RESOURCE_ALREADY_EXISTS")
    ctl("POST", "/faults", {"kind": "drop_after", "match": "getExperiment", "after_bytes": 5})
    try:
        get("/experiments/get", experiment_id="0")
        cut = False
    except http.client.IncompleteRead as e:
        cut = e.partial == b'{"exp'
    ok(cut, "drop_after with after_bytes on a JSON answer: 5 bytes, then the connection closes")
    ctl("POST", "/faults", {"kind": "violate", "match": "getExperiment"})
    r = raw_call("GET", URI + "/api/2.0/mlflow/experiments/get?experiment_id=0")
    ok(r.status == 500 and r.json()["error_code"] == "INTERNAL_ERROR" and b"not_in_the_spec" in r.body,
       "the server checks its own answers against the protos (a field not in the spec is a 500)")
    c = ctl("GET", "/counts")
    ok(c.get("getRun") == 3 and c.get("createRegisteredModel") == 2 and c.get("logParam") == 1 and
       c.get("logBatch") == 5, "counts per rpc name, refused and dropped requests included (%s)" % c)


def global_fault():
    ctl("POST", "/faults", {"kind": "fail", "status": 503, "count": -1})
    r1 = raw_call("GET", URI + "/api/2.0/mlflow/experiments/get?experiment_id=0")
    r2 = raw_call("GET", URI + "/api/2.0/mlflow-artifacts/artifacts")
    ctl("DELETE", "/faults")
    ok(r1.status == 503 and r2.status == 503, "a global fault (no match, count -1) hits every endpoint")
    ok(get("/experiments/get", experiment_id="0").status == 200, "DELETE /faults clears the rules")


def outage():
    def reachable():
        try:
            return raw_call("GET", URI + "/api/2.0/mlflow/experiments/get?experiment_id=0", timeout=3).status == 200
        except (ConnectionRefusedError, http.client.RemoteDisconnected, ConnectionResetError, socket.timeout):
            return False
    ctl("POST", "/down", {"mode": "refuse", "seconds": 1.5})
    refusedc = False
    try:
        socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(URI).port), timeout=2).close()
    except ConnectionRefusedError:
        refusedc = True
    ok(refusedc, "down mode refuse: connections are refused")
    t = time.time()
    while not reachable() and time.time() - t < 10:
        time.sleep(0.2)
    ok(reachable() and time.time() - t < 5, "... and the server is back on the same port after the outage")
    ctl("POST", "/down", {"mode": "close", "seconds": 30})
    ok(connection_dropped(lambda: raw_call("GET", URI + "/api/2.0/mlflow/experiments/get?experiment_id=0")),
       "down mode close: connections are accepted and closed at once")
    ctl("POST", "/up")
    ok(reachable(), "POST /up ends the outage early")


def main():
    t0 = time.time()
    eid = experiments()
    strictness(eid)
    rid = runs(eid)
    limits(eid)
    artifacts(eid, rid)
    registry(rid)
    faults(eid)
    global_fault()
    outage()
    ok(time.time() - t0 < 50, "the smoke test ran in %.1f s" % (time.time() - t0))


def auth(mode):
    global AUTH
    if mode == "token":
        secret = os.environ["MLFLOW_TEST_TOKEN"]
        good, bad = "Bearer " + secret, "Bearer wrong-" + secret[::-1]
    else:
        secret = os.environ["MLFLOW_TEST_BASIC"]
        user, pw = secret.split(":", 1)
        good = "Basic " + base64.b64encode(secret.encode()).decode()
        bad = "Basic " + base64.b64encode(("%s:wrong-%s" % (user, pw)).encode()).decode()
    for label, h in (("no credentials", None), ("wrong credentials", bad)):
        AUTH = {"Authorization": h} if h else {}
        for r, what in ((get("/experiments/get", experiment_id="0"), "experiments/get"),
                        (call("PUT", "/api/2.0/mlflow-artifacts/artifacts/x/y", raw=b"z"), "artifact PUT")):
            if mode == "token":
                refused(r, 401, "UNAUTHENTICATED", "%s: %s" % (label, what))
            else:
                ok(r.status == 401 and r.headers.get("www-authenticate") == 'Basic realm="mlflow"' and
                   b"You are not authenticated" in r.body,
                   "%s: %s: 401, WWW-Authenticate, MLflow's basic-auth text (%r)" % (label, what, r))
            ok(secret.encode() not in r.body and secret.split(":")[-1].encode() not in r.body and
               not any(secret in v for v in r.headers.values()), "%s: the answer never echoes a secret" % label)
    AUTH = {"Authorization": good}
    ok(get("/experiments/get", experiment_id="0").status == 200, "the right credentials: 200")
    if mode == "basic":  # this server also runs with --lenient
        r = post("/experiments/create", {"name": "lenient", "unknownField": 1})
        ok(r.status == 200, "--lenient: an unknown field is ignored, as MLflow's own parser does")
        refused(post("/experiments/create", {"name": 7}), 400, "INVALID_PARAMETER_VALUE",
                "--lenient still refuses a wrong type")
    ok(call("PUT", "/api/2.0/mlflow-artifacts/artifacts/x/y", raw=b"z").status == 200,
       "the right credentials: artifact PUT")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "main"
    if mode == "main":
        main()
    else:
        auth(mode)
    print("ok - %d checks (%s)" % (smoke_check.checks, mode), flush=True)
