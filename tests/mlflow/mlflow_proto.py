"""The MLflow protos as the test server's schema (Python 3 stdlib only).

A small reader for the proto2 files in ../shared/specs/mlflow (service.proto,
model_registry.proto, mlflow_artifacts.proto, databricks.proto): messages (nested),
enums, fields with their label, type and [(validate_required) = true], and the
HTTP endpoints from each rpc's `(rpc) = { endpoints: [{method, path}] }` option.
It then checks request JSON (or GET query parameters) against a message, strictly,
and checks the server's own responses against their Response message, so a field
the spec does not have can never leave the server unnoticed.
"""
import math
import os
import re

SCALARS = {"string", "bytes", "bool", "double", "float", "int32", "int64", "uint32",
           "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"}
INT_RANGES = {"int32": (-2**31, 2**31 - 1), "sint32": (-2**31, 2**31 - 1),
              "sfixed32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1), "fixed32": (0, 2**32 - 1),
              "int64": (-2**63, 2**63 - 1), "sint64": (-2**63, 2**63 - 1),
              "sfixed64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1), "fixed64": (0, 2**64 - 1)}
NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class SchemaError(Exception):
    """A request that does not fit its message: 400 INVALID_PARAMETER_VALUE."""


class Message:
    def __init__(self, full, file):
        self.full, self.file = full, file
        self.fields = {}  # name -> (label, type, required); label optional|repeated|map


class Schema:
    def __init__(self, spec_dir):
        self.messages = {}  # "file.proto:Outer.Inner" -> Message
        self.enums = {}     # "file.proto:Outer.Enum" -> {name: number}
        self.endpoints = []  # (method, path, file, rpc, request type, response type)
        self._resolved = {}  # a field type as written -> its lookup key (resolve)
        self._compiled = {}  # message key -> its fast decoder (_fast)
        for f in ("databricks.proto", "service.proto", "model_registry.proto", "mlflow_artifacts.proto"):
            p = os.path.join(spec_dir, f)
            with open(p, encoding="utf-8") as fh:
                self._parse(f, fh.read())

    # ------------------------------------------------------------ reading
    def _parse(self, fname, text):
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        toks = re.findall(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|[{}\[\]();=<>,:]', text)
        i, stack = 0, []  # stack of (kind, name)

        def skip_block(j):
            depth = 0
            while j < len(toks):
                if toks[j] in ("{", "["):
                    depth += 1
                elif toks[j] in ("}", "]"):
                    depth -= 1
                    if depth == 0:
                        return j + 1
                j += 1
            return j

        while i < len(toks):
            t = toks[i]
            scope = ".".join(n for k, n in stack if k in ("message", "enum"))
            if t in ("message", "enum") and i + 2 < len(toks) and toks[i + 2] == "{":
                name = (scope + "." if scope else "") + toks[i + 1]
                if t == "message":
                    self.messages["%s:%s" % (fname, name)] = Message(name, fname)
                else:
                    self.enums["%s:%s" % (fname, name)] = {}
                stack.append((t, toks[i + 1]))
                i += 3
            elif t == "service" and toks[i + 2] == "{":
                stack.append(("service", toks[i + 1]))
                i += 3
            elif t == "oneof" and toks[i + 2] == "{":
                stack.append(("oneof", toks[i + 1]))
                i += 3
            elif t == "rpc":
                # rpc name ( Req ) returns ( Resp ) { option (rpc) = { ... } }
                name, req, resp = toks[i + 1], toks[i + 3], toks[i + 7]
                end = skip_block(i + 9) if toks[i + 9] == "{" else i + 10
                body = toks[i + 9:end]
                for k in range(len(body) - 3):
                    if body[k] == "method" and body[k + 1] == ":":
                        method = body[k + 2].strip('"')
                        for m in range(k, min(k + 12, len(body) - 2)):
                            if body[m] == "path" and body[m + 1] == ":":
                                path = body[m + 2].strip('"')
                                self.endpoints.append((method, path, fname, name, req, resp))
                                break
                i = end
            elif t == "option":
                while toks[i] != ";":
                    i = skip_block(i) if toks[i] in ("{", "[") else i + 1
                i += 1
            elif t in ("syntax", "package", "import", "reserved", "extensions"):
                while toks[i] != ";":
                    i += 1
                i += 1
            elif t == "extend":
                i = skip_block(i + 2)
            elif t == "}":
                stack.pop()
                i += 1
            elif stack and stack[-1][0] == "enum":
                # NAME = N [opts] ;
                self.enums["%s:%s" % (fname, scope)][t] = int(toks[i + 2])
                while toks[i] != ";":
                    i = skip_block(i) if toks[i] == "[" else i + 1
                i += 1
            elif stack and stack[-1][0] in ("message", "oneof"):
                msg = self.messages["%s:%s" % (fname, scope)]
                if t == "map":  # map < K , V > name = N ;
                    label, ftype, fname_ = "map", toks[i + 4], toks[i + 6]
                    j = i + 7
                elif t in ("optional", "repeated", "required"):
                    label, ftype, fname_ = ("repeated" if t == "repeated" else "optional"), toks[i + 1], toks[i + 2]
                    j = i + 3
                else:  # a oneof member has no label
                    label, ftype, fname_ = "optional", t, toks[i + 1]
                    j = i + 2
                required = False
                while toks[j] != ";":
                    if toks[j] == "validate_required":
                        required = toks[j + 3] == "true"
                    j += 1
                msg.fields[fname_] = (label, self._qualify(fname, scope, ftype), required)
                i = j + 1
            else:
                i += 1

    def _qualify(self, fname, scope, t):
        """A field type as written to a lookup key, tried innermost scope first;
        types from files not here (assessments.proto...) stay unresolved."""
        if t in SCALARS:
            return t
        t = t[len("mlflow."):] if t.startswith("mlflow.") else t
        t = t[len("artifacts."):] if t.startswith("artifacts.") else t
        parts = scope.split(".") if scope else []
        return ("?", fname, tuple(parts), t)

    def resolve(self, ftype):
        if not isinstance(ftype, tuple):
            return ftype
        key = self._resolved.get(ftype)
        if key is None:
            key = self._resolved[ftype] = self._resolve(ftype)
        return key

    def _resolve(self, ftype):
        _, fname, parts, t = ftype
        files = [fname] + [f for f in ("service.proto", "model_registry.proto", "databricks.proto",
                                       "mlflow_artifacts.proto") if f != fname]
        for f in files:
            for n in range(len(parts), -1, -1):
                key = "%s:%s" % (f, ".".join(list(parts[:n]) + [t]))
                if key in self.messages or key in self.enums:
                    return key
        raise SchemaError("type %s is not in the specs here" % t)

    def message(self, key):
        return self.messages[key]

    # ------------------------------------------------------------ checking
    def decode(self, key, obj, path="", strict=True):
        """Request JSON to plain Python values (int64 to int, double to float,
        enums to their name), or SchemaError naming the field."""
        if strict:
            out = self._fast(key)(obj)
            if out is not _SLOW:
                return out
        msg = self.messages[key]
        if not isinstance(obj, dict):
            raise SchemaError("Invalid value %s for parameter '%s': expected a JSON object" %
                              (_short(obj), path or "request body"))
        out = {}
        for k, v in obj.items():
            f = msg.fields.get(k)
            where = path + "." + k if path else k
            if f is None:
                if strict:
                    raise SchemaError("Invalid parameter '%s': no such field in %s" % (where, msg.full))
                continue
            if v is None:  # protobuf's ParseDict: null clears the field
                continue
            label, ftype, _ = f
            if label == "repeated":
                if not isinstance(v, list):
                    raise SchemaError("Invalid value %s for parameter '%s': expected a JSON array" %
                                      (_short(v), where))
                out[k] = [self._value(ftype, e, "%s[%d]" % (where, n), strict) for n, e in enumerate(v)]
            elif label == "map":
                if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
                    raise SchemaError("Invalid value %s for parameter '%s': expected an object of strings" %
                                      (_short(v), where))
                out[k] = dict(v)
            else:
                out[k] = self._value(ftype, v, where, strict)
        self.check_required(key, out, path)
        return out

    # ------------------------------------------------------------ the fast path
    def _fast(self, key):
        """A message's decoder compiled once, for requests made only of known
        fields with values of their plain JSON type (what clients send, and a
        log-batch of 1000 metrics is): it gives what decode() gives, or _SLOW,
        and decode() then goes the general way, which also words every refusal."""
        f = self._compiled.get(key)
        if f is None:
            self._compiled[key] = _slow  # a message nested in itself goes the general way
            f = self._compiled[key] = self._compile(key)
        return f

    def _compile(self, key):
        msg = self.messages[key]
        convs = {}
        for name, (label, ftype, _) in msg.fields.items():
            conv = self._fast_value(ftype)
            if conv is None or label == "map":
                continue  # maps, enums and the like: the general way
            convs[name] = _fast_list(conv) if label == "repeated" else conv
        required = [k for k, (label, _, req) in msg.fields.items() if req and label == "optional"]

        def fast(obj):
            if type(obj) is not dict:
                return _SLOW
            out = {}
            for k, v in obj.items():
                conv = convs.get(k)
                if conv is None:
                    return _SLOW
                if v is None:  # null clears the field
                    continue
                v = conv(v)
                if v is _SLOW:
                    return _SLOW
                out[k] = v
            for k in required:  # as check_required
                if k not in out or (out[k] == "" and k != "value"):
                    return _SLOW
            return out
        return fast

    def _fast_value(self, ftype):
        if ftype in ("string", "bytes"):
            return _fast_str
        if ftype in ("double", "float"):
            return _fast_double
        if ftype == "bool":
            return _fast_bool
        if ftype in INT_RANGES:
            lo, hi = INT_RANGES[ftype]
            return lambda v: v if type(v) is int and lo <= v <= hi else _SLOW
        try:
            key = self.resolve(ftype)
        except SchemaError:
            return None
        if key in self.enums:
            return None
        return lambda v: self._fast(key)(v)

    def check_required(self, key, out, path=""):
        """validate_required: absent or "" is missing, as MLflow's _assert_required;
        but a tag's or param's "value" may be "" (MLflow's handlers only ask for a string)."""
        for k, (label, _, required) in self.messages[key].fields.items():
            if required and label == "optional" and (k not in out or (out[k] == "" and k != "value")):
                raise SchemaError("Missing value for required parameter '%s'." % (path + "." + k if path else k))

    def _value(self, ftype, v, where, strict):
        if v is None:
            raise SchemaError("Invalid value null for parameter '%s'" % where)
        # The common cases first, exactly (type() is not isinstance: bool is an int).
        t = type(v)
        if ftype == "string":
            if t is str:
                return v
        elif ftype in ("double", "float"):
            if t is float or t is int:
                return float(v)
        elif ftype in INT_RANGES:
            if t is int:
                lo, hi = INT_RANGES[ftype]
                if lo <= v <= hi:
                    return v
        if ftype == "string":
            if not isinstance(v, str):
                raise SchemaError(_bad(v, where))
            return v
        if ftype == "bool":
            if not isinstance(v, bool):
                raise SchemaError(_bad(v, where))
            return v
        if ftype in ("double", "float"):
            if isinstance(v, str):
                if v in NON_FINITE:
                    return NON_FINITE[v]
                try:
                    f = float(v)
                except ValueError:
                    raise SchemaError(_bad(v, where))
                if not math.isfinite(f):
                    raise SchemaError(_bad(v, where))
                return f
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SchemaError(_bad(v, where))
            return float(v)
        if ftype in INT_RANGES:
            if isinstance(v, str) and re.fullmatch(r"-?\d+", v):
                v = int(v)
            elif isinstance(v, float) and v.is_integer():
                v = int(v)
            elif isinstance(v, bool) or not isinstance(v, int):
                raise SchemaError(_bad(v, where))
            lo, hi = INT_RANGES[ftype]
            if not lo <= v <= hi:
                raise SchemaError("Invalid value %d for parameter '%s': out of range for %s" % (v, where, ftype))
            return v
        if ftype == "bytes":
            if not isinstance(v, str):
                raise SchemaError(_bad(v, where))
            return v
        key = self.resolve(ftype)
        if key in self.enums:
            names = self.enums[key]
            if isinstance(v, str) and v in names:
                return v
            if isinstance(v, int) and not isinstance(v, bool):
                for n, num in names.items():
                    if num == v:
                        return n
            raise SchemaError("Invalid value %s for parameter '%s': not one of %s" %
                              (_short(v), where, ", ".join(names)))
        return self.decode(key, v, where, strict)

    def from_query(self, key, query_all, strict=True):
        """GET query parameters (each a list of strings) as the message: repeated
        fields take every occurrence; the rest take one, converted to its type."""
        msg = self.messages[key]
        obj = {}
        for k, vals in query_all.items():
            f = msg.fields.get(k)
            if f is None:
                if strict:
                    raise SchemaError("Invalid parameter '%s': no such field in %s" % (k, msg.full))
                continue
            label, ftype, _ = f
            conv = [self._query_value(ftype, v, k) for v in vals]
            if label == "repeated":
                obj[k] = conv
            else:
                if len(conv) > 1 and strict:
                    raise SchemaError("Invalid parameter '%s': given %d times" % (k, len(conv)))
                obj[k] = conv[0]
        return self.decode(key, obj, "", strict)

    def _query_value(self, ftype, v, where):
        if ftype == "bool":
            if v.lower() in ("true", "false"):
                return v.lower() == "true"
            raise SchemaError("Invalid value '%s' for parameter '%s': expected true or false" % (v, where))
        if ftype in INT_RANGES or ftype in ("double", "float", "string", "bytes"):
            return v  # strings are accepted for numbers, as in protobuf's JSON
        return v

    def encode_check(self, key, obj, path=""):
        """The server's own responses: every field must be in the message with the
        right JSON type (int64 as a number, as MLflow's message_to_json writes it)."""
        msg = self.messages[key]
        assert isinstance(obj, dict), "%s: not an object" % path
        for k, v in obj.items():
            f = msg.fields.get(k)
            assert f is not None, "response field %s.%s is not in %s" % (path, k, msg.full)
            label, ftype, _ = f
            vals = v if label == "repeated" else [v]
            if label == "repeated":
                assert isinstance(v, list), "response field %s.%s: not a list" % (path, k)
            if label == "map":
                continue
            for e in vals:
                self._encode_value(ftype, e, "%s.%s" % (path, k))

    def _encode_value(self, ftype, v, where):
        if ftype in ("string", "bytes"):
            assert isinstance(v, str), "%s: not a string" % where
        elif ftype == "bool":
            assert isinstance(v, bool), "%s: not a bool" % where
        elif ftype in ("double", "float"):
            assert (isinstance(v, (int, float)) and not isinstance(v, bool)) or v in NON_FINITE, \
                "%s: not a double" % where
        elif ftype in INT_RANGES:
            assert isinstance(v, int) and not isinstance(v, bool), "%s: not an integer" % where
        else:
            key = self.resolve(ftype)
            if key in self.enums:
                assert v in self.enums[key], "%s: %r not in the enum" % (where, v)
            else:
                self.encode_check(key, v, where)


_SLOW = object()  # the fast path's "not mine: decode it the general way"


def _slow(obj):
    return _SLOW


def _fast_str(v):
    return v if type(v) is str else _SLOW


def _fast_double(v):
    t = type(v)
    return float(v) if t is float or t is int else _SLOW


def _fast_bool(v):
    return v if type(v) is bool else _SLOW


def _fast_list(conv):
    def each(v):
        if type(v) is not list:
            return _SLOW
        out = [conv(e) for e in v]
        return _SLOW if _SLOW in out else out
    return each


def _bad(v, where):
    """The wrong-type message; built only when a value is refused."""
    return "Invalid value %s for parameter '%s' supplied. Hint: Value was of type '%s'." % (
        _short(v), where, _jtype(v))


def _short(v):
    import json
    s = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _jtype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "str"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return type(v).__name__
