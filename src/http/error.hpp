// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Errors of the HTTP layer and the one table that maps them to response status codes.

#include <string_view>

namespace ns::http {

/// Why a request was refused. Every error means: answer with status_code(), then close.
enum class error {
  none = 0,
  bad_request,                ///< malformed request (generic llhttp failure) → 400
  uri_too_long,               ///< request line larger than http_limits::max_request_line → 414
  header_fields_too_large,    ///< header bytes or count over the limit → 431
  body_too_large,             ///< body larger than http_limits::max_body_bytes → 413
  unknown_method,             ///< method llhttp does not know, in a well-formed line → 501
  missing_host,               ///< HTTP/1.1 request without Host (RFC 9112 §3.2) → 400
  duplicate_host,             ///< more than one Host field (RFC 9112 §3.2) → 400
  invalid_host,               ///< Host not uri-host [":" port] (RFC 9112 §3.2) → 400
  length_and_chunked,         ///< Content-Length with Transfer-Encoding (RFC 9112 §6.3) → 400
  duplicate_content_length,   ///< Content-Length repeated → 400
  invalid_content_length,     ///< Content-Length is not a decimal number → 400
  invalid_transfer_encoding,  ///< Transfer-Encoding whose final coding is not chunked → 400
  obs_fold,                   ///< obsolete line folding (RFC 9112 §5.2) → 400
  bare_lf,                 ///< LF without CR in the head (RFC 9112 §2.2, we do not relax) → 400
  invalid_header,          ///< forbidden character in a field name or value → 400
  invalid_chunk,           ///< bad chunk size line or chunk framing → 400
  invalid_version,         ///< HTTP/0.9 or a malformed version → 400
  malformed_request_line,  ///< not method SP target SP version (RFC 9112 §3) → 400
  version_not_supported,   ///< HTTP/2.0 and later over this parser → 505
  after_upgrade,           ///< feed() after the parser handed the connection to another protocol
};

/// A static, human-readable reason for @p e (never null, never allocated).
[[nodiscard]] std::string_view reason(error e) noexcept;

/// The HTTP status code to answer @p e with (0 for error::none).
[[nodiscard]] int status_code(error e) noexcept;

}  // namespace ns::http
