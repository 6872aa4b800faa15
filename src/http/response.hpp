// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Response head building and chunked body framing. Everything appends to a caller-owned
/// std::string that the connection reuses (clear() keeps its capacity), so a warmed-up
/// connection builds responses without allocating.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/error.hpp"

namespace ns::http {

/// Reason phrase for @p status (RFC 9110 §15), "Unknown" for codes we never send.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

/// The interim response for `Expect: 100-continue` (RFC 9110 §15.2.1).
inline constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
/// Ends a chunk's data (RFC 9112 §7.1).
inline constexpr std::string_view chunk_end = "\r\n";
/// The last chunk with an empty trailer section (RFC 9112 §7.1).
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Appends a response head to a reusable buffer.
///
/// @code
///   out.clear();
///   response_writer w(out);
///   w.start(200, date.get(now)).content_length(n).keep_alive(true)
///    .header("Content-Type", "text/html").end();
/// @endcode
class response_writer {
 public:
  /// @param out receives the bytes; the writer only appends.
  explicit response_writer(std::string& out) noexcept : out_(out) {}

  /// Status line, `Date: <imf_date>` and `Server: network_server`.
  response_writer& start(int status, std::string_view imf_date);
  /// The status line alone (interim responses such as 101, and heads built by a codec that
  /// has no clock). A status outside 100-999 is written as 500.
  response_writer& status_line(int status);
  /// `name: value` (the caller guarantees both are valid field syntax).
  response_writer& header(std::string_view name, std::string_view value);
  /// `name: <decimal>`.
  response_writer& header(std::string_view name, std::uint64_t value);
  /// `Content-Length: n`.
  response_writer& content_length(std::uint64_t n) { return header("Content-Length", n); }
  /// `Transfer-Encoding: chunked` (HTTP/1.1 only).
  response_writer& chunked() { return header("Transfer-Encoding", "chunked"); }
  /// `Connection: keep-alive` or `Connection: close`.
  response_writer& keep_alive(bool on) { return header("Connection", on ? "keep-alive" : "close"); }
  /// The empty line ending the head.
  void end() { out_.append("\r\n"); }

 private:
  std::string& out_;
};

/// Append the size line of a chunk of @p size bytes (hex, RFC 9112 §7.1). A size of 0 is the
/// last chunk: append last_chunk instead.
void append_chunk_header(std::string& out, std::uint64_t size);

/// Append a complete canned response for @p status (4xx/5xx) with a tiny text/plain body.
/// @param keep_alive false adds `Connection: close` (every parser error must close).
/// @param head_only for HEAD requests: the same head, no body.
/// @param extra_headers complete field lines ("Name: value\r\n"…) added to the head, e.g.
///        `Content-Range: bytes */<size>` for 416 or `Location: …` for redirects.
void append_error_response(std::string& out, int status, std::string_view imf_date,
                           bool keep_alive = false, bool head_only = false,
                           std::string_view extra_headers = {});

/// Canned response for a parser error (status from the one error → status table).
inline void append_error_response(std::string& out, error e, std::string_view imf_date) {
  append_error_response(out, status_code(e), imf_date, false, false);
}

}  // namespace ns::http
