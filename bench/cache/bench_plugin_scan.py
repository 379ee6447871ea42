#!/usr/bin/python3
"""The plugin catalog's cold scan against its cached load.

Usage: bench/cache/bench_plugin_scan.py BUILD_DIR [REPS]
Times `lathe plugins` REPS times (default 21) with an empty plugin cache
(every bundled plugin inspected, since 2026-12 in one scanner child) and with
a warm one (no plugin opened, no child), keeping the BLAS cache warm in both.
Prints wall-clock and CPU time (user + sys, children included: the scanner's
share counts) as min and median. The machine's load moves wall-clock medians
a lot; CPU time much less.
"""
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=False)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    return (time.perf_counter() - t0) * 1e3, cpu * 1e3


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lathe = os.path.join(sys.argv[1], "lathe")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    with tempfile.TemporaryDirectory(prefix="lathe-bench-scan-") as top:
        warm = os.path.join(top, "warm")
        subprocess.run([lathe, "plugins"], env=dict(os.environ, LATHE_CACHE_DIR=warm),
                       capture_output=True, check=False)
        blas_only = os.path.join(top, "blas")
        shutil.copytree(warm, blas_only)
        for f in glob.glob(os.path.join(blas_only, "plugins-index-*")):
            os.unlink(f)
        cold, cached = [], []
        for i in range(reps):
            d = os.path.join(top, f"cold{i}")
            shutil.copytree(blas_only, d)
            cold.append(timed([lathe, "plugins"], dict(os.environ, LATHE_CACHE_DIR=d)))
            cached.append(timed([lathe, "plugins"], dict(os.environ, LATHE_CACHE_DIR=warm)))
    for name, xs in (("cold scan", cold), ("cached", cached)):
        wall, cpu = [x[0] for x in xs], [x[1] for x in xs]
        print(f"lathe plugins, {name}: wall min {min(wall):.1f} median {statistics.median(wall):.1f} ms; "
              f"cpu min {min(cpu):.1f} median {statistics.median(cpu):.1f} ms")


if __name__ == "__main__":
    main()
