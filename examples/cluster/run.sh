#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The scale-out topology on one machine, every part on a free loopback port:
#
#   browser ──TLS──▶ HAProxy (TCP mode, leastconn, send-proxy-v2, health checks)
#                      ├──▶ ns_serve #1 ─┐
#                      ├──▶ ns_serve #2 ─┼── redis-server (pub/sub: /ws/chat rooms)
#                      └──▶ ns_serve #3 ─┘
#
# TLS passes through HAProxy and ends in ns_serve; HAProxy announces each client in a PROXY v2
# header, so the instances log the client's address, not HAProxy's. A throwaway certificate is
# made at start. Open the printed URL in two browsers: a chat room spans the instances.
# Ctrl-C (or SIGTERM) stops everything this script started, by pid.
#
# usage: examples/cluster/run.sh [--ns-serve PATH] [--dir DIR] [--threads N] [--instances N]
#   --ns-serve PATH  the ns_serve binary (default: build/release, else build/dev)
#   --dir DIR        keep configs, logs and certificate in DIR (default: a temp dir, removed)
#   --threads N      event loops per instance (default 1)
#   --instances N    ns_serve instances (default 3)
# While it runs: SIGUSR1 stops redis-server, SIGUSR2 starts it again on the same port (to watch
# the instances carry on locally and join up again). DIR/cluster.env lists every pid and port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

ns_serve="" dir="" threads=1 instances=3
while (($#)); do
  case $1 in
    --ns-serve) ns_serve=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --instances) instances=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z $ns_serve ]]; then
  for b in "$repo/build/release/src/bin/ns_serve" "$repo/build/dev/src/bin/ns_serve"; do
    if [[ -x $b ]]; then ns_serve=$b; break; fi
  done
fi
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)  # /usr/sbin: not in a user's PATH
for tool in "$ns_serve" redis-server redis-cli "$haproxy" openssl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: '${tool:-ns_serve}' not found (build ns_serve: cmake --preset release &&" \
      "cmake --build build/release --target ns_serve; Debian: redis-server redis-tools haproxy)" >&2
    exit 2
  fi
done
keep_dir=1
if [[ -z $dir ]]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/ns-cluster.XXXXXX"); keep_dir=0; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

pids=()  # everything started here, stopped in reverse order
redis_pid=""
stop_pid() {  # SIGTERM, then SIGKILL after 10 s; only a pid this script started
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM USR1 USR2
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  if [[ -n $redis_pid ]]; then stop_pid "$redis_pid"; fi
  if ((keep_dir == 0)); then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing listens on now (bound to port 0, then released). Only redis-server needs one:
# ns_serve takes port 0 and says which it got, and HAProxy is handed its listening socket.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A throwaway certificate (ECDSA P-256, valid 2 days) for localhost and 127.0.0.1; every
# instance serves the same one, as behind a real balancer.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>"$dir/openssl.log"

# redis-server: no persistence, no daemon, its own config file and log.
start_redis() {
  redis-server "$dir/redis.conf" >"$dir/redis.out" 2>&1 &
  redis_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    if [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]]; then return 0; fi
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.05
  done
  stop_pid "$redis_pid"
  redis_pid=""
  return 1
}
for attempt in 1 2 3 4 5; do  # another program may take the port between the pick and the bind
  redis_port=$(free_port)
  printf '%s\n' "port $redis_port" "bind 127.0.0.1" 'save ""' "appendonly no" "daemonize no" \
    "dir $dir" "logfile $dir/redis.log" >"$dir/redis.conf"
  if start_redis; then break; fi
  if ((attempt == 5)); then echo "run.sh: redis-server did not start: $dir/redis.log" >&2; exit 1; fi
done

# The instances: TLS ends here; a PROXY v2 header is required, and only from loopback (HAProxy).
ports=()
for ((i = 1; i <= instances; i++)); do
  # Made here, not by the background job's redirection: the sed below may run before the job
  # has opened it, and a sed that cannot read its file ends this script (set -e).
  : >"$dir/ns_serve-$i.out"
  "$ns_serve" --bind 127.0.0.1 --port 0 --threads "$threads" --root "$repo/examples/public" \
    --cert "$dir/cert.pem" --key "$dir/key.pem" --redis "redis://127.0.0.1:$redis_port" \
    --proxy-protocol v2 --proxy-from 127.0.0.0/8 --status-path /_status \
    --access-log "$dir/access-$i.log" --access-log-format combined-port \
    >"$dir/ns_serve-$i.out" 2>"$dir/ns_serve-$i.err" &
  pids+=($!)
  port=""
  for ((t = 0; t < 400; t++)); do  # it prints "serving ROOT on https://127.0.0.1:PORT/ with …"
    port=$(sed -n 's|.* on https://127\.0\.0\.1:\([0-9]*\)/ with .*|\1|p' "$dir/ns_serve-$i.out")
    if [[ -n $port ]]; then break; fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $port ]]; then echo "run.sh: ns_serve #$i did not start:" >&2; cat "$dir/ns_serve-$i.err" >&2; exit 1; fi
  ports+=("$port")
done

# HAProxy. Health checks: every second a TLS handshake and GET /_status (check-ssl, httpchk),
# preceded by a PROXY v2 LOCAL header (check-send-proxy), which ns_serve accepts and logs as
# HAProxy's own address; two failures take an instance out, two successes put it back. A
# connection refused by an instance marks it down at once (observe layer4) and is retried on
# another (option redispatch 1: every retry goes elsewhere).
server_opts="send-proxy-v2 check check-send-proxy check-ssl verify none inter 1s fall 2 rise 2"
server_opts+=" observe layer4 error-limit 1 on-error mark-down"
{
  printf '%s\n' "global" "  maxconn 4096" "  hard-stop-after 5s" \
    "defaults" "  mode tcp" "  timeout connect 2s" "  timeout client 1h" "  timeout server 1h" \
    "  timeout check 2s" "  retries 3" "  option redispatch 1" \
    "frontend wss" "  bind fd@3" "  default_backend instances" \
    "backend instances" "  balance leastconn" \
    "  option httpchk" "  http-check send meth GET uri /_status ver HTTP/1.1 hdr Host localhost" \
    "  http-check expect status 200" \
    "  default-server $server_opts"
  for ((i = 1; i <= instances; i++)); do echo "  server ns$i 127.0.0.1:${ports[i - 1]}"; done
} >"$dir/haproxy.cfg"
# Its frontend is a socket bound here to a free port and handed over as fd 3 (bind fd@3): no
# race for the port. exec keeps the pid, so $! is HAProxy's.
python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4096)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execvp(sys.argv[2], sys.argv[2:])
' "$dir/haproxy.port" "$haproxy" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.out" 2>&1 &
pids+=($!)
for ((t = 0; t < 200; t++)); do
  if [[ -s $dir/haproxy.port ]]; then break; fi
  sleep 0.05
done
haproxy_port=$(cat "$dir/haproxy.port" 2>/dev/null || true)
if [[ -z $haproxy_port ]]; then echo "run.sh: HAProxy did not start:" >&2; cat "$dir/haproxy.out" >&2; exit 1; fi

write_env() {
  {
    echo "DIR=$dir"
    echo "REDIS_PORT=$redis_port"
    echo "REDIS_PID=$redis_pid"
    echo "NS_PORTS=${ports[*]}"
    echo "NS_PIDS=${pids[*]:0:instances}"
    echo "HAPROXY_PORT=$haproxy_port"
    echo "HAPROXY_PID=${pids[-1]}"
  } >"$dir/cluster.env.tmp"
  mv "$dir/cluster.env.tmp" "$dir/cluster.env"
}
write_env
trap 'if [[ -n $redis_pid ]]; then stop_pid "$redis_pid"; redis_pid=""; write_env; echo "run.sh: redis-server stopped"; fi' USR1
trap 'if [[ -z $redis_pid ]]; then if start_redis; then write_env; echo "run.sh: redis-server started again"; else echo "run.sh: redis-server did not start again" >&2; fi; fi' USR2

echo "cluster: redis-server 127.0.0.1:$redis_port, ns_serve on ${ports[*]}, HAProxy on $haproxy_port"
echo "cluster: files in $dir (cluster.env, access-N.log, ns_serve-N.err, haproxy.cfg)"
echo "cluster ready: https://127.0.0.1:$haproxy_port/chat.html?room=lobby  (Ctrl-C stops it)"
while :; do  # a trapped signal interrupts the wait at once
  sleep 1 &
  wait $! || true
done
