// SPDX-License-Identifier: MIT
// HTTP/1.1 responses the application writes: raw bytes (http_write / http_writev), structured
// responses (http_respond), chunked responses (RFC 9112 §7.1), and the server's own error
// answers. Every head the server formats goes through http::response_writer.
#include <cerrno>

#include "http/response.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"

namespace ns::server {
namespace {

// Pieces up to one TLS record are gathered and encrypted together: one record, not several.
constexpr std::size_t one_record = 16 * 1024;

bool valid_field(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

// Fields a structured response may not set: the server frames the message itself.
bool framing_field(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection");
}

bool valid_headers(std::span<const http_header> headers) {
  for (const http_header& h : headers) {
    if (h.name.empty() || !valid_field(h.name) || !valid_field(h.value)) return false;
  }
  return true;
}

}  // namespace

int http1_handler::write(std::span<const iovec> pieces, write_kind kind) {
  if (ex_.long_response()) return -EBUSY;  // would land inside a file or chunked body
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (t_.out.queued() + total > core_.config().max_queued_output) return -ENOBUFS;
  if (t_.tls && total <= one_record && pieces.size() > 1) {
    std::string& stage = ex_.stage;
    stage.clear();
    for (const iovec& v : pieces) stage.append(static_cast<const char*>(v.iov_base), v.iov_len);
    const bool ok = put(std::string_view(stage));
    stage.clear();
    if (!ok) return -EPIPE;
  } else {
    for (const iovec& v : pieces) {
      if (!put({static_cast<const std::byte*>(v.iov_base), v.iov_len})) return -EPIPE;
    }
  }
  return queued(true, kind, true);  // this write answers the request in hand
}

int http1_handler::respond(int status, std::span<const http_header> headers,
                           std::span<const std::byte> body) {
  if (status < 200 || status > 999 || !valid_headers(headers)) return -EINVAL;
  for (const http_header& h : headers) {
    if (framing_field(h.name)) return -EINVAL;
  }
  if (ex_.long_response()) return -EBUSY;
  const http_request& req = parser_.request();
  // RFC 9110 §6.4.1: no content in 204 and 304, nor in the answer to HEAD (whose
  // Content-Length still says what GET would have sent, §9.3.2).
  const bool bodiless_status = status == 204 || status == 304;
  const bool send_body = !bodiless_status && req.method != "HEAD";
  std::string& head = ex_.head;
  head.clear();
  http::response_writer w(head);
  w.start(status, date());
  for (const http_header& h : headers) w.header(h.name, h.value);
  if (!bodiless_status) w.content_length(body.size());
  w.keep_alive(ex_.keep_alive).end();
  const std::size_t total = head.size() + (send_body ? body.size() : 0);
  if (t_.out.queued() + total > core_.config().max_queued_output) return -ENOBUFS;
  ex_.status = static_cast<std::uint16_t>(status);
  bool ok = true;
  if (!send_body || body.empty()) {
    ok = put(std::string_view(head));
  } else if (t_.tls && total <= one_record) {
    head.append(reinterpret_cast<const char*>(body.data()), body.size());
    ok = put(std::string_view(head));
  } else {
    ok = put(std::string_view(head)) && put(body);
  }
  if (!ok) return -EPIPE;
  return queued(true, write_kind::http_write, true);
}

void http1_handler::answer_error(int status, std::string_view why) {
  core_.report_error(t_, conn_error::bad_request,
                     std::string(why).append("; answering ").append(std::to_string(status)));
  std::string& head = ex_.head;
  head.clear();
  http::append_error_response(head, status, date());
  put(std::string_view(head));
  t_.out.mark(write_kind::internal);
  core_.close_graceful(t_);
}

// ---- chunked responses (RFC 9112 §7.1) ----------------------------------------------------

int http1_handler::begin_chunked(int status, std::span<const http_header> headers) {
  if (ex_.long_response()) return -EBUSY;
  if (status < 200 || status > 999 || !valid_headers(headers)) return -EINVAL;
  const http_request& req = parser_.request();
  chunked_response& ch = ex_.chunked;
  ch = {};
  ch.no_body = req.method == "HEAD" || status == 204 || status == 304;
  // HTTP/1.0 has no chunked coding: the body is delimited by closing (RFC 9112 §6.3).
  ch.framed = !(req.version_major == 1 && req.version_minor == 0);
  if (!ch.framed) ex_.keep_alive = false;
  if (ex_.body.active) ex_.keep_alive = false;
  std::string& head = ex_.head;
  head.clear();
  http::response_writer w(head);
  w.start(status, date());
  for (const http_header& h : headers) w.header(h.name, h.value);
  if (ch.framed && status != 204 && status != 304) w.chunked();
  w.keep_alive(ex_.keep_alive).end();
  ex_.status = static_cast<std::uint16_t>(status);
  ch.open = put(std::string_view(head));
  return queued(ch.open, write_kind::http_write, false);
}

int http1_handler::write_chunk(std::span<const std::byte> data) {
  if (!ex_.chunked.open) return -EINVAL;
  if (t_.out.queued() + data.size() > core_.config().max_queued_output) return -ENOBUFS;
  bool ok = true;
  if (!ex_.chunked.no_body && !data.empty()) {
    if (!ex_.chunked.framed) {
      ok = put(data);
    } else {
      std::string& stage = ex_.stage;
      stage.clear();
      http::append_chunk_header(stage, data.size());
      if (data.size() <= one_record) {
        // One TLS record for size line, data and CRLF.
        stage.append(reinterpret_cast<const char*>(data.data()), data.size());
        stage.append(http::chunk_end);
        ok = put(std::string_view(stage));
      } else {
        ok = put(std::string_view(stage)) && put(data) && put(http::chunk_end);
      }
      stage.clear();
    }
  }
  return queued(ok, write_kind::http_write, false);
}

int http1_handler::end_chunked() {
  if (!ex_.chunked.open) return -EINVAL;
  const chunked_response ch = ex_.chunked;
  ex_.chunked = {};
  return queued(!ch.framed || ch.no_body || put(http::last_chunk), write_kind::http_write, true);
}

int http1_handler::queued(bool ok, write_kind kind, bool ends_response) {
  t_.out.mark(kind);
  if (!ok) {
    core_.close_hard(t_);
    return 0;
  }
  if (ends_response) response_done();
  core_.flush(t_);
  return 0;
}

}  // namespace ns::server
