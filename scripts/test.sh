#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite:
#   1. a clang build of core/, sim/ and the parsers with ASan + UBSan, including the
#      libFuzzer targets run over their seed corpora (ctest labels core, sim-fast, fuzz);
#   2. the regular build of everything, with the full ctest suite (its summary line is
#      followed only by the phase's wall time).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="$(nproc)"
# Each phase prints its wall time, so a slow CI run shows where the minutes went.
phase_start=$SECONDS
phase_done() { echo "== $1 took $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }

scripts/install-deps.sh
phase_done "install-deps"

echo "== sanitizer build (clang, ASan+UBSan, fuzzers): build-asan/"
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DEKV_SANITIZE=ON -DEKV_FUZZ=ON -DEKV_CORE_ONLY=ON -DEKV_UNITY_BUILD=ON >/dev/null
cmake --build build-asan -j"$JOBS"
phase_done "sanitizer build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L 'core|fuzz' --output-on-failure -j"$JOBS"
phase_done "sanitizer tests"

echo "== full build: build/"
# The core test areas ran above under the sanitizers; this build skips them.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEKV_SKIP_SANITIZED_TESTS=ON \
  -DEKV_UNITY_BUILD=ON >/dev/null
cmake --build build -j"$JOBS"
phase_done "full build"
# One slot more than cores: the server and Jepsen tests (one of each at a time, their
# RESOURCE_LOCKs) spend most of their time waiting on timeouts and the network (about 0.4
# and 1.1 cores), so a CPU-bound simulator test runs beside them.
ctest --test-dir build --output-on-failure -j"$((JOBS + 1))" || { phase_done "full tests"; exit 1; }
phase_done "full tests"

echo "== one seed, one history: the sanitizer build (clang) and the full build (GCC) agree"
# A seed that fails in one build must replay in the other. Compilers differ in what the
# language leaves open (the order of evaluating a call's arguments, once two rng draws),
# which the tests inside one build cannot see.
cross_build_seeds() {
  local run asan full
  # Short runs: the sanitizer build's simulator is about 40 times slower.
  for run in "1 --workload register" "2 --workload register" "3 --workload register" \
    "1 --workload kv-register --splits --ops 200" "1 --workload append --ops 100" \
    "1 --workload redis --ops 200"; do
    # shellcheck disable=SC2086
    asan="$(build-asan/sim/ekv-sim --seed $run --faults all 2>&1 | grep -o 'trace=[0-9a-f]*')"
    # shellcheck disable=SC2086
    full="$(build/sim/ekv-sim --seed $run --faults all 2>&1 | grep -o 'trace=[0-9a-f]*')"
    if [ -z "$full" ] || [ "$asan" != "$full" ]; then
      echo "ekv-sim --seed $run --faults all: build-asan '$asan', build '$full'" >&2
      return 1
    fi
  done
}
cross_build_seeds || { phase_done "cross-build determinism"; exit 1; }
phase_done "cross-build determinism"
