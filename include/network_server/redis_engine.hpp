// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The Redis cluster engine: carries a hub's publishes to every other process (instance) whose
/// hub uses the same Redis, over Redis pub/sub. Link `network_server::redis` (CMake) or
/// `-lns_redis -lns_cluster` (pkg-config adds them) to use it.
///
/// One process, one engine, two connections to Redis whatever the number of clients, loops or
/// topics: a subscriber link that SUBSCRIBEs to a topic's channel when the process gets its first
/// subscriber to it (and UNSUBSCRIBEs when the last one leaves), and a publisher link that
/// PUBLISHes every local publish, pipelined. Both are driven by the engine's own thread and
/// io_uring (hiredis's async API on our ring): no loop thread ever waits on Redis.
///
/// Delivery between instances is **at most once**: a message published while Redis is
/// unreachable waits in a bounded queue (beyond it: dropped and counted), one in flight when a
/// link breaks may be lost (counted), and Redis itself drops a subscriber that falls behind.
/// Within one process delivery does not depend on Redis at all. Messages of one publishing
/// thread on one topic reach every instance in publish order.
///
/// Faults are survived, not reported to the application: Redis unreachable at start (topics stay
/// local, one log line, retries), Redis restarted (every live topic is subscribed again), a link
/// closed by Redis (reconnected), garbage on a channel (dropped and counted). Retries back off
/// exponentially with jitter from `reconnect_min` to `reconnect_max`.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <network_server/application_methods.hpp>
#include <network_server/config.hpp>
#include <network_server/topics.hpp>

namespace ns {

/// Settings of a `redis_engine`.
struct redis_options {
  /// Where Redis is: `redis://[user:password@]host[:port][/db]` or
  /// `unix://[user:password@]/path/redis.sock[?db=N]` (AUTH and SELECT are sent on connect).
  std::string url;
  /// Channels are this prefix followed by the topic's bytes. Pub/sub channels are global to a
  /// Redis server (the database number does not separate them): processes that must not see
  /// each other's topics on one Redis need different prefixes.
  std::string channel_prefix = "ns:";
  /// Received messages with a larger payload are dropped (counted); local publishes larger than
  /// this are not sent to Redis (counted). The WebSocket message bound by default.
  std::size_t max_message_bytes = ws_limits{}.max_message_bytes;
  /// Bytes of publishes waiting for Redis (while it is unreachable, or slow to answer); a
  /// publish that would go beyond is dropped (counted).
  std::size_t max_queued_bytes = 16 * 1024 * 1024;
  /// First retry after a lost or failed connection; doubled per failure up to reconnect_max.
  /// Each wait is drawn between half and all of that (jitter), so instances do not reconnect in
  /// step after a Redis restart.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{1000};
  /// A connection (TCP connect + AUTH/SELECT) not ready within this is abandoned and retried.
  std::chrono::milliseconds connect_timeout{2000};
};

/// Counters of a `redis_engine` (`redis_engine::stats`), totals since it started.
struct redis_engine_stats {
  bool connected = false;        ///< both links are up now
  std::uint64_t channels = 0;    ///< channels the process subscribes to (topics with a local
                                 ///< subscriber), now
  std::uint64_t published = 0;   ///< PUBLISH commands Redis confirmed
  std::uint64_t received = 0;    ///< messages of other instances handed to the hub
  std::uint64_t own_echoes = 0;  ///< this process's own publishes back from Redis (ignored)
  std::uint64_t connects = 0;    ///< links established (two per connection to Redis)
  std::uint64_t subscriber_disconnects = 0;  ///< established subscriber links lost (Redis gone,
                                             ///< or it closed us: output buffer limit, KILL)
  std::uint64_t publisher_disconnects = 0;   ///< established publisher links lost
  /// Messages that did not make it, by reason.
  struct drops {
    std::uint64_t malformed = 0;       ///< received: not an envelope, bad channel, bad UTF-8
    std::uint64_t oversized = 0;       ///< received: payload above max_message_bytes
    std::uint64_t too_large = 0;       ///< local publishes above max_message_bytes, not sent
    std::uint64_t queue_full = 0;      ///< local publishes beyond max_queued_bytes, not sent
    std::uint64_t lost_in_flight = 0;  ///< sent, but the link broke before Redis confirmed
                                       ///< (maybe delivered, maybe not)
    std::uint64_t refused = 0;         ///< Redis answered the PUBLISH with an error
  } dropped;
};

/// The Redis engine (see the file comment). Create it with `start`; it stays attached to its
/// hub until `topic_hub::set_engine` replaces it or the hub goes away.
class redis_engine final : public topic_engine {
 public:
  /// Checks @p options (a bad URL throws `std::invalid_argument` with a one-line reason that
  /// does not repeat the URL), starts the engine's thread and sets the engine on @p hub. Never
  /// waits for Redis: connecting happens on the engine's thread, and until it succeeds topics
  /// stay local. Throws `std::system_error` if the thread's io_uring or eventfd cannot be made.
  static std::shared_ptr<redis_engine> start(const std::shared_ptr<topic_hub>& hub,
                                             redis_options options);

  /// Stops the thread and closes both links (joined here; from the engine's own thread the
  /// thread finishes on its own).
  ~redis_engine() override;
  redis_engine(const redis_engine&) = delete;
  redis_engine& operator=(const redis_engine&) = delete;

  /// The counters; safe from any thread.
  [[nodiscard]] redis_engine_stats stats() const;
  /// Where it connects, without the password ("redis://127.0.0.1:6379").
  [[nodiscard]] std::string describe() const;

  // topic_engine: called by the hub; they only queue work for the engine's thread.
  void on_first_subscriber(std::string_view topic) override;
  void on_last_unsubscribed(std::string_view topic) override;
  void publish(std::string_view topic, std::span<const std::byte> data,
               ws_message_type type) override;

  class core;

 private:
  explicit redis_engine(std::shared_ptr<core> c);
  std::shared_ptr<core> core_;
};

}  // namespace ns
