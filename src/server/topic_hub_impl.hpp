// SPDX-License-Identifier: MIT
#pragma once
// The process-wide side of topics (topic_hub::impl): which loops have a subscriber to which
// topic, the engine, and the routing of a publish. A loop's own subscribers live in its
// topic_service (topics.hpp); the hub only knows loops, so a subscribe takes the hub's lock
// only when a topic appears on or disappears from a loop, and a publish only to find the loops.
//
// The hub sees a loop through topic_loop, so that it can be tested with fake loops.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <network_server/topics.hpp>

namespace ns::server {

/// One message on its way to other loops: copied once, shared read-only by all of them.
class topic_message {
 public:
  topic_message(std::string_view topic, std::span<const std::byte> data, ws_message_type type);
  [[nodiscard]] std::string_view topic() const noexcept {
    return std::string_view(bytes_).substr(0, topic_size_);
  }
  [[nodiscard]] std::span<const std::byte> data() const noexcept {
    return std::as_bytes(std::span(bytes_)).subspan(topic_size_);
  }
  [[nodiscard]] ws_message_type type() const noexcept { return type_; }

 private:
  std::string bytes_;  // the topic, then the payload: one allocation
  std::size_t topic_size_;
  ws_message_type type_;
};

/// A loop as the hub sees it.
class topic_loop {
 public:
  /// Any thread: deliver @p m to this loop's subscribers on the loop's thread, after whatever
  /// was handed to it before (post order).
  virtual void post_message(std::shared_ptr<const topic_message> m) = 0;
  /// This loop's thread: deliver to this loop's subscribers now.
  virtual void deliver_here(std::string_view topic, std::span<const std::byte> data,
                            ws_message_type type) = 0;
  /// This loop's thread: a publish was made here (its per-loop counter).
  virtual void note_published() noexcept = 0;

 protected:
  ~topic_loop() = default;
};

/// The loop whose thread this is while it runs (set by topic_service::running), else null.
topic_loop*& current_loop() noexcept;

}  // namespace ns::server

namespace ns {

class topic_hub::impl {
 public:
  impl();

  /// A loop joins (its server is constructed) / leaves (before its server is destroyed: no
  /// message is handed to it afterwards).
  void attach(server::topic_loop* loop);
  void detach(server::topic_loop* loop);
  /// @p loop got its first subscriber to @p topic / lost its last one.
  void joined(server::topic_loop* loop, std::string_view topic);
  void left(server::topic_loop* loop, std::string_view topic);

  /// Delivers to every loop with a subscriber (the calling loop's at once, others by post);
  /// a local publish also goes to the engine. Returns the number of loops it reached.
  std::size_t route(std::string_view topic, std::span<const std::byte> data, ws_message_type type,
                    bool local);

  void set_engine(std::shared_ptr<topic_engine> engine);
  [[nodiscard]] const std::string& origin() const noexcept { return origin_; }
  [[nodiscard]] topic_hub_stats stats() const;
  void count_injected() noexcept { injected_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  mutable std::mutex m_;
  std::vector<server::topic_loop*> loops_;
  // Topic → the loops with at least one subscriber to it. A topic is here iff the process
  // has a subscriber: what the engine's channel subscriptions follow.
  std::unordered_map<std::string, std::vector<server::topic_loop*>, string_hash, std::equal_to<>>
      topics_;
  std::shared_ptr<topic_engine> engine_;
  std::string origin_;
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> injected_{0};
};

}  // namespace ns
