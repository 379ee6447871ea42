#!/usr/bin/env bash
# Issue 11, "Limits", through the lathe binary: the pipeline file must be a
# regular file of at most 16 MiB (exit 2, one line, before reading), and a
# source refuses a FIFO and a zip bomb in bounded time and memory (exit 1,
# one line), and reads a .csv.gz.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

# timed PREFIX SECONDS ARGS...: run_lathe under a timeout; 124 means it hung.
timed() {
  local out="$1" secs="$2"; shift 2
  timeout "$secs" "$LATHE_BIN" "$@" >"$out.out" 2>"$out.err"
  echo $? >"$out.code"
}

expect_out() { # prefix fixed-string what: in stdout (a failed node's line) or stderr
  if grep -qF -- "$2" "$1.out" "$1.err"; then pass "$3"; else fail "$3: lacks '$2'; got: $(head -c 800 "$1.out" "$1.err")"; fi
}

one_line() { # prefix what: stderr is exactly one line
  local n; n=$(wc -l <"$1.err")
  if [ "$n" = 1 ]; then pass "$2: one line"; else fail "$2: $n lines: $(head -c 600 "$1.err")"; fi
}

# /dev/zero was read until allocation failed.
timed "$TMP/z" 20 run /dev/zero
expect_code "$TMP/z" 2 "run /dev/zero"
expect_err "$TMP/z" "/dev/zero: cannot read the pipeline: it is a character device, not a regular file; give the path of a pipeline JSON file" "/dev/zero refused by type"
one_line "$TMP/z" "/dev/zero"

mkfifo "$TMP/fifo.json"
timed "$TMP/f" 20 validate "$TMP/fifo.json"
expect_code "$TMP/f" 2 "validate on a FIFO (124 = hung)"
expect_err "$TMP/f" "fifo.json: cannot read the pipeline: it is a named pipe (FIFO)" "FIFO pipeline refused"

mkdir "$TMP/dir.json"
timed "$TMP/d" 20 validate "$TMP/dir.json"
expect_code "$TMP/d" 2 "validate on a folder"
expect_err "$TMP/d" "dir.json: cannot read the pipeline: it is a folder" "folder pipeline refused"

# Sparse: 17 MiB on paper, nothing on disk, refused before any read.
truncate -s 17M "$TMP/big.json"
timed "$TMP/b" 20 validate "$TMP/big.json"
expect_code "$TMP/b" 2 "validate on a 17 MiB file"
expect_err "$TMP/b" "big.json: cannot read the pipeline: it is larger than the 16 MiB a pipeline file may be" "big pipeline refused, naming the limit"
one_line "$TMP/b" "big pipeline"

# Just under the limit is read (and then found to be bad JSON, not too big).
truncate -s 16M "$TMP/edge.json"
timed "$TMP/e" 20 validate "$TMP/edge.json"
expect_code "$TMP/e" 2 "validate on a 16 MiB file"
if grep -q "larger than" "$TMP/e.err"; then fail "16 MiB exactly is within the limit"; else pass "16 MiB exactly is within the limit"; fi

pipeline() { # FILE SOURCE PATH
  printf '{"lathe": 1, "name": "limits", "seed": 1, "nodes": [{"id": "data", "use": "%s", "with": {"path": "%s"}}]}\n' "$2" "$3" >"$1"
}

mkfifo "$TMP/data.csv"
pipeline "$TMP/fifo-src.json" source/csv data.csv
timed "$TMP/fs" 30 run --no-cache --store "$TMP/store" "$TMP/fifo-src.json"
expect_code "$TMP/fs" 1 "source/csv on a FIFO fails the run (124 = hung)"
expect_out "$TMP/fs" "data.csv: is a named pipe (FIFO), not a regular file" "FIFO source named"

$PY - <<'PY'
import gzip, zipfile
data = b"v\n" + b"0\n" * 50000000
with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bomb.csv", data)
with gzip.open("ok.csv.gz", "wb") as f:
    f.write(b"a,b\n1,2\n3,4\n5,6\n")
PY
pipeline "$TMP/bomb.json" source/csv bomb.zip
$PY - "$LATHE_BIN" "$TMP/bomb" "$TMP/bomb.json" "$TMP/store" >"$TMP/bomb.rss" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[2] + ".out", "w") as out, open(sys.argv[2] + ".err", "w") as err:
    code = subprocess.call([sys.argv[1], "run", "--no-cache", "--store", sys.argv[4], sys.argv[3]],
                           stdout=out, stderr=err, timeout=60)
open(sys.argv[2] + ".code", "w").write("%d\n" % code)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, round(time.monotonic() - t, 1))
PY
read -r rss secs <"$TMP/bomb.rss"
expect_code "$TMP/bomb" 1 "zip bomb fails the run"
expect_out "$TMP/bomb" "bomb.zip: expands more than 100 times its size" "zip bomb refused by ratio"
expect_out "$TMP/bomb" "raise max_ratio" "the message says how to raise the limit"
[ "$rss" -lt 250 ] && pass "zip bomb: peak RSS ${rss} MB < 250 MB" || fail "zip bomb: peak RSS ${rss} MB"
echo "# zip bomb refused in ${secs} s, peak RSS ${rss} MB"

pipeline "$TMP/gz.json" source/csv ok.csv.gz
timed "$TMP/gz" 60 run --json --no-cache --store "$TMP/store" "$TMP/gz.json"
expect_code "$TMP/gz" 0 "a .csv.gz source runs"
# A class name of 20 MB once produced a 20 MB error, on stdout and in the
# store: every message quotes at most a short excerpt of a value.
/usr/bin/python3 - "$TMP/bigclass.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("x,y\n")
    for i in range(20):
        f.write("%d,%s\n" % (i, "a" if i % 2 else "b"))
    f.write("99,%s\n" % ("Z" * (20 << 20)))
PY
cat >"$TMP/bigclass.json" <<'JSON'
{"lathe": 1, "name": "bigclass", "nodes": [
  {"id": "data", "use": "source/csv", "with": {"path": "bigclass.csv", "label": "y"}},
  {"id": "split", "use": "transform/split", "in": {"data": "data"},
   "with": {"test_fraction": 0.3, "stratify": true}}]}
JSON
timed "$TMP/bc" 60 run --store "$TMP/bcstore" "$TMP/bigclass.json"
expect_code "$TMP/bc" 1 "a split of a 20 MB class name fails"
expect_out "$TMP/bc" "class 'ZZZZ" "the error quotes the class name"
n=$(cat "$TMP/bc.out" "$TMP/bc.err" | wc -c)
[ "$n" -lt 4000 ] && pass "the output stays short ($n bytes)" || fail "the output is $n bytes"
db=$(cat "$TMP/bcstore"/lathe.db* | wc -c)
[ "$db" -lt 2000000 ] && pass "the store stays small ($db bytes)" || fail "the store is $db bytes"

finish
