// SPDX-License-Identifier: MIT
#pragma once
// What a completion belongs to, packed into the 64-bit `user_data` of its SQE.
//
// Layout (high → low): 8 bits op kind | 24 bits slot generation | 32 bits slot index.
// Nothing is allocated per operation: the slot names the connection, the generation proves the
// completion is not for a connection that has since closed (a stale CQE is recognised and
// dropped), the kind says which of the connection's in-flight operations finished. The same
// encoding as liburing's examples/proxy.c `encode_userdata`, widened for generations.

#include <cstdint>

namespace ns::io {

enum class op_kind : std::uint8_t {
  none = 0,
  accept,       ///< multishot accept on a listener
  recv,         ///< multishot recv with provided buffers
  send,         ///< send of the connection's queued output
  cancel,       ///< IORING_OP_ASYNC_CANCEL of a connection's operations
  close,        ///< IORING_OP_CLOSE of a connection's fd
  wake,         ///< read on the server's wake-up eventfd
  raw_read,     ///< application raw_read / raw_readv
  raw_write,    ///< application raw_write / raw_writev
  event_read,   ///< read on an application eventfd
  file_read,    ///< read of a file being sent
  timeout,      ///< ring timeout (timer tick)
};

struct op_tag {
  op_kind kind = op_kind::none;
  std::uint32_t generation = 0;  ///< only the low 24 bits are carried
  std::uint32_t slot = 0;
};

inline constexpr std::uint32_t generation_mask = 0xff'ffffu;

[[nodiscard]] constexpr std::uint64_t encode(op_tag t) noexcept {
  return (std::uint64_t{static_cast<std::uint8_t>(t.kind)} << 56) |
         (std::uint64_t{t.generation & generation_mask} << 32) | t.slot;
}

[[nodiscard]] constexpr op_tag decode(std::uint64_t user_data) noexcept {
  return op_tag{static_cast<op_kind>(user_data >> 56),
                static_cast<std::uint32_t>((user_data >> 32) & generation_mask),
                static_cast<std::uint32_t>(user_data)};
}

}  // namespace ns::io
