// SPDX-License-Identifier: MIT
#include "ws/utf8.hpp"

#include <cstring>

namespace ns::ws {

namespace {

// Transition on a lead byte from the accept state.
std::uint8_t lead_state(unsigned b, std::uint8_t reject, std::uint8_t need1, std::uint8_t need2,
                        std::uint8_t need3, std::uint8_t e0, std::uint8_t ed, std::uint8_t f0,
                        std::uint8_t f4) noexcept {
  if (b < 0x80) return 0;
  if (b < 0xC2) return reject;  // continuation as lead, or overlong 2-byte (C0, C1)
  if (b < 0xE0) return need1;
  if (b == 0xE0) return e0;
  if (b == 0xED) return ed;
  if (b < 0xF0) return need2;
  if (b == 0xF0) return f0;
  if (b < 0xF4) return need3;
  if (b == 0xF4) return f4;
  return reject;  // F5..FF: above U+10FFFF or the old 5/6-byte forms
}

}  // namespace

bool utf8_validator::feed(std::span<const std::byte> bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  std::uint8_t s = state_;
  if (s == reject) return false;
  while (p != end) {
    if (s == accept) {
      // ASCII fast path: eight bytes at a time while no byte has its high bit set.
      while (end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        if ((w & 0x8080808080808080ULL) != 0) break;
        p += 8;
      }
      if (p == end) break;
      const unsigned b = *p++;
      s = lead_state(b, reject, need1, need2, need3, after_e0, after_ed, after_f0, after_f4);
      if (s == reject) break;
      continue;
    }
    const unsigned b = *p++;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    std::uint8_t next = accept;
    switch (s) {
      case need1:
        next = accept;
        break;
      case need2:
        next = need1;
        break;
      case need3:
        next = need2;
        break;
      case after_e0:
        lo = 0xA0;
        next = need1;
        break;
      case after_ed:
        hi = 0x9F;
        next = need1;
        break;
      case after_f0:
        lo = 0x90;
        next = need2;
        break;
      case after_f4:
        hi = 0x8F;
        next = need2;
        break;
      default:  // GCOVR_EXCL_LINE: s is one of the continuation states above here
        break;  // GCOVR_EXCL_LINE
    }
    if (b < lo || b > hi) {
      s = reject;
      break;
    }
    s = next;
  }
  state_ = s;
  return s != reject;
}

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept {
  utf8_validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace ns::ws
