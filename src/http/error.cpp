// SPDX-License-Identifier: MIT
#include "http/error.hpp"

namespace ns::http {

std::string_view reason(error e) noexcept {
  switch (e) {
    case error::none:
      return "no error";
    case error::bad_request:
      return "malformed request";
    case error::uri_too_long:
      return "request line too long";
    case error::header_fields_too_large:
      return "header fields too large";
    case error::body_too_large:
      return "request body too large";
    case error::unknown_method:
      return "unknown method";
    case error::missing_host:
      return "HTTP/1.1 request without Host";
    case error::duplicate_host:
      return "more than one Host field";
    case error::invalid_host:
      return "invalid Host value";
    case error::length_and_chunked:
      return "Content-Length together with Transfer-Encoding";
    case error::duplicate_content_length:
      return "duplicate Content-Length";
    case error::invalid_content_length:
      return "invalid Content-Length";
    case error::invalid_transfer_encoding:
      return "invalid Transfer-Encoding";
    case error::obs_fold:
      return "obsolete line folding";
    case error::bare_lf:
      return "bare LF in request head";
    case error::invalid_header:
      return "invalid character in header";
    case error::invalid_chunk:
      return "invalid chunked framing";
    case error::invalid_version:
      return "invalid HTTP version";
    case error::malformed_request_line:
      return "not an HTTP request line";
    case error::version_not_supported:
      return "HTTP version not supported";
    case error::after_upgrade:
      return "input after protocol upgrade";
  }
  return "unknown error";
}

int status_code(error e) noexcept {
  switch (e) {
    case error::none:
      return 0;
    case error::uri_too_long:
      return 414;
    case error::header_fields_too_large:
      return 431;
    case error::body_too_large:
      return 413;
    case error::unknown_method:
      return 501;
    case error::version_not_supported:
      return 505;
    default:
      return 400;
  }
}

}  // namespace ns::http
