// SPDX-License-Identifier: MIT
#pragma once
// Per-loop WebSocket resources: the shared compressor, the allowed origins, and the buffers a
// message or a broadcast is encoded into once (ws_output.cpp).

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ws/byte_buffer.hpp"
#include "ws/deflate.hpp"
#include "ws/frame_encoder.hpp"

namespace ns::server {

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
