"""The model registry for the MLflow test server (README.md here): registered
models, model versions (numbered per model, never reused, returned as strings
as MLflow does), their tags and aliases. Same conventions as mlflow_tracking."""
import posixpath
import re
import urllib.parse

from mlflow_tracking import (MlflowError, invalid, now_ms, check_name, check_length, paginate,
                             parse_filter, compare)

MAX_MODEL_REGISTRY_TAG_KEY_LENGTH = 250
MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 5000
MAX_REGISTERED_MODEL_ALIAS_LENGTH = 255
ALIAS_RE = re.compile(r"^[\w\-]*$")
ALIAS_VERSION_RE = re.compile(r"^[vV]\d+$")
STAGES = ["None", "Staging", "Production", "Archived"]


class Registry:
    def __init__(self, store):
        self.st = store
        self.models = {}  # name -> dict; versions: {int: dict}

    def model(self, name):
        if not name:
            raise invalid("Registered model name cannot be empty.")
        m = self.models.get(name)
        if m is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", "Registered Model with name=%s not found" % name)
        return m

    def version(self, name, version):
        m = self.model(name)
        try:
            n = int(version)
        except ValueError:
            raise invalid("Model version must be an integer, got '%s'" % version)
        v = m["versions"].get(n)
        if v is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST",
                              "Model Version (name=%s, version=%s) not found" % (name, version))
        return v

    def mv_json(self, m, v):
        out = {"name": m["name"], "version": str(v["version"]),
               "creation_timestamp": v["creation_timestamp"],
               "last_updated_timestamp": v["last_updated_timestamp"],
               "current_stage": v["current_stage"], "source": v["source"], "status": "READY"}
        for k in ("description", "run_id", "run_link"):  # unset ones are left out, as MLflow's to_proto
            if v[k]:
                out[k] = v[k]
        if v["tags"]:
            out["tags"] = [{"key": k, "value": x} for k, x in v["tags"].items()]
        aliases = sorted(a for a, n in m["aliases"].items() if n == v["version"])
        if aliases:
            out["aliases"] = aliases
        if v.get("model_id"):
            out["model_id"] = v["model_id"]
        return out

    def latest(self, m, stages=None):
        out = []
        for s in STAGES:
            if stages and s.lower() not in [x.lower() for x in stages]:
                continue
            vs = [v for v in m["versions"].values() if v["current_stage"] == s]
            if vs:
                out.append(max(vs, key=lambda v: v["version"]))
        return out

    def rm_json(self, m):
        out = {"name": m["name"], "creation_timestamp": m["creation_timestamp"],
               "last_updated_timestamp": m["last_updated_timestamp"]}
        if m["description"]:
            out["description"] = m["description"]
        lv = self.latest(m)
        if lv:
            out["latest_versions"] = [self.mv_json(m, v) for v in lv]
        if m["tags"]:
            out["tags"] = [{"key": k, "value": x} for k, x in m["tags"].items()]
        if m["aliases"]:
            out["aliases"] = [{"alias": a, "version": str(n)} for a, n in sorted(m["aliases"].items())]
        return out

    @staticmethod
    def check_tag(key, value):
        check_name("tag", key)
        check_length("Registered model key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key)
        check_length("Registered model value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value)

    # ------------------------------------------------------------ registered models
    def op_createRegisteredModel(self, r):
        name = r["name"]
        if name in self.models:
            raise MlflowError("RESOURCE_ALREADY_EXISTS", "Registered Model (name=%s) already exists." % name)
        tags = {}
        for t in r.get("tags", []):
            self.check_tag(t.get("key"), t.get("value", ""))
            tags[t["key"]] = t.get("value", "")
        t = now_ms()
        m = {"name": name, "creation_timestamp": t, "last_updated_timestamp": t,
             "description": r.get("description", ""), "tags": tags, "aliases": {}, "versions": {},
             "next_version": 1}
        self.models[name] = m
        return {"registered_model": self.rm_json(m)}

    def op_getRegisteredModel(self, r):
        return {"registered_model": self.rm_json(self.model(r["name"]))}

    def op_renameRegisteredModel(self, r):
        m = self.model(r["name"])
        new = r.get("new_name") or ""
        if not new:
            raise invalid("Registered model name cannot be empty.")
        if new in self.models:
            raise MlflowError("RESOURCE_ALREADY_EXISTS", "Registered Model (name=%s) already exists." % new)
        del self.models[m["name"]]
        m["name"], m["last_updated_timestamp"] = new, now_ms()
        self.models[new] = m
        return {"registered_model": self.rm_json(m)}

    def op_updateRegisteredModel(self, r):
        m = self.model(r["name"])
        if "description" in r:
            m["description"] = r["description"]
        m["last_updated_timestamp"] = now_ms()
        return {"registered_model": self.rm_json(m)}

    def op_deleteRegisteredModel(self, r):
        self.model(r["name"])
        del self.models[r["name"]]
        return {}

    def op_searchRegisteredModels(self, r):
        flt = parse_filter(r.get("filter", ""))
        sel = []
        for m in sorted(self.models.values(), key=lambda m: m["name"]):
            ok = True
            for kind, key, op, val in flt:
                if kind == "attributes" and key == "name":
                    ok = ok and compare(m["name"], op, val)
                elif kind == "tags":
                    ok = ok and compare(m["tags"].get(key), op, val)
                else:
                    raise invalid("Invalid attribute key '%s' specified. Valid keys are '{'name'}'" % key)
            if ok:
                sel.append(m)
        page, token = paginate(sel, r.get("max_results", 100), r.get("page_token"), 1000)
        out = {}
        if page:
            out["registered_models"] = [self.rm_json(m) for m in page]
        if token:
            out["next_page_token"] = token
        return out

    def op_setRegisteredModelTag(self, r):
        m = self.model(r["name"])
        self.check_tag(r["key"], r["value"])
        m["tags"][r["key"]] = r["value"]
        return {}

    def op_deleteRegisteredModelTag(self, r):
        m = self.model(r["name"])
        m["tags"].pop(r["key"], None)
        return {}

    def op_getLatestVersions(self, r):
        m = self.model(r["name"])
        for s in r.get("stages", []):
            if s.lower() not in [x.lower() for x in STAGES]:
                raise invalid("Invalid Model Version stage: %s. Value must be one of %s." %
                              (s, ", ".join(STAGES)))
        lv = self.latest(m, r.get("stages"))
        return {"model_versions": [self.mv_json(m, v) for v in lv]} if lv else {}

    # ------------------------------------------------------------ aliases
    def op_setRegisteredModelAlias(self, r):
        alias = r["alias"]
        if not ALIAS_RE.match(alias):
            raise invalid("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), "
                          "and dashes (-)." % alias)
        check_length("Registered model alias name", MAX_REGISTERED_MODEL_ALIAS_LENGTH, alias)
        if alias.lower() == "latest":
            raise invalid("'latest' alias name (case insensitive) is reserved.")
        if ALIAS_VERSION_RE.match(alias):
            raise invalid("Version alias name '%s' is reserved." % alias)
        v = self.version(r["name"], r["version"])
        self.models[r["name"]]["aliases"][alias] = v["version"]
        return {}

    def op_deleteRegisteredModelAlias(self, r):
        m = self.model(r["name"])
        m["aliases"].pop(r["alias"], None)  # a missing alias is not an error in MLflow
        return {}

    def op_getModelVersionByAlias(self, r):
        m = self.model(r["name"])
        n = m["aliases"].get(r["alias"])
        if n is None:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST",
                              "Registered model alias %s not found." % r["alias"])
        return {"model_version": self.mv_json(m, m["versions"][n])}

    # ------------------------------------------------------------ model versions
    def check_source(self, source, run_id):
        """MLflow's handler (server/handlers.py, _validate_source_run): a local
        source (a path, file:) needs the run_id of an existing run whose local
        artifact folder holds it, which this server never has (its artifact
        URIs are mlflow-artifacts:); any other source must be absolute, without
        `..`, `.` or NUL. A run_id beside a non-local source is NOT checked:
        MLflow stores it as given, even for a run that does not exist."""
        parsed = urllib.parse.urlparse(source)
        if parsed.scheme in ("", "file"):
            if run_id:
                self.st.tracking.run(run_id)  # RESOURCE_DOES_NOT_EXIST, as store.get_run
            raise invalid("Invalid model version source: '%s'. To use a local path as a model version "
                          "source, the run_id request parameter has to be specified and the local path "
                          "has to be contained within the artifact directory of the run specified by the "
                          "run_id." % source)
        unquoted = source
        while urllib.parse.unquote_plus(unquoted) != unquoted:
            unquoted = urllib.parse.unquote_plus(unquoted)
        path = re.sub(r"/+", "/", urllib.parse.urlparse(unquoted).path.rstrip("/"))
        # MLflow compares the path with pathlib's resolve() of it: an empty or
        # relative path resolves against the server's folder, so it differs.
        if ("\x00" in path or ".." in unquoted.split("/") or not path.startswith("/") or
                posixpath.normpath(path) != path):
            raise invalid("Invalid model version source: '%s'. If supplying a source as an http, https, "
                          "local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path "
                          "must be provided without relative path references present. Please provide an "
                          "absolute path." % unquoted)

    def op_createModelVersion(self, r):
        self.check_source(r["source"], r.get("run_id", ""))
        m = self.model(r["name"])
        tags = {}
        for t in r.get("tags", []):
            self.check_tag(t.get("key"), t.get("value", ""))
            tags[t["key"]] = t.get("value", "")
        n = m["next_version"]
        m["next_version"] += 1
        t = now_ms()
        v = {"version": n, "creation_timestamp": t, "last_updated_timestamp": t, "current_stage": "None",
             "description": r.get("description", ""), "source": r["source"], "run_id": r.get("run_id", ""),
             "run_link": r.get("run_link", ""), "tags": tags, "model_id": r.get("model_id", "")}
        m["versions"][n] = v
        m["last_updated_timestamp"] = t
        return {"model_version": self.mv_json(m, v)}

    def op_getModelVersion(self, r):
        v = self.version(r["name"], r["version"])
        return {"model_version": self.mv_json(self.models[r["name"]], v)}

    def op_updateModelVersion(self, r):
        v = self.version(r["name"], r["version"])
        if "description" in r:
            v["description"] = r["description"]
        v["last_updated_timestamp"] = now_ms()
        return {"model_version": self.mv_json(self.models[r["name"]], v)}

    def op_deleteModelVersion(self, r):
        v = self.version(r["name"], r["version"])
        m = self.models[r["name"]]
        del m["versions"][v["version"]]
        for a in [a for a, n in m["aliases"].items() if n == v["version"]]:
            del m["aliases"][a]
        return {}

    def op_transitionModelVersionStage(self, r):
        v = self.version(r["name"], r["version"])
        stage = [s for s in STAGES if s.lower() == r["stage"].lower()]
        if not stage:
            raise invalid("Invalid Model Version stage: %s. Value must be one of %s." %
                          (r["stage"], ", ".join(STAGES)))
        m = self.models[r["name"]]
        if r.get("archive_existing_versions") and stage[0] in ("Staging", "Production"):
            for o in m["versions"].values():
                if o is not v and o["current_stage"] == stage[0]:
                    o["current_stage"] = "Archived"
        v["current_stage"], v["last_updated_timestamp"] = stage[0], now_ms()
        return {"model_version": self.mv_json(m, v)}

    def op_setModelVersionTag(self, r):
        v = self.version(r["name"], r["version"])
        self.check_tag(r["key"], r["value"])
        v["tags"][r["key"]] = r["value"]
        return {}

    def op_deleteModelVersionTag(self, r):
        v = self.version(r["name"], r["version"])
        v["tags"].pop(r["key"], None)
        return {}

    def op_getModelVersionDownloadUri(self, r):
        return {"artifact_uri": self.version(r["name"], r["version"])["source"]}

    def op_searchModelVersions(self, r):
        flt = parse_filter(r.get("filter", ""))
        sel = []
        for m in sorted(self.models.values(), key=lambda m: m["name"]):
            for v in sorted(m["versions"].values(), key=lambda v: -v["version"]):
                ok = True
                for kind, key, op, val in flt:
                    if kind == "attributes" and key in ("name", "run_id", "source", "source_path"):
                        lhs = m["name"] if key == "name" else v["run_id" if key == "run_id" else "source"]
                        ok = ok and compare(lhs, op, val)
                    elif kind == "attributes" and key == "version_number":
                        ok = ok and compare(float(v["version"]), op, val)
                    elif kind == "tags":
                        ok = ok and compare(v["tags"].get(key), op, val)
                    else:
                        raise invalid("Invalid attribute key '%s' specified." % key)
                if ok:
                    sel.append((m, v))
        page, token = paginate(sel, r.get("max_results", 200000), r.get("page_token"), 200000)
        out = {}
        if page:
            out["model_versions"] = [self.mv_json(m, v) for m, v in page]
        if token:
            out["next_page_token"] = token
        return out

    def dump(self):
        return {name: dict(self.rm_json(m), versions={str(n): self.mv_json(m, v) for n, v in m["versions"].items()})
                for name, m in self.models.items()}
