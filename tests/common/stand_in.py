"""What the stand-in test servers (tests/lakefs/lakefs_server.py,
tests/mlflow/mlflow_server.py) share: the fault rules, the loopback control
port that sets them and reports request counts, and the ready file.

Python 3 stdlib only; a server imports it after putting tests/common on sys.path.
"""
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    """Rules set through the control port. Each rule: kind, match (a regex over
    the operation id, default any), count (how many requests it hits; -1 = all),
    plus what its kind needs (a server's README lists them). An outage (down)
    is "refuse" or "close" until down_until; a server that has none ignores it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.counts = {}
        self.down = None  # None, "refuse" or "close"
        self.down_until = 0.0

    def count(self, op):
        with self.lock:
            self.counts[op] = self.counts.get(op, 0) + 1

    def take(self, kind, op):
        with self.lock:
            for r in self.rules:
                if r["kind"] != kind or r["count"] == 0:
                    continue
                if not re.fullmatch(r.get("match", ".*"), op):
                    continue
                if r.get("skip", 0) > 0:  # lets this many matching requests pass first
                    r["skip"] -= 1
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                return dict(r)
        return None

    def is_down(self):
        with self.lock:
            if self.down and time.time() >= self.down_until:
                self.down = None
            return self.down


class ControlHandler(BaseHTTPRequestHandler):
    """The control port's common paths: POST /faults {"kind", "match", "count", ...},
    GET and DELETE /faults, GET and DELETE /counts, GET /health. A server
    subclasses it, sets fault_kinds, and answers its own paths in get_extra and
    post_extra (return False for "no such path"). self.server.faults is the Faults."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    fault_kinds = ()

    def log_message(self, fmt, *args):
        pass

    def encode(self, obj):
        return json.dumps(obj).encode()

    def reply(self, status, obj):
        body = self.encode(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def health(self):
        return {"ok": True}

    def get_extra(self):
        return False

    def post_extra(self, b):
        return False

    def do_GET(self):
        f = self.server.faults
        if self.path == "/counts":
            with f.lock:
                return self.reply(200, dict(f.counts))
        if self.path == "/faults":
            with f.lock:
                return self.reply(200, list(f.rules))
        if self.path == "/health":
            return self.reply(200, self.health())
        if not self.get_extra():
            self.reply(404, {"message": "no such control path"})

    def do_DELETE(self):
        f = self.server.faults
        with f.lock:
            if self.path == "/counts":
                f.counts.clear()
            elif self.path == "/faults":
                f.rules.clear()
            else:
                return self.reply(404, {"message": "no such control path"})
        self.reply(200, {"ok": True})

    def do_POST(self):
        try:
            b = self.body()
        except ValueError:
            return self.reply(400, {"message": "bad JSON"})
        if self.path == "/faults":
            if b.get("kind") not in self.fault_kinds:
                return self.reply(400, {"message": "kind: one of " + ", ".join(self.fault_kinds)})
            b.setdefault("count", 1)
            b.setdefault("match", ".*")
            try:
                re.compile(b["match"])
            except (re.error, TypeError) as e:
                return self.reply(400, {"message": "match: %s" % e})
            with self.server.faults.lock:
                self.server.faults.rules.append(b)
            return self.reply(200, {"ok": True})
        if not self.post_extra(b):
            self.reply(404, {"message": "no such control path"})


def start_control(port, handler, faults, **attrs):
    """Serves the control port on loopback in a daemon thread; attrs become
    attributes of the server, for the handler's own paths."""
    ctl = ThreadingHTTPServer(("127.0.0.1", port), handler)
    ctl.daemon_threads = True
    ctl.faults = faults
    for k, v in attrs.items():
        setattr(ctl, k, v)
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    return ctl


def write_ready(path, port, control_port=None):
    """Writes the ready file atomically, so a waiting script never reads half of it."""
    if not path:
        return
    ready = {"port": port, "pid": os.getpid()}
    if control_port is not None:
        ready["control_port"] = control_port
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.replace(tmp, path)


def read_chunks(rfile):
    """The pieces of a chunked request body (Transfer-Encoding: chunked), its
    trailer skipped."""
    while True:
        size = int(rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return
        yield rfile.read(size)
        rfile.readline(8)


def cut_connection(handler):
    """Ends @handler's connection now: what was written goes, then both
    directions close, so the client sees the answer stop short."""
    handler.close_connection = True
    try:
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
