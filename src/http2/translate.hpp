// SPDX-License-Identifier: MIT
#pragma once
// Raw HTTP/1 response bytes (what an application written for HTTP/1.1 gives http_write) as an
// HTTP/2 response: the status line and fields are parsed, the connection-specific fields of
// RFC 9113 §8.2.2 dropped, a chunked body de-chunked. Interim responses (1xx) before the final
// one are skipped. The application's bytes are trusted to be a response, not to be well formed:
// anything that is not is refused (the stream is then reset, not answered with garbage).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http2/session.hpp"

namespace ns::http2 {

struct translated_response {
  int status = 0;
  std::vector<field> fields;  ///< views into the input (names as written)
  std::string_view body;      ///< into the input, or into @p scratch for a chunked body
};

/// Parses @p bytes as one complete HTTP/1.x response. False when they are not one.
bool translate_http1_response(std::string_view bytes, translated_response& out,
                              std::string& scratch);

}  // namespace ns::http2
