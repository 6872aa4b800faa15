// SPDX-License-Identifier: MIT
// The package test's consumer: includes only the installed public header, serves one plaintext
// request on an ephemeral port and checks the answer with a blocking socket client.
// It also starts the Redis engine (network_server::redis) on a topic hub with nothing listening
// at its URL: the engine links, runs in the background and stops cleanly.
// Exit status 0 when the round trip worked.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include <network_server/network_server.hpp>
#include <network_server/redis_engine.hpp>

namespace {

class hello : public ns::application_methods {
 public:
  void server_started_callback(ns::network_server& server) override { server_ = &server; }
  void http_read_callback(const ns::http_request& request, ns::client_num_t client) override {
    const std::string body = "hello from " + std::string(request.path()) + "\n";
    server_->http_write(client, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body);
  }

 private:
  ns::network_server* server_ = nullptr;
};

std::string get(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET /package HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
        reply.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace

int main() {
  ns::server_config cfg;
  cfg.plaintext = true;
  cfg.port = 0;
  hello app;
  ns::network_server server(cfg, app);
  std::thread loop([&] { server.start(); });
  const std::string reply = get(server.port());
  server.stop();
  loop.join();
  auto hub = ns::topic_hub::create();
  ns::redis_options ro;
  ro.url = "redis://127.0.0.1:1";  // nothing there: topics stay local, the engine retries
  auto redis = ns::redis_engine::start(hub, ro);
  hub->publish("t", "kept in the engine's queue");
  const bool engine_ok = !redis->stats().connected && redis->describe() == "redis://127.0.0.1:1";
  hub->set_engine(nullptr);
  redis.reset();
  const bool ok = engine_ok && reply.starts_with("HTTP/1.1 200") &&
                  reply.find("hello from /package\n") != std::string::npos;
  std::printf("consumer: %s\n", ok ? "ok" : reply.c_str());
  return ok ? 0 : 1;
}
