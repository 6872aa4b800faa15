#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side-by-side benchmark: ns_serve against nginx (HTTPS), node's ws (WSS) and, in a two-instance
# cluster over Redis, Socket.IO (cluster_fanout; bench/cluster.sh), one worker thread each,
# server pinned to CPU 1 and load generator to CPU 0. The figure that counts is server CPU
# microseconds per operation (utime+stime from /proc/PID/stat around the run / operations).
# Usage: bench/run.sh [--quick] [--only REGEX]
#   --quick  every scenario ~2 s, 1 run, 1,000 idle connections (checks the suite works;
#            do not quote its figures)
#   --only   run the scenarios whose name matches REGEX (e.g. '^wss_')
# A run that errs, makes no operation, loses its server or misses its precondition (deflate
# agreed, every connection open) is recorded as invalid; report.py names it, leaves it out of
# every median and exits non-zero, so this script fails.
# Env: NS_BENCH_BUILD (build dir, default build/release), NS_BENCH_PORT (default 28443),
#      NS_BENCH_RUNS, NS_BENCH_SECONDS, NS_BENCH_IDLE (override the defaults),
#      NS_BENCH_NS_ARGS (extra ns_serve flags, for A/B runs of a setting),
#      NS_BENCH_FANOUT_RATE (cluster_fanout: messages/s per publisher, default 10).
set -euo pipefail

quick=0
only='.'
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    *) echo "usage: $0 [--quick] [--only REGEX]" >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${NS_BENCH_BUILD:-$repo/build/release}
out=$repo/build/bench
port=${NS_BENCH_PORT:-28443}
if [[ $quick == 1 ]]; then runs=1 secs=2 idle=1000; else runs=3 secs=10 idle=10000; fi
runs=${NS_BENCH_RUNS:-$runs}
secs=${NS_BENCH_SECONDS:-$secs}
idle=${NS_BENCH_IDLE:-$idle}
mkdir -p "$out"

# --- tools ------------------------------------------------------------------------------------
for tool in wrk nginx node npm openssl taskset python3 redis-server; do
  if ! command -v "$tool" >/dev/null && [[ -x /usr/sbin/$tool ]]; then export PATH=$PATH:/usr/sbin; fi
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: $tool missing, running ci/install-deps.sh" >&2
    "$repo/ci/install-deps.sh"
    break
  fi
done
# A peer still missing now is not skipped: its runs fail to start and are recorded as failed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
if (($(ulimit -n) < idle + 200)); then
  echo "run.sh: open-file limit $(ulimit -n) is below $((idle + 200)); idle scenarios may fail" >&2
fi

echo "== building (release) in $build" >&2
cmake --preset release -B "$build" -DNS_BUILD_TESTS=OFF -DNS_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target ns_serve wsload -j2 >/dev/null
ns_serve=$build/src/bin/ns_serve
wsload=$build/bench/wsload

# The node peers' packages (ws, socket.io, its Redis adapter, redis) at the versions
# bench/node/package-lock.json pins; ci/install-deps.sh installs them the same way.
if ! npm ls --prefix "$repo/bench/node" >/dev/null 2>&1; then
  echo "== npm ci in bench/node" >&2
  npm ci --prefix "$repo/bench/node" --prefer-offline --no-audit --no-fund --silent >/dev/null
fi

# --- certificate and document root (made fresh; the key never enters the repo) ----------------
if [[ ! -f $out/cert.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$out/key.pem" -out "$out/cert.pem" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
fi
mkdir -p "$out/root"
[[ -f $out/root/1k.bin ]] || head -c 1024 /dev/urandom >"$out/root/1k.bin"
[[ -f $out/root/64k.bin ]] || head -c 65536 /dev/urandom >"$out/root/64k.bin"
[[ -f $out/root/10m.bin ]] || head -c 10485760 /dev/urandom >"$out/root/10m.bin"

# --- servers ----------------------------------------------------------------------------------
# shellcheck source=bench/cluster.sh
source "$repo/bench/cluster.sh"
topology=single  # or cluster: start_server starts cluster.sh's instances and redis-server
server_pid=''  # the process whose CPU is measured (nginx: its one worker)
launch_pid=''
start_error=''  # why start_server failed

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

wait_port() {  # until the launched server listens; fails at once if it exits
  local i
  for i in $(seq 1 200); do
    kill -0 "$launch_pid" 2>/dev/null || return 1
    if listening; then return 0; fi
    sleep 0.05
  done
  return 1
}

start_server() {  # ns | nginx | node | node_deflate (cluster: ns | socketio); sets start_error
  if [[ $topology == cluster ]]; then
    start_cluster "$1"
    return
  fi
  local log=$out/${1%_deflate}.log
  [[ $1 == ns ]] && log=$out/ns_serve.log
  # Anything else listening there would be measured in this server's place.
  if listening; then
    start_error="port $port was already in use before $1 started"
    return 1
  fi
  case $1 in
    ns)
      taskset -c 1 "$ns_serve" --root "$out/root" --cert "$out/cert.pem" --key "$out/key.pem" \
        --threads 1 --port "$port" --log-level warn --max-connections 30000 \
        --idle-timeout 3600 --handshake-timeout 60 --header-timeout 60 ${NS_BENCH_NS_ARGS:-} \
        >>"$out/ns_serve.log" 2>&1 &
      launch_pid=$! server_pid=$launch_pid
      ;;
    nginx)
      mkdir -p "$out/nginx/tmp"
      sed -e "s|@PREFIX@|$out/nginx|g" -e "s|@PORT@|$port|g" -e "s|@CERT@|$out/cert.pem|g" \
        -e "s|@KEY@|$out/key.pem|g" -e "s|@ROOT@|$out/root|g" \
        "$repo/bench/nginx/nginx.conf.in" >"$out/nginx/nginx.conf"
      taskset -c 1 nginx -p "$out/nginx" -c "$out/nginx/nginx.conf" -e "$out/nginx/error.log" \
        >>"$out/nginx.log" 2>&1 &
      launch_pid=$!
      ;;
    node | node_deflate)
      local flag=''
      [[ $1 == node_deflate ]] && flag=--deflate
      taskset -c 1 node "$repo/bench/node/ws_server.js" \
        --port "$port" --cert "$out/cert.pem" --key "$out/key.pem" $flag >>"$out/node.log" 2>&1 &
      launch_pid=$! server_pid=$launch_pid
      ;;
  esac
  if ! wait_port; then
    start_error="$1 did not start listening on $port ($log: $(tail -1 "$log" 2>/dev/null))"
    return 1
  fi
  if [[ $1 == nginx ]]; then
    server_pid=$(pgrep -P "$launch_pid" | head -1) || true
    if [[ -z $server_pid ]]; then
      start_error="nginx worker process not found"
      return 1
    fi
  fi
}

stop_server() {
  stop_cluster
  [[ -n $launch_pid ]] || return 0
  kill -TERM "$launch_pid" 2>/dev/null || true
  wait "$launch_pid" 2>/dev/null || true
  launch_pid='' server_pid=''
}
trap 'stop_server' EXIT

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# --- clients --------------------------------------------------------------------
raw=$out/raw.jsonl
: >"$raw"

record() {  # scenario server run peer exit-status server-alive start-error client-output
  python3 - "$@" >>"$raw" <<'EOF'
import json, sys
name, server, run, peer, status, alive, start_error, res = sys.argv[1:9]
try:
    d = json.loads(res) if not start_error else {'error': start_error}
    if not isinstance(d, dict):
        raise ValueError
except ValueError:
    d = {'error': 'no JSON result from the load tool: ' + res[-200:]}
d.update(scenario=name, server=server, run=int(run), peer=peer,
         exit_status=None if status == '' else int(status), server_alive=alive == 'true')
print(json.dumps(d))
EOF
  tail -1 "$raw"
}

run_wrk() {  # url [wrk args...] → JSON with server and client CPU; fails as wrk did
  local url=$1
  shift
  local c0 res c1
  c0=$(cpu_ticks "$server_pid")
  # wrk's output, its exit status, then `times` (its last line: the children's CPU, i.e. wrk's).
  res=$( (taskset -c 0 wrk -t1 -d"${secs}s" --timeout 10s -s "$repo/bench/wrk/report.lua" "$@" \
    "$url" 2>&1; echo "wrk-exit $?"; times) 2>&1)
  c1=$(cpu_ticks "$server_pid")
  python3 - "$res" "$c0" "$c1" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
lines = sys.argv[1].splitlines()
status = int(next(l.split()[1] for l in lines if l.startswith('wrk-exit ')))
found = [l for l in lines if l.startswith('{')]
if status != 0 or not found:
    said = [l for l in lines[:-2] if not l.startswith('wrk-exit ')]
    print(json.dumps({'error': f'wrk exited {status}: ' + ' | '.join(said[-3:])[-300:]}))
    sys.exit(status or 1)
d = json.loads(found[-1])
u, s = (float(m) * 60 + float(x) for m, x in (t.rstrip('s').split('m') for t in lines[-1].split()))
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
# Zero requests have no cost per request: null, never 0 (which would read as free).
d.update(ops=d['requests'], server_cpu_s=cpu,
         server_us_per_op=cpu * 1e6 / d['requests'] if d['requests'] else None,
         server_cpu_pct=100 * cpu / d['seconds'], client_cpu_pct=100 * (u + s) / d['seconds'])
print(json.dumps(d))
EOF
}

run_wsload() {  # wsload args...; exits non-zero when the run did not hold (report.py says why)
  taskset -c 0 "$wsload" --port "$port" --server-pid "$server_pid" "$@"
}

# Every run of both servers is recorded, failed ones too (with why), so report.py can judge it.
scenario() {  # name ours peer client-command...
  local name=$1 ours=$2 peer=$3
  shift 3
  [[ $name =~ $only ]] || return 0
  local r s order res status alive
  for r in $(seq 1 "$runs"); do
    if ((r % 2)); then order="$ours $peer"; else order="$peer $ours"; fi
    for s in $order; do
      res='' status='' alive=false start_error=''
      if start_server "$s"; then
        status=0
        current=$s
        res=$("$@" | tail -1) || status=$?
        if [[ $topology == cluster ]]; then
          cluster_alive && alive=true
        elif kill -0 "$server_pid" 2>/dev/null; then alive=true; fi
      fi
      stop_server
      res=$(record "$name" "$s" "$r" "$peer" "$status" "$alive" "$start_error" "$res")
      echo "   [${SECONDS}s] $name $s run $r: $res" >&2
    done
  done
}

https() { run_wrk "https://127.0.0.1:$port/$1" "${@:2}"; }
wss() { run_wsload --duration "$secs" "$@"; }
idle_wss() { run_wsload --mode idle --hold 0.2 --conns "$idle" --parallel 32 "$@"; }

echo "== runs: $runs x ${secs}s, idle connections: $idle, results: $out" >&2
scenario https_1k_keepalive ns nginx https 1k.bin -c100
scenario https_64k ns nginx https 64k.bin -c100
scenario https_10m ns nginx https 10m.bin -c4
scenario https_new_conn ns nginx https 1k.bin -c32 -H 'Connection: close'
scenario wss_echo_64 ns node wss --size 64 --conns 100
scenario wss_echo_16k ns node wss --size 16384 --conns 100
scenario wss_deflate_64 ns node_deflate wss --size 64 --conns 100 --text --deflate
scenario wss_deflate_16k ns node_deflate wss --size 16384 --conns 100 --text --deflate
scenario wss_storm ns node wss --mode storm --conns 16
scenario wss_broadcast_1000 ns node wss --mode broadcast --conns 1000 --size 64
scenario idle_tls ns nginx idle_wss --http --path /1k.bin
scenario idle_wss ns node idle_wss --size 64
scenario idle_wss_deflate ns node_deflate idle_wss --size 64 --text --deflate
scenario idle_wss_deflate_nct ns node_deflate idle_wss --size 64 --text \
  --offer 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits'
topology=cluster
scenario cluster_fanout ns socketio fanout
topology=single

# The last command: its exit status (non-zero when a run is invalid) is the script's.
python3 "$repo/bench/report.py" "$raw" "$out/results.json" --runs "$runs" --only "$only" \
  $([[ $quick == 1 ]] && echo --quick)
