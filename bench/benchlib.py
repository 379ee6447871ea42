"""What the benchmark harnesses (bench/nn, bench/trees) share: running each
measured process in a fresh child that reports its wall time and peak RSS,
the reference scripts' JSON protocol, and small summary helpers."""
import json
import os
import re
import socket
import statistics
import subprocess

PY = "/usr/bin/python3"

# A fresh child per measured process: RUSAGE_CHILDREN then holds that process's peak
# RSS alone (the maximum over the children this wrapper waited for: just the one).
MEASURE = r'''
import json, resource, subprocess, sys, time
out, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t = time.perf_counter()
with open(log, "wb") as err:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"rc": p.returncode, "wall": wall, "maxrss_mib": ru.ru_maxrss / 1024.0,
           "stdout": p.stdout.decode("utf-8", "replace")}, open(out, "w"))
'''


class MeasuredBench:
    """Base of a harness's Bench: @tmp for logs, @here for its reference scripts."""

    def __init__(self, tmp, here, timeout):
        self.tmp = tmp
        self.here = here
        self.timeout = timeout
        self.n = 0

    def measured(self, name, cmd, env):
        """Runs cmd in a fresh measuring child: {rc, wall, maxrss_mib, stdout, log}."""
        self.n += 1
        base = os.path.join(self.tmp, "logs", "%03d-%s" % (self.n, name))
        os.makedirs(os.path.dirname(base), exist_ok=True)
        subprocess.run([PY, "-c", MEASURE, base + ".json", base + ".log"] + cmd, env=env,
                       check=True, timeout=self.timeout)
        r = json.load(open(base + ".json"))
        r["log"] = base + ".log"
        return r

    @staticmethod
    def tail(r, lines=6):
        text = open(r["log"], errors="replace").read().strip().splitlines()
        return " | ".join(text[-lines:]) if text else "exit code %d" % r["rc"]

    def run_ref(self, name, script, args):
        """Runs a reference script, whose last stdout line is its JSON result."""
        r = self.measured(name, [PY, os.path.join(self.here, script)] + args, self.ref_env)
        if r["rc"] != 0:
            return {"error": "%s failed: %s" % (script, self.tail(r))}
        res = json.loads(r["stdout"].strip().splitlines()[-1])
        res.update({"wall": r["wall"], "maxrss_mib": r["maxrss_mib"]})
        return res


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def points(a, b):
    return 100.0 * (a - b) if a is not None and b is not None else None


def fmt(v, spec="%.3g", none="-"):
    return none if v is None else spec % v


def closed_port():
    """A loopback port nothing listens on: bound, then released."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def blas_config(lathe, lathe_env, ref_env):
    """Gives the references (ref_env, changed in place) the OpenBLAS kernels Lathe
    uses: the OPENBLAS_CORETYPE Lathe set as a fallback fix, else the user's, else
    none on either side. Prints what was chosen; returns it for the results JSON."""
    out = subprocess.run([lathe, "--version", "--json"], capture_output=True, text=True,
                         env=lathe_env, check=True).stdout
    ver = json.loads(out)
    desc = ver.get("blas", "")
    m = re.search(r"Lathe set OPENBLAS_CORETYPE=(\w+)", desc)
    user = os.environ.get("OPENBLAS_CORETYPE")
    if m:
        ref_env["OPENBLAS_CORETYPE"] = m.group(1)
        how = "Lathe set OPENBLAS_CORETYPE=%s (fallback fix); exported to the references" % m.group(1)
    elif user:
        how = "OPENBLAS_CORETYPE=%s from the environment, for both sides" % user
    else:
        how = "no OPENBLAS_CORETYPE: OpenBLAS detects the core itself on both sides"
    core = re.search(r"core (\w+)", desc)
    probe = subprocess.run(
        [PY, "-c", "import numpy, threadpoolctl; print(next((l.get('architecture') for l in "
         "threadpoolctl.threadpool_info() if l.get('internal_api') == 'openblas'), None))"],
        capture_output=True, text=True, env=ref_env)
    py_core = probe.stdout.strip() if probe.returncode == 0 else None
    config = {"lathe_version": ver.get("version"), "lathe_blas": desc,
              "blas_core_lathe": core.group(1) if core else None,
              "blas_core_python": py_core,
              "openblas_coretype_exported": ref_env.get("OPENBLAS_CORETYPE"),
              "blas_setting": how}
    print("BLAS: Lathe: %s" % desc)
    print("      %s; numpy in /usr/bin/python3 loads core %s" % (how, py_core))
    if core and py_core and core.group(1) != py_core:
        print("      WARNING: the two sides use different OpenBLAS kernels")
    return config
