// SPDX-License-Identifier: MIT
#pragma once
// The Redis engine's state (redis_engine::core): what the hub's threads hand over, and what the
// engine's own thread does with it.
//
// Threads. The hub calls on_first_subscriber / on_last_unsubscribed / publish on any thread,
// some with its lock held: they only append to `ops_` under a leaf mutex and, if the engine's
// thread has not been woken yet, write its eventfd. Everything else — the ring, both links,
// the channel set, the backlog — belongs to the engine's thread (run()). Counters are atomics,
// read by stats() from anywhere.
//
// Memory. A publish is formatted once (the whole PUBLISH command) on the publishing thread and
// charged to `queued_bytes_` until Redis confirms it or the link that carried it breaks;
// a publish that would take the charge beyond max_queued_bytes is dropped. So the ops queue,
// the backlog kept while the publisher link is down, hiredis's output buffer and its pending
// callbacks together stay within the bound.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <network_server/redis_engine.hpp>

#include "cluster/envelope.hpp"
#include "cluster/redis_link.hpp"
#include "cluster/redis_url.hpp"
#include "io/ring.hpp"

namespace ns {

class redis_engine::core final : public cluster::link_owner {
 public:
  core(const std::shared_ptr<topic_hub>& hub, redis_options options, cluster::redis_endpoint where);
  ~core();

  /// Starts the thread; it keeps @p self alive until it ends.
  void start(std::shared_ptr<core> self);
  /// Asks the thread to end; joins it unless called on it (then it ends on its own).
  void stop();

  // Any thread (the hub's callers).
  void subscribe(std::string_view topic);
  void unsubscribe(std::string_view topic);
  void publish(std::string_view topic, std::span<const std::byte> data, ws_message_type type);
  [[nodiscard]] redis_engine_stats stats() const;
  [[nodiscard]] const cluster::redis_endpoint& where() const noexcept { return where_; }

 private:
  enum class op_kind : std::uint8_t { subscribe, unsubscribe, publish };
  struct op {
    op_kind kind;
    std::string bytes;  // the channel, or the formatted PUBLISH command
  };
  struct counters {
    std::atomic<std::uint64_t> published{0}, received{0}, own_echoes{0}, connects{0},
        sub_disconnects{0}, pub_disconnects{0}, malformed{0}, oversized{0}, too_large{0},
        queue_full{0}, lost_in_flight{0}, refused{0}, channels{0};
    std::atomic<bool> connected{false};
  };

  void push(op o);
  void run();
  void arm_wake();
  void dispatch(const io_uring_cqe& cqe);
  void take_ops();
  void send_subscriptions(op_kind kind, std::vector<const std::string*>& channels);
  void send_publish(std::string command);
  void write_publish(const std::string& command);
  void release(std::size_t bytes) noexcept { queued_bytes_.fetch_sub(bytes); }
  void deliver(const redisReply& message);
  void shut_down();

  // link_owner (engine thread)
  void link_ready(cluster::redis_link& link) override;
  void link_down(cluster::redis_link& link, std::string_view why, bool was_ready) override;

  static void on_message(redisAsyncContext* ac, void* reply, void* self);
  static void on_published(redisAsyncContext* ac, void* reply, void* bytes);

  // Fixed after construction.
  std::weak_ptr<topic_hub> hub_;
  std::string origin_;
  redis_options options_;
  cluster::redis_endpoint where_;
  std::string description_;
  int wake_fd_ = -1;

  // Shared with the hub's threads.
  std::mutex m_;
  std::vector<op> ops_;
  bool wake_pending_ = false;
  bool stopping_ = false;
  std::atomic<std::size_t> queued_bytes_{0};
  counters n_;
  std::thread thread_;

  // The engine's thread only.
  std::unique_ptr<io::ring> ring_;
  std::unique_ptr<cluster::redis_link> sub_;
  std::unique_ptr<cluster::redis_link> pub_;
  std::unordered_set<std::string> channels_;  // channel names the process wants
  std::deque<std::string> backlog_;           // PUBLISH commands waiting for the publisher link
  std::vector<op> taken_;                     // ops_ swapped out, reused
  std::uint64_t wake_value_ = 0;
  bool wake_armed_ = false;
  bool outage_reported_ = false;  // one log line per outage, not one per failed attempt
  bool ever_connected_ = false;
  bool malformed_reported_ = false;  // the first malformed message is logged, the rest counted
  bool stop_requested_ = false;
};

}  // namespace ns
