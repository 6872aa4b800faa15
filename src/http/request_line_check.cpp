// SPDX-License-Identifier: MIT
#include "http/request_line_check.hpp"

#include <cstring>
#include <string_view>

namespace ns::http {

bool is_tchar(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

namespace {

// HTTP-version CRLF (RFC 9112 §2.3, case-sensitive); 'd' stands for one DIGIT. Bare LF is
// refused here as everywhere else in the head (request_parser: bare_lf).
constexpr std::string_view version_shape = "HTTP/d.d\r\n";

}  // namespace

request_line_check::verdict request_line_check::step(unsigned char c) noexcept {
  switch (state_) {
    case state::method:
      if (c == ' ' && method_bytes_ > 0) {
        state_ = state::target;
        return verdict::need_more;
      }
      if (!is_tchar(c)) return verdict::malformed;
      ++method_bytes_;
      return verdict::need_more;
    case state::target:
      // request-target is visible ASCII (RFC 3986 has no other characters); one SP ends it.
      if (c == ' ' && target_bytes_ > 0) {
        state_ = state::version;
        return verdict::need_more;
      }
      if (c <= 0x20 || c >= 0x7f) return verdict::malformed;
      ++target_bytes_;
      return verdict::need_more;
    case state::version: {
      const char want = version_shape[version_pos_];
      const bool ok = want == 'd' ? (c >= '0' && c <= '9') : c == static_cast<unsigned char>(want);
      if (!ok) return verdict::malformed;
      return ++version_pos_ == version_shape.size() ? verdict::unknown_method : verdict::need_more;
    }
  }
  return verdict::malformed;
}

request_line_check::verdict request_line_check::feed(std::span<const std::byte> data,
                                                     std::size_t& consumed) noexcept {
  consumed = 0;
  for (std::byte b : data) {
    ++consumed;
    // The limit counts what llhttp's on_method/on_url/on_version count: the line without its
    // separators and its CRLF.
    const auto c = static_cast<unsigned char>(b);
    if (c != ' ' && c != '\r' && c != '\n' && ++seen_ > max_line_) return verdict::too_long;
    const verdict v = step(c);
    if (v != verdict::need_more) return v;
  }
  return verdict::need_more;
}

}  // namespace ns::http
