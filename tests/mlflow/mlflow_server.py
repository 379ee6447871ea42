#!/usr/bin/python3
"""A small stateful, strict MLflow test server (Python 3 stdlib only).

It speaks MLflow's REST API 2.0 (/api/2.0/mlflow/..., /api/2.0/mlflow-artifacts/...)
as the protos in ../shared/specs/mlflow define it: the endpoints are read from each
rpc's (rpc) option, every request is checked against its message (unknown fields,
wrong JSON types and missing required fields are 400 INVALID_PARAMETER_VALUE), and
every JSON response is checked against its Response message before it leaves.
Errors are MLflow's {"error_code": ..., "message": ...} with MLflow's HTTP statuses.
Experiments, runs and the model registry live in memory; artifact bytes are files
under --data (a temporary folder without it).

A second, loopback-only control port (not part of the API) injects faults, reports
request counts per rpc and dumps the whole state; see tests/mlflow/README.md.

Usage:
  mlflow_server.py serve [--port P] [--control-port C] [--data DIR] [--ready-file F]
      [--token T | --basic USER:PASSWORD] [--spec-dir DIR] [--lenient] [--verbose]
"""
import argparse
import base64
import json
import math
import mimetypes
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import mlflow_proto  # noqa: E402
import stand_in  # noqa: E402  (the fault rules and the control port)
from mlflow_tracking import Tracking, MlflowError, invalid  # noqa: E402
from mlflow_registry import Registry  # noqa: E402

API = "/api/2.0"
CHUNK = 64 * 1024
MAX_JSON_BODY = 16 * 1024 * 1024
BASIC_401 = ("You are not authenticated. Please see "
             "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
             "on how to authenticate.")
FAULT_KINDS = ("fail", "delay", "drop_before", "drop_after", "unauth", "violate")
DEFAULT_CODES = {503: "TEMPORARILY_UNAVAILABLE", 429: "REQUEST_LIMIT_EXCEEDED", 500: "INTERNAL_ERROR",
                 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST",
                 409: "RESOURCE_CONFLICT", 400: "BAD_REQUEST", 504: "DEADLINE_EXCEEDED"}


class Store:
    def __init__(self, data_dir):
        self.lock = threading.RLock()
        self.datasets = {}
        self.tracking = Tracking(self)
        self.registry = Registry(self)
        self.artifacts = os.path.join(os.path.abspath(data_dir), "artifacts")
        os.makedirs(self.artifacts, exist_ok=True)

    def artifact_path(self, rel):
        """A path under the artifact root; MLflow's validate_path_is_safe refuses the rest."""
        rel = urllib.parse.unquote(rel or "")
        parts = rel.split("/")
        if rel.startswith("/") or "\\" in rel or any(p in ("..", ".") for p in parts) or "\0" in rel:
            raise invalid("Invalid path")
        return os.path.join(self.artifacts, *[p for p in parts if p])

    def dump(self):
        return {"tracking": self.tracking.dump(), "registered_models": self.registry.dump(),
                "artifacts": sorted(os.path.relpath(os.path.join(d, f), self.artifacts)
                                    for d, _, fs in os.walk(self.artifacts) for f in fs
                                    if not f.startswith(".upload-"))}


# Faults (the rules set through the control port, and the outage) come from tests/common/stand_in.py.


def build_routes(schema):
    routes = []
    for method, path, fname, rpc, req, resp in schema.endpoints:
        if not path.startswith("/"):
            continue  # searchDatasets' path lacks its slash in the proto; MLflow does not serve it there
        op = ("artifacts." + rpc) if fname == "mlflow_artifacts.proto" else rpc
        rx = re.sub(r"<path:(\w+)>", r"(?P<\1>.+)", re.escape(path).replace(r"\<", "<").replace(r"\>", ">")
                    .replace(r"\:", ":"))
        rx = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", rx)
        routes.append((method, re.compile("^" + API + rx + "$"), op,
                       "%s:%s" % (fname, req), "%s:%s" % (fname, resp)))
    return routes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "mlflow-test-server"

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("mlflow-test-server: " + (fmt % args) + "\n")

    def handle_one_request(self):
        if self.server.app.faults.is_down():  # an outage also ends open keep-alive connections
            self.close_connection = True
            return
        super().handle_one_request()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.handle_any()

    # --- plumbing
    def send_body(self, status, body, ctype, extra=None):
        if self.dropping:
            return self.drop()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.drop_rule and self.drop_rule.get("after_bytes") is not None:
            self.wfile.write(body[:int(self.drop_rule["after_bytes"])])  # the answer cut off
            return self.drop()
        self.wfile.write(body)

    def send_json(self, status, obj, extra=None):
        self.send_body(status, json.dumps(obj, allow_nan=False).encode(), "application/json", extra)

    def send_error_json(self, code, message, status=None, extra=None):
        status = status or MlflowError(code, message).status
        self.send_json(status, {"error_code": code, "message": message}, extra)

    def drop(self):
        """No answer at all: the connection closes (before or after the effect)."""
        stand_in.cut_connection(self)

    def body_length(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise MlflowError("BAD_REQUEST", "invalid Content-Length")

    def iter_body(self):
        if self.body_consumed:
            return
        self.body_consumed = True
        n = self.body_length()
        if n is None:
            yield from stand_in.read_chunks(self.rfile)
            return
        while n > 0:
            b = self.rfile.read(min(CHUNK, n))
            if not b:
                raise MlflowError("BAD_REQUEST", "request body ended early")
            n -= len(b)
            yield b

    def read_body(self, limit=MAX_JSON_BODY):
        out = bytearray()
        for b in self.iter_body():
            out += b
            if len(out) > limit:
                self.close_connection = True  # the rest stays unread
                raise invalid("request body larger than %d bytes" % limit)
        return bytes(out)

    def drain(self):
        """Reads an unread body away before an error answer, so the client is not cut
        off mid-upload and the connection stays in step; a huge one closes it."""
        if self.body_consumed or self.command not in ("POST", "PUT", "PATCH", "DELETE"):
            return
        try:
            n = self.body_length()
        except MlflowError:
            n = -1
        if n is not None and not 0 <= n <= 64 * 1024 * 1024:
            self.close_connection = True
            return
        for _ in self.iter_body():
            pass

    def authorized(self):
        app = self.server.app
        h = self.headers.get("Authorization", "")
        if app.token is not None:
            return h == "Bearer " + app.token
        if app.basic is not None:
            if not h.startswith("Basic "):
                return False
            try:
                return base64.b64decode(h[6:], validate=True).decode() == app.basic
            except (ValueError, UnicodeDecodeError):
                return False
        return True

    def send_unauth(self):
        if self.server.app.basic is not None:  # MLflow's basic-auth app: plain text
            self.send_body(401, BASIC_401.encode(), "text/plain; charset=utf-8",
                           {"WWW-Authenticate": 'Basic realm="mlflow"'})
        else:
            self.send_error_json("UNAUTHENTICATED", "Credential was not sent or was of an unsupported "
                                 "type for this API.", 401)

    # --- the request
    def handle_any(self):
        self.body_consumed = False
        self.dropping = False
        self.drop_rule = None
        app = self.server.app
        if app.faults.is_down():  # a request on a keep-alive connection opened before the outage
            return self.drop()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        route, path_ok = None, False
        for method, rx, op, req, resp in app.routes:
            m = rx.match(path)
            if m:
                path_ok = True
                if method == self.command:
                    route = (op, req, resp, m.groupdict())
                    break
        op = route[0] if route else "unknown"
        app.faults.count(op)
        try:
            if route is None:
                self.drain()
                if path_ok:
                    return self.send_error_json("ENDPOINT_NOT_FOUND", "method %s not allowed on %s" %
                                                (self.command, path), 405)
                return self.send_error_json("ENDPOINT_NOT_FOUND", "no endpoint %s" % path, 404)
            f = app.faults.take("delay", op)
            if f:
                time.sleep(float(f["ms"]) / 1000.0 if "ms" in f else float(f.get("seconds", 1)))
            if app.faults.take("drop_before", op):
                self.drain()
                return self.drop()
            f = app.faults.take("fail", op)
            if f:
                self.drain()
                status = int(f.get("status", 503))
                extra = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") is not None else None
                return self.send_error_json(f.get("error_code") or DEFAULT_CODES.get(status, "INTERNAL_ERROR"),
                                            "injected fault", status, extra)
            if app.faults.take("unauth", op) or not self.authorized():
                self.drain()
                return self.send_unauth()
            self.drop_rule = app.faults.take("drop_after", op)
            self.dropping = bool(self.drop_rule) and self.drop_rule.get("after_bytes") is None
            op_name, req, resp, groups = route
            if op_name.startswith("artifacts."):
                return self.artifact_op(op_name, groups)
            self.json_op(op_name, req, resp)
        except MlflowError as e:
            self.drain()
            self.send_error_json(e.code, e.message, e.status)
        except mlflow_proto.SchemaError as e:
            self.send_error_json("INVALID_PARAMETER_VALUE",
                                 str(e) + " See the API docs for more information about request parameters.")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a test server bug: say so in the answer, not only in the log
            import traceback
            traceback.print_exc()
            self.close_connection = True
            self.send_error_json("INTERNAL_ERROR", "test server bug: %s: %s" % (type(e).__name__, e), 500)

    def json_op(self, op, req, resp):
        app = self.server.app
        schema = app.schema
        if self.command == "GET":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
            r = schema.from_query(req, q, strict=not app.lenient)
            size = 0
        else:
            n = self.body_length()
            if n is not None and n > MAX_JSON_BODY:
                if op == "logBatch":
                    Tracking.check_batch_size(n)
                raise invalid("request body of %d bytes is larger than %d" % (n, MAX_JSON_BODY))
            raw = self.read_body()
            size = len(raw)
            ctype = self.headers.get("Content-Type")
            if self.command in ("POST", "PUT"):
                if ctype is None:
                    raise invalid("Bad Request. Content-Type header is missing.")
                if ctype.split(";")[0].strip() != "application/json":
                    raise invalid("Bad Request. Content-Type must be one of ['application/json'].")
            if op == "logBatch":
                Tracking.check_batch_size(size)
            try:
                obj = json.loads(raw.decode("utf-8"), parse_constant=_no_constant) if raw.strip() else {}
            except (ValueError, UnicodeDecodeError) as e:
                raise MlflowError("MALFORMED_REQUEST", "request body is not valid JSON: %s" % e)
            r = schema.decode(req, obj, "", strict=not app.lenient)
        if op == "listArtifacts":
            handler = self.list_run_artifacts
        else:
            handler = getattr(app.store.tracking, "op_" + op, None) or getattr(app.store.registry, "op_" + op, None)
        if handler is None:
            raise MlflowError("NOT_IMPLEMENTED", "%s is not implemented by the test server" % op)
        with app.store.lock:
            out = handler(r)
        if app.faults.take("violate", op):  # test-only: proves the response check below works
            out = dict(out, not_in_the_spec=True)
        try:
            schema.encode_check(resp, out)
        except (AssertionError, mlflow_proto.SchemaError) as e:
            raise MlflowError("INTERNAL_ERROR", "test server bug: response breaks the spec: %s" % e)
        self.send_json(200, out)

    # --- artifacts
    def list_run_artifacts(self, r):
        tr = self.server.app.store.tracking
        run = tr.run(tr.run_id_of(r))
        root = run["artifact_uri"]
        if not root.startswith("mlflow-artifacts:/"):
            return {"root_uri": root}
        base = root[len("mlflow-artifacts:/"):].strip("/")
        rel = (r.get("path") or "").strip("/")
        files = self.list_dir(base + ("/" + rel if rel else ""), rel)
        out = {"root_uri": root}
        if files:
            out["files"] = files
        return out

    def list_dir(self, rel, shown_prefix):
        d = self.server.app.store.artifact_path(rel)
        files = []
        if os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                if n.startswith(".upload-"):
                    continue
                p = os.path.join(d, n)
                fi = {"path": (shown_prefix + "/" + n) if shown_prefix else n, "is_dir": os.path.isdir(p)}
                if not fi["is_dir"]:
                    fi["file_size"] = os.path.getsize(p)
                files.append(fi)
        return files

    def artifact_op(self, op, groups):
        st = self.server.app.store
        if op == "artifacts.listArtifacts":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
            r = self.server.app.schema.from_query("mlflow_artifacts.proto:ListArtifacts", q,
                                                  strict=not self.server.app.lenient)
            files = self.list_dir((r.get("path") or "").strip("/"), "")
            out = {"files": files} if files else {}
            self.server.app.schema.encode_check("mlflow_artifacts.proto:ListArtifacts.Response", out)
            return self.send_json(200, out)
        target = st.artifact_path(groups["artifact_path"])
        if op == "artifacts.uploadArtifact":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            tmp = os.path.join(os.path.dirname(target), ".upload-" + uuid.uuid4().hex)
            try:
                with open(tmp, "wb") as f:
                    for b in self.iter_body():
                        f.write(b)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            return self.send_json(200, {})
        if op == "artifacts.deleteArtifact":
            self.read_body()
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.unlink(target)
            return self.send_json(200, {})
        if op == "artifacts.downloadArtifact":
            if not os.path.isfile(target):
                raise MlflowError("RESOURCE_DOES_NOT_EXIST", "artifact %s not found" % groups["artifact_path"])
            if self.dropping:
                return self.drop()
            size = os.path.getsize(target)
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(target)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Disposition", "attachment; filename=%s" % os.path.basename(target))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            limit = self.drop_rule.get("after_bytes") if self.drop_rule else None
            with open(target, "rb") as f:
                if limit is None:
                    shutil.copyfileobj(f, self.wfile, CHUNK)
                    return
                left = int(limit)  # a download cut off mid-body
                while left > 0:
                    b = f.read(min(CHUNK, left))
                    if not b:
                        break
                    self.wfile.write(b)
                    left -= len(b)
            return self.drop()
        raise MlflowError("NOT_IMPLEMENTED", "%s is not implemented by the test server" % op)


def _no_constant(name):
    raise ValueError("%s is not JSON; MLflow's clients send \"NaN\", \"Infinity\" and \"-Infinity\" as strings"
                     % name)


def _jsonable(o):
    if isinstance(o, float) and not math.isfinite(o):
        return "NaN" if math.isnan(o) else ("Infinity" if o > 0 else "-Infinity")
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else "|".join(map(str, k))): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set)):
        return [_jsonable(v) for v in o]
    return o


# ---------------------------------------------------------------- the API listener

class Api:
    """The API listener, which the control port can close for an outage
    ("refuse": connections refused) and reopen on the same port."""

    def __init__(self, port, app):
        self.app, self.port = app, port
        self.lock = threading.Lock()
        self.srv = None
        self.gen = 0
        self.up()

    def up(self, gen=None):
        with self.lock:
            if self.srv is not None or (gen is not None and gen != self.gen):
                return  # up already, or a later outage owns the listener now
            srv = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
            srv.daemon_threads = True
            srv.app = self.app
            self.port = srv.server_address[1]
            self.srv = srv
            threading.Thread(target=srv.serve_forever, daemon=True).start()

    def down(self):
        with self.lock:
            srv, self.srv = self.srv, None
            self.gen += 1
            gen = self.gen
        if srv is not None:
            srv.shutdown()
            srv.server_close()
        return gen


class ControlHandler(stand_in.ControlHandler):
    """POST /faults {"kind", "match", "count", ...}; GET, DELETE /faults
    GET /counts, DELETE /counts; GET /state (everything, as JSON)
    POST /down {"seconds": S, "mode": "refuse"|"close"}; POST /up; GET /health"""
    fault_kinds = FAULT_KINDS

    def encode(self, obj):
        return json.dumps(_jsonable(obj), allow_nan=False).encode()

    def health(self):
        return {"ok": True, "down": self.server.faults.is_down()}

    def get_extra(self):
        if self.path != "/state":
            return False
        app = self.server.app
        with app.store.lock:
            self.reply(200, app.store.dump())
        return True

    def post_extra(self, b):
        app = self.server.app
        if self.path == "/down":
            mode, secs = b.get("mode", "refuse"), float(b.get("seconds", 30))
            if mode not in ("refuse", "close"):
                self.reply(400, {"message": "mode: refuse or close"})
                return True
            with app.faults.lock:
                app.faults.down, app.faults.down_until = mode, time.time() + secs
            if mode == "refuse":
                gen = app.api.down()
                t = threading.Timer(secs, app.api.up, args=(gen,))
                t.daemon = True  # a stop during the outage does not wait for it
                t.start()
            self.reply(200, {"ok": True})
            return True
        if self.path == "/up":
            with app.faults.lock:
                app.faults.down = None
            app.api.up()
            self.reply(200, {"ok": True})
            return True
        return False


class App:
    pass


def serve(args):
    app = App()
    app.verbose, app.lenient = args.verbose, args.lenient
    app.token, app.basic = args.token, args.basic
    if app.basic is not None and ":" not in app.basic:
        sys.exit("mlflow_server: --basic takes USER:PASSWORD")
    spec = args.spec_dir or os.environ.get("MLFLOW_SPEC_DIR") or \
        os.path.join(HERE, "..", "..", "..", "shared", "specs", "mlflow")
    try:
        app.schema = mlflow_proto.Schema(spec)
    except OSError as e:
        sys.exit("mlflow_server: cannot read the MLflow protos in %s (%s); give --spec-dir" % (spec, e))
    app.routes = build_routes(app.schema)
    data = args.data or tempfile.mkdtemp(prefix="mlflow-test-server.")
    app.store = Store(data)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the temporary folder goes too
    app.faults = stand_in.Faults()
    app.api = Api(args.port, app)
    ctl = stand_in.start_control(args.control_port, ControlHandler, app.faults, app=app)
    stand_in.write_ready(args.ready_file, app.api.port, ctl.server_address[1])
    print("mlflow test server on http://127.0.0.1:%d, control on http://127.0.0.1:%d" %
          (app.api.port, ctl.server_address[1]), file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if not args.data:
            shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--control-port", type=int, default=0)
    s.add_argument("--data", help="artifact bytes go under DIR/artifacts (default: a temporary folder)")
    s.add_argument("--ready-file")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--token", help="require Authorization: Bearer TOKEN")
    g.add_argument("--basic", help="require HTTP Basic USER:PASSWORD (MLflow's basic-auth app)")
    s.add_argument("--spec-dir", help="the MLflow protos (default ../shared/specs/mlflow from the repo)")
    s.add_argument("--lenient", action="store_true",
                   help="ignore unknown fields, as MLflow itself does (default: refuse them)")
    s.add_argument("--verbose", action="store_true")
    serve(ap.parse_args())


if __name__ == "__main__":
    main()
