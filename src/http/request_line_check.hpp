// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What a request line whose method llhttp does not know deserves. llhttp stops at the first
/// byte that is no prefix of a method it knows, before it has seen the rest of the line. Only
/// the rest tells the two cases apart (RFC 9112 §3): a well-formed line (`method SP
/// request-target SP HTTP/d.d CRLF`) names a method we do not implement — 501 (RFC 9110
/// §15.6.2); anything else is not an HTTP request line at all — 400, which is also what nginx
/// answers to `THIS IS NOT HTTP AT ALL`. Sans-IO: bytes in, a verdict out, state carried across
/// calls; nothing is copied.

#include <cstddef>
#include <cstdint>
#include <span>

namespace ns::http {

/// A token character (RFC 9110 §5.6.2): what a method or a field name is made of.
[[nodiscard]] bool is_tchar(unsigned char c) noexcept;

/// Checks the rest of a request line from the byte llhttp refused as a method.
class request_line_check {
 public:
  enum class verdict : std::uint8_t {
    need_more,       ///< every byte given was examined; the line is not finished yet
    unknown_method,  ///< a well-formed request line: the method is one we do not know (501)
    malformed,       ///< not `method SP request-target SP HTTP-version CRLF` (400)
    too_long,        ///< the line exceeds the request-line limit before it ends (414)
  };

  /// @param method_bytes bytes of the method llhttp accepted before it stopped (token
  ///        characters; 0 when it stopped at the line's first byte).
  /// @param max_line the request-line limit (http_limits::max_request_line).
  request_line_check(std::size_t method_bytes, std::size_t max_line) noexcept
      : seen_(method_bytes), max_line_(max_line), method_bytes_(method_bytes) {}

  /// Examines @p data. @p consumed is how many bytes were examined (all of them for need_more;
  /// up to and including the deciding byte otherwise).
  verdict feed(std::span<const std::byte> data, std::size_t& consumed) noexcept;

 private:
  enum class state : std::uint8_t { method, target, version };
  verdict step(unsigned char c) noexcept;

  state state_ = state::method;
  std::size_t seen_;  ///< bytes of the line so far (the limit counts them)
  std::size_t max_line_;
  std::size_t method_bytes_;
  std::size_t target_bytes_ = 0;
  std::size_t version_pos_ = 0;  ///< how much of "HTTP/d.d\r\n" has matched
};

}  // namespace ns::http
