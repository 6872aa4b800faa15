#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh Debian 12 machine: install dependencies, build with
# ASan + UBSan and -Werror, run every unit and integration test, run every fuzzer for a short
# bounded time, run the stress suite at CI scale (ASan+UBSan, release and TSan passes), check
# that the side-by-side benchmark still runs (bench/run.sh --quick: its figures are not quoted),
# then build with coverage and enforce the coverage gate.
#   NS_FUZZ_SECONDS (default 10)  seconds per fuzz harness
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$1" $(( $(date +%s) - start )); }

step "dependencies"
bash ci/install-deps.sh

step "build: dev preset (ASan + UBSan, -Werror)"
bash ci/build.sh dev

step "tests under ASan + UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/dev --output-on-failure -j2 --timeout 900

if [[ -x ci/fuzz.sh ]]; then
  step "fuzzers (${NS_FUZZ_SECONDS:-10} s each)"
  bash ci/fuzz.sh "${NS_FUZZ_SECONDS:-10}"
fi

step "stress suite, CI scale (tests/stress, ci/stress.sh)"
bash ci/stress.sh

step "benchmark suite runs (bench/run.sh --quick)"
bash bench/run.sh --quick

if [[ -x ci/coverage.sh ]]; then
  step "coverage gate"
  bash ci/coverage.sh
fi

step "all green"
