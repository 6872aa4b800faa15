// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Errors of the WebSocket layer and the close code each one maps to (RFC 6455 §7.4.1).

#include <cstdint>
#include <string_view>

namespace ns::ws {

/// Close status codes used by this layer (RFC 6455 §7.4.1).
enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,  ///< never sent on the wire; reported when a close frame has no body
  abnormal = 1006,   ///< never sent on the wire
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
};

/// Every way a peer can violate the protocol or our limits.
enum class error : std::uint8_t {
  none = 0,
  unmasked_frame,           ///< client frame without MASK (§5.1)
  masked_frame,             ///< server frame with MASK, seen by a client-role decoder (§5.1)
  reserved_bits,            ///< RSV1-3 set without a negotiated extension (§5.2)
  unknown_opcode,           ///< reserved opcode 3-7 or B-F (§5.2)
  control_too_long,         ///< control frame payload > 125 bytes (§5.5)
  fragmented_control,       ///< control frame without FIN (§5.5)
  length_msb_set,           ///< 64-bit length with the most significant bit set (§5.2)
  frame_too_big,            ///< frame payload above ws_limits::max_frame_bytes
  message_too_big,          ///< message (inflated) above ws_limits::max_message_bytes
  unexpected_continuation,  ///< continuation frame with no message open (§5.4)
  expected_continuation,    ///< new data frame while a fragmented message is open (§5.4)
  misplaced_rsv1,           ///< RSV1 on a continuation or control frame (RFC 7692 §6.1)
  invalid_utf8,             ///< text message or close reason not UTF-8 (§8.1)
  close_payload_too_short,  ///< close body of exactly one byte (§5.5.1)
  invalid_close_code,       ///< close code not allowed on the wire (§7.4)
  inflate_failed,           ///< compressed payload is not a valid DEFLATE stream (RFC 7692 §7.2.2)
};

/// Static English description of @p e (never null).
[[nodiscard]] std::string_view reason(error e) noexcept;

/// The close code to send when failing the connection because of @p e (RFC 6455 §7.4.1).
[[nodiscard]] close_code close_code_for(error e) noexcept;

}  // namespace ns::ws
