// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// WebSocket frame encoding (RFC 6455 §5.2): header writer plus a copying helper.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ws/frame.hpp"

namespace ns::ws {

/// Fields of a frame to encode.
struct frame_spec {
  opcode op = opcode::binary;
  bool fin = true;
  bool rsv1 = false;  ///< "compressed" bit of permessage-deflate (first frame of a message)
  std::optional<std::uint32_t> mask;  ///< client role only: key bytes in wire order
};

/// Writes the header of a frame with @p payload_length bytes of payload into @p out, using the
/// minimal length encoding (§5.2). Returns the header size (2..14).
std::size_t write_frame_header(std::span<std::byte, max_header_size> out, const frame_spec& spec,
                               std::uint64_t payload_length) noexcept;

/// A frame ready to send as two pieces (iovec style): the header bytes it owns and the payload
/// it only references. The payload view's lifetime is the producer's (see its documentation).
struct encoded_frame {
  std::array<std::byte, max_header_size> header_bytes{};
  std::uint8_t header_size = 0;
  std::span<const std::byte> payload;

  /// The header bytes to send first.
  [[nodiscard]] std::span<const std::byte> header() const noexcept {
    return {header_bytes.data(), header_size};
  }
  /// Total bytes on the wire.
  [[nodiscard]] std::size_t size() const noexcept { return header_size + payload.size(); }
};

/// Builds an unmasked (server) frame referencing @p payload without copying it.
[[nodiscard]] encoded_frame make_frame(const frame_spec& spec,
                                       std::span<const std::byte> payload) noexcept;

/// Appends a complete frame (header + payload, masked if spec.mask) to @p out.
void append_frame(std::vector<std::byte>& out, const frame_spec& spec,
                  std::span<const std::byte> payload);

}  // namespace ns::ws
