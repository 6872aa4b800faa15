// SPDX-License-Identifier: MIT
// hello_https: the smallest HTTPS server — every request gets "hello" back.
//
//   example_hello_https [CERT KEY] [PORT]     (defaults: certs/dev/server.{crt,key}, 8443)
//   curl -k https://127.0.0.1:8443/
//
// The certificate defaults to the development one ns_serve makes on its first run; see
// certs/README.md for real ones. One network_server = one io_uring loop on the calling thread;
// the application overrides the callbacks it needs and answers with http_respond (the server
// writes the status line and framing; http_write takes raw HTTP/1.1 bytes instead).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <network_server/network_server.hpp>

namespace {

ns::network_server* running = nullptr;

class hello_app : public ns::application_methods {
 public:
  void server_started_callback(ns::network_server& server) override { server_ = &server; }

  void http_read_callback(const ns::http_request& request, ns::client_num_t client) override {
    // Views in `request` die when this returns; the response is copied by http_respond.
    const std::string body = "hello, " + std::string(request.path()) + "\n";
    const ns::http_header headers[] = {{"Content-Type", "text/plain"}};
    if (server_->http_respond(client, 200, headers, body) < 0) server_->http_close(client);
  }

 private:
  ns::network_server* server_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  ns::server_config cfg;
  const std::string cert = argc >= 3 ? argv[1] : "certs/dev/server.crt";
  const std::string key = argc >= 3 ? argv[2] : "certs/dev/server.key";
  cfg.tls.certificates.push_back({cert, key});
  if (argc == 2 || argc >= 4) cfg.port = static_cast<std::uint16_t>(std::atoi(argv[argc - 1]));
  hello_app app;
  try {
    ns::network_server server(cfg, app);  // throws with one line on a setup error
    running = &server;
    signal(SIGINT, [](int) { running->stop(); });  // stop() is signal-safe
    std::printf("hello_https: https://127.0.0.1:%u/\n", server.port());
    std::fflush(stdout);
    return server.start() == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hello_https: %s\n", e.what());
    return 2;
  }
}
