#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite:
#   1. a clang build of core/, sim/ and the parsers with ASan + UBSan, including the
#      libFuzzer targets run over their seed corpora (ctest labels core, sim-fast, fuzz);
#   2. the regular build of everything, with the full ctest suite (its summary line is
#      the last thing printed).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="$(nproc)"
scripts/install-deps.sh

echo "== sanitizer build (clang, ASan+UBSan, fuzzers): build-asan/"
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DEKV_SANITIZE=ON -DEKV_FUZZ=ON -DEKV_CORE_ONLY=ON >/dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L 'core|fuzz' --output-on-failure -j"$JOBS"

echo "== full build: build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"
