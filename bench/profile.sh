#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Profiles ns_serve under one bench/run.sh load with `perf record` (cpu-clock sampling, works
# in VMs without hardware counters) and prints the hottest symbols.
# Usage: bench/profile.sh SCENARIO [SECONDS]   (run bench/run.sh --quick once first: it builds
# the tools and makes the certificate and files)
#   SCENARIO: https_1k | https_64k | https_10m | https_new_conn | wss_echo_64 | wss_echo_16k |
#             wss_deflate_64 | wss_deflate_16k | wss_storm | wss_broadcast
# Output: build/bench/perf-SCENARIO.data and perf-SCENARIO.txt (perf report, flat).
set -euo pipefail
name=${1:?scenario}
secs=${2:-8}
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${NS_BENCH_BUILD:-$repo/build/release}
out=$repo/build/bench
port=${NS_BENCH_PORT:-28443}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

taskset -c 1 "$build/src/bin/ns_serve" --root "$out/root" --cert "$out/cert.pem" \
  --key "$out/key.pem" --threads 1 --port "$port" --log-level warn --max-connections 30000 \
  --idle-timeout 3600 >>"$out/ns_serve.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

url=https://127.0.0.1:$port
wl=("$build/bench/wsload" --port "$port" --duration "$((secs + 1))")
case $name in
  https_1k) cmd=(wrk -t1 -c100 -d"$((secs + 1))s" "$url/1k.bin") ;;
  https_64k) cmd=(wrk -t1 -c100 -d"$((secs + 1))s" "$url/64k.bin") ;;
  https_10m) cmd=(wrk -t1 -c4 -d"$((secs + 1))s" "$url/10m.bin") ;;
  https_new_conn) cmd=(wrk -t1 -c32 -d"$((secs + 1))s" -H 'Connection: close' "$url/1k.bin") ;;
  wss_echo_64) cmd=("${wl[@]}" --size 64 --conns 100) ;;
  wss_echo_16k) cmd=("${wl[@]}" --size 16384 --conns 100) ;;
  wss_deflate_64) cmd=("${wl[@]}" --size 64 --conns 100 --text --deflate) ;;
  wss_deflate_16k) cmd=("${wl[@]}" --size 16384 --conns 100 --text --deflate) ;;
  wss_storm) cmd=("${wl[@]}" --mode storm --conns 16) ;;
  wss_broadcast) cmd=("${wl[@]}" --mode broadcast --conns 1000 --size 64) ;;
  *) echo "unknown scenario $name" >&2; exit 2 ;;
esac
taskset -c 0 "${cmd[@]}" >"$out/perf-$name.client.txt" 2>&1 &
client=$!
sleep 1  # let connections open before sampling
perf record -q -e cpu-clock -F 1999 -g -p "$pid" -o "$out/perf-$name.data" -- sleep "$secs" \
  2>/dev/null
wait "$client" || true
report() {
  perf report -q -i "$out/perf-$name.data" --no-children -g none --percent-limit "$1" --sort "$2" \
    2>/dev/null | sed -e '/^$/d' -e 's/  */ /g' -e 's/ - *- *$//'
}
{
  echo "== $name: samples by object (self %)"
  report 0.5 dso
  echo "== $name: top symbols (self %)"
  report 0.5 symbol,dso
} >"$out/perf-$name.txt"
head -60 "$out/perf-$name.txt"
