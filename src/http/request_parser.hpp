// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Sans-IO HTTP/1.1 request parser: llhttp in strict mode plus our limits and smuggling checks.
///
/// Usage (one connection):
/// @code
///   auto in = received_bytes;
///   for (;;) {
///     auto r = parser.feed(in);
///     in = in.subspan(r.consumed);
///     switch (r.status) {
///       case status::need_more: return;                 // keep `in` (it is empty) and wait
///       case status::request_ready: answer(parser.request()); break;  // then feed the rest
///       case status::expect_continue: send_100(); break;
///       case status::headers_ready_streaming: start(parser.request()); break;
///       case status::body_chunk: consume(r.body); break;  // back-pressure: feed again when ready
///       case status::body_done: finish(); break;
///       case status::upgrade: hand_over(in); return;     // bytes after `consumed` are not HTTP
///       case status::error: answer(parser.status_code()); close(); return;
///     }
///   }
/// @endcode
/// Call feed() again (with an empty span if nothing is left) after every status except
/// need_more, upgrade and error: the parser may still have an event without new bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <network_server/config.hpp>
#include <network_server/http_request.hpp>

#include "http/error.hpp"
#include "http/request_line_check.hpp"

namespace ns::http {

/// What one feed() call produced.
enum class parse_status {
  need_more,                ///< all bytes consumed, no event: feed more input
  request_ready,            ///< one complete request with its whole body in request().body
  expect_continue,          ///< headers ready, body expected, client sent `Expect: 100-continue`
  headers_ready_streaming,  ///< headers ready; the body (too large to buffer) follows as body_chunk
  body_chunk,               ///< parse_result::body holds the next piece of a streamed body
  body_done,                ///< the streamed body is complete (request finished)
  upgrade,  ///< request complete, asks for Upgrade/CONNECT: later bytes are not HTTP
  error,    ///< refused: see request_parser::error(); answer and close
};

/// Result of request_parser::feed().
struct parse_result {
  std::size_t consumed = 0;  ///< bytes of the given span used; never more than its size
  parse_status status = parse_status::need_more;
  /// For body_chunk: the piece. Points into the span given to feed() or into parser storage;
  /// valid until the next feed()/reset() (the caller keeps its input buffer until then).
  std::string_view body;
};

/// HTTP/1.x request parser bound to one connection.
///
/// All views in request() point into parser-owned storage (or static strings) and are valid
/// until the next feed(), reset() or release_storage(). Storage is reserved from the limits when
/// a connection first sends a request (bodies: their first byte), so steady-state parsing does
/// not allocate, and release_storage() gives it back while the connection is idle. Pipelined
/// requests are returned one at a time: feed() stops right after a complete request and reports
/// how much it consumed.
///
/// Methods: llhttp knows many (WebDAV, RTSP…); all of them parse. Use is_supported_method() to
/// answer 501 for methods outside GET HEAD POST PUT DELETE OPTIONS PATCH (405 is the server's
/// choice for a known method a resource does not allow). A token llhttp does not know → 501 if
/// the rest of the request line is well-formed, else 400 (request_line_check.hpp).
class request_parser {
 public:
  /// @param limits copied; they bound every buffer of the parser.
  explicit request_parser(const ns::http_limits& limits);
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  /// Parse more bytes of the connection. See the file comment for the calling loop.
  [[nodiscard]] parse_result feed(std::span<const std::byte> data);
  /// Convenience overload for text.
  [[nodiscard]] parse_result feed(std::string_view data) {
    return feed(std::as_bytes(std::span<const char>(data.data(), data.size())));
  }

  /// Forget everything (also an error or an upgrade) and expect a new request.
  void reset();

  /// Frees the parser's buffers when it holds no part of a request: between requests (the
  /// last one answered), after an upgrade or an error. Returns false, freeing nothing, while a
  /// request is partly received. request() is empty afterwards. The next feed() reserves again.
  bool release_storage() noexcept;
  /// Bytes of storage the parser holds (capacity of its buffers), for memory accounting.
  [[nodiscard]] std::size_t reserved_bytes() const noexcept;

  /// The current request: complete after request_ready / upgrade, headers-only during streaming.
  [[nodiscard]] const ns::http_request& request() const noexcept { return request_; }
  /// The request carries `Expect: 100-continue` (RFC 9110 §10.1.1) and HTTP/1.1.
  [[nodiscard]] bool expects_continue() const noexcept { return expects_continue_; }
  /// Why the last feed() returned parse_status::error (error::none otherwise).
  [[nodiscard]] http::error error() const noexcept { return error_; }
  /// The HTTP status to answer the error with (400, 413, 414, 431, 501, 505), 0 if none.
  [[nodiscard]] int status_code() const noexcept { return http::status_code(error_); }
  /// Declared Content-Length (or 0) of the current request; for chunked bodies 0.
  [[nodiscard]] std::uint64_t content_length() const noexcept { return content_length_; }
  /// The method is one the server implements (GET HEAD POST PUT DELETE OPTIONS PATCH).
  [[nodiscard]] bool is_supported_method() const noexcept;

 private:
  struct impl;
  friend struct impl;
  struct span_ref {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
  };
  struct field_ref {
    span_ref name;
    span_ref value;
  };
  // method_check: llhttp refused the method; the rest of the line decides 501 or 400.
  enum class phase {
    head,
    method_check,
    body_buffered,
    body_streaming,
    message_done,
    upgraded,
    failed
  };

  void begin_message();
  void reserve_head();
  [[nodiscard]] bool scan_head(std::span<const std::byte> data);
  [[nodiscard]] parse_result fail(http::error e, std::size_t consumed);
  [[nodiscard]] bool append_head(span_ref& ref, const char* at, std::size_t n);
  [[nodiscard]] int headers_complete();
  [[nodiscard]] int chunk_header(std::uint64_t size);
  [[nodiscard]] parse_result check_method_line(std::span<const std::byte> data, std::size_t from);

  ns::http_limits limits_;
  std::unique_ptr<impl> impl_;
  ns::http_request request_;
  std::vector<char> head_;  // method/target/fields, reserved by the first feed()
  std::vector<char> body_;  // buffered body, reserved by its first byte
  std::vector<field_ref> fields_;
  span_ref target_;
  std::size_t line_bytes_ = 0;
  std::size_t header_bytes_ = 0;
  std::uint64_t content_length_ = 0;
  std::uint64_t body_total_ = 0;
  bool field_open_ = false;  // a field name is being received
  bool expects_continue_ = false;
  phase phase_ = phase::head;
  parse_status pending_ = parse_status::need_more;  // set by a callback that paused llhttp
  std::string_view chunk_;                          // body piece of the pause
  bool paused_ = false;
  bool flush_buffered_ = false;  // body_ holds bytes to hand out as the first body_chunk
  http::error error_ = http::error::none;
  request_line_check line_check_{0, 0};  // phase::method_check only
  // Head scanner (bare LF / obs-fold): state carried across feed() calls.
  bool head_scan_done_ = false;
  bool head_seen_text_ = false;
  unsigned char prev_ = 0;
  unsigned crlf_run_ = 0;
};

}  // namespace ns::http
