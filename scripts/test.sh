#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite:
#   1. debug build: unit, store-contract, fuzz-corpus replay and end-to-end tests (CTest);
#   2. asan build (address + undefined sanitizers): the unit tests again (only their targets
#      are built);
#   3. fuzz build (clang libFuzzer): only the fuzz targets are built, and each runs briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

jobs=$(nproc)
fuzz_seconds=${ROLLGATE_FUZZ_SECONDS:-20}

echo "== debug build and full test suite"
cmake --preset debug >/dev/null
cmake --build --preset debug -j"$jobs"
ctest --preset debug -j"$jobs"

echo "== asan build: unit tests under address and undefined-behaviour sanitizers"
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs" --target unit_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs"

echo "== fuzz build: each target for ${fuzz_seconds}s"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs" --target fuzzers
shopt -s nullglob
for fuzzer in build/fuzz/fuzz/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  echo "-- $name"
  "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "$work" 2>"$work.log" || { tail -n 40 "$work.log"; exit 1; }
  tail -n 1 "$work.log"
  rm -rf "$work" "$work.log"
done
echo "all test stages passed"
