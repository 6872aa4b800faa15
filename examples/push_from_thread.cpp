// SPDX-License-Identifier: MIT
// push_from_thread: another thread pushes messages to every WebSocket client of the loop.
//
//   example_push_from_thread [CERT KEY] [PORT]  (defaults: certs/dev/server.{crt,key}, 8443)
//   python3 -m websockets --insecure wss://127.0.0.1:8443/ticks   — one tick per second
//
// The loop's state (the client set, network_server methods) belongs to the loop thread. The
// producer thread only appends to a mutex-guarded queue and calls eventfd_trigger, the one
// call that is safe from any thread; the loop drains the queue in event_trigger_callback and
// broadcasts. (network_server::post(fn) is the shorter alternative for one-off work.)
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <network_server/network_server.hpp>

namespace {

ns::network_server* running = nullptr;

class push_app : public ns::application_methods {
 public:
  std::mutex mutex;
  std::deque<std::string> queue;  // guarded by mutex
  std::atomic<ns::client_num_t> event{ns::invalid_client};

  void server_started_callback(ns::network_server& server) override {
    server_ = &server;
    const ns::client_num_t e = server.eventfd_open();
    server.eventfd_prepare(e, 0);
    event = e;
  }
  ns::ws_accept_decision websocket_upgrade_callback(const ns::http_request& r,
                                                    ns::client_num_t) override {
    ns::ws_accept_decision d;
    d.accept = r.path() == "/ticks";
    return d;
  }
  void websocket_open_callback(ns::client_num_t c) override { clients_.insert(c); }
  void websocket_close_callback(ns::client_num_t c, std::uint16_t) override { clients_.erase(c); }

  // On the loop thread: one call per trigger (several pushes may be waiting); re-arm after.
  void event_trigger_callback(ns::client_num_t e, std::uint64_t) override {
    std::deque<std::string> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(queue);
    }
    for (const std::string& m : batch) server_->websocket_broadcast(clients_, m);
    server_->eventfd_prepare(e, 0);
  }

 private:
  ns::network_server* server_ = nullptr;
  std::set<ns::client_num_t> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  ns::server_config cfg;
  cfg.tls.certificates.push_back(
      {argc >= 3 ? argv[1] : "certs/dev/server.crt", argc >= 3 ? argv[2] : "certs/dev/server.key"});
  if (argc == 2 || argc >= 4) cfg.port = static_cast<std::uint16_t>(std::atoi(argv[argc - 1]));
  push_app app;
  std::unique_ptr<ns::network_server> server;
  try {
    server = std::make_unique<ns::network_server>(cfg, app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "push_from_thread: %s\n", e.what());
    return 2;
  }
  running = server.get();
  signal(SIGINT, [](int) { running->stop(); });
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (unsigned n = 1; !done; ++n) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      {
        std::lock_guard lock(app.mutex);
        app.queue.push_back("tick " + std::to_string(n));
      }
      if (app.event != ns::invalid_client) server->eventfd_trigger(app.event);
    }
  });
  std::printf("push_from_thread: wss://127.0.0.1:%u/ticks\n", server->port());
  std::fflush(stdout);
  const int rc = server->start();
  done = true;
  producer.join();
  return rc == 0 ? 0 : 1;
}
