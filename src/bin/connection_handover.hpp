// SPDX-License-Identifier: MIT
#pragma once
// The live connections of a `kill -USR2` upgrade (issue 20 §2), over the hand-over channel
// that carried the listeners (upgrade.hpp, handover/record.hpp):
//
//  old                                           new
//  drain(grace, mover) on every server
//  a connection at a clean point: connection {id, state} + its socket ─▶ adopt_connection on
//                                                                        one of its servers
//                                 ◀── adopted {id, ok}
//  taken: closed here without a byte; refused, no answer in time, or the channel broken: it
//  drains here, and so does every later one
//  no server here accepts any more: released ─▶ recheck_accept() on every server
//  the old process exits: end of file ─▶ the receiver ends
//
// The channel is a socketpair the old process made and passed to its own child: no other
// process can reach it (no path in the filesystem), and the child's credentials were checked
// on its hello. Connection records hold traffic secrets: every buffer that held one is wiped.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include <network_server/network_server.hpp>

namespace ns::serve {

/// Old side: the servers' connection_mover over the hand-over channel, which it owns from now
/// on (closed when it goes, after the last server using it). Thread-safe: every loop moves
/// through it, one round trip at a time.
class channel_mover final : public connection_mover {
 public:
  explicit channel_mover(int channel,
                         std::chrono::milliseconds answer_timeout = std::chrono::seconds(2));
  ~channel_mover() override;
  channel_mover(const channel_mover&) = delete;
  channel_mover& operator=(const channel_mover&) = delete;

  bool move(int fd, std::span<const std::byte> state) override;
  /// Tells the new process that no server here accepts any more (it rechecks its accepts).
  void released();

  [[nodiscard]] std::uint64_t moved() const noexcept { return moved_.load(); }

 private:
  std::mutex mutex_;
  int channel_;
  std::chrono::milliseconds answer_timeout_;
  std::uint32_t next_id_ = 1;
  bool broken_ = false;  // a failed round trip: later moves are refused at once
  std::atomic<std::uint64_t> moved_{0};
};

/// Old side, after drain(grace, mover) on every one of @p servers: waits until none of them
/// accepts any more (at most @p timeout), then tells the new process so.
void release_listeners(channel_mover& mover,
                       std::span<const std::unique_ptr<network_server>> servers,
                       std::chrono::milliseconds timeout);

/// New side, after confirm_ready: a thread that serves the hand-over channel until the old
/// process closes it or @p stop is set: connections are adopted by @p servers in turn, and a
/// `released` (or the end of the channel) makes every server recheck its accept. No thread
/// (not joinable) when @p channel is -1. Join it before the servers go.
std::thread receive_moves(int channel, std::span<const std::unique_ptr<network_server>> servers,
                          const std::atomic<bool>& stop);

}  // namespace ns::serve
