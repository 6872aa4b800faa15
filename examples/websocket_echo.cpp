// SPDX-License-Identifier: MIT
// websocket_echo: a WSS server that sends every message back, text as text, binary as binary.
//
//   example_websocket_echo [CERT KEY] [PORT]  (defaults: certs/dev/server.{crt,key}, 8443)
//   python3 -m websockets --insecure wss://127.0.0.1:8443/echo   (or a browser)
//
// Upgrades are refused unless the application accepts them in websocket_upgrade_callback;
// fragments, masking, UTF-8 checks, pings and permessage-deflate are the library's business.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <network_server/network_server.hpp>

namespace {

ns::network_server* running = nullptr;

class echo_app : public ns::application_methods {
 public:
  void server_started_callback(ns::network_server& server) override { server_ = &server; }

  ns::ws_accept_decision websocket_upgrade_callback(const ns::http_request& request,
                                                    ns::client_num_t) override {
    ns::ws_accept_decision d;
    d.accept = request.path() == "/echo";  // anything else: 404
    return d;
  }

  void websocket_read_callback(std::span<const std::byte> data, ns::ws_message_type type,
                               ns::client_num_t client, bool failed) override {
    if (failed) return;  // the library already closed it with the right code
    // -ENOBUFS: the client reads slower than it sends; drop it rather than buffer without end.
    if (server_->websocket_write(client, data, type) == -ENOBUFS) {
      server_->websocket_close(client, 1008, "too slow");
    }
  }

  void http_read_callback(const ns::http_request&, ns::client_num_t client) override {
    server_->http_write(client,
                        std::string_view("HTTP/1.1 426 Upgrade Required\r\n"
                                         "Upgrade: websocket\r\nContent-Length: 0\r\n\r\n"));
  }

 private:
  ns::network_server* server_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  ns::server_config cfg;
  cfg.tls.certificates.push_back(
      {argc >= 3 ? argv[1] : "certs/dev/server.crt", argc >= 3 ? argv[2] : "certs/dev/server.key"});
  if (argc == 2 || argc >= 4) cfg.port = static_cast<std::uint16_t>(std::atoi(argv[argc - 1]));
  echo_app app;
  try {
    ns::network_server server(cfg, app);
    running = &server;
    signal(SIGINT, [](int) { running->stop(); });
    std::printf("websocket_echo: wss://127.0.0.1:%u/echo\n", server.port());
    std::fflush(stdout);
    return server.start() == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocket_echo: %s\n", e.what());
    return 2;
  }
}
