# shellcheck shell=bash disable=SC2154,SC2034  # sourced by run.sh: its globals, set and read there
# SPDX-License-Identifier: MIT
# cluster_fanout's topology for bench/run.sh (sourced): one redis-server of our own on a free
# loopback port (own config, no persistence, never the system service) and two instances of
# the server on $port and $port + 1 using it: `ns_serve --redis`, or node/sio_server.js
# (Socket.IO + @socket.io/redis-adapter). With 2 cores, all three take CPU 1 (as every server
# does here) and the load generator CPU 0, so both peers share one core with their broker alike.
# Sets server_pids (the instances, CPU summed) and redis_pid; stop_cluster stops them by pid.

server_pids=()
redis_pid=''

free_port() {  # a loopback port nobody listens on now (the kernel's choice)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_listen() {  # pid port: until pid listens on port; fails at once if pid exits
  local _
  for _ in $(seq 1 300); do
    kill -0 "$1" 2>/dev/null || return 1
    if port_open "$2"; then return 0; fi
    sleep 0.05
  done
  return 1
}

start_cluster() {  # ns | socketio; on failure sets start_error (what started is stopped later)
  local kind=$1 ports=("$port" $((port + 1))) rport p log
  for p in "${ports[@]}"; do
    if port_open "$p"; then
      start_error="port $p was already in use before $kind started"
      return 1
    fi
  done
  rport=$(free_port)
  mkdir -p "$out/redis"
  printf '%s\n' "bind 127.0.0.1" "port $rport" "save \"\"" "appendonly no" "daemonize no" \
    "dir $out/redis" "logfile \"\"" >"$out/redis/redis.conf"
  taskset -c 1 redis-server "$out/redis/redis.conf" >>"$out/redis.log" 2>&1 &
  redis_pid=$!
  if ! wait_listen "$redis_pid" "$rport"; then
    start_error="redis-server did not start on $rport ($out/redis.log: $(tail -1 "$out/redis.log" 2>/dev/null))"
    return 1
  fi
  for p in "${ports[@]}"; do
    case $kind in
      ns)
        log=$out/ns_serve.log
        taskset -c 1 "$ns_serve" --root "$out/root" --cert "$out/cert.pem" --key "$out/key.pem" \
          --threads 1 --port "$p" --log-level warn --max-connections 30000 \
          --idle-timeout 3600 --handshake-timeout 60 --header-timeout 60 \
          --redis "redis://127.0.0.1:$rport" ${NS_BENCH_NS_ARGS:-} >>"$log" 2>&1 &
        ;;
      socketio)
        log=$out/socketio.log
        taskset -c 1 node "$repo/bench/node/sio_server.js" --port "$p" --cert "$out/cert.pem" \
          --key "$out/key.pem" --redis-port "$rport" >>"$log" 2>&1 &
        ;;
    esac
    server_pids+=($!)
  done
  for p in 0 1; do
    if ! wait_listen "${server_pids[$p]}" "${ports[$p]}"; then
      start_error="$kind did not start listening on ${ports[$p]} ($log: $(tail -1 "$log" 2>/dev/null))"
      return 1
    fi
  done
  server_pid=${server_pids[0]}
}

cluster_alive() {  # every instance and the broker still running
  local p
  for p in "${server_pids[@]}" "$redis_pid"; do kill -0 "$p" 2>/dev/null || return 1; done
}

stop_cluster() {
  local p
  for p in "${server_pids[@]}" $redis_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}" $redis_pid; do wait "$p" 2>/dev/null || true; done
  server_pids=() redis_pid='' server_pid=''
}

# 1,000 subscribers and 2 publishers (one per instance, in the room too), 64-byte text
# messages at NS_BENCH_FANOUT_RATE per publisher and second.
fanout() {  # extra wsload args...; Socket.IO framing (--sio) when $current is socketio
  local pids=() p
  for p in "${server_pids[@]}"; do pids+=(--server-pid "$p"); done
  taskset -c 0 "$wsload" --mode fanout --ports "$port,$((port + 1))" --conns 1000 \
    --publishers 2 --rate "${NS_BENCH_FANOUT_RATE:-10}" --size 64 --duration "$secs" \
    "${pids[@]}" --redis-pid "$redis_pid" $([[ $current == socketio ]] && echo --sio) "$@"
}
