// SPDX-License-Identifier: MIT
#pragma once
// WebSocket state of the server: per connection (after the upgrade) and per loop (the shared
// compressor, the buffers a broadcast is encoded into once).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ws/byte_buffer.hpp"
#include "ws/connection.hpp"
#include "ws/deflate.hpp"
#include "ws/frame_encoder.hpp"

namespace ns::server {

/// One upgraded connection. Allocated only at the upgrade, so plain HTTP connections pay one
/// null pointer for WebSocket support.
struct ws_state {
  explicit ws_state(const ws::connection_options& opts) : proto(opts) {}

  ws::connection proto;             ///< the sans-IO protocol (frames, deflate, close handshake)
  std::uint16_t close_code = 1006;  ///< reported by websocket_close_callback (RFC 6455 §7.1.5)
  bool ping_outstanding = false;    ///< our idle ping is unanswered (nothing received since)
  bool drain_wanted = false;        ///< websocket_drain_callback owed once the queue drains
  /// Output is waiting on the peer: it must take bytes at least every server idle_timeout
  /// (a peer that stopped reading would otherwise hold its queue until the ping and idle
  /// timeouts, 95 s by default, and a close frame would only queue behind the data).
  bool send_watched = false;
  std::uint64_t send_progress_ms = 0;   ///< when the peer last took bytes (or output began)
  std::uint64_t phase_deadline_ms = 0;  ///< the ping / idle / close deadline of the phase
};

/// Per-loop WebSocket resources, created at the first upgrade.
struct ws_shared {
  bool ready = false;
  /// ws_deflate_mode::shared: the one compressor of this loop (no context takeover), used by
  /// every connection that agreed to server_no_context_takeover and by broadcasts.
  std::unique_ptr<ws::deflater> compressor;
  std::vector<std::string_view> origins;  ///< views of config_.websocket.allowed_origins
  ws::byte_buffer gather;                 ///< websocket_writev: pieces made contiguous
  ws::byte_buffer tx;                     ///< a small frame's header + payload for one SSL_write

  // The broadcast being sent (between broadcast_begin and broadcast_end).
  bool bcast_active = false;
  ws::opcode bcast_op = ws::opcode::binary;
  std::span<const std::byte> bcast_payload;  ///< the application's bytes (valid during the call)
  ws::byte_buffer bcast_deflated;            ///< compressed payload (shared compressor)
  ws::encoded_frame bcast_z;                 ///< compressed frame (if bcast_has_z)
  ws::encoded_frame bcast_plain;             ///< uncompressed frame
  bool bcast_has_z = false;
  ws::byte_buffer bcast_z_bytes;  ///< small frames: header + payload, contiguous
  ws::byte_buffer bcast_plain_bytes;
};

}  // namespace ns::server
