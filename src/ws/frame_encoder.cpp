// SPDX-License-Identifier: MIT
#include "ws/frame_encoder.hpp"

#include <cstring>

namespace ns::ws {

std::size_t write_frame_header(std::span<std::byte, max_header_size> out, const frame_spec& spec,
                               std::uint64_t payload_length) noexcept {
  unsigned b0 = static_cast<unsigned>(spec.op) & 0x0F;
  if (spec.fin) b0 |= 0x80;
  if (spec.rsv1) b0 |= 0x40;
  const unsigned mask_bit = spec.mask ? 0x80 : 0;
  out[0] = std::byte(b0);
  std::size_t n = 2;
  if (payload_length < 126) {
    out[1] = std::byte(mask_bit | static_cast<unsigned>(payload_length));
  } else if (payload_length <= 0xFFFF) {
    out[1] = std::byte(mask_bit | 126);
    out[2] = std::byte((payload_length >> 8) & 0xFF);
    out[3] = std::byte(payload_length & 0xFF);
    n = 4;
  } else {
    out[1] = std::byte(mask_bit | 127);
    for (std::size_t i = 0; i < 8; ++i)
      out[2 + i] = std::byte((payload_length >> (56 - 8 * i)) & 0xFF);
    n = 10;
  }
  if (spec.mask) {
    std::memcpy(out.data() + n, &*spec.mask, 4);
    n += 4;
  }
  return n;
}

encoded_frame make_frame(const frame_spec& spec, std::span<const std::byte> payload) noexcept {
  encoded_frame f;
  frame_spec s = spec;
  s.mask.reset();  // a referenced payload cannot be masked without a copy
  f.header_size = static_cast<std::uint8_t>(write_frame_header(f.header_bytes, s, payload.size()));
  f.payload = payload;
  return f;
}

void append_frame(std::vector<std::byte>& out, const frame_spec& spec,
                  std::span<const std::byte> payload) {
  std::array<std::byte, max_header_size> h;
  const std::size_t hn = write_frame_header(h, spec, payload.size());
  const std::size_t at = out.size();
  out.resize(at + hn + payload.size());
  std::memcpy(out.data() + at, h.data(), hn);
  if (payload.empty()) return;
  if (spec.mask) {
    apply_mask(out.data() + at + hn, payload.data(), payload.size(), *spec.mask, 0);
  } else {
    std::memcpy(out.data() + at + hn, payload.data(), payload.size());
  }
}

}  // namespace ns::ws
