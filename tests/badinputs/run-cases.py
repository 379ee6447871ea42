#!/usr/bin/python3
"""The bad-input catalogue: runs every case of cases.tsv against `lathe`.

Each case gets a fresh folder holding a copy of a store seeded with one good
run (`.lathe/`, the default store of a pipeline in that folder and of commands
run there) and of examples/iris (`iris/`). The case's fixtures are written,
the store is snapshotted, the command runs (cwd = the case folder, 30 s
timeout), and the runner checks:

- the exit code;
- the first line of the message: stderr's first line, or for a failed run
  (`lathe run` exiting 1) the error of the first node whose status is
  `failed` in the table on stdout;
- no crash: killed by a signal, exit >= 128, or CRITICAL / "ERROR **" /
  AddressSanitizer / "runtime error" in stderr;
- no raw control character (ESC, CR, NUL...) reaches stdout or stderr;
- a refusal (exit 2) is one line of stderr, unless the case has the flag
  `multi` (usage text, several validation problems);
- the store: a refusal (exit 2), and any command but `run`, leaves the store
  unchanged in content: every SQLite database dumps to the same rows and
  every other file has the same SHA-256. A failed run (exit 1) may add rows
  and files, but every row and file that existed before is still there,
  unchanged (so no alias moved and no artifact was altered). Leftovers in
  scratch/ and artifacts/tmp/ fail any case.

A case marked xfail (a known bug, with its reason) is expected to fail one
of these checks: it is reported as "xfail"; if it passes, that is a failure
("XPASS"), so that the mark is removed with the fix.

Usage: run-cases.py [--table FILE] [--only REGEX] [--jobs N] [--record] [-v]
Environment: LATHE_BIN, LATHE_SOURCE_DIR, LATHE_NUMERICAL (false skips the
cases with the flag `num` or naming a model/* or tuner/bayes component).
--record prints, for every case, a table line with the exit code and
message seen today (to fill in new cases; read them before committing).
"""
import argparse
import codecs
import concurrent.futures
import hashlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import io
import gzip

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('LATHE_SOURCE_DIR', os.path.dirname(os.path.dirname(HERE)))
LATHE = os.environ.get('LATHE_BIN') or os.path.join(SRC, 'build', 'lathe')
NUMERICAL = os.environ.get('LATHE_NUMERICAL', 'true') != 'false'
TIMEOUT = 30
CRASH = re.compile(r'CRITICAL|ERROR \*\*|AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|core dumped')
CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')
FAILED_NODE = re.compile(r'^\S+\s+failed\s+[0-9.]+\s+(.*)$')
COLUMNS = ['id', 'category', 'flags', 'exit', 'message', 'xfail', 'args', 'fixtures']


def parse_table(path):
    cases = []
    ids = set()
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            cols = line.split('\t')
            if len(cols) != len(COLUMNS):
                sys.exit(f'{path}:{n}: {len(cols)} columns, expected {len(COLUMNS)} ({", ".join(COLUMNS)})')
            c = dict(zip(COLUMNS, cols))
            if c['id'] in ids:
                sys.exit(f'{path}:{n}: duplicate id {c["id"]}')
            ids.add(c['id'])
            c['line'] = n
            c['flags'] = set() if c['flags'] == '-' else set(c['flags'].split(','))
            c['flags_explicit'] = sorted(c['flags'])
            c['exit'] = int(c['exit'])
            c['xfail'] = None if c['xfail'] == '-' else c['xfail']
            c['fixtures'] = [] if c['fixtures'] == '-' else c['fixtures'].split(' ;; ')
            if re.search(r'"(model/|tuner/bayes)', c['fixtures'] and ' '.join(c['fixtures']) or ''):
                c['flags'].add('num')
            cases.append(c)
    return cases


# ---------------------------------------------------------------- fixtures

def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def tar_bytes(members, mode='w'):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in members:
            if isinstance(data, tuple):  # ('symlink', target)
                ti = tarfile.TarInfo(name)
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
                continue
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def iris_bytes(ctx):
    with open(os.path.join(ctx['dir'], 'iris', 'iris.csv'), 'rb') as f:
        return f.read()


GOOD_CSV = b'a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n11,12,y\n'


def gen_file(ctx, path, name, arg):
    """Generators for fixtures that are not text: `gen:FILE=NAME[:ARG]`."""
    iris = iris_bytes(ctx)
    if name == 'fifo':
        os.mkfifo(path)
    elif name == 'dir':
        os.makedirs(path)
    elif name == 'emptydir':
        os.makedirs(path)
    elif name == 'empty':
        open(path, 'wb').close()
    elif name == 'symlink':
        os.symlink(arg, path)
    elif name == 'symlink-loop':
        os.symlink(os.path.basename(path), path)
    elif name == 'zeros':
        with open(path, 'wb') as f:
            f.write(b'\0' * int(arg))
    elif name == 'big':  # ARG MiB of a repeated JSON-ish text
        with open(path, 'wb') as f:
            f.write(b' ' * (int(arg) << 20))
    elif name == 'hugefield':  # a CSV whose one field is ARG MiB
        with open(path, 'wb') as f:
            f.write(b'a,b,species\n1,' + b'7' * (int(arg) << 20) + b',x\n3,4,y\n')
    elif name == 'hugelabel':
        with open(path, 'wb') as f:
            f.write(b'a,b,species\n1,2,' + b'L' * (int(arg) << 20) + b'\n3,4,y\n')
    elif name == 'wide':  # ARG columns
        n = int(arg)
        with open(path, 'wb') as f:
            f.write(','.join(f'c{i}' for i in range(n)).encode() + b',species\n')
            for r in range(4):
                f.write(','.join('1' for _ in range(n)).encode() + (b',x\n' if r % 2 else b',y\n'))
    elif name == 'deep':  # ARG levels of nesting in a pipeline
        n = int(arg)
        with open(path, 'wb') as f:
            f.write(b'{"nodes":' + b'[' * n + b']' * n + b'}')
    elif name == 'deepobj':
        n = int(arg)
        with open(path, 'wb') as f:
            f.write(b'{"nodes":[{"id":"a","use":"source/csv","with":{"path":' + b'{"a":' * n + b'1' + b'}' * n + b'}}]}')
    elif name == 'manynodes':
        n = int(arg)
        nodes = ','.join('{"id":"n%d","use":"transform/splitt"}' % i for i in range(n))
        with open(path, 'w') as f:
            f.write('{"nodes":[%s]}' % nodes)
    elif name == 'zip-truncated':
        z = zip_bytes([('iris.csv', iris)])
        with open(path, 'wb') as f:
            f.write(z[:len(z) // 2])
    elif name == 'zip-garbage':
        with open(path, 'wb') as f:
            f.write(b'PK\x03\x04' + b'\xde\xad\xbe\xef' * 64)
    elif name == 'zip-empty':
        with open(path, 'wb') as f:
            f.write(zip_bytes([]))
    elif name == 'zip-nocsv':
        with open(path, 'wb') as f:
            f.write(zip_bytes([('readme.txt', b'hello\n')]))
    elif name == 'zip-nested':
        inner = zip_bytes([('iris.csv', iris)])
        with open(path, 'wb') as f:
            f.write(zip_bytes([('inner.zip', inner)]))
    elif name == 'zip-badcsv':
        with open(path, 'wb') as f:
            f.write(zip_bytes([('a.csv', b'a,b\n1,2\n'), ('b.csv', b'x,y,z\n1,2\n')]))
    elif name == 'zip-mixedheaders':
        with open(path, 'wb') as f:
            f.write(zip_bytes([('a.csv', GOOD_CSV), ('b.csv', b'q,r,species\n1,2,x\n')]))
    elif name == 'zip-bomb':  # ARG MiB of zeros compressed
        data = b'0,0\n' * ((int(arg) << 20) // 4)
        with open(path, 'wb') as f:
            f.write(zip_bytes([('bomb.csv', b'a,b\n' + data)]))
    elif name == 'zip-traversal':
        with open(path, 'wb') as f:
            f.write(zip_bytes([('../../escape.csv', GOOD_CSV)]))
    elif name == 'zip-encrypted-flag':  # general-purpose bit 0 set
        z = bytearray(zip_bytes([('iris.csv', iris)], zipfile.ZIP_STORED))
        z[6] |= 1
        cd = z.rfind(b'PK\x01\x02')
        z[cd + 8] |= 1
        with open(path, 'wb') as f:
            f.write(bytes(z))
    elif name == 'zip-crc':  # a stored member with a wrong CRC
        z = bytearray(zip_bytes([('iris.csv', iris)], zipfile.ZIP_STORED))
        pos = 30 + len('iris.csv') + len(iris) // 2  # inside the member's data
        while not chr(z[pos]).isdigit():
            pos += 1
        z[pos] = ord('0') + (z[pos] - ord('0') + 1) % 10  # still a valid CSV, one value off
        with open(path, 'wb') as f:
            f.write(bytes(z))
    elif name == 'tar-truncated':
        t = tar_bytes([('iris.csv', iris)])
        with open(path, 'wb') as f:
            f.write(t[:700])
    elif name == 'tar-empty':
        with open(path, 'wb') as f:
            f.write(tar_bytes([]))
    elif name == 'tar-nocsv':
        with open(path, 'wb') as f:
            f.write(tar_bytes([('notes.txt', b'hi\n')]))
    elif name == 'tar-symlink':
        with open(path, 'wb') as f:
            f.write(tar_bytes([('link.csv', ('symlink', '/etc/passwd'))]))
    elif name == 'tgz-truncated':
        t = tar_bytes([('iris.csv', iris)], 'w:gz')
        with open(path, 'wb') as f:
            f.write(t[:len(t) // 2])
    elif name == 'gz-garbage':
        with open(path, 'wb') as f:
            f.write(b'\x1f\x8b\x08\x00' + b'garbage' * 20)
    elif name == 'gz-truncated':
        g = gzip.compress(iris)
        with open(path, 'wb') as f:
            f.write(g[:len(g) // 2])
    elif name == 'gz-badcsv':
        with open(path, 'wb') as f:
            f.write(gzip.compress(b'a,b,species\n1,2\n'))
    elif name == 'random':
        with open(path, 'wb') as f:
            f.write(hashlib.sha256(b'x').digest() * int(arg))
    elif name == 'copy-iris':
        with open(path, 'wb') as f:
            f.write(iris)
    else:
        raise ValueError(f'unknown generator {name}')


def store_artifacts(store):
    base = os.path.join(store, 'artifacts', 'sha256')
    out = []
    for root, _, files in os.walk(base):
        out += [os.path.join(root, f) for f in files]
    return sorted(out, key=lambda p: (os.path.getsize(p), p))


def gen_store(ctx, name, arg):
    """Damage the case's store: `store:NAME[:ARG]`."""
    store = ctx['store']
    db = os.path.join(store, 'lathe.db')
    if name in ('zero-db', 'garbage-db', 'text-db', 'truncated-db'):
        data = open(db, 'rb').read()
        for ext in ('-wal', '-shm'):
            if os.path.exists(db + ext):
                os.unlink(db + ext)
        with open(db, 'wb') as f:
            if name == 'garbage-db':
                f.write(b'\x00\x01garbage' * 512)
            elif name == 'text-db':
                f.write(b'this is not a database\n')
            elif name == 'truncated-db':
                f.write(b'SQLite format 3\x00' + b'\x10\x00' + b'\x00' * 50)
    elif name == 'no-db':
        for ext in ('', '-wal', '-shm'):
            if os.path.exists(db + ext):
                os.unlink(db + ext)
    elif name == 'db-dir':
        for ext in ('', '-wal', '-shm'):
            if os.path.exists(db + ext):
                os.unlink(db + ext)
        os.makedirs(db)
    elif name == 'newer-schema':
        c = sqlite3.connect(db)
        c.execute('PRAGMA user_version = 99')
        c.commit()
        c.close()
    elif name == 'drop-table':
        c = sqlite3.connect(db)
        c.execute('DROP TABLE ' + arg)
        c.commit()
        c.close()
    elif name == 'flip-artifact':  # flip one byte of the ARG-th smallest artifact
        p = store_artifacts(store)[int(arg or 0)]
        b = bytearray(open(p, 'rb').read())
        b[len(b) // 2] ^= 0x01
        with open(p, 'wb') as f:
            f.write(bytes(b))
    elif name == 'truncate-artifact':
        p = store_artifacts(store)[-1]
        b = open(p, 'rb').read()
        with open(p, 'wb') as f:
            f.write(b[:len(b) // 2])
    elif name == 'rm-artifact':
        os.unlink(store_artifacts(store)[-1])
    elif name == 'empty-artifact':
        open(store_artifacts(store)[-1], 'wb').close()
    elif name == 'rm-artifacts':
        shutil.rmtree(os.path.join(store, 'artifacts'))
    elif name == 'artifacts-file':
        shutil.rmtree(os.path.join(store, 'artifacts'))
        open(os.path.join(store, 'artifacts'), 'w').close()
    elif name == 'stray-artifact':  # a file whose name is not its hash
        d = os.path.join(store, 'artifacts', 'sha256', '00')
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, '0' * 62), 'wb') as f:
            f.write(b'stray')
    elif name == 'chmod':
        os.chmod(os.path.join(store, arg) if arg else store, 0)
    elif name == 'replace-with-file':
        shutil.rmtree(store)
        with open(store, 'w') as f:
            f.write('not a store\n')
    elif name == 'delete-run-row':  # an execution whose run is gone
        c = sqlite3.connect(db)
        c.execute('PRAGMA foreign_keys = OFF')
        c.execute('DELETE FROM runs')
        c.commit()
        c.close()
    else:
        raise ValueError(f'unknown store generator {name}')


def subst(s, ctx):
    for k in ('dir', 'store', 'src', 'runid', 'iris'):
        s = s.replace('{' + k + '}', ctx[k])
    return s.replace('{esc}', '\x1b').replace('{cr}', '\r')


def write_fixture(ctx, spec):
    kind, _, rest = spec.partition(':')
    if kind == 'store':
        name, _, arg = rest.partition(':')
        gen_store(ctx, name, arg)
        return
    fname, _, value = rest.partition('=')
    path = os.path.join(ctx['dir'], fname)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == 'text':
        with open(path, 'w', encoding='utf-8') as f:
            f.write(subst(value, ctx))
    elif kind == 'bytes':
        with open(path, 'wb') as f:
            f.write(codecs.escape_decode(subst(value, ctx).encode('utf-8'))[0])
    elif kind == 'gen':
        name, _, arg = value.partition(':')
        gen_file(ctx, path, name, subst(arg, ctx))
    else:
        raise ValueError(f'unknown fixture kind {kind!r}')


# ---------------------------------------------------------------- snapshots

def dump_db(path, scratch):
    """Rows of every table of an SQLite file, read from a copy (so that the
    store itself is never opened by this runner)."""
    d = tempfile.mkdtemp(dir=scratch)
    try:
        for ext in ('', '-wal'):
            if os.path.isfile(path + ext):
                shutil.copyfile(path + ext, os.path.join(d, 'x.db' + ext))
        c = sqlite3.connect(os.path.join(d, 'x.db'))
        try:
            out = {'__schema__': sorted(map(tuple, c.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name")))}
            out['__user_version__'] = c.execute('PRAGMA user_version').fetchone()
            for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                out[t] = sorted(repr(r) for r in c.execute(f'SELECT * FROM "{t}"'))
            return out
        finally:
            c.close()
    except sqlite3.DatabaseError as e:
        return None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def snapshot(store, scratch):
    """{relpath: sha256 | ('db', rows) | 'special' | 'unreadable'}"""
    snap = {}  # files only: creating an empty folder changes no content
    if not os.path.lexists(store):
        return snap
    if not os.path.isdir(store):
        return {'.': sha_file(store)}
    for root, dirs, files in os.walk(store):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, store)
            if f.endswith(('-wal', '-shm', '-journal')):
                continue
            if f.endswith('.db') and os.path.isfile(p):
                rows = dump_db(p, scratch)
                if rows is not None:
                    snap[rel] = ('db', rows)
                    continue
            snap[rel] = sha_file(p)
    return snap


def sha_file(p):
    try:
        if not os.path.isfile(p):
            return 'special'
        with open(p, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return 'unreadable'


def compare(before, after, append_only):
    """Problems, as short strings; none when the store is as it should be."""
    probs = []
    for k, v in before.items():
        if k not in after:
            probs.append(f'{k} removed')
            continue
        w = after[k]
        if isinstance(v, tuple) and isinstance(w, tuple):
            for t, rows in v[1].items():
                new = w[1].get(t)
                if new is None:
                    probs.append(f'{k}: table {t} gone')
                elif t == 'sqlite_sequence' and append_only:
                    pass  # AUTOINCREMENT counters grow with appended rows
                elif t.startswith('__') or not append_only:
                    if new != rows:
                        probs.append(f'{k}: {t} changed ({len(rows)} -> {len(new)} rows)')
                else:
                    left = list(new)
                    missing = 0
                    pool = {}
                    for r in new:
                        pool[r] = pool.get(r, 0) + 1
                    for r in rows:
                        if pool.get(r, 0):
                            pool[r] -= 1
                        else:
                            missing += 1
                    if missing:
                        probs.append(f'{k}: {missing} row(s) of {t} altered or removed')
            if not append_only:
                for t in w[1]:
                    if t not in v[1]:
                        probs.append(f'{k}: table {t} added')
        elif v != w:
            probs.append(f'{k} changed')
    if not append_only:
        for k in after:
            if k not in before:
                probs.append(f'{k} added')
    for k in after:
        if k.startswith(('scratch/', 'artifacts/tmp/')) and k not in before:
            probs.append(f'leftover {k}')
    return probs


# ---------------------------------------------------------------- running

def first_message(code, out, err, args):
    if code == 1 and args and args[0] == 'run':
        for line in out.splitlines():
            m = FAILED_NODE.match(line)
            if m:
                return m.group(1)
    for line in err.splitlines():
        if line.strip():
            return line
    for line in out.splitlines():
        if line.strip():
            return line
    return ''


def run_case(case, template, scratch, record):
    d = tempfile.mkdtemp(prefix=case['id'][:40] + '.', dir=scratch)
    ctx = {'dir': d, 'store': os.path.join(d, '.lathe'), 'src': SRC,
           'runid': template['runid'], 'iris': os.path.join(d, 'iris', 'iris.csv')}
    shutil.copytree(template['dir'], d, symlinks=True, dirs_exist_ok=True)
    try:
        for spec in case['fixtures']:
            write_fixture(ctx, spec)
        args = [subst(a, ctx) for a in shlex.split(case['args'])]
        before = snapshot(ctx['store'], scratch)
        t0 = time.monotonic()
        env = dict(os.environ)
        env['NO_COLOR'] = '1'
        p = subprocess.Popen([LATHE] + args, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            out, err = p.communicate(timeout=TIMEOUT)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            timed_out = True
        secs = time.monotonic() - t0
        out = out.decode('utf-8', 'replace').replace(d, '{dir}').replace(ctx['runid'], '{runid}')
        err = err.decode('utf-8', 'replace').replace(d, '{dir}').replace(ctx['runid'], '{runid}')
        code = p.returncode
        msg = first_message(code, out, err, args)
        problems = []
        if timed_out:
            problems.append(f'timed out after {TIMEOUT} s')
        elif code < 0 or code >= 128:
            problems.append(f'crashed: exit {code}')
        m = CRASH.search(err)
        if m:
            problems.append(f'crash marker {m.group(0)!r} in stderr')
        m = CONTROL.search(out + err)
        if m:
            problems.append(f'raw control character {m.group(0)!r} in the output (terminal injection)')
        if not timed_out and code != case['exit']:
            problems.append(f'exit {code}, expected {case["exit"]}')
        exp = case['message']
        if exp.startswith('re:'):
            ok = re.search(exp[3:], msg) is not None
        else:
            ok = exp in msg
        if not ok:
            problems.append(f'message {msg[:300]!r} does not match {exp!r}')
        if code == 2 and 'multi' not in case['flags']:
            n = len([l for l in err.splitlines() if l.strip()])
            if n != 1:
                problems.append(f'{n} lines on stderr for a refusal')
        # Let the store's files settle (a killed child cannot write any more).
        for root, dirs, _ in os.walk(d):
            for x in dirs:
                try:
                    os.chmod(os.path.join(root, x), 0o700)
                except OSError:
                    pass
        after = snapshot(ctx['store'], scratch)
        append_only = code == 1 and args[:1] == ['run']
        sp = compare(before, after, append_only)
        if sp:
            problems.append('store: ' + '; '.join(sp[:5]))
        return {'case': case, 'problems': problems, 'code': code, 'msg': msg, 'secs': secs,
                'err': err, 'out': out}
    except Exception as e:  # a broken fixture is a failure of the case
        return {'case': case, 'problems': [f'runner error: {type(e).__name__}: {e}'], 'code': None,
                'msg': '', 'secs': 0, 'err': '', 'out': ''}
    finally:
        for root, dirs, _ in os.walk(d):
            for x in dirs:
                try:
                    os.chmod(os.path.join(root, x), 0o700)
                except OSError:
                    pass
        if not record:
            shutil.rmtree(d, ignore_errors=True)


def seed_store(scratch):
    """A folder with `iris/` (examples/iris) and `.lathe/`, a store holding one
    good run: examples/iris with the numerical plugins, else a source and a
    split of iris.csv."""
    d = os.path.join(scratch, 'template')
    os.makedirs(d)
    iris = os.path.join(d, 'iris')
    shutil.copytree(os.path.join(SRC, 'examples', 'iris'), iris)
    pipe = os.path.join(iris, 'pipeline.json')
    if not NUMERICAL:
        pipe = os.path.join(iris, 'small.json')
        with open(pipe, 'w') as f:
            f.write('{"lathe": 1, "name": "small", "nodes": ['
                    '{"id": "data", "use": "source/csv", "with": {"path": "iris.csv", "label": "species"}},'
                    '{"id": "split", "use": "transform/split", "in": {"data": "data"}}]}')
    r = subprocess.run([LATHE, 'run', pipe, '--store', os.path.join(d, '.lathe'), '--jobs', '2'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f'seeding the store failed ({r.returncode}):\n{r.stdout}\n{r.stderr}')
    m = re.search(r'run ([0-9a-f]{8}) succeeded', r.stdout)
    return {'dir': d, 'runid': m.group(1)}


def record_line(c, r):
    msg = r['msg']
    if len(msg) > 160:
        msg = msg[:160]
    msg = msg.replace('\t', ' ')
    cols = [c['id'], c['category'], ','.join(c['flags_explicit']) or '-',
            str(r['code']), msg or '-', c['xfail'] or '-', c['args'], ' ;; '.join(c['fixtures']) or '-']
    return '\t'.join(cols)


def self_check():
    """compare() itself: a checker that sees no change would pass every case."""
    db = ('db', {'runs': ["('a',)"], 'sqlite_sequence': ["('runs', 1)"]})
    db2 = ('db', {'runs': ["('a',)", "('b',)"], 'sqlite_sequence': ["('runs', 2)"]})
    db3 = ('db', {'runs': ["('A',)", "('b',)"], 'sqlite_sequence': ["('runs', 2)"]})
    assert compare({'x': '1', 'l.db': db}, {'x': '1', 'l.db': db}, False) == []
    assert compare({'x': '1'}, {'x': '2'}, False) and compare({'x': '1'}, {}, True)
    assert compare({'x': '1'}, {'x': '1', 'y': '2'}, False) and not compare({'x': '1'}, {'x': '1', 'y': '2'}, True)
    assert compare({'l.db': db}, {'l.db': db2}, False) and not compare({'l.db': db}, {'l.db': db2}, True)
    assert compare({'l.db': db}, {'l.db': db3}, True)
    assert compare({}, {'scratch/1/f': '1'}, True)


def main():
    self_check()
    ap = argparse.ArgumentParser()
    ap.add_argument('--table', default=os.path.join(HERE, 'cases.tsv'))
    ap.add_argument('--only', default=None, help='regex on case ids')
    ap.add_argument('--category', default=None)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--record', action='store_true')
    ap.add_argument('-v', action='store_true')
    a = ap.parse_args()
    cases = parse_table(a.table)
    if a.only:
        cases = [c for c in cases if re.search(a.only, c['id'])]
    if a.category:
        cases = [c for c in cases if c['category'] == a.category]
    scratch = tempfile.mkdtemp(prefix='lathe-badinputs-')
    t0 = time.monotonic()
    try:
        template = seed_store(scratch)
        run, skipped = [], []
        for c in cases:
            if 'num' in c['flags'] and not NUMERICAL:
                skipped.append((c, 'needs the numerical plugins (-Dnumerical_plugins=false)'))
            elif 'nonroot' in c['flags'] and os.geteuid() == 0:
                skipped.append((c, 'permissions do not apply to root'))
            else:
                run.append(c)
        results = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            futs = [ex.submit(run_case, c, template, scratch, a.record) for c in run]
            for f in futs:
                results.append(f.result())
        npass = nfail = nxfail = 0
        byc = {}
        for r in results:
            c = r['case']
            cat = byc.setdefault(c['category'], [0, 0, 0])
            ok = not r['problems']
            if a.record:
                print(record_line(c, r))
                if r['problems']:
                    probs = [x for x in r['problems'] if not x.startswith(('exit ', 'message '))]
                    if probs or r['code'] == 0:
                        print(f'{c["id"]}\t{r["code"]}\t' + ' | '.join(probs)[:600], file=sys.stderr)
                continue
            if c['xfail']:
                if ok:
                    nfail += 1
                    cat[1] += 1
                    print(f'FAIL - {c["id"]} (line {c["line"]}): XPASS, passes now: remove its xfail ({c["xfail"]})')
                else:
                    nxfail += 1
                    cat[2] += 1
                    print(f'xfail - {c["id"]}: {c["xfail"]}' + (f' [{"; ".join(r["problems"])[:300]}]' if a.v else ''))
            elif ok:
                npass += 1
                cat[0] += 1
                print(f'ok - {c["id"]}' + (f' ({r["secs"]:.2f} s)' if a.v else ''))
            else:
                nfail += 1
                cat[1] += 1
                print(f'FAIL - {c["id"]} (line {c["line"]}): ' + '; '.join(r['problems']))
                if r['err'].strip():
                    print('#   stderr: ' + r['err'][:400].replace('\n', '\n#   '))
        for c, why in skipped:
            print(f'skip - {c["id"]}: {why}')
        if nfail:  # again at the end, where meson's log excerpt shows them
            print()
            for r in results:
                c = r['case']
                if (c['xfail'] is None) == bool(r['problems']):
                    print(f'FAIL - {c["id"]}' + (': XPASS' if c['xfail'] else ': ' + '; '.join(r['problems'])[:300]))
        if a.record:
            return 0
        print()
        for k in sorted(byc):
            p, f, x = byc[k]
            print(f'# {k:10} {p + f + x:4} cases: {p} ok, {f} failed, {x} xfail')
        print(f'{len(cases)} cases: {npass} ok, {nfail} failed, {nxfail} xfail, {len(skipped)} skipped '
              f'in {time.monotonic() - t0:.1f} s')
        return 1 if nfail else 0
    finally:
        if not a.record:
            for root, dirs, _ in os.walk(scratch):
                for x in dirs:
                    try:
                        os.chmod(os.path.join(root, x), 0o700)
                    except OSError:
                        pass
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f'# kept {scratch}', file=sys.stderr)


if __name__ == '__main__':
    sys.exit(main())
