// SPDX-License-Identifier: MIT
#pragma once
// Topic test helpers: an application whose WebSocket clients drive subscribe / unsubscribe /
// publish with text commands, several in-process servers (loops) sharing one topic_hub, and a
// recording engine.
//
// Commands on /t (text): "sub T" and "unsub T" answer "rc N" (the call's return value);
// "pub T PAYLOAD" publishes PAYLOAD as text on T (its return value is kept in publish_rcs);
// "closeme" starts the close handshake and then tries to subscribe (kept in closing_rc).

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "integration/ws_support.hpp"

namespace ns::test {

class topic_app : public ws_test_app {
 public:
  void server_started_callback(network_server& s) override;
  void http_read_callback(const http_request& req, client_num_t c) override;
  ws_accept_decision websocket_upgrade_callback(const http_request& req, client_num_t c) override;
  void websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                               client_num_t c, bool failed) override;
  void websocket_close_callback(client_num_t c, std::uint16_t code) override;

  /// The server, once its loop runs (any thread).
  network_server& loop();
  /// Runs @p fn on the loop thread and returns its result.
  template <class F>
  auto on_loop(F fn) -> decltype(fn()) {
    std::promise<decltype(fn())> p;
    auto f = p.get_future();
    EXPECT_EQ(loop().post([&] { p.set_value(fn()); }), 0);
    return f.get();
  }
  server_stats stats() {
    return on_loop([this] { return loop().stats(); });
  }

  std::mutex m;                  ///< guards what follows
  std::vector<int> publish_rcs;  ///< non-zero publish results
  int http_subscribe_rc = 1;     ///< subscribe() on an HTTP connection
  int http_unsubscribe_rc = 1;
  int closing_rc = 1;  ///< subscribe() after our close frame
  int stale_rc = 1;    ///< subscribe() in the close callback (dead handle)

 private:
  std::atomic<network_server*> started_{nullptr};
  std::set<client_num_t> topic_clients_;  // loop thread only
};

/// @p n loops (servers on their own ports) sharing one hub.
struct topic_loops {
  explicit topic_loops(int n, const std::function<void(server_config&)>& tune = {});
  std::shared_ptr<topic_hub> hub = topic_hub::create();
  std::vector<std::unique_ptr<topic_app>> apps;
  std::vector<std::unique_ptr<ws_server>> servers;  // after apps: stopped before they go
  [[nodiscard]] std::uint16_t port(std::size_t i) const { return servers[i]->port(); }
};

/// A client on /t subscribed to @p topics (each answered "rc 0"); null on failure (reported).
std::unique_ptr<ws_client> topic_client(std::uint16_t port, const std::vector<std::string>& topics,
                                        ws_client::options o = {});

/// Sends a command and returns the "rc N" answer's N (or 1 if none came).
int command_rc(ws_client& c, const std::string& command);

/// An engine that records what the hub told it.
class recording_engine : public topic_engine {
 public:
  void on_first_subscriber(std::string_view topic) override;
  void on_last_unsubscribed(std::string_view topic) override;
  void publish(std::string_view topic, std::span<const std::byte> data,
               ws_message_type type) override;

  std::mutex m;
  std::vector<std::string> events;  ///< "+topic", "-topic", "pub topic payload"
};

}  // namespace ns::test
