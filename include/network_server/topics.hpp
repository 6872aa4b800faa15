// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Topics: publish/subscribe across every loop (thread) of a process, and the seam through which
/// a cluster engine (Redis, NATS) carries publishes between processes.
///
/// A topic is an opaque byte string of at most `max_topic_bytes`. A WebSocket connection joins
/// one with `network_server::subscribe` and leaves it with `unsubscribe` or by closing. A
/// `publish` reaches every subscriber on every loop that shares the hub: each loop encodes the
/// frame (and, with `ws_deflate_mode::shared`, compresses it) once for all its subscribers, as
/// `websocket_broadcast` does. Messages of one publisher (one thread) on one topic arrive at
/// every subscriber in publish order.
///
/// One `topic_hub` per process, created like `shared_tls` and given to every `network_server`
/// (`shared_resources::topics`). A server given none makes its own: its topics then span only
/// its own loop.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <network_server/application_methods.hpp>

namespace ns {

/// The longest topic (bytes); a longer one is refused with -EINVAL.
inline constexpr std::size_t max_topic_bytes = 256;

/// Process-wide counters of a hub (`topic_hub::stats`); per-loop ones are in `server_stats`.
struct topic_hub_stats {
  std::uint64_t topics = 0;     ///< distinct topics with at least one subscriber, on any loop
  std::uint64_t published = 0;  ///< publishes made in this process (any loop, any thread)
  std::uint64_t injected = 0;   ///< remote publishes an engine handed in (own echoes excluded)
};

/// What carries publishes between processes (a Redis or NATS link): one per process, set on
/// the hub with `topic_hub::set_engine`. The hub keeps, per topic, whether any loop of the
/// process has a subscriber, and tells the engine when that changes, so the engine holds one
/// channel subscription per topic and process, not one per connection or per loop.
///
/// The hub calls these on whichever thread caused the change (a loop thread, or the thread
/// that set the engine), with the hub's lock held so that first/last calls for one topic
/// arrive in order. They must not block and must not call back into the hub: queue the work
/// for the engine's own thread or ring. Remote messages come back through `topic_hub::inject`.
class topic_engine {
 public:
  virtual ~topic_engine() = default;

  /// The process has its first subscriber to @p topic (on any loop): subscribe to its channel.
  virtual void on_first_subscriber(std::string_view topic) = 0;

  /// The last subscriber to @p topic in the process has left: unsubscribe from its channel.
  virtual void on_last_unsubscribed(std::string_view topic) = 0;

  /// A publish made in this process, to hand to the other instances. The views are valid
  /// during the call only. Send `topic_hub::origin()` with it: an instance receiving its own
  /// message back passes it to `inject`, which drops it (local subscribers already have it).
  /// Called without the hub's lock, on the publishing thread, in that thread's publish order.
  virtual void publish(std::string_view topic, std::span<const std::byte> data,
                       ws_message_type type) = 0;
};

/// Topic state shared by every `network_server` of one process (see the file comment).
/// All methods are safe from any thread.
class topic_hub {
 public:
  /// A hub with the null engine (topics stay inside the process) and a fresh random origin.
  static std::shared_ptr<topic_hub> create();

  ~topic_hub();
  topic_hub(const topic_hub&) = delete;
  topic_hub& operator=(const topic_hub&) = delete;

  /// Publishes @p data on @p topic to every subscriber on every loop of the hub, and hands it
  /// to the engine. On a loop thread (inside a callback, or a function given to `post`) the
  /// subscribers of that loop get it at once and the other loops through `post`; from any other
  /// thread every loop gets it through `post` (the payload is copied once, shared by all).
  /// Returns 0, or -EINVAL for a topic longer than `max_topic_bytes`.
  /// Same as `network_server::publish`.
  int publish(std::string_view topic, std::span<const std::byte> data,
              ws_message_type type = ws_message_type::binary);
  /// As above with a text message (must be UTF-8).
  int publish(std::string_view topic, std::string_view text) {
    return publish(topic, std::as_bytes(std::span(text.data(), text.size())),
                   ws_message_type::text);
  }

  /// Sets the engine (null: none). Topics that already have subscribers are announced to it
  /// at once (`on_first_subscriber` each). The hub keeps it alive; an engine that needs the hub
  /// should hold it by `std::weak_ptr` or reference, not `shared_ptr` (no ownership cycle).
  void set_engine(std::shared_ptr<topic_engine> engine);

  /// This process's origin id: 32 random hexadecimal characters, made at `create`.
  [[nodiscard]] std::string_view origin() const noexcept;

  /// A publish that came from another instance (the engine's receive path): delivered to every
  /// subscriber on every loop, never handed back to the engine. Dropped when @p origin is this
  /// hub's own (the local subscribers got it when it was published). Returns the number of
  /// loops it was handed to (0 when dropped or when no loop has a subscriber); -EINVAL for a
  /// topic longer than `max_topic_bytes`.
  int inject(std::string_view origin, std::string_view topic, std::span<const std::byte> data,
             ws_message_type type);

  /// Process-wide counters.
  [[nodiscard]] topic_hub_stats stats() const;

  class impl;
  impl& internal() noexcept { return *impl_; }

 private:
  explicit topic_hub(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace ns
