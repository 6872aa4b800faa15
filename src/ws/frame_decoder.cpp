// SPDX-License-Identifier: MIT
#include "ws/frame_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace ns::ws {

namespace {

bool known_opcode(unsigned op) noexcept {
  return op <= 2 || (op >= 8 && op <= 0xA);
}

// Total header size implied by the first two bytes (§5.2).
std::size_t header_size(std::byte b1) noexcept {
  const unsigned len7 = std::to_integer<unsigned>(b1) & 0x7F;
  const bool masked = (std::to_integer<unsigned>(b1) & 0x80) != 0;
  std::size_t n = 2 + (masked ? 4 : 0);
  if (len7 == 126) n += 2;
  if (len7 == 127) n += 8;
  return n;
}

}  // namespace

std::size_t apply_mask(std::byte* dst, const std::byte* src, std::size_t n, std::uint32_t key,
                       std::size_t phase) noexcept {
  unsigned char k[4];
  std::memcpy(k, &key, 4);
  phase &= 3;
  // Key rotated to start at `phase`, repeated to a 64-bit word.
  unsigned char kw[8];
  for (std::size_t j = 0; j < 8; ++j) kw[j] = k[(phase + j) & 3];
  std::uint64_t k64;
  std::memcpy(&k64, kw, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= k64;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i) dst[i] = src[i] ^ std::byte{kw[i & 7]};
  return (phase + n) & 3;
}

decode_step frame_decoder::fail(error e, std::size_t consumed) noexcept {
  error_ = e;
  decode_step s;
  s.consumed = consumed;
  s.status = decode_status::error;
  return s;
}

// Checks everything decidable from the first two bytes, so a bad frame fails before its
// extended length and key arrive.
error frame_decoder::check_first_bytes() const noexcept {
  const unsigned b0 = std::to_integer<unsigned>(buf_[0]);
  const unsigned b1 = std::to_integer<unsigned>(buf_[1]);
  const unsigned op = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  if ((b0 & 0x30) != 0) return error::reserved_bits;  // RSV2/RSV3: no extension defines them
  if (rsv1 && !opts_.allow_rsv1) return error::reserved_bits;
  if (!known_opcode(op)) return error::unknown_opcode;
  const bool masked = (b1 & 0x80) != 0;
  if (opts_.expect_masked && !masked) return error::unmasked_frame;
  if (!opts_.expect_masked && masked) return error::masked_frame;
  if (op >= 8) {
    if (!fin) return error::fragmented_control;  // §5.5
    if ((b1 & 0x7F) > max_control_payload) return error::control_too_long;
    if (rsv1) return error::misplaced_rsv1;  // RFC 7692 §6.1
    return error::none;
  }
  if (op == 0) {
    if (!in_message_) return error::unexpected_continuation;  // §5.4
    if (rsv1) return error::misplaced_rsv1;                   // RFC 7692 §6.1
  } else if (in_message_) {
    return error::expected_continuation;  // §5.4
  }
  return error::none;
}

error frame_decoder::finish_header() noexcept {
  const unsigned b0 = std::to_integer<unsigned>(buf_[0]);
  const unsigned b1 = std::to_integer<unsigned>(buf_[1]);
  hdr_.fin = (b0 & 0x80) != 0;
  hdr_.rsv1 = (b0 & 0x40) != 0;
  hdr_.rsv2 = (b0 & 0x20) != 0;
  hdr_.rsv3 = (b0 & 0x10) != 0;
  hdr_.op = static_cast<opcode>(b0 & 0x0F);
  hdr_.masked = (b1 & 0x80) != 0;
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  // Non-minimal length encodings are accepted: §5.2 requires minimal encoding of senders only.
  if (len == 126) {
    len = (std::to_integer<std::uint64_t>(buf_[2]) << 8) | std::to_integer<std::uint64_t>(buf_[3]);
    pos = 4;
  } else if (len == 127) {
    len = 0;
    for (std::size_t i = 0; i < 8; ++i)
      len = (len << 8) | std::to_integer<std::uint64_t>(buf_[2 + i]);
    pos = 10;
    if ((len >> 63) != 0) return error::length_msb_set;
  }
  if (len > opts_.max_frame_bytes) return error::frame_too_big;
  hdr_.mask = 0;
  if (hdr_.masked) std::memcpy(&hdr_.mask, buf_ + pos, 4);
  hdr_.payload_length = len;
  if (!is_control(hdr_.op)) {
    if (hdr_.op != opcode::continuation) {
      message_op_ = hdr_.op;
      message_compressed_ = hdr_.rsv1;
    }
    in_message_ = !hdr_.fin;
  }
  return error::none;
}

decode_step frame_decoder::decode(std::span<const std::byte> in) noexcept {
  if (error_ != error::none) return fail(error_, 0);
  decode_step step;
  if (in_payload_) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
    if (n == 0) return step;
    step.consumed = n;
    step.status = decode_status::payload;
    step.payload = in.first(n);
    step.mask_phase = static_cast<std::size_t>(delivered_ & 3);
    delivered_ += n;
    remaining_ -= n;
    if (remaining_ == 0) {
      in_payload_ = false;
      step.frame_end = true;
    }
    return step;
  }
  std::size_t used = 0;
  for (;;) {
    const std::size_t need = have_ < 2 ? 2 : header_size(buf_[1]);
    if (have_ < need) {
      if (used == in.size()) break;
      const std::size_t take = std::min(need - have_, in.size() - used);
      std::memcpy(buf_ + have_, in.data() + used, take);
      have_ = static_cast<std::uint8_t>(have_ + take);
      used += take;
      if (have_ == 2) {
        if (const error e = check_first_bytes(); e != error::none) return fail(e, used);
        continue;  // now the full header size is known
      }
      if (have_ < need) break;
    }
    // Header complete.
    if (const error e = finish_header(); e != error::none) return fail(e, used);
    have_ = 0;
    remaining_ = hdr_.payload_length;
    delivered_ = 0;
    in_payload_ = remaining_ != 0;
    step.consumed = used;
    step.status = decode_status::header;
    step.frame_end = remaining_ == 0;
    return step;
  }
  step.consumed = used;
  return step;
}

}  // namespace ns::ws
