// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Incremental WebSocket frame header decoder (RFC 6455 §5.2) with message sequencing (§5.4).

#include <cstddef>
#include <cstdint>
#include <span>

#include "ws/error.hpp"
#include "ws/frame.hpp"

namespace ns::ws {

/// What the decoder enforces.
struct decoder_options {
  std::uint64_t max_frame_bytes = 16 * 1024 * 1024 + 64;  ///< larger payload → error::frame_too_big
  bool expect_masked = true;  ///< server role: client frames must be masked (§5.1)
  bool allow_rsv1 = false;    ///< permessage-deflate negotiated (RFC 7692 §6)
};

/// What one decode() call produced.
enum class decode_status : std::uint8_t {
  need_more,  ///< all input consumed, nothing complete yet
  header,     ///< a frame header is complete: see frame_decoder::header()
  payload,    ///< a piece of the current frame's payload (still masked) is in step.payload
  error,      ///< protocol violation: see frame_decoder::last_error(); the decoder stays failed
};

/// Result of one decode() call.
struct decode_step {
  std::size_t consumed = 0;  ///< bytes of the input used; never more than given
  decode_status status = decode_status::need_more;
  /// For `payload`: the masked bytes, a view into the caller's input (no copy).
  std::span<const std::byte> payload;
  /// For `payload`: offset of payload[0] within the frame modulo 4 (pass to apply_mask).
  std::size_t mask_phase = 0;
  /// True when this step ends the frame: the last payload piece, or the header of an empty frame.
  bool frame_end = false;
};

/// Splits a byte stream into frame headers and payload pieces, validating each header.
///
/// Sans-IO and zero-copy: payload pieces are views into the input given to decode(); the caller
/// unmasks them (apply_mask) into its own buffer. Input may be split at any byte: the decoder
/// keeps at most a partial header (14 bytes) between calls. Besides the per-frame rules of §5.2
/// and §5.5 it tracks whether a fragmented message is open, so continuation/new-message errors
/// of §5.4 and RSV1 placement (RFC 7692 §6.1) are detected at the header.
class frame_decoder {
 public:
  explicit frame_decoder(decoder_options opts = {}) noexcept : opts_(opts) {}

  /// Consumes input up to the next event. Call again with the rest of the input.
  decode_step decode(std::span<const std::byte> in) noexcept;

  /// Header of the current frame (valid after a `header` step until the next header).
  [[nodiscard]] const frame_header& header() const noexcept { return hdr_; }
  /// Payload bytes of the current frame not yet delivered.
  [[nodiscard]] std::uint64_t remaining() const noexcept { return remaining_; }
  /// The violation after an `error` step.
  [[nodiscard]] error last_error() const noexcept { return error_; }
  /// True while a fragmented data message is open (a FIN=0 data frame was seen).
  [[nodiscard]] bool in_message() const noexcept { return in_message_; }
  /// Opcode (text/binary) of the data message the current data frame belongs to.
  [[nodiscard]] opcode message_opcode() const noexcept { return message_op_; }
  /// True if the current data message has RSV1 set on its first frame (compressed).
  [[nodiscard]] bool message_compressed() const noexcept { return message_compressed_; }

  /// Between frames and messages: no header, payload or fragmented message partly received.
  [[nodiscard]] bool at_message_boundary() const noexcept {
    return have_ == 0 && !in_payload_ && remaining_ == 0 && !in_message_;
  }

  /// Changes limits or the RSV1 permission (e.g. after the handshake).
  void set_options(decoder_options opts) noexcept { opts_ = opts; }

 private:
  decode_step fail(error e, std::size_t consumed) noexcept;
  error check_first_bytes() const noexcept;
  error finish_header() noexcept;

  decoder_options opts_;
  frame_header hdr_{};
  std::uint64_t remaining_ = 0;
  std::uint64_t delivered_ = 0;
  std::byte buf_[max_header_size]{};
  std::uint8_t have_ = 0;  // header bytes buffered
  bool in_payload_ = false;
  bool in_message_ = false;
  bool message_compressed_ = false;
  opcode message_op_ = opcode::binary;
  error error_ = error::none;
};

}  // namespace ns::ws
