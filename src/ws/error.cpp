// SPDX-License-Identifier: MIT
#include "ws/error.hpp"

namespace ns::ws {

std::string_view reason(error e) noexcept {
  switch (e) {
    case error::none:
      return "no error";
    case error::unmasked_frame:
      return "client frame is not masked";
    case error::masked_frame:
      return "server frame is masked";
    case error::reserved_bits:
      return "reserved bits set without a negotiated extension";
    case error::unknown_opcode:
      return "reserved opcode";
    case error::control_too_long:
      return "control frame payload longer than 125 bytes";
    case error::fragmented_control:
      return "fragmented control frame";
    case error::length_msb_set:
      return "64-bit payload length has its most significant bit set";
    case error::frame_too_big:
      return "frame too big";
    case error::message_too_big:
      return "message too big";
    case error::unexpected_continuation:
      return "continuation frame without a message to continue";
    case error::expected_continuation:
      return "new data frame inside a fragmented message";
    case error::misplaced_rsv1:
      return "RSV1 set on a continuation or control frame";
    case error::invalid_utf8:
      return "invalid UTF-8";
    case error::close_payload_too_short:
      return "close frame body of one byte";
    case error::invalid_close_code:
      return "invalid close code";
    case error::inflate_failed:
      return "invalid compressed payload";
  }
  return "unknown error";
}

close_code close_code_for(error e) noexcept {
  switch (e) {
    case error::none:
      return close_code::normal;
    case error::frame_too_big:
    case error::message_too_big:
      return close_code::message_too_big;
    case error::invalid_utf8:
    case error::inflate_failed:
      return close_code::invalid_payload;
    default:
      return close_code::protocol_error;
  }
}

}  // namespace ns::ws
