"""What the stand-in servers' smoke tests (tests/lakefs/smoke.py,
tests/mlflow/smoke.py) share: TAP checks that stop at the first failure,
and one plain HTTP call with its answer. Python 3 stdlib only."""
import http.client
import json
import sys
import urllib.parse

checks = 0  # how many ok() calls so far


def ok(cond, what):
    """One TAP check; a failure ends the test."""
    global checks
    checks += 1
    if not cond:
        print("not ok - " + what, flush=True)
        sys.exit(1)
    print("ok - %s" % what, flush=True)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:160].decode(errors="replace"))


def raw_call(method, url, body=None, headers=None, timeout=10):
    """@method @url as it is (no auth, no retries); headers lower-cased."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    target = u.path + ("?" + u.query if u.query else "")
    conn.request(method, target, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
