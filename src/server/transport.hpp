// SPDX-License-Identifier: MIT
#pragma once
// The transport of one slot: the descriptor, its TLS session, its output queue and the
// bookkeeping of the one close path (in-flight operations, close flags). What the bytes mean
// belongs to the protocol handler the transport carries (handler.hpp): HTTP/1.1, WebSocket, a
// raw descriptor or an eventfd. An upgrade swaps the handler; the transport stays.
//
// Everything here is plain state plus the sans-IO step from plaintext to queued bytes
// (queue()); the ring operations on it (recv, send, cancel, close) are the core's
// (transport_io.cpp, close_path.cpp).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <network_server/stats.hpp>
#include <network_server/types.hpp>

#include "io/timer_wheel.hpp"
#include "proxy/header.hpp"
#include "server/output_queue.hpp"
#include "tls/session.hpp"

namespace ns::server {

class protocol_handler;

/// Index of a deadline in the loop's timer wheel (timer_ids.hpp). Timers are keyed by id, not
/// by slot, so a handler may own several (an HTTP/2 connection: one per stream).
using timer_id = std::uint32_t;
inline constexpr timer_id no_timer = ~timer_id{0};

struct transport {
  transport(int fd_, bool counted_) : fd(fd_), counted(counted_) {}
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  ~transport();

  int fd;
  client_num_t handle = invalid_client;  ///< this slot's handle (set right after emplace)
  timer_id timer = no_timer;             ///< the transport's own deadline
  std::optional<tls::session> tls;       ///< absent in plaintext mode and for descriptors
  /// A PROXY listener's connection until its header is complete (proxy_preamble.cpp); null
  /// otherwise, so a listener without PROXY pays one null check per recv.
  std::unique_ptr<proxy::parser> preamble;
  output_queue out;
  std::unique_ptr<protocol_handler> handler;
  /// A handler replaced while one of its own methods was running (an upgrade): freed once the
  /// completion that led to the swap has been handled.
  std::unique_ptr<protocol_handler> retired;

  std::uint16_t inflight = 0;   ///< SQEs whose last CQE has not arrived
  bool counted = false;         ///< an accepted connection (counted in server_stats)
  bool write_not_send = false;  ///< a pipe or file: written with write(2), not send(2)
  bool ready = false;           ///< carries application bytes (TLS handshake done)
  bool recv_armed = false;
  bool recv_paused = false;  ///< the handler holds input: no recv until it resumes
  bool send_in_flight = false;
  bool close_after_flush = false;  ///< graceful close: send what is queued, then close
  bool closing = false;            ///< hard close started: cancel, wait for CQEs, close fd
  bool close_listed = false;       ///< queued on the core's finalize list
  bool resume_listed = false;      ///< queued for the handler's deferred work
  bool eof = false;                ///< the peer will send nothing more
  bool got_bytes = false;          ///< anything received yet (first bytes are sniffed)
  bool error_reported = false;     ///< connection_error_callback already called
  bool idle_listed = false;        ///< on the list of connections to trim (idle_memory.cpp)
  /// Moving to another process (move_out.cpp): its recv is being cancelled; what still arrives
  /// is held as ciphertext (held_input) and travels with it, or is read here if the move fails.
  bool moving = false;
  bool moved = false;  ///< the other process owns the socket now: close ours, never shut it down
  std::vector<std::byte> held_input;
  std::uint64_t idle_since_ms = 0;  ///< when it last went idle (loop clock)
  std::uint64_t accepted_ns = 0;    ///< when accepted (steady_ns), for the handshake duration
  std::string peer;                 ///< "ip:port", formatted when first read (peer_address)

  /// Neither closing nor draining to close: the application may still queue bytes.
  [[nodiscard]] bool open() const noexcept { return !closing && !close_after_flush; }

  /// Encrypts (TLS) or copies (plaintext) @p plaintext into the output queue. False when the
  /// TLS session refuses (it failed or was shut down).
  bool queue(std::span<const std::byte> plaintext);
  /// Moves what the TLS session has produced on its own (handshake, alerts, close_notify)
  /// into the output queue.
  void drain_tls_output();

  /// "ip:port" of the peer, looked up on first use (most connections never need it).
  [[nodiscard]] std::string_view peer_name();

  /// Adds what the transport holds for this connection beyond its fixed size to @p m: the TLS
  /// session (tls), the output queue's buffers (output) and a pending PROXY header (input).
  void account(memory_by_kind& m) const noexcept {
    if (tls) m.tls += tls->memory_bytes();
    m.output += out.capacity();
    if (preamble) m.input += sizeof(proxy::parser) + preamble->footprint();
  }
};

}  // namespace ns::server
