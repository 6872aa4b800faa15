// SPDX-License-Identifier: MIT
#pragma once
// Case-insensitive comparison of field names for src/http2 (ns_http2 links nothing of ours,
// so it keeps its own three lines rather than reach into ns_http or ns_ws).

#include <string_view>

namespace ns::http2 {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

/// @p a equals @p b ignoring ASCII case.
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

/// A connection-specific field, forbidden in HTTP/2 (RFC 9113 §8.2.2): a response built for
/// HTTP/1.1 may carry one, so it is dropped rather than sent (a client would reset the stream).
[[nodiscard]] constexpr bool connection_specific(std::string_view name) noexcept {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "transfer-encoding") ||
         iequals(name, "upgrade");
}

}  // namespace ns::http2
