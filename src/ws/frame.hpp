// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// WebSocket frame vocabulary (RFC 6455 §5.2) and the masking primitive (§5.3).

#include <cstddef>
#include <cstdint>

namespace ns::ws {

/// Frame opcodes (RFC 6455 §5.2). Values 3-7 and 0xB-0xF are reserved.
enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// True for close, ping and pong (opcodes with the high bit set, §5.5).
[[nodiscard]] constexpr bool is_control(opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

/// Largest payload of a control frame (§5.5).
inline constexpr std::size_t max_control_payload = 125;

/// Largest frame header: 2 + 8 (64-bit length) + 4 (masking key).
inline constexpr std::size_t max_header_size = 14;

/// A decoded frame header.
struct frame_header {
  bool fin = false;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  opcode op = opcode::continuation;
  bool masked = false;
  std::uint32_t mask = 0;  ///< masking key as 4 bytes in wire order, loaded little-endian-agnostic
  std::uint64_t payload_length = 0;
};

/// XORs @p n bytes of @p src with the masking key into @p dst (§5.3). @p dst may equal @p src.
///
/// @p key holds the 4 key bytes in wire order (as stored by memcpy); @p phase is the offset of
/// src[0] within the payload modulo 4. Works a machine word at a time. Returns the phase after
/// the last byte, to continue on the next chunk.
std::size_t apply_mask(std::byte* dst, const std::byte* src, std::size_t n, std::uint32_t key,
                       std::size_t phase) noexcept;

}  // namespace ns::ws
