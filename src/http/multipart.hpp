// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Streaming multipart/form-data parser (RFC 7578 on RFC 2046 §5.1). Feed the request body in
/// any pieces; like request_parser, each feed() returns at most one event and says how much it
/// consumed. Part data is never copied: views point into the input (or, for a few bytes that
/// looked like the start of a delimiter, into the parser) and are valid until the next feed().

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ns::http {

/// The boundary parameter of a `multipart/form-data` Content-Type (quotes removed), or an
/// empty view when the type is not multipart/form-data or the boundary is invalid
/// (1..70 bchars, RFC 2046 §5.1.1).
[[nodiscard]] std::string_view multipart_boundary(std::string_view content_type) noexcept;

/// Bounds of the multipart parser.
struct multipart_limits {
  std::size_t max_header_bytes = 8 * 1024;  ///< one part's header section
  std::size_t max_headers = 16;             ///< header fields per part
  std::size_t max_parts = 1000;             ///< parts per body
};

/// Why parsing stopped.
enum class multipart_error {
  none,
  bad_boundary,         ///< boundary empty or invalid
  malformed_delimiter,  ///< delimiter line not followed by CRLF or "--"
  headers_too_large,    ///< part header section over the limit
  too_many_headers,     ///< more than max_headers fields in a part
  too_many_parts,       ///< more than max_parts parts
  malformed_header,     ///< header line without ':' or with forbidden characters
  missing_disposition,  ///< no `Content-Disposition: form-data; name=…` (RFC 7578 §4.2)
};

/// A static reason for @p e.
[[nodiscard]] std::string_view reason(multipart_error e) noexcept;

/// Events of multipart_parser::feed().
enum class multipart_status {
  need_more,   ///< all input consumed, no event
  part_begin,  ///< a part's headers are ready: see part()
  part_data,   ///< multipart_result::data holds the next bytes of the current part
  part_end,    ///< the current part is complete
  done,        ///< close delimiter seen; the rest of the input is epilogue
  error,       ///< see multipart_parser::error()
};

/// Result of one feed().
struct multipart_result {
  std::size_t consumed = 0;
  multipart_status status = multipart_status::need_more;
  std::string_view data;  ///< part_data: valid until the next feed()
};

/// The current part's headers (views into parser storage, valid until the next part_begin).
struct multipart_part {
  std::string_view name;          ///< form field name (quotes removed)
  std::string_view filename;      ///< empty when the part is not a file
  bool has_filename = false;      ///< filename parameter present (possibly empty)
  std::string_view content_type;  ///< empty → text/plain (RFC 7578 §4.4)
};

/// Streaming multipart/form-data parser for one request body.
class multipart_parser {
 public:
  /// @param boundary from multipart_boundary(); copied.
  explicit multipart_parser(std::string_view boundary, multipart_limits limits = {});

  /// Parse more body bytes. Call again until need_more / done / error.
  [[nodiscard]] multipart_result feed(std::span<const std::byte> data);
  /// Convenience overload for text.
  [[nodiscard]] multipart_result feed(std::string_view data) {
    return feed(std::as_bytes(std::span<const char>(data.data(), data.size())));
  }

  [[nodiscard]] const multipart_part& part() const noexcept { return part_; }
  [[nodiscard]] multipart_error error() const noexcept { return error_; }
  /// The close delimiter was seen (the body was complete).
  [[nodiscard]] bool done() const noexcept { return state_ == state::epilogue; }

 private:
  enum class state { preamble, after_delim, close_dash, padding, headers, data, epilogue, failed };

  [[nodiscard]] multipart_result fail(multipart_error e, std::size_t consumed);
  [[nodiscard]] bool parse_headers();

  multipart_limits limits_;
  std::string delim_;  // CRLF "--" boundary
  std::string head_;   // current part's header section
  multipart_part part_;
  std::size_t matched_ = 2;  // delimiter bytes matched so far (the body starts "after a CRLF")
  std::size_t parts_ = 0;
  std::size_t padding_ = 0;
  state state_ = state::preamble;
  multipart_error error_ = multipart_error::none;
};

}  // namespace ns::http
