// SPDX-License-Identifier: MIT
#pragma once
// The topics of one loop (a loop service): its subscriptions (topic_registry), its link to the
// process-wide hub (topic_hub_impl.hpp), and the delivery of a message to its subscribers —
// encoded (and, in shared deflate mode, compressed) once for all of them through the broadcast
// path (ws_output.cpp), with the broadcast's back-pressure rules.
//
// Everything but post_message runs on the loop thread. The API guard (api.cpp) has checked the
// handle before subscribe / unsubscribe; a closing WebSocket leaves its topics from the close
// path (ws_handler::fail_owed → leave_all).

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <network_server/server.hpp>
#include <network_server/stats.hpp>
#include <network_server/topics.hpp>

#include "server/topic_hub_impl.hpp"
#include "server/topic_registry.hpp"

namespace ns::server {

class topic_service final : public topic_loop {
 public:
  /// Joins @p hub (null: a hub of this loop alone).
  topic_service(network_server::impl& loop, std::shared_ptr<topic_hub> hub);
  ~topic_service();
  topic_service(const topic_service&) = delete;
  topic_service& operator=(const topic_service&) = delete;

  /// Leaves the hub: nothing is posted to this loop afterwards. Idempotent; the loop calls it
  /// before the post queue it hands messages to goes away.
  void detach();

  /// 0, -EEXIST (already subscribed), -EINVAL (topic longer than max_topic_bytes).
  int subscribe(client_num_t c, std::string_view topic);
  /// 0, -ENOENT (not subscribed), -EINVAL (topic longer than max_topic_bytes).
  int unsubscribe(client_num_t c, std::string_view topic);
  /// The connection is closing: it leaves every topic.
  void leave_all(client_num_t c);

  [[nodiscard]] topic_hub& hub() noexcept { return *hub_; }
  /// This loop's counters (server_stats::topics).
  [[nodiscard]] topic_counters counters() const noexcept;

  /// Marks the calling thread as this loop's while in scope (run()): a publish made on it
  /// delivers to this loop's subscribers at once.
  class running {
   public:
    explicit running(topic_service& s) noexcept : prev_(current_loop()) { current_loop() = &s; }
    ~running() { current_loop() = prev_; }
    running(const running&) = delete;
    running& operator=(const running&) = delete;

   private:
    topic_loop* prev_;
  };

  // ---- topic_loop
  void post_message(std::shared_ptr<const topic_message> m) override;
  void deliver_here(std::string_view topic, std::span<const std::byte> data,
                    ws_message_type type) override;
  void note_published() noexcept override { ++published_; }

 private:
  network_server::impl& loop_;
  std::shared_ptr<topic_hub> hub_;
  bool attached_ = false;
  topic_registry registry_;
  std::uint64_t published_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_slow_ = 0;
};

}  // namespace ns::server
