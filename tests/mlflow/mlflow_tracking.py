"""Experiments, runs and their data for the MLflow test server (README.md here).

In memory; one lock (the Store's) guards it all. Each op_* takes the request as
decoded by mlflow_proto (validated against its message) and returns the
Response message as a dict, or raises MlflowError with MLflow's error code and
a message worded as MLflow words it (mlflow/utils/validation.py, the SQL store).
Where MLflow's stores differ, this follows the SQL store: ids "0", "1", ...,
identical metrics are stored once, +-Infinity is kept as +-1.7976931348623157e308.
"""
import math
import random
import re
import time
import uuid

# mlflow/utils/validation.py (MLflow 3.x)
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1000000
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000
MAX_ENTITY_KEY_LENGTH = 250
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_RESULTS_SEARCH_RUNS = 50000
MAX_FLOAT = 1.7976931348623157e308
VALID_NAME = re.compile(r"^[/\w.\- ]*$")
BAD_CHARS = ("Names may only contain alphanumerics, underscores (_), dashes (-), periods (.),"
             " spaces ( ), and slashes (/).")

HTTP_STATUS = {"INTERNAL_ERROR": 500, "TEMPORARILY_UNAVAILABLE": 503, "BAD_REQUEST": 400,
               "INVALID_PARAMETER_VALUE": 400, "MALFORMED_REQUEST": 400, "ENDPOINT_NOT_FOUND": 404,
               "RESOURCE_ALREADY_EXISTS": 400, "RESOURCE_DOES_NOT_EXIST": 404, "INVALID_STATE": 500,
               "PERMISSION_DENIED": 403, "UNAUTHENTICATED": 401, "REQUEST_LIMIT_EXCEEDED": 429,
               "RESOURCE_CONFLICT": 409, "ALREADY_EXISTS": 409, "NOT_FOUND": 404,
               "NOT_IMPLEMENTED": 501, "FEATURE_DISABLED": 501}


class MlflowError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = HTTP_STATUS.get(code, 500)


def invalid(msg):
    return MlflowError("INVALID_PARAMETER_VALUE", msg)


def now_ms():
    return int(time.time() * 1000)


def check_length(what, limit, value):
    if value is not None and len(value) > limit:
        raise invalid("%s '%s' had length %d, which exceeded length limit of %d" %
                      (what, value[:250], len(value), limit))


def check_name(kind, name):
    """Metric, param and tag keys (_validate_param_name and friends); a key
    found good once is good again (a batch repeats its few keys)."""
    if (kind, name) in _GOOD_NAMES:
        return
    _check_name(kind, name)
    if len(_GOOD_NAMES) < 100000:
        _GOOD_NAMES.add((kind, name))


_GOOD_NAMES = set()


def _check_name(kind, name):
    if name is None or name == "":
        raise invalid("%s name cannot be None. A key name must be provided." % kind.capitalize())
    if not VALID_NAME.match(name):
        raise invalid("Invalid %s name: '%s'. %s" % (kind, name, BAD_CHARS))
    norm = _normpath(name)
    if norm != name or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise invalid("Invalid %s name: '%s'. Names may be treated as files in certain cases, and must "
                      "not resolve to other names when treated as such. This name would resolve to '%s'"
                      % (kind, name, norm))


def _normpath(p):
    import posixpath
    return posixpath.normpath(p)


def jfloat(v):
    """A double as MLflow's message_to_json writes it: non-finite as a string."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class Tracking:
    def __init__(self, store):
        self.st = store
        self.experiments = {}  # id -> dict
        self.runs = {}         # id -> dict
        self.next_exp = 0
        self._create_exp("Default", [])

    # ------------------------------------------------------------ experiments
    def _create_exp(self, name, tags, artifact_location=None):
        eid = str(self.next_exp)
        self.next_exp += 1
        t = now_ms()
        self.experiments[eid] = {
            "experiment_id": eid, "name": name,
            "artifact_location": artifact_location or "mlflow-artifacts:/%s" % eid,
            "lifecycle_stage": "active", "last_update_time": t, "creation_time": t,
            "tags": {k: v for k, v in tags}}
        return eid

    def exp(self, eid):
        e = self.experiments.get(eid)
        if e is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=%s exists" % eid)
        return e

    @staticmethod
    def exp_json(e):
        out = {k: e[k] for k in ("experiment_id", "name", "artifact_location", "lifecycle_stage",
                                 "last_update_time", "creation_time")}
        if e["tags"]:
            out["tags"] = [{"key": k, "value": v} for k, v in e["tags"].items()]
        return out

    def op_createExperiment(self, r):
        name = r["name"]
        check_length("Experiment name", MAX_EXPERIMENT_NAME_LENGTH, name)
        if any(e["name"] == name for e in self.experiments.values()):
            raise MlflowError("RESOURCE_ALREADY_EXISTS", "Experiment(name=%s) already exists." % name)
        loc = r.get("artifact_location") or None
        if loc and loc.startswith("runs:"):
            raise invalid("Artifact location cannot be a runs:/ URI. Given: '%s'" % loc)
        tags = []
        for t in r.get("tags", []):
            check_name("tag", t.get("key"))
            check_length("Tag key", MAX_EXPERIMENT_TAG_KEY_LENGTH, t["key"])
            check_length("Tag value", MAX_EXPERIMENT_TAG_VAL_LENGTH, t.get("value", ""))
            tags.append((t["key"], t.get("value", "")))
        return {"experiment_id": self._create_exp(name, tags, loc)}

    def op_getExperiment(self, r):
        return {"experiment": self.exp_json(self.exp(r["experiment_id"]))}

    def op_getExperimentByName(self, r):
        found = [e for e in self.experiments.values() if e["name"] == r["experiment_name"]]
        if not found:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST",
                              "Could not find experiment with name '%s'" % r["experiment_name"])
        return {"experiment": self.exp_json(found[0])}

    def op_deleteExperiment(self, r):
        e = self.exp(r["experiment_id"])
        if e["lifecycle_stage"] == "deleted":
            raise invalid("Cannot delete an already deleted experiment: %s" % e["experiment_id"])
        e["lifecycle_stage"], e["last_update_time"] = "deleted", now_ms()
        for run in self.runs.values():
            if run["experiment_id"] == e["experiment_id"] and run["lifecycle_stage"] == "active":
                run["lifecycle_stage"], run["deleted_time"] = "deleted", now_ms()
        return {}

    def op_restoreExperiment(self, r):
        e = self.exp(r["experiment_id"])
        if e["lifecycle_stage"] != "deleted":
            raise invalid("Cannot restore an active experiment: %s" % e["experiment_id"])
        e["lifecycle_stage"], e["last_update_time"] = "active", now_ms()
        for run in self.runs.values():
            if run["experiment_id"] == e["experiment_id"] and run["lifecycle_stage"] == "deleted":
                run["lifecycle_stage"] = "active"
                run.pop("deleted_time", None)
        return {}

    def op_updateExperiment(self, r):
        e = self.exp(r["experiment_id"])
        new = r.get("new_name")
        if not new:
            raise invalid("Missing value for required parameter 'new_name'.")
        if e["lifecycle_stage"] != "active":
            raise invalid("Cannot rename a non-active experiment.")
        if any(x["name"] == new for x in self.experiments.values() if x is not e):
            raise MlflowError("RESOURCE_ALREADY_EXISTS", "Experiment(name=%s) already exists." % new)
        e["name"], e["last_update_time"] = new, now_ms()
        return {}

    def op_setExperimentTag(self, r):
        e = self.exp(r["experiment_id"])
        if e["lifecycle_stage"] != "active":
            raise invalid("The experiment %s must be in the 'active' state. Current state is %s." %
                          (e["experiment_id"], e["lifecycle_stage"]))
        check_name("tag", r["key"])
        check_length("Tag key", MAX_EXPERIMENT_TAG_KEY_LENGTH, r["key"])
        check_length("Tag value", MAX_EXPERIMENT_TAG_VAL_LENGTH, r["value"])
        e["tags"][r["key"]] = r["value"]
        return {}

    def op_deleteExperimentTag(self, r):
        e = self.exp(r["experiment_id"])
        if r["key"] not in e["tags"]:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", "No tag with name: %s in experiment with id %s"
                              % (r["key"], e["experiment_id"]))
        del e["tags"][r["key"]]
        return {}

    def op_searchExperiments(self, r):
        view = r.get("view_type", "ACTIVE_ONLY")
        flt = parse_filter(r.get("filter", ""))
        sel = []
        for e in self.experiments.values():
            if not view_ok(view, e["lifecycle_stage"]):
                continue
            if all(match_exp(e, c) for c in flt):
                sel.append(e)
        sel.sort(key=lambda e: (-e["creation_time"], -int(e["experiment_id"])))
        page, token = paginate(sel, r.get("max_results", 1000), r.get("page_token"), 50000)
        out = {"experiments": [self.exp_json(e) for e in page]}
        if token:
            out["next_page_token"] = token
        return out

    # ------------------------------------------------------------ runs
    def run(self, rid, active=False):
        run = self.runs.get(rid or "")
        if run is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", "Run with id=%s not found" % rid)
        if active and run["lifecycle_stage"] != "active":
            raise invalid("The run %s must be in the 'active' state. Current state is %s." %
                          (rid, run["lifecycle_stage"]))
        return run

    @staticmethod
    def run_id_of(r):
        rid = r.get("run_id") or r.get("run_uuid")
        if not rid:
            raise invalid("Missing value for required parameter 'run_id'.")
        return rid

    def info_json(self, run):
        out = {k: run[k] for k in ("run_id", "run_uuid", "run_name", "experiment_id", "user_id",
                                   "status", "start_time", "artifact_uri", "lifecycle_stage")}
        if run.get("end_time") is not None:
            out["end_time"] = run["end_time"]
        return out

    def run_json(self, run):
        latest = {}
        for m in run["metrics"]:
            cur = latest.get(m["key"])
            if cur is None or metric_order(m) > metric_order(cur):
                latest[m["key"]] = m
        data = {}
        if latest:
            data["metrics"] = [metric_json(m) for m in latest.values()]
        if run["params"]:
            data["params"] = [{"key": k, "value": v} for k, v in run["params"].items()]
        if run["tags"]:
            data["tags"] = [{"key": k, "value": v} for k, v in run["tags"].items()]
        out = {"info": self.info_json(run), "data": data, "inputs": {}, "outputs": {}}
        if run["inputs"]:
            out["inputs"]["dataset_inputs"] = [
                {"tags": [{"key": k, "value": v} for k, v in i["tags"]] if i["tags"] else [],
                 "dataset": dict(self.st.datasets[i["dataset"]])} for i in run["inputs"]]
            for d in out["inputs"]["dataset_inputs"]:
                if not d["tags"]:
                    del d["tags"]
        return out

    def op_createRun(self, r):
        eid = r.get("experiment_id") or "0"
        e = self.exp(eid)
        if e["lifecycle_stage"] != "active":
            raise invalid("The experiment %s must be in the 'active' state. Current state is %s." %
                          (eid, e["lifecycle_stage"]))
        tags = {}
        for t in r.get("tags", []):
            self.check_tag(t.get("key"), t.get("value", ""))
            tags[t["key"]] = t.get("value", "")
        name = r.get("run_name") or ""
        tag_name = tags.get("mlflow.runName")
        if name and tag_name is not None and tag_name != name:
            raise invalid("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                          "different values (run_name='%s', mlflow.runName='%s')." % (name, tag_name))
        name = name or tag_name or random_run_name()
        tags["mlflow.runName"] = name
        rid = uuid.uuid4().hex
        user = r.get("user_id") or tags.get("mlflow.user", "")
        run = {"run_id": rid, "run_uuid": rid, "run_name": name, "experiment_id": eid,
               "user_id": user, "status": "RUNNING", "start_time": r.get("start_time", now_ms()),
               "end_time": None, "artifact_uri": "%s/%s/artifacts" % (e["artifact_location"], rid),
               "lifecycle_stage": "active", "metrics": [], "metric_ids": set(), "params": {}, "tags": tags,
               "inputs": []}
        self.runs[rid] = run
        return {"run": self.run_json(run)}

    def op_getRun(self, r):
        return {"run": self.run_json(self.run(self.run_id_of(r)))}

    def op_updateRun(self, r):
        run = self.run(self.run_id_of(r), active=True)
        if "status" in r:
            run["status"] = r["status"]
        if "end_time" in r:
            run["end_time"] = r["end_time"]
        if r.get("run_name"):
            run["run_name"] = r["run_name"]
            run["tags"]["mlflow.runName"] = r["run_name"]
        return {"run_info": self.info_json(run)}

    def op_deleteRun(self, r):
        run = self.run(r["run_id"])
        run["lifecycle_stage"], run["deleted_time"] = "deleted", now_ms()
        return {}

    def op_restoreRun(self, r):
        run = self.run(r["run_id"])
        run["lifecycle_stage"] = "active"
        run.pop("deleted_time", None)
        return {}

    # --- data
    def check_metric(self, m):
        check_name("metric", m.get("key"))
        if "value" not in m:
            raise invalid("Got invalid value None for metric '%s' (timestamp=%s). Please specify value "
                          "as a valid double (64-bit floating point)" % (m["key"], m.get("timestamp")))
        if m.get("timestamp") is None or m["timestamp"] < 0:
            raise invalid("Got invalid timestamp %s for metric '%s' (value=%s). Timestamp must be a "
                          "nonnegative long (64-bit integer) " % (m.get("timestamp"), m["key"], m["value"]))
        check_length("Metric name", MAX_ENTITY_KEY_LENGTH, m["key"])

    def check_param(self, key, value):
        check_name("parameter", key)
        check_length("Param key", MAX_ENTITY_KEY_LENGTH, key)
        check_length("Param value", MAX_PARAM_VAL_LENGTH, value)

    def check_tag(self, key, value):
        check_name("tag", key)
        check_length("Tag key", MAX_ENTITY_KEY_LENGTH, key)
        check_length("Tag value", MAX_TAG_VAL_LENGTH, value)

    def check_params_unchanged(self, run, params):
        changed = [(k, v) for k, v in params if k in run["params"] and run["params"][k] != v]
        if changed:
            k, v = changed[0]
            raise invalid("Changing param values is not allowed. Param with key='%s' was already logged "
                          "with value='%s' for run ID='%s'. Attempted logging new value '%s'."
                          % (k, run["params"][k], run["run_id"], v))

    def add_metric(self, run, m):
        v = m["value"]
        rec = {"key": m["key"], "value": v if math.isfinite(v) or math.isnan(v) else math.copysign(MAX_FLOAT, v),
               "timestamp": m["timestamp"], "step": m.get("step", 0)}
        ident = (rec["key"], rec["timestamp"], rec["step"], math.isnan(v), 0.0 if math.isnan(v) else rec["value"])
        if ident not in run["metric_ids"]:  # the SQL store keeps one row per identical metric
            run["metric_ids"].add(ident)
            run["metrics"].append(rec)

    def op_logMetric(self, r):
        run = self.run(self.run_id_of(r), active=True)
        self.check_metric(r)
        self.add_metric(run, r)
        return {}

    def op_logParam(self, r):
        run = self.run(self.run_id_of(r), active=True)
        self.check_param(r["key"], r["value"])
        self.check_params_unchanged(run, [(r["key"], r["value"])])
        run["params"][r["key"]] = r["value"]
        return {}

    def op_setTag(self, r):
        run = self.run(self.run_id_of(r), active=True)
        self.check_tag(r["key"], r["value"])
        run["tags"][r["key"]] = r["value"]
        if r["key"] == "mlflow.runName":
            run["run_name"] = r["value"]
        return {}

    def op_deleteTag(self, r):
        run = self.run(r["run_id"], active=True)
        if r["key"] not in run["tags"]:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", "No tag with name: %s in run with id %s"
                              % (r["key"], r["run_id"]))
        del run["tags"][r["key"]]
        return {}

    @staticmethod
    def check_batch_size(size):
        """The raw body, before anything else (MLflow's handler checks it first)."""
        if size > MAX_BATCH_LOG_REQUEST_SIZE:
            raise invalid("Batched logging API requests must be at most %d bytes, got a request of size %d."
                          % (MAX_BATCH_LOG_REQUEST_SIZE, size))

    def op_logBatch(self, r):
        metrics, params, tags = r.get("metrics", []), r.get("params", []), r.get("tags", [])
        for what, limit, n in (("metrics", MAX_METRICS_PER_BATCH, len(metrics)),
                               ("params", MAX_PARAMS_TAGS_PER_BATCH, len(params)),
                               ("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags)),
                               ("metrics, params, and tags", MAX_ENTITIES_PER_BATCH,
                                len(metrics) + len(params) + len(tags))):
            if n > limit:
                raise invalid("A batch logging request can contain at most %d %s. Got %d %s. Please split up "
                              "%s across multiple requests and try again." % (limit, what, n, what, what))
        run = self.run(self.run_id_of(r), active=True)
        for m in metrics:
            self.check_metric(m)
        plist = [(p.get("key"), p.get("value", "")) for p in params]
        for k, v in plist:
            self.check_param(k, v)
        keys = [k for k, _ in plist]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise invalid("Duplicate parameter keys have been submitted: %s. Please ensure the request "
                          "contains only one param value per param key." % dupes)
        for t in tags:
            self.check_tag(t.get("key"), t.get("value", ""))
        self.check_params_unchanged(run, plist)
        # validated as a whole first, so a refused batch changes nothing
        for k, v in plist:
            run["params"][k] = v
        for m in metrics:
            self.add_metric(run, m)
        for t in tags:
            run["tags"][t["key"]] = t.get("value", "")
            if t["key"] == "mlflow.runName":
                run["run_name"] = t.get("value", "")
        return {}

    def op_logInputs(self, r):
        run = self.run(r["run_id"], active=True)
        adds = []
        for i, di in enumerate(r.get("datasets", [])):
            d = di.get("dataset")
            if d is None:
                raise invalid("Missing value for required parameter 'datasets[%d].dataset'." % i)
            check_length("Dataset name", MAX_DATASET_NAME_SIZE, d["name"])
            check_length("Dataset digest", MAX_DATASET_DIGEST_SIZE, d["digest"])
            check_length("Dataset source", MAX_DATASET_SOURCE_SIZE, d["source"])
            tags = []
            for t in di.get("tags", []):
                check_length("Input tag key", MAX_INPUT_TAG_KEY_SIZE, t["key"])
                check_length("Input tag value", MAX_INPUT_TAG_VALUE_SIZE, t["value"])
                tags.append((t["key"], t["value"]))
            adds.append((d, tags))
        for d, tags in adds:
            dkey = (run["experiment_id"], d["name"], d["digest"])
            if dkey not in self.st.datasets:
                self.st.datasets[dkey] = dict(d)
            if not any(i["dataset"] == dkey for i in run["inputs"]):
                run["inputs"].append({"dataset": dkey, "tags": tags})
        return {}

    def op_getMetricHistory(self, r):
        run = self.run(self.run_id_of(r))
        hist = [metric_json(m) for m in run["metrics"] if m["key"] == r["metric_key"]]
        page, token = paginate(hist, r.get("max_results", 25000), r.get("page_token"), 25000)
        out = {}
        if page:
            out["metrics"] = page
        if token:
            out["next_page_token"] = token
        return out

    def op_searchRuns(self, r):
        view = r.get("run_view_type", "ACTIVE_ONLY")
        flt = parse_filter(r.get("filter", ""))
        eids = r.get("experiment_ids", [])
        sel = [run for run in self.runs.values()
               if run["experiment_id"] in eids and view_ok(view, run["lifecycle_stage"])
               and all(match_run(run, c) for c in flt)]
        sel.sort(key=lambda run: (-run["start_time"], run["run_id"]))
        for ob in reversed(r.get("order_by", [])):
            sel = order_runs(sel, ob)
        page, token = paginate(sel, r.get("max_results", 1000), r.get("page_token"), MAX_RESULTS_SEARCH_RUNS)
        out = {}
        if page:
            out["runs"] = [self.run_json(run) for run in page]
        if token:
            out["next_page_token"] = token
        return out

    def dump(self):
        runs = {}
        for rid, run in self.runs.items():
            d = {k: v for k, v in run.items() if k not in ("metric_ids", "inputs")}
            d["metrics"] = [metric_json(m) for m in run["metrics"]]
            d["inputs"] = [{"dataset": self.st.datasets[i["dataset"]], "tags": dict(i["tags"])}
                           for i in run["inputs"]]
            runs[rid] = d
        return {"experiments": {k: self.exp_json(e) for k, e in self.experiments.items()}, "runs": runs}


# ---------------------------------------------------------------- helpers

def metric_json(m):
    return {"key": m["key"], "value": jfloat(m["value"]), "timestamp": m["timestamp"], "step": m["step"]}


def metric_order(m):
    v = m["value"]
    return (m["step"], m["timestamp"], 0 if math.isnan(v) else 1, 0.0 if math.isnan(v) else v)


def view_ok(view, stage):
    return view == "ALL" or (view == "ACTIVE_ONLY") == (stage == "active")


def random_run_name():
    adj = ["able", "bold", "calm", "deft", "eager", "fair", "glad", "keen", "loud", "neat"]
    noun = ["ant", "bee", "cat", "doe", "eel", "fox", "gnu", "hen", "owl", "yak"]
    return "%s-%s-%d" % (random.choice(adj), random.choice(noun), random.randint(100, 999))


def paginate(items, max_results, token, cap):
    import base64
    import json
    if max_results < 1 or max_results > cap:
        raise invalid("Invalid value %d for parameter 'max_results' supplied. It must be at most %d, "
                      "and at least 1." % (max_results, cap))
    off = 0
    if token:
        try:
            off = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise invalid("Invalid page token, could not base64-decode")
    page = items[off:off + max_results]
    nxt = None
    if off + max_results < len(items):
        nxt = base64.b64encode(json.dumps({"offset": off + max_results}).encode()).decode()
    return page, nxt


# --- the search filter: clauses joined by AND; no OR, no parentheses (as MLflow)
CLAUSE = re.compile(
    r"""\s*(?P<ent>(?:[A-Za-z_]+\.)?(?:`[^`]+`|"[^"]+"|[\w.\-/]+))\s*"""
    r"""(?P<op>!=|<=|>=|=|<|>|\bNOT\s+LIKE\b|\bILIKE\b|\bLIKE\b)\s*"""
    r"""(?P<val>'(?:[^']|'')*'|"[^"]*"|-?[\d.]+(?:[eE][-+]?\d+)?)\s*""", re.I)


def parse_filter(s):
    out = []
    s = (s or "").strip()
    if not s:
        return out
    parts = re.split(r"\s+AND\s+", s, flags=re.I)
    for p in parts:
        m = CLAUSE.fullmatch(p)
        if not m:
            raise invalid("Invalid clause(s) in filter string: '%s'" % p.strip())
        ent = m.group("ent")
        kind, _, key = ent.partition(".") if "." in ent and ent.split(".")[0].lower() in (
            "metrics", "metric", "params", "param", "parameters", "parameter", "tags", "tag",
            "attributes", "attribute", "attr", "run", "datasets", "dataset") else ("attributes", "", ent)
        kind = {"metric": "metrics", "param": "params", "parameter": "params", "parameters": "params",
                "tag": "tags", "attribute": "attributes", "attr": "attributes", "run": "attributes"}.get(
            kind.lower(), kind.lower())
        key = key.strip('`"')
        val = m.group("val")
        if val[0] in "'\"":
            val = val[1:-1].replace("''", "'")
            if kind == "metrics":
                raise invalid("Expected numeric value type for metric. Found %s" % m.group("val"))
        else:
            if kind in ("params", "tags"):
                raise invalid("Expected a quoted string value for %s. Found %s" % (kind, val))
            val = float(val)
        out.append((kind, key, m.group("op").upper().replace("  ", " "), val))
    return out


def compare(lhs, op, rhs):
    if lhs is None:
        return False
    if op in ("LIKE", "ILIKE", "NOT LIKE"):
        rx = "^" + re.escape(str(rhs)).replace("%", ".*").replace("_", ".") + "$"
        hit = re.match(rx, str(lhs), re.I if op == "ILIKE" else 0) is not None
        return not hit if op == "NOT LIKE" else hit
    if isinstance(rhs, float) and not isinstance(lhs, (int, float)):
        try:
            lhs = float(lhs)
        except ValueError:
            return False
    return {"=": lhs == rhs, "!=": lhs != rhs, "<": lhs < rhs, ">": lhs > rhs,
            "<=": lhs <= rhs, ">=": lhs >= rhs}[op]


def match_run(run, clause):
    kind, key, op, val = clause
    if kind == "metrics":
        hist = [m for m in run["metrics"] if m["key"] == key]
        if not hist:
            return False
        return compare(max(hist, key=metric_order)["value"], op, val)
    if kind == "params":
        return compare(run["params"].get(key), op, val)
    if kind == "tags":
        return compare(run["tags"].get(key), op, val)
    if kind == "attributes":
        attr = {"run_id": "run_id", "run_name": "run_name", "status": "status", "user_id": "user_id",
                "start_time": "start_time", "end_time": "end_time", "artifact_uri": "artifact_uri",
                "lifecycle_stage": "lifecycle_stage"}.get(key)
        if attr is None:
            raise invalid("Invalid attribute key '%s' specified." % key)
        return compare(run.get(attr), op, val)
    raise invalid("Invalid entity type '%s'." % kind)


def match_exp(e, clause):
    kind, key, op, val = clause
    if kind == "tags":
        return compare(e["tags"].get(key), op, val)
    if kind == "attributes" and key in ("name", "creation_time", "last_update_time", "experiment_id"):
        return compare(e[key], op, val)
    raise invalid("Invalid filter for experiments: %s.%s" % (kind, key))


def order_runs(runs, ob):
    m = re.fullmatch(r"\s*(\S+?)\s*(?:\s(ASC|DESC))?\s*", ob, re.I)
    if not m:
        raise invalid("Invalid order_by clause '%s'." % ob)
    ent, desc = m.group(1), (m.group(2) or "ASC").upper() == "DESC"
    kind, _, key = ent.partition(".") if "." in ent else ("attributes", "", ent)
    key = key.strip('`"')

    def k(run):
        if kind.startswith("metric"):
            h = [x for x in run["metrics"] if x["key"] == key]
            v = max(h, key=metric_order)["value"] if h else None
        elif kind.startswith("param"):
            v = run["params"].get(key)
        elif kind.startswith("tag"):
            v = run["tags"].get(key)
        else:
            v = run.get(key)
        return v
    have = [r for r in runs if k(r) is not None]
    none = [r for r in runs if k(r) is None]
    have.sort(key=k, reverse=desc)
    return have + none  # missing values last, as MLflow
