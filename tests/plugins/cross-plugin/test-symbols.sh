#!/usr/bin/env bash
# Every plugin of the build exports its entry point and nothing else (hidden
# visibility, plugins/meson.build), so no plugin's internals, nor the static
# engines compiled into it (nn/, tune/), can clash with another's or be
# called as if they were API. The SDK is built hidden too: it exports exactly
# the functions its headers declare with LATHE_API, all named lathe_*.
# Usage: test-symbols.sh PLUGIN_DIR SDK_LIBRARY SDK_HEADER_DIR [MIN_PLUGINS]
# MIN_PLUGINS (29): fewer without the numerical plugins.
set -u
dir="$1"; sdk="$2"; headers="$3"; min="${4:-29}"
checks=0; fails=0
pass() { checks=$((checks + 1)); echo "ok - $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $*"; }
mapfile -t plugins < <(find "$dir" -name 'liblathe-*.so' | sort)
[ "${#plugins[@]}" -ge "$min" ] && pass "${#plugins[@]} plugins found" || fail "only ${#plugins[@]} plugins under $dir"
for so in "${plugins[@]}"; do
  # Defined dynamic symbols, less the linker's absolute markers (_end, ...).
  syms=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sort | tr '\n' ' ')
  [ "$syms" = "lathe_plugin_query " ] && pass "$(basename "$so") exports only lathe_plugin_query" \
    || fail "$(basename "$so") exports: $syms"
done
other=$(nm -D --defined-only "$sdk" | awk '$2 != "A" && $3 !~ /^lathe_/ {print $3}' | tr '\n' ' ')
[ -z "$other" ] && pass "liblathe-sdk exports only lathe_* symbols" || fail "liblathe-sdk also exports: $other"
exported=$(nm -D --defined-only "$sdk" | awk '$2 != "A" {print $3}' | sort)
declared=$(cat "$headers"/*.h | tr '\n' ' ' | grep -o 'LATHE_API [^;(]*(' \
  | grep -o 'lathe_[a-z0-9_]*[ ]*($' | tr -d ' (' | sort -u)
[ "$(echo "$declared" | wc -l)" -ge 90 ] && pass "$(echo "$declared" | wc -l) LATHE_API declarations" \
  || fail "only $(echo "$declared" | wc -l) LATHE_API declarations under $headers"
diff=$(comm -3 <(echo "$exported") <(echo "$declared") | tr -d '\t' | tr '\n' ' ')
[ -z "$diff" ] && pass "liblathe-sdk exports exactly its LATHE_API declarations" \
  || fail "exported xor declared LATHE_API: $diff"
echo "$((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
