#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/fuzz.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses (preset `fuzz`: clang,
# -fsanitize=fuzzer,address,undefined) and runs each for SECONDS (default 30) of wall-clock time.
#
#  - Each harness starts from a scratch COPY of fuzz/corpus/<h>/ plus fuzz/regressions/<h>/
#    (build/fuzz/corpus/<h>/): new inputs libFuzzer finds never land in the committed corpus.
#  - Dictionary fuzz/dict/<h>.dict when present; -timeout=10 (s per input), -rss_limit_mb=2048.
#  - Crash / leak / timeout / OOM inputs are written to build/fuzz/artifacts/<h>/ (emptied at the
#    start of each harness run), the full log to build/fuzz/logs/<h>.log.
#  - Exit status is non-zero if any harness found anything (or did not build / start).
#
# With HARNESS names (e.g. `ci/fuzz.sh 600 ws_frame http_request`) only those run.
# Environment: NS_FUZZ_BUILD_DIR (default build/fuzz), NS_FUZZ_JOBS (build parallelism).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-30}
shift || true
build=${NS_FUZZ_BUILD_DIR:-build/fuzz}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: SECONDS must be a positive integer" >&2; exit 2; }

harnesses=()
if [[ $# -gt 0 ]]; then
  harnesses=("$@")
else
  for src in fuzz/*_fuzz.cpp; do
    h=$(basename "$src" .cpp)
    harnesses+=("${h%_fuzz}")
  done
fi

echo "fuzz.sh: building ${#harnesses[@]} harnesses in $build"
cmake --preset fuzz -B "$build" >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" -j"${NS_FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

# Leaks are findings too; abort so libFuzzer records the crashing input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/fuzz_$h"
  corpus="$build/corpus/$h"
  artifacts="$build/artifacts/$h"
  log="$build/logs/$h.log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  for seeds in "fuzz/corpus/$h" "fuzz/regressions/$h"; do
    if [[ -d $seeds ]] && compgen -G "$seeds/*" >/dev/null; then cp -- "$seeds"/* "$corpus"/; fi
  done
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$root/$artifacts/")
  [[ -f fuzz/dict/$h.dict ]] && args+=(-dict="fuzz/dict/$h.dict")
  echo "--- fuzz_$h: ${seconds}s, seeds $(find "$corpus" -type f | wc -l), artifacts -> $artifacts/"
  rc=0
  "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  # The last status line ("#N DONE cov: X ft: Y ... exec/s: Z") and the final stats.
  status_line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status_line")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  found=$(find "$artifacts" -type f | wc -l)
  verdict=ok
  if [[ $rc -ne 0 || $found -ne 0 ]]; then
    verdict="FAILED (exit $rc, $found artifact(s))"
    failed+=("$h")
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" | head -n 5 || true
    echo "    log: $log"
    find "$artifacts" -type f -printf '    artifact: %p\n'
  fi
  line=$(printf '%-16s execs %10s  exec/s %7s  cov %6s  ft %6s  %s' \
         "$h" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$verdict")
  echo "    $line"
  summary+=("$line")
done

echo
echo "fuzz.sh summary (${seconds}s per harness):"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: FINDINGS in: ${failed[*]} (inputs under $build/artifacts/; reproduce with" \
       "$build/fuzz/fuzz_<harness> <input>)" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
