// SPDX-License-Identifier: MIT
#pragma once
// One hiredis async connection driven by an io_uring: the adapter, and the connection's life
// (connect, log in, lose it, retry after a backoff).
//
// hiredis's async API asks its event library for five things (adapters/libevent.h, libuv.h,
// ae.h): start/stop watching the fd for reading, start/stop for writing, and clean up when the
// context is freed. On io_uring a "watch" is a one-shot IORING_OP_POLL_ADD; its completion calls
// redisAsyncHandleRead/Write, which read or write once and ask again (addRead/addWrite) while
// they want more. One-shot polls are level-triggered at arming (a ready fd completes at once),
// so a reply larger than hiredis's 16 KiB read is never stranded, as it could be with an
// edge-like multishot poll. A stop request only clears the wish: the armed poll completes later
// and is ignored. When hiredis frees the context (error, Redis gone, our own free), the polls
// still armed on its fd are cancelled: each completion carries the context's generation, so a
// late completion of an old context is recognised and dropped, never handed to a new one.
//
// Everything here runs on the engine's thread; no call blocks except hiredis's name lookup of a
// host name (numeric addresses and unix sockets do not look anything up).

#include <hiredis/async.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "cluster/redis_url.hpp"
#include "io/ring.hpp"

namespace ns::cluster {

/// Who a ring operation belongs to: a link, or the engine itself (its wake-up read).
enum class link_role : std::uint8_t { subscriber = 0, publisher = 1, engine = 2 };

/// What a completion of the engine's ring is: user_data = kind (8 bits) | role (8) | generation.
enum class ring_op : std::uint8_t { none = 0, poll_read, poll_write, cancel, wake };

[[nodiscard]] constexpr std::uint64_t encode_op(ring_op op, link_role role,
                                                std::uint32_t generation) noexcept {
  return (std::uint64_t{static_cast<std::uint8_t>(op)} << 56) |
         (std::uint64_t{static_cast<std::uint8_t>(role)} << 48) | generation;
}
[[nodiscard]] constexpr ring_op op_of(std::uint64_t user_data) noexcept {
  return static_cast<ring_op>(user_data >> 56);
}
[[nodiscard]] constexpr link_role role_of(std::uint64_t user_data) noexcept {
  return static_cast<link_role>((user_data >> 48) & 0xff);
}

class redis_link;

/// What a link reports to its owner (the engine), on the engine's thread.
class link_owner {
 public:
  /// Connected and logged in (AUTH, SELECT answered): commands may be sent on context().
  virtual void link_ready(redis_link& link) = 0;
  /// A connection attempt failed (@p was_ready false) or a ready link was lost. The old context
  /// is being freed: no hiredis call on it. The link retries by itself after its backoff.
  virtual void link_down(redis_link& link, std::string_view why, bool was_ready) = 0;

 protected:
  ~link_owner() = default;
};

struct link_timing {
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{1000};
  std::chrono::milliseconds connect_timeout{2000};
};

class redis_link {
 public:
  using clock = std::chrono::steady_clock;

  /// @p name: the CLIENT SETNAME of the connection, so `redis-cli CLIENT LIST` tells which
  /// instance and link it is (no spaces).
  redis_link(io::ring& ring, const redis_endpoint& where, link_role role, std::string name,
             link_owner& owner, link_timing timing, std::uint32_t seed);
  ~redis_link() = default;
  redis_link(const redis_link&) = delete;
  redis_link& operator=(const redis_link&) = delete;

  /// Starts a connection attempt now.
  void connect();
  /// A completion of this link's polls or cancels.
  void on_completion(const io_uring_cqe& cqe);
  /// Does what is due at @p now: a retry, or giving up on a connection that is not ready in time;
  /// then re-arms a poll that could not get a submission entry before.
  void on_time(clock::time_point now);
  /// When on_time next has something to do.
  [[nodiscard]] std::optional<clock::time_point> deadline() const noexcept;
  /// Frees the connection (its pending callbacks get NULL replies) and stops retrying.
  void close();

  [[nodiscard]] bool ready() const noexcept { return state_ == state::ready; }
  /// The hiredis context while connected (commands may be queued once ready()); else null.
  [[nodiscard]] redisAsyncContext* context() const noexcept { return ctx_; }
  [[nodiscard]] link_role role() const noexcept { return role_; }
  [[nodiscard]] link_owner& owner() const noexcept { return owner_; }
  /// Polls and cancels in the ring that have not completed.
  [[nodiscard]] unsigned in_flight() const noexcept { return in_flight_; }

 private:
  enum class state : std::uint8_t { waiting, connecting, handshaking, ready, closed };

  static void hook_add_read(void* self);
  static void hook_del_read(void* self);
  static void hook_add_write(void* self);
  static void hook_del_write(void* self);
  static void hook_cleanup(void* self);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_handshake_reply(redisAsyncContext* ac, void* reply, void* step);

  void attach(redisAsyncContext* ac);
  void send_handshake();
  void handshake_command(const char* step, std::initializer_list<const char*> argv,
                         std::initializer_list<std::size_t> lens);
  void arm(bool write);
  void read_available();
  void cancel(ring_op op);
  void went_down();
  void failed_before_attach(redisAsyncContext* ac);
  [[nodiscard]] clock::duration next_backoff();

  io::ring& ring_;
  const redis_endpoint& where_;
  link_role role_;
  std::string name_;
  link_owner& owner_;
  link_timing timing_;
  std::minstd_rand rng_;

  state state_ = state::waiting;
  redisAsyncContext* ctx_ = nullptr;
  std::uint32_t gen_ = 0;  // of ctx_; completions of older contexts are stale
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  unsigned in_flight_ = 0;
  unsigned handshake_pending_ = 0;
  std::string why_;                            // the reason to report when the context goes
  unsigned failures_ = 0;                      // consecutive, for the backoff
  std::optional<clock::time_point> deadline_;  // retry (waiting) or give up (connecting)
};

}  // namespace ns::cluster
