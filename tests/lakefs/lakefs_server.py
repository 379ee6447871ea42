#!/usr/bin/python3
"""A small stateful lakeFS test server (Python 3 stdlib only).

It implements the part of the lakeFS API (/api/v1, ../shared/specs/lakefs/swagger.yml)
that Lathe calls, strictly: unknown repositories, branches, refs and paths are 404,
bad parameters 400, missing or wrong credentials 401, every error body {"message": ...}.
Refs, branches, tags and commits live in memory; object bytes live in files under
--data, each with its MD5 checksum (lakeFS's local block adapter reports MD5 hex).

A second, loopback-only control port (not part of the API) injects faults and
reports request counts per operation id; see tests/lakefs/README.md.

Usage:
  lakefs_server.py serve --port P --control-port C --data DIR \
      [--access-key-id K --secret-access-key S] [--ready-file F]
  lakefs_server.py import --endpoint URL --repository R [--branch B] \
      [--message M] [--prefix P] [--create] DIR
      (credentials from LAKECTL_CREDENTIALS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY;
       works against a real lakeFS too)
"""
import argparse
import base64
import email.parser
import email.policy
import email.utils
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import stand_in  # noqa: E402  (tests/common: the control port, faults, chunked bodies)

API = "/api/v1"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
REPO_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
BRANCH_RE = re.compile(r"^\w[-\w]*$")  # lakeFS's branch (and tag) id rule
NAMESPACE_RE = re.compile(r"^(s3|gs|https?|mem|local|transient)://.*$")
CHUNK = 64 * 1024


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- the store

class Store:
    """Repositories, refs, commits and staged objects. One lock guards it all."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(data_dir)
        os.makedirs(os.path.join(self.data_dir, "blobs"), exist_ok=True)
        self.lock = threading.RLock()
        self.repos = {}
        self.counter = 0

    # --- helpers
    def repo(self, name):
        r = self.repos.get(name)
        if r is None:
            raise ApiError(404, "repository not found")
        return r

    def new_commit(self, repo, parents, message, metadata, tree, committer, date=None):
        self.counter += 1
        tree_digest = hashlib.sha256(json.dumps(
            sorted((p, e["checksum"], e["physical_address"]) for p, e in tree.items())).encode()).hexdigest()
        generation = 1 + max((repo["commits"][p]["generation"] for p in parents), default=0)
        created = int(date if date is not None else time.time())
        cid = hashlib.sha256(json.dumps(
            [repo["id"], parents, message, metadata, tree_digest, created, self.counter,
             uuid.uuid4().hex]).encode()).hexdigest()
        commit = {"id": cid, "parents": list(parents), "committer": committer, "message": message,
                  "creation_date": created, "meta_range_id": tree_digest if tree else "",
                  "metadata": dict(metadata), "generation": generation, "version": 1}
        repo["commits"][cid] = commit
        repo["trees"][cid] = dict(tree)
        return commit

    def create_repo(self, name, namespace, default_branch, bare, user):
        if name in self.repos:
            raise ApiError(409, "repository already exists")
        repo = {"id": name, "creation_date": int(time.time()), "default_branch": default_branch,
                "storage_namespace": namespace, "read_only": False,
                "branches": {}, "tags": {}, "commits": {}, "trees": {}}
        if not bare:
            c = self.new_commit(repo, [], "Repository created", {}, {}, "")
            repo["branches"][default_branch] = {"commit_id": c["id"], "staging": {}}
        self.repos[name] = repo
        return repo

    def resolve(self, repo, ref):
        """A ref to (commit id, branch or None). Branch, then tag, then commit id, then ~N/^."""
        m = re.match(r"^(.*?)((?:[~^]\d*)*)$", ref)
        base, mods = m.group(1), m.group(2)
        if base in repo["branches"]:
            cid, branch = repo["branches"][base]["commit_id"], base
        elif base in repo["tags"]:
            cid, branch = repo["tags"][base], None
        elif base in repo["commits"]:
            cid, branch = base, None
        else:
            raise ApiError(404, "%s: not found" % ref if not mods else "%s: ref not found" % ref)
        for op, n in re.findall(r"([~^])(\d*)", mods):
            branch = None
            steps = int(n) if n else 1
            if op == "^":
                parents = repo["commits"][cid]["parents"]
                if steps < 1 or steps > len(parents):
                    raise ApiError(404, "%s: not found" % ref)
                cid = parents[steps - 1]
            else:
                for _ in range(steps):
                    parents = repo["commits"][cid]["parents"]
                    if not parents:
                        raise ApiError(404, "%s: not found" % ref)
                    cid = parents[0]
        return cid, branch

    def view(self, repo, ref):
        """The objects seen at a ref: a branch includes its staged changes."""
        cid, branch = self.resolve(repo, ref)
        tree = repo["trees"][cid]
        if branch is None:
            return tree
        staging = repo["branches"][branch]["staging"]
        if not staging:
            return tree
        merged = dict(tree)
        for p, e in staging.items():
            if e is None:
                merged.pop(p, None)
            else:
                merged[p] = e
        return merged

    def branch(self, repo, name):
        b = repo["branches"].get(name)
        if b is None:
            raise ApiError(404, "branch not found")
        return b


# ---------------------------------------------------------------- faults

# Faults (the rules set through the control port) come from tests/common/stand_in.py.


# ---------------------------------------------------------------- routing

ROUTES = [
    ("GET", r"/repositories", "listRepositories"),
    ("POST", r"/repositories", "createRepository"),
    ("GET", r"/repositories/(?P<repository>[^/]+)", "getRepository"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/branches", "listBranches"),
    ("POST", r"/repositories/(?P<repository>[^/]+)/branches", "createBranch"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/branches/(?P<branch>[^/]+)", "getBranch"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/tags", "listTags"),
    ("POST", r"/repositories/(?P<repository>[^/]+)/tags", "createTag"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/tags/(?P<tag>[^/]+)", "getTag"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/refs/(?P<ref>[^/]+)/commits", "logCommits"),
    ("POST", r"/repositories/(?P<repository>[^/]+)/branches/(?P<branch>[^/]+)/commits", "commit"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/commits/(?P<commitId>[^/]+)", "getCommit"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/refs/(?P<ref>[^/]+)/objects/ls", "listObjects"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/refs/(?P<ref>[^/]+)/objects/stat", "statObject"),
    ("GET", r"/repositories/(?P<repository>[^/]+)/refs/(?P<ref>[^/]+)/objects", "getObject"),
    ("HEAD", r"/repositories/(?P<repository>[^/]+)/refs/(?P<ref>[^/]+)/objects", "headObject"),
    ("POST", r"/repositories/(?P<repository>[^/]+)/branches/(?P<branch>[^/]+)/objects", "uploadObject"),
    ("DELETE", r"/repositories/(?P<repository>[^/]+)/branches/(?P<branch>[^/]+)/objects", "deleteObject"),
]
ROUTES = [(m, re.compile("^" + API + p + "$"), op) for m, p, op in ROUTES]


def parse_bool(q, name, default=None):
    v = q.get(name)
    if v is None:
        return default
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise ApiError(400, "invalid value for parameter %s: %r is not a boolean" % (name, v))


def parse_amount(q):
    v = q.get("amount")
    if v is None:
        return DEFAULT_PER_PAGE
    try:
        n = int(v)
    except ValueError:
        raise ApiError(400, "invalid value for parameter amount: %r is not an integer" % v)
    if n < -1 or n > MAX_PER_PAGE:
        raise ApiError(400, "parameter amount: %d is outside [-1, %d]" % (n, MAX_PER_PAGE))
    return DEFAULT_PER_PAGE if n <= 0 else n


def page(items, key, q):
    """items sorted by key; the spec's Pagination over prefix/after/amount."""
    amount = parse_amount(q)
    after = q.get("after", "")
    prefix = q.get("prefix", "")
    sel = [i for i in items if key(i).startswith(prefix) and key(i) > after]
    more = len(sel) > amount
    sel = sel[:amount]
    return sel, {"has_more": more, "next_offset": key(sel[-1]) if more else "",
                 "results": len(sel), "max_per_page": amount}


def object_stats(path, e, user_metadata=True):
    s = {"path": path, "path_type": "object", "physical_address": e["physical_address"],
         "checksum": e["checksum"], "size_bytes": e["size_bytes"], "mtime": e["mtime"],
         "content_type": e["content_type"]}
    if user_metadata:
        s["metadata"] = dict(e["metadata"])
    return s


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "lakefs-test-server"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("lakefs-test-server: " + (fmt % args) + "\n")

    # --- plumbing
    def send_json(self, status, obj, op=None):
        if op is not None and status < 300 and self.server.faults.take("violate", op):
            obj = violate(obj)
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_json(self, status, message):
        self.send_json(status, {"message": message})

    def read_body(self):
        if self.body_consumed:
            return b""
        self.body_consumed = True
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = bytearray()
            for chunk in stand_in.read_chunks(self.rfile):
                out += chunk
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def iter_body(self):
        if self.body_consumed:
            return
        self.body_consumed = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            yield from stand_in.read_chunks(self.rfile)
            return
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            b = self.rfile.read(min(CHUNK, left))
            if not b:
                raise ApiError(400, "request body ended early")
            left -= len(b)
            yield b

    def json_body(self):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        raw = self.read_body()
        if ctype != "application/json":
            raise ApiError(400, "request body has an error: header Content-Type has unexpected value %r" % ctype)
        try:
            body = json.loads(raw or b"null")
        except ValueError as e:
            raise ApiError(400, "request body has an error: failed to decode request body: %s" % e)
        if not isinstance(body, dict):
            raise ApiError(400, "request body has an error: value must be an object")
        return body

    def authorized(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            kid, _, secret = base64.b64decode(h[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (kid, secret) == (self.server.key_id, self.server.secret)

    def handle_any(self):
        self.body_consumed = False
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        self.query = {}
        for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            self.query.setdefault(k, v)
        self.query_all = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        route = None
        path_ok = False
        for method, rx, op in ROUTES:
            m = rx.match(path)
            if m:
                path_ok = True
                if method == self.command:
                    route = (op, m.groupdict())
                    break
        op = route[0] if route else "unknown"
        faults = self.server.faults
        faults.count(op)
        try:
            if route is None:
                # drain so a keep-alive connection stays in step
                self.read_body() if self.command in ("POST", "PUT") else None
                raise ApiError(405 if path_ok else 404,
                               "method not allowed" if path_ok else "path not found: " + path)
            d = faults.take("delay", op)
            if d:
                time.sleep(float(d.get("seconds", 1)))
            f = faults.take("fail", op)
            if f:
                self.read_body() if self.command in ("POST", "PUT") else None
                status = int(f.get("status", 503))
                body = json.dumps({"message": "injected fault"}).encode()
                self.send_response(status)
                if f.get("retry_after") is not None:
                    self.send_header("Retry-After", str(f["retry_after"]))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if not self.authorized():
                self.read_body() if self.command in ("POST", "PUT") else None
                raise ApiError(401, "error authenticating request")
            getattr(self, "op_" + op)(**route[1])
        except ApiError as e:
            # an unread body would be parsed as the next request on this connection
            if self.command in ("POST", "PUT", "DELETE"):
                for _ in self.iter_body():
                    pass
            self.send_error_json(e.status, e.message)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = handle_any

    # --- repositories
    def op_listRepositories(self):
        st = self.server.store
        with st.lock:
            repos = sorted(st.repos.values(), key=lambda r: r["id"])
            sel, pag = page(repos, lambda r: r["id"], self.query)
            self.send_json(200, {"pagination": pag, "results": [repo_json(r) for r in sel]},
                           "listRepositories")

    def op_createRepository(self):
        body = self.json_body()
        bare = parse_bool(self.query, "bare", False)
        name, ns = body.get("name"), body.get("storage_namespace")
        if not isinstance(name, str) or not REPO_RE.match(name):
            raise ApiError(400, "request body has an error: name: must match ^[a-z0-9][a-z0-9-]{2,62}$")
        if not isinstance(ns, str) or not NAMESPACE_RE.match(ns):
            raise ApiError(400, "request body has an error: storage_namespace: invalid")
        default = body.get("default_branch", "main")
        if not isinstance(default, str) or not BRANCH_RE.match(default):
            raise ApiError(400, "default_branch: invalid branch name")
        st = self.server.store
        with st.lock:
            r = st.create_repo(name, ns, default, bare, self.server.key_id)
            self.send_json(201, repo_json(r), "createRepository")

    def op_getRepository(self, repository):
        st = self.server.store
        with st.lock:
            self.send_json(200, repo_json(st.repo(repository)), "getRepository")

    # --- branches and tags
    def op_listBranches(self, repository):
        parse_bool(self.query, "show_hidden", False)
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            refs = [{"id": n, "commit_id": b["commit_id"]} for n, b in sorted(r["branches"].items())]
            sel, pag = page(refs, lambda x: x["id"], self.query)
            self.send_json(200, {"pagination": pag, "results": sel}, "listBranches")

    def op_createBranch(self, repository):
        body = self.json_body()
        name, source = body.get("name"), body.get("source")
        if not isinstance(name, str) or not isinstance(source, str):
            raise ApiError(400, "request body has an error: name and source are required strings")
        if not BRANCH_RE.match(name):
            raise ApiError(400, "branch name: invalid value")
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            if name in r["branches"] and not body.get("force"):
                raise ApiError(409, "branch already exists")
            cid, _ = st.resolve(r, source)
            r["branches"][name] = {"commit_id": cid, "staging": {}}
        body = cid.encode()
        self.send_response(201)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def op_getBranch(self, repository, branch):
        st = self.server.store
        with st.lock:
            b = st.branch(st.repo(repository), branch)
            self.send_json(200, {"id": branch, "commit_id": b["commit_id"]}, "getBranch")

    def op_listTags(self, repository):
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            refs = [{"id": n, "commit_id": c} for n, c in sorted(r["tags"].items())]
            sel, pag = page(refs, lambda x: x["id"], self.query)
            self.send_json(200, {"pagination": pag, "results": sel}, "listTags")

    def op_createTag(self, repository):
        body = self.json_body()
        tid, ref = body.get("id"), body.get("ref")
        if not isinstance(tid, str) or not isinstance(ref, str):
            raise ApiError(400, "request body has an error: id and ref are required strings")
        if not BRANCH_RE.match(tid):
            raise ApiError(400, "tag id: invalid value")
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            if (tid in r["tags"] or tid in r["branches"]) and not body.get("force"):
                raise ApiError(409, "tag already exists")
            cid, _ = st.resolve(r, ref)
            r["tags"][tid] = cid
            self.send_json(201, {"id": tid, "commit_id": cid}, "createTag")

    def op_getTag(self, repository, tag):
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            if tag not in r["tags"]:
                raise ApiError(404, "tag not found")
            self.send_json(200, {"id": tag, "commit_id": r["tags"][tag]}, "getTag")

    # --- commits
    def op_logCommits(self, repository, ref):
        q = self.query
        for b in ("limit", "first_parent"):
            parse_bool(q, b)
        objects = self.query_all.get("objects", [])
        prefixes = self.query_all.get("prefixes", [])
        first_parent = parse_bool(q, "first_parent", False)
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            head, _ = st.resolve(r, ref)
            stop = q.get("stop_at") or None
            stop_id = st.resolve(r, stop)[0] if stop else None
            # newest first, by generation then date, walking all parents
            seen, frontier, log = set(), [head], []
            while frontier:
                frontier.sort(key=lambda c: (r["commits"][c]["generation"], r["commits"][c]["creation_date"]))
                cid = frontier.pop()
                if cid in seen:
                    continue
                seen.add(cid)
                c = r["commits"][cid]
                log.append(c)
                if cid == stop_id:
                    break
                frontier.extend(c["parents"][:1] if first_parent else c["parents"])
            if objects or prefixes:
                def touches(c):
                    tree = r["trees"][c["id"]]
                    ptree = r["trees"][c["parents"][0]] if c["parents"] else {}
                    keys = set(tree) | set(ptree)
                    changed = [k for k in keys if tree.get(k) != ptree.get(k)]
                    return any(k in objects for k in changed) or \
                        any(k.startswith(p) for k in changed for p in prefixes)
                log = [c for c in log if touches(c)]
            amount = parse_amount(q)
            after = q.get("after", "")
            if after:
                ids = [c["id"] for c in log]
                log = log[ids.index(after) + 1:] if after in ids else []
            more = len(log) > amount
            log = log[:amount]
            pag = {"has_more": more, "next_offset": log[-1]["id"] if more else "",
                   "results": len(log), "max_per_page": amount}
            self.send_json(200, {"pagination": pag, "results": [dict(c) for c in log]}, "logCommits")

    def op_getCommit(self, repository, commitId):
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            try:
                cid, _ = st.resolve(r, commitId)
            except ApiError:
                raise ApiError(404, "commit not found")
            self.send_json(200, dict(r["commits"][cid]), "getCommit")

    def op_commit(self, repository, branch):
        body = self.json_body()
        if "source_metarange" in self.query:
            raise ApiError(400, "source_metarange is not supported by the test server")
        msg = body.get("message")
        if not isinstance(msg, str):
            raise ApiError(400, "request body has an error: message is required")
        meta = body.get("metadata", {})
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise ApiError(400, "request body has an error: metadata values must be strings")
        if msg == "":
            raise ApiError(400, "commit message: required value")
        date = body.get("date")
        if date is not None and not isinstance(date, int):
            raise ApiError(400, "request body has an error: date must be an integer")
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            b = st.branch(r, branch)
            # lakeFS compares entries by identity, the checksum: objects uploaded
            # again with the same bytes are no change.
            base = r["trees"][b["commit_id"]]
            changed = any((e is None) != (p not in base) or
                          (e is not None and e["checksum"] != base[p]["checksum"])
                          for p, e in b["staging"].items())
            if not changed and not body.get("allow_empty"):
                raise ApiError(400, "commit: no changes")
            tree = st.view(r, branch)
            c = st.new_commit(r, [b["commit_id"]], msg, meta, tree, self.server.key_id, date)
            b["commit_id"], b["staging"] = c["id"], {}
            self.send_json(201, dict(c), "commit")

    # --- objects
    def op_listObjects(self, repository, ref):
        q = self.query
        um = parse_bool(q, "user_metadata", True)
        parse_bool(q, "presign")
        delim = q.get("delimiter", "")
        prefix = q.get("prefix", "")
        st = self.server.store
        with st.lock:
            view = st.view(st.repo(repository), ref)
            entries = {}
            for p, e in view.items():
                if not p.startswith(prefix):
                    continue
                rest = p[len(prefix):]
                i = rest.find(delim) if delim else -1
                if i >= 0:
                    cp = prefix + rest[:i + len(delim)]
                    entries[cp] = {"path": cp, "path_type": "common_prefix", "physical_address": "",
                                   "checksum": "", "mtime": 0}
                else:
                    entries[p] = object_stats(p, e, um)
            items = [entries[k] for k in sorted(entries)]
            sel, pag = page(items, lambda x: x["path"], q)
            self.send_json(200, {"pagination": pag, "results": sel}, "listObjects")

    def lookup(self, repository, ref):
        path = self.query.get("path")
        if path is None:
            raise ApiError(400, "query parameter path: value is required but missing")
        st = self.server.store
        with st.lock:
            view = st.view(st.repo(repository), ref)
            e = view.get(path)
            if e is None:
                raise ApiError(404, "not found: object %s" % path)
            return path, e

    def op_statObject(self, repository, ref):
        um = parse_bool(self.query, "user_metadata", True)
        parse_bool(self.query, "presign")
        path, e = self.lookup(repository, ref)
        self.send_json(200, object_stats(path, e, um), "statObject")

    def op_headObject(self, repository, ref):
        self.op_getObject(repository, ref)

    def op_getObject(self, repository, ref):
        parse_bool(self.query, "presign")
        path, e = self.lookup(repository, ref)
        etag = '"%s"' % e["checksum"]
        inm = self.headers.get("If-None-Match")
        if inm is not None and inm.strip() in (etag, e["checksum"], "*") and self.command == "GET":
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = e["size_bytes"]
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng is not None:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (m.group(1) == "" and m.group(2) == ""):
                raise ApiError(400 if not re.match(r"^bytes=((\d*-\d*,? ?)+)$", rng) else 416,
                               "invalid range %r" % rng)
            if m.group(1) == "":
                n = int(m.group(2))
                start = max(0, size - n)
            else:
                start = int(m.group(1))
                if m.group(2) != "":
                    end = min(int(m.group(2)), size - 1)
            if start >= size or start > end:
                raise ApiError(416, "Requested Range Not Satisfiable")
            status = 206
        length = end - start + 1 if size else 0
        drop = self.server.faults.take("drop", "getObject") if self.command == "GET" else None
        self.send_response(status)
        self.send_header("Content-Type", e["content_type"])
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(e["mtime"], usegmt=True))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        limit = int(drop.get("after_bytes", length // 2)) if drop else None
        sent = 0
        with open(e["file"], "rb") as f:
            f.seek(start)
            left = length
            while left > 0:
                n = min(CHUNK, left)
                if limit is not None:
                    n = min(n, limit - sent)
                    if n <= 0:
                        break
                b = f.read(n)
                if not b:
                    break
                self.wfile.write(b)
                sent += len(b)
                left -= len(b)
        if limit is not None:
            stand_in.cut_connection(self)

    def op_uploadObject(self, repository, branch):
        path = self.query.get("path")
        if path is None:
            raise ApiError(400, "query parameter path: value is required but missing")
        parse_bool(self.query, "force", False)
        st = self.server.store
        with st.lock:  # 404s before reading a large body
            r = st.repo(repository)
            st.branch(r, branch)
        ctype = self.headers.get("Content-Type", "application/octet-stream")
        # keys as Go's net/http canonicalizes them (lakeFS is a Go server)
        meta = {"-".join(w.capitalize() for w in k[len("x-lakefs-meta-"):].split("-")): v
                for k, v in self.headers.items() if k.lower().startswith("x-lakefs-meta-")}
        blob = os.path.join(st.data_dir, "blobs", uuid.uuid4().hex)
        md5 = hashlib.md5()
        size = 0
        content_type = "application/octet-stream"
        if ctype.startswith("multipart/form-data"):
            raw = self.read_body()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            parts = [p for p in msg.iter_parts()
                     if p.get_param("name", header="content-disposition") == "content"] \
                if msg.is_multipart() else []
            if not parts:
                raise ApiError(400, "missing 'content' part in the multipart body")
            data = parts[0].get_payload(decode=True) or b""
            content_type = parts[0].get_content_type() if parts[0].get("Content-Type") else content_type
            with open(blob, "wb") as f:
                f.write(data)
            md5.update(data)
            size = len(data)
        elif ctype.split(";")[0].strip() == "application/octet-stream":
            with open(blob, "wb") as f:
                for b in self.iter_body():
                    f.write(b)
                    md5.update(b)
                    size += len(b)
        else:
            self.read_body()
            raise ApiError(400, "request body has an error: unsupported Content-Type %r" % ctype)
        entry = {"physical_address": "local://" + blob, "file": blob, "checksum": md5.hexdigest(),
                 "size_bytes": size, "mtime": int(time.time()), "content_type": content_type,
                 "metadata": meta}
        with st.lock:
            r = st.repo(repository)
            b = st.branch(r, branch)
            cur = st.view(r, branch).get(path)
            if self.headers.get("If-None-Match") == "*" and cur is not None:
                os.unlink(blob)
                raise ApiError(412, "precondition failed: object exists")
            im = self.headers.get("If-Match")
            if im is not None and (cur is None or im.strip('"') != cur["checksum"]):
                os.unlink(blob)
                raise ApiError(412, "precondition failed: ETag mismatch")
            b["staging"][path] = entry
            self.send_json(201, object_stats(path, entry), "uploadObject")

    def op_deleteObject(self, repository, branch):
        path = self.query.get("path")
        if path is None:
            raise ApiError(400, "query parameter path: value is required but missing")
        st = self.server.store
        with st.lock:
            r = st.repo(repository)
            b = st.branch(r, branch)
            if path in r["trees"][b["commit_id"]]:
                b["staging"][path] = None
            else:
                b["staging"].pop(path, None)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def repo_json(r):
    return {k: r[k] for k in ("id", "creation_date", "default_branch", "storage_namespace", "read_only")}


def violate(obj):
    """The test-only switch: break the response schema (a required field dropped,
    a type changed) so a test can prove Prism catches it."""
    obj = json.loads(json.dumps(obj))
    if isinstance(obj, dict):
        for k in ("creation_date", "checksum", "commit_id", "pagination", "id"):
            if k in obj:
                del obj[k]
                obj["unexpected"] = True
                return obj
    return {"not": "in the spec"}


# ---------------------------------------------------------------- control port

class ControlHandler(stand_in.ControlHandler):
    """POST /faults  {"kind": ..., "match": ..., "count": N, ...}  adds a rule
    DELETE /faults   clears the rules
    GET /counts      request counts per operation id;  DELETE /counts resets them
    POST /corrupt    {"repository", "ref", "path"}: flips the object's stored bytes
                     (its checksum stays), so a download no longer matches it
    GET /health      200 once serving"""
    fault_kinds = ("fail", "delay", "drop", "violate")

    def post_extra(self, b):
        if self.path != "/corrupt":
            return False
        st = self.server.api.store
        try:
            with st.lock:
                r = st.repo(b["repository"])
                e = st.view(r, b.get("ref", r["default_branch"])).get(b["path"])
        except (ApiError, KeyError) as ex:
            self.reply(404, {"message": str(ex)})
            return True
        if e is None:
            self.reply(404, {"message": "no such object"})
            return True
        with open(e["file"], "r+b") as f:
            data = bytearray(f.read(16))
            if not data:
                self.reply(400, {"message": "empty object"})
                return True
            for i in range(len(data)):
                data[i] ^= 0xFF
            f.seek(0)
            f.write(data)
        self.reply(200, {"ok": True})
        return True


def serve(args):
    key = args.access_key_id or os.environ.get("LAKECTL_CREDENTIALS_ACCESS_KEY_ID")
    secret = args.secret_access_key or os.environ.get("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY")
    if not key or not secret:
        sys.exit("lakefs_server: give --access-key-id/--secret-access-key or the LAKECTL_CREDENTIALS_* variables")
    api = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    api.daemon_threads = True
    api.store = Store(args.data)
    api.faults = stand_in.Faults()
    api.key_id, api.secret = key, secret
    api.verbose = args.verbose
    ctl = stand_in.start_control(args.control_port, ControlHandler, api.faults, api=api)
    stand_in.write_ready(args.ready_file, api.server_address[1], ctl.server_address[1])
    print("lakefs test server on http://127.0.0.1:%d%s, control on http://127.0.0.1:%d" %
          (api.server_address[1], API, ctl.server_address[1]), file=sys.stderr, flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


# ---------------------------------------------------------------- importer

def import_dir(args):
    ep = args.endpoint.rstrip("/")
    if not ep.endswith(API):
        ep += API
    key = os.environ.get("LAKECTL_CREDENTIALS_ACCESS_KEY_ID")
    secret = os.environ.get("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY")
    if not key or not secret:
        sys.exit("lakefs_server import: set LAKECTL_CREDENTIALS_ACCESS_KEY_ID and "
                 "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY")
    auth = "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()
    q = urllib.parse.quote

    def call(method, path, body=None, ctype="application/json", ok=(200, 201)):
        data = json.dumps(body).encode() if ctype == "application/json" and body is not None else body
        req = urllib.request.Request(ep + path, data=data, method=method,
                                     headers={"Authorization": auth, "Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                raw = resp.read()
                return resp.status, raw
        except urllib.error.HTTPError as e:
            raw = e.read()
            if e.code in ok:
                return e.code, raw
            try:
                msg = json.loads(raw)["message"]
            except (ValueError, KeyError, TypeError):
                msg = raw[:200].decode(errors="replace")
            raise SystemExit("lakefs_server import: %s %s: %d %s" % (method, path, e.code, msg))

    repo, branch = args.repository, args.branch
    try:
        call("GET", "/repositories/" + q(repo, safe=""))
    except SystemExit:
        if not args.create:
            raise
        call("POST", "/repositories", {"name": repo, "storage_namespace": "local://" + repo,
                                       "default_branch": branch})
    try:
        call("GET", "/repositories/%s/branches/%s" % (q(repo, safe=""), q(branch, safe="")))
    except SystemExit:
        if not args.source:
            raise
        call("POST", "/repositories/%s/branches" % q(repo, safe=""), {"name": branch, "source": args.source})
    root = os.path.abspath(args.dir)
    files = []
    for d, _, names in os.walk(root):
        for n in names:
            files.append(os.path.join(d, n))
    files.sort()
    if args.limit:
        files = files[:args.limit]
    prefix = args.prefix.strip("/") + "/" if args.prefix.strip("/") else ""
    for fp in files:
        rel = prefix + os.path.relpath(fp, root).replace(os.sep, "/")
        with open(fp, "rb") as f:
            call("POST", "/repositories/%s/branches/%s/objects?path=%s" % (
                q(repo, safe=""), q(branch, safe=""), q(rel, safe="")), f.read(),
                "application/octet-stream")
    _, raw = call("POST", "/repositories/%s/branches/%s/commits" % (q(repo, safe=""), q(branch, safe="")),
                  {"message": args.message or "import %s" % root,
                   "metadata": {"imported_from": root, "objects": str(len(files))}})
    print(json.loads(raw)["id"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--control-port", type=int, default=0)
    s.add_argument("--data", required=True)
    s.add_argument("--access-key-id")
    s.add_argument("--secret-access-key")
    s.add_argument("--ready-file")
    s.add_argument("--verbose", action="store_true")
    i = sub.add_parser("import")
    i.add_argument("--endpoint", required=True)
    i.add_argument("--repository", required=True)
    i.add_argument("--branch", default="main")
    i.add_argument("--source", help="create the branch from this ref when it does not exist")
    i.add_argument("--message")
    i.add_argument("--prefix", default="")
    i.add_argument("--limit", type=int, default=0, help="import only the first N files (sorted)")
    i.add_argument("--create", action="store_true", help="create the repository when missing")
    i.add_argument("dir")
    a = ap.parse_args()
    serve(a) if a.cmd == "serve" else import_dir(a)


if __name__ == "__main__":
    main()
