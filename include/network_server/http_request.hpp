// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A parsed HTTP/1.x request as handed to `application_methods::http_read_callback`.

#include <string_view>
#include <vector>

namespace ns {

/// One header field, exactly as received (name case preserved, value without surrounding OWS).
struct http_header {
  std::string_view name;
  std::string_view value;
};

/// A complete HTTP request.
///
/// Every view points into memory owned by the connection's parser: it is valid until the
/// callback that received the request returns. Copy what must outlive it.
struct http_request {
  std::string_view method;  ///< e.g. "GET"
  std::string_view target;  ///< request-target as sent, e.g. "/index.html?x=1"
  int version_major = 1;
  int version_minor = 1;
  std::vector<http_header> headers;
  std::string_view body;    ///< whole body for small requests; empty when the body is streamed
  bool keep_alive = true;   ///< the connection stays open after the response (RFC 9112 §9.3)
  bool upgrade = false;     ///< the request asks for a protocol upgrade (e.g. WebSocket)

  /// First header named @p name (ASCII case-insensitive), or an empty view.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept {
    for (const auto& h : headers) {
      if (h.name.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = ascii_lower(h.name[i]) == ascii_lower(name[i]);
      }
      if (same) return h.value;
    }
    return {};
  }

  /// Path part of the target (before '?'), still percent-encoded.
  [[nodiscard]] std::string_view path() const noexcept {
    return target.substr(0, target.find('?'));
  }

 private:
  static constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
};

}  // namespace ns
