#!/usr/bin/python3
"""The client-facing port of the lakeFS test set-up (tests/lakefs/README.md).

Prism keeps a whole body in memory and decodes it as text (stoplightio/prism
#1321, #2349): a binary object comes out of it altered and longer, and nothing
streams. So object bytes bypass it: this front sends getObject, headObject and
uploadObject (GET/HEAD .../refs/{ref}/objects, POST .../branches/{branch}/objects)
straight to the test server, streamed both ways, and everything else (all the
JSON endpoints) through Prism, which validates it. A dropped upstream connection
drops the client's too, so the server's fault injection still shows.

Usage: lakefs_front.py --port P --prism http://127.0.0.1:X --server http://127.0.0.1:Y
       [--ready-file F]   (port 0: any free port, written to the ready file)
"""
import argparse
import http.client
import json
import os
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import stand_in  # noqa: E402  (tests/common: chunked bodies, cutting a connection, the ready file)

OBJECT_BYTES = re.compile(r"^/api/v1/repositories/[^/]+/(refs/[^/]+|branches/[^/]+)/objects$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade"}
CHUNK = 64 * 1024


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def forward(self):
        path = urllib.parse.urlsplit(self.path).path
        direct = bool(OBJECT_BYTES.match(path)) and (
            (self.command in ("GET", "HEAD") and "/refs/" in path) or
            (self.command == "POST" and "/branches/" in path))
        up = self.server.server_url if direct else self.server.prism_url
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        length = int(self.headers.get("Content-Length") or 0)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            if chunked:
                body = b"".join(stand_in.read_chunks(self.rfile))
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders()
                conn.send(body)
            else:
                conn.endheaders()
                left = length
                while left > 0:
                    b = self.rfile.read(min(CHUNK, left))
                    if not b:
                        break
                    conn.send(b)
                    left -= len(b)
            resp = conn.getresponse()
        except OSError as e:
            body = json.dumps({"message": "lakefs front: upstream: %s" % e}).encode()
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if resp.getheader("Content-Length") is None and self.command != "HEAD" \
                and resp.status not in (204, 304):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            conn.close()
            return
        try:
            while True:
                b = resp.read1(CHUNK)
                if not b:
                    break
                self.wfile.write(b)
        except (OSError, http.client.HTTPException):
            pass
        if not resp.isclosed() or (resp.length or 0) > 0:
            # the upstream stopped short: so does the client's connection
            stand_in.cut_connection(self)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--prism", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--ready-file")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Front)
    srv.daemon_threads = True
    srv.prism_url = urllib.parse.urlsplit(a.prism)
    srv.server_url = urllib.parse.urlsplit(a.server)
    stand_in.write_ready(a.ready_file, srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
