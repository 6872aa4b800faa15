// SPDX-License-Identifier: MIT
// Plain-HTTP sniffing on a TLS port. A TLS connection starts with a record header whose first
// byte is a content type (0x16 handshake, RFC 8446 §5.1) or, for ancient SSLv2-compatible
// hellos, a byte with the high bit set; an HTTP/1.x request starts with a method token
// (RFC 9110 §9: upper-case by convention, every registered method is upper-case letters).
#include "tls/session.hpp"

namespace ns::tls {

bool looks_like_plain_http(std::span<const std::byte> first_bytes) noexcept {
  if (first_bytes.empty()) return false;
  // Method token (upper-case letters and '-'), then a space; a short prefix is judged so far.
  constexpr std::size_t max_method = 16;
  for (std::size_t i = 0; i < first_bytes.size() && i <= max_method; ++i) {
    const auto c = static_cast<unsigned char>(first_bytes[i]);
    if (c == ' ') return i > 0;
    const bool token = (c >= 'A' && c <= 'Z') || c == '-';
    if (!token) return false;
  }
  return first_bytes.size() <= max_method;
}

}  // namespace ns::tls
