// SPDX-License-Identifier: MIT
#pragma once
// The WebSocket handler (RFC 6455, RFC 7692): what a transport carries after a 101. Bytes in →
// ws::connection → websocket_read_callback; protocol output (pongs, close frames) → the
// transport; pings on idle, the close handshake and its timeout (§7.1.1), and the slow-reader
// watch. Output the application asks for is in ws_output.cpp.

#include <cstdint>
#include <memory>
#include <span>

#include "server/handler.hpp"
#include "ws/connection.hpp"
#include "ws/frame_encoder.hpp"

namespace ns::server {

/// The options of a WebSocket that agreed @p deflate, on @p c's loop (limits, compression, the
/// loop's shared compressor when it may be used): at an upgrade, and for one moved in.
ws::connection_options websocket_options(core& c, const ws::deflate_params& deflate);

class ws_handler final : public protocol_handler {
 public:
  ws_handler(core& c, transport& t, const ws::connection_options& opts);

  static constexpr handler_kind static_kind = handler_kind::websocket;
  [[nodiscard]] handler_kind kind() const noexcept override { return static_kind; }
  bool on_plaintext(std::span<const std::byte> bytes) override;
  void on_output_pending() override;
  void on_sent() override;
  void on_timer() override;
  void on_completion(io::op_kind, const io_uring_cqe&) override {}
  void going_away() override;
  [[nodiscard]] bool quiescent() const noexcept override;
  void release_memory() noexcept override;
  void account(memory_by_kind& m) const noexcept override;
  void on_shed() noexcept override { close_code_ = 1013; }
  [[nodiscard]] bool movable() const noexcept override;
  void describe_move(handover::connection_state& out) const override;
  void on_moved() noexcept override { close_code_ = 1001; }
  void fail_owed() override;
  void report_closed(application_methods& app, client_num_t c) override;

  /// Starts the phase clock after the 101 (ping interval or idle timeout).
  void start();

  // ---- the application's calls (ws_output.cpp), after the API guard
  int write(std::span<const iovec> pieces, ws_message_type type, write_kind kind);
  int close(std::uint16_t code, std::string_view reason);
  void broadcast(broadcast_result& result);

  [[nodiscard]] bool open_for_messages() const noexcept {
    return t_.open() && proto_.state() == ws::connection_state::open;
  }

 private:
  enum class phase : std::uint8_t { open, closing };

  void pump();
  bool send_frame(const ws::encoded_frame& f);
  void enter(phase p);
  void arm_timer();
  [[nodiscard]] std::chrono::milliseconds phase_limit() const noexcept;

  core& core_;
  transport& t_;
  ws::connection proto_;  ///< the sans-IO protocol (frames, deflate, close handshake)
  phase phase_ = phase::open;
  std::uint16_t close_code_ = 1006;  ///< reported by websocket_close_callback (RFC 6455 §7.1.5)
  bool ping_outstanding_ = false;    ///< our idle ping is unanswered (nothing received since)
  bool drain_wanted_ = false;        ///< websocket_drain_callback owed once the queue drains
  /// Output is waiting on the peer: it must take bytes at least every server idle_timeout
  /// (a peer that stopped reading would otherwise hold its queue until the ping and idle
  /// timeouts, 95 s by default, and a close frame would only queue behind the data).
  bool send_watched_ = false;
  std::uint64_t send_progress_ms_ = 0;   ///< when the peer last took bytes (or output began)
  std::uint64_t phase_deadline_ms_ = 0;  ///< the ping / idle / close deadline of the phase
};

}  // namespace ns::server
