#!/usr/bin/env bash
# Every plugin of the build exports its entry point and nothing else (hidden
# visibility, plugins/meson.build), so no plugin's internals, nor the static
# engines compiled into it (nn/, tune/), can clash with another's or be
# called as if they were API. The SDK exports only lathe_* names.
# Usage: test-symbols.sh PLUGIN_DIR SDK_LIBRARY
set -u
dir="$1"; sdk="$2"
checks=0; fails=0
pass() { checks=$((checks + 1)); echo "ok - $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $*"; }
mapfile -t plugins < <(find "$dir" -name 'liblathe-*.so' | sort)
[ "${#plugins[@]}" -ge 29 ] && pass "${#plugins[@]} plugins found" || fail "only ${#plugins[@]} plugins under $dir"
for so in "${plugins[@]}"; do
  # Defined dynamic symbols, less the linker's absolute markers (_end, ...).
  syms=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sort | tr '\n' ' ')
  [ "$syms" = "lathe_plugin_query " ] && pass "$(basename "$so") exports only lathe_plugin_query" \
    || fail "$(basename "$so") exports: $syms"
done
other=$(nm -D --defined-only "$sdk" | awk '$2 != "A" && $3 !~ /^lathe_/ {print $3}' | tr '\n' ' ')
[ -z "$other" ] && pass "liblathe-sdk exports only lathe_* symbols" || fail "liblathe-sdk also exports: $other"
echo "$((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
