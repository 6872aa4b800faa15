// SPDX-License-Identifier: MIT
// wsload: closed-loop WSS load generator for bench/run.sh (one message in flight per
// connection, every echoed byte verified). Prints one JSON line with the result.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "fanout.hpp"
#include "load.hpp"

namespace {

void usage() {
  std::fputs(
      "usage: wsload [options]\n"
      "  --mode M          echo | storm | broadcast | idle | fanout (default echo)\n"
      "  --host A --port N server address (default 127.0.0.1:8443)\n"
      "  --path P          upgrade target (default /ws/echo; broadcast: /ws/chat)\n"
      "  --conns N         connections (broadcast: receivers; default 100)\n"
      "  --size N          message bytes (default 64)\n"
      "  --text            text messages (compressible words) instead of random binary\n"
      "  --deflate         offer permessage-deflate (client_max_window_bits)\n"
      "  --offer S         offer this Sec-WebSocket-Extensions value instead\n"
      "  --duration S      measured seconds (default 10)\n"
      "  --http            idle mode: HTTPS keep-alive connections (GET --path) instead of WSS\n"
      "  --hold S          idle mode: seconds to hold the connections (default: until SIGTERM)\n"
      "  --ready-file F    idle mode: write the JSON result there once all are open\n"
      "  --parallel N      connections set up concurrently (default 64; storm: --conns)\n"
      "  --server-pid PID  sample this process's utime+stime and VmRSS around the measurement\n"
      "                    (fanout: repeat it for every instance; their CPU is summed)\n"
      "fanout mode (cluster_fanout): --conns subscribers + --publishers, all in one room\n"
      "  --ports P,Q,...   the instances (default --port); connections spread round-robin\n"
      "  --publishers N    connections that also publish (default 2)\n"
      "  --rate R          messages per second per publisher (default 10; open loop)\n"
      "  --sio             Socket.IO 4 (Engine.IO v4 over WebSocket, event \"m\"); path default\n"
      "                    /socket.io/?EIO=4&transport=websocket&room=bench, else\n"
      "                    /ws/chat?room=bench\n"
      "  --redis-pid PID   sample the broker's CPU time too (reported on its own)\n"
      "  --label S         copied into the JSON line\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  ns::bench::load_options o;
  bool path_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "wsload: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--mode")
      o.mode = value();
    else if (a == "--host")
      o.client.host = value();
    else if (a == "--port")
      o.client.port = static_cast<std::uint16_t>(std::stoi(value()));
    else if (a == "--path")
      o.client.path = value(), path_given = true;
    else if (a == "--conns")
      o.conns = std::stoi(value());
    else if (a == "--size")
      o.size = std::stoull(value());
    else if (a == "--text")
      o.text = true;
    else if (a == "--deflate")
      o.deflate = true;
    else if (a == "--offer")
      o.deflate = true, o.client.extensions_offer = value();
    else if (a == "--duration")
      o.duration = std::stod(value());
    else if (a == "--http")
      o.client.http_only = true;
    else if (a == "--hold")
      o.hold = std::stod(value());
    else if (a == "--ready-file")
      o.ready_file = value();
    else if (a == "--parallel")
      o.parallel = std::stoi(value());
    else if (a == "--server-pid")
      o.server_pid = std::stoi(value()), o.server_pids.push_back(o.server_pid);
    else if (a == "--ports") {
      const std::string list = value();
      for (std::size_t at = 0; at < list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        o.ports.push_back(static_cast<std::uint16_t>(std::stoi(list.substr(at, comma - at))));
        at = comma + 1;
      }
    } else if (a == "--publishers")
      o.publishers = std::stoi(value());
    else if (a == "--rate")
      o.rate = std::stod(value());
    else if (a == "--sio")
      o.sio = true;
    else if (a == "--redis-pid")
      o.redis_pid = std::stoi(value());
    else if (a == "--label")
      o.label = value();
    else {
      usage();
      return a == "--help" ? 0 : 2;
    }
  }
  if (o.mode != "echo" && o.mode != "storm" && o.mode != "broadcast" && o.mode != "idle" &&
      o.mode != "fanout") {
    usage();
    return 2;
  }
  if (o.mode == "broadcast" && !path_given) o.client.path = "/ws/chat";
  if (o.mode == "fanout" && !path_given)
    o.client.path =
        o.sio ? "/socket.io/?EIO=4&transport=websocket&room=bench" : "/ws/chat?room=bench";
  if (o.mode == "fanout" && (o.publishers < 1 || o.publishers > 255 || !(o.rate > 0))) {
    std::fputs("wsload: fanout needs 1..255 --publishers and a --rate above 0\n", stderr);
    return 2;
  }
  if (o.deflate && o.client.extensions_offer.empty()) {
    o.client.extensions_offer = "permessage-deflate; client_max_window_bits";
  }
  if (o.size < 8) o.size = 8;  // room for the sequence stamp
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);        // benchmark against our own test cert
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // storms measure full handshakes
  const int rc = o.mode == "fanout" ? ns::bench::run_fanout(o, ctx) : ns::bench::run_load(o, ctx);
  SSL_CTX_free(ctx);
  return rc;
}
