// SPDX-License-Identifier: MIT
// The application's calls on an HTTP/2 stream handle: raw HTTP/1 bytes (translated), structured
// responses, chunked responses (DATA frames as chunks come), closing a stream. Each checks
// the stream is live and not yet answered, bounds what it holds, and lets the pump send.
#include <cerrno>

#include "http2/ascii.hpp"
#include "http2/translate.hpp"
#include "server/core.hpp"
#include "server/http2_handler.hpp"

namespace ns::server {
namespace {

// As on HTTP/1.1 (http1_respond.cpp): no CR/LF anywhere, a name, and none of the fields the
// server frames the message with (HTTP/2 frames it itself: DATA and END_STREAM).
bool valid_headers(std::span<const http_header> headers) {
  for (const http_header& h : headers) {
    if (h.name.empty() || h.name.find_first_of("\r\n:") != std::string_view::npos ||
        h.value.find_first_of("\r\n") != std::string_view::npos ||
        http2::iequals(h.name, "content-length") || http2::iequals(h.name, "transfer-encoding") ||
        http2::iequals(h.name, "connection")) {
      return false;
    }
  }
  return true;
}

}  // namespace

int http2_handler::write(std::uint32_t tag, std::span<const iovec> pieces, write_kind kind) {
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (s->responded) return -EBUSY;
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (pending_bytes_ + total > core_.config().max_queued_output) return -ENOBUFS;
  // The whole HTTP/1 response, gathered: its head becomes HEADERS, its body DATA.
  std::string& raw = s->ex.head;
  raw.clear();
  for (const iovec& v : pieces) raw.append(static_cast<const char*>(v.iov_base), v.iov_len);
  http2::translated_response r;
  if (!http2::translate_http1_response(raw, r, s->ex.stage)) {
    // Not a response we can carry: the stream is reset rather than answered with garbage.
    session_.reset(s->id, http2::error_code::internal_error);
    pump();
    return -EINVAL;
  }
  const bool body = !head_request(*s) && r.status != 204 && r.status != 304 && !r.body.empty();
  s->kind = kind;
  s->ended = true;
  if (body) {
    s->out.assign(r.body);
    pending_bytes_ += s->out.size();
  }
  // raw and the stage keep their capacity for the next response; the stream may be gone
  // once start_response returns (its last frame sent), so nothing touches it after.
  return start_response(*s, r.status, r.fields, body);
}

int http2_handler::respond(std::uint32_t tag, int status, std::span<const http_header> headers,
                           std::span<const std::byte> body) {
  if (status < 200 || status > 999 || !valid_headers(headers)) return -EINVAL;
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (s->responded) return -EBUSY;
  if (pending_bytes_ + body.size() > core_.config().max_queued_output) return -ENOBUFS;
  // RFC 9110 §6.4.1: no content in 204 and 304, nor in the answer to HEAD (whose
  // content-length still says what GET would have sent).
  const bool bodiless_status = status == 204 || status == 304;
  const bool send_body = !bodiless_status && !head_request(*s) && !body.empty();
  std::vector<http2::field> fields;
  fields.reserve(headers.size() + 2);
  for (const http_header& h : headers) fields.push_back({h.name, h.value});
  const std::string length = std::to_string(body.size());
  if (!bodiless_status) fields.push_back({"content-length", length});
  fields.push_back({"date", date()});
  s->kind = write_kind::http_write;
  s->ended = true;
  if (send_body) {
    s->out.assign(reinterpret_cast<const char*>(body.data()), body.size());
    pending_bytes_ += s->out.size();
  }
  return start_response(*s, status, fields, send_body);
}

int http2_handler::post_read(std::uint32_t tag) {
  // Bodies arrive whole on HTTP/2 for now (http_request::body): there is nothing to ask for.
  return by_tag(tag) == nullptr ? -EBADF : -EINVAL;
}

int http2_handler::begin_chunked(std::uint32_t tag, int status,
                                 std::span<const http_header> headers) {
  if (status < 200 || status > 999 || !valid_headers(headers)) return -EINVAL;
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (s->responded) return -EBUSY;
  std::vector<http2::field> fields;
  fields.reserve(headers.size() + 1);
  for (const http_header& h : headers) fields.push_back({h.name, h.value});
  fields.push_back({"date", date()});
  // HTTP/2 frames the body itself (DATA until END_STREAM): chunks go out as they come.
  const bool no_body = head_request(*s) || status == 204 || status == 304;
  s->kind = write_kind::http_write;
  s->ended = no_body;
  return start_response(*s, status, fields, !no_body);
}

int http2_handler::write_chunk(std::uint32_t tag, std::span<const std::byte> data) {
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (!s->responded || s->ended) return -EINVAL;
  if (pending_bytes_ + data.size() > core_.config().max_queued_output) return -ENOBUFS;
  s->out.append(reinterpret_cast<const char*>(data.data()), data.size());
  pending_bytes_ += data.size();
  session_.resume(s->id);
  pump();
  return 0;
}

int http2_handler::end_chunked(std::uint32_t tag) {
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (!s->responded || s->ended) return -EINVAL;
  s->ended = true;
  session_.resume(s->id);
  pump();
  return 0;
}

int http2_handler::close_stream(std::uint32_t tag) {
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  // Only this stream ends (RFC 9113 §8.1: RST_STREAM CANCEL); the connection stays.
  session_.reset(s->id, http2::error_code::cancel);
  s->closed = true;  // the handle is dead now; the close callback follows when the RST is out
  pump();
  return 0;
}

std::int64_t http2_handler::queued(std::uint32_t tag) const noexcept {
  const h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  return static_cast<std::int64_t>(s->out.size() - s->out_off);
}

}  // namespace ns::server
