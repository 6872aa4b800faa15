// SPDX-License-Identifier: MIT
#include "http/response.hpp"

#include <charconv>

namespace ns::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

void append_uint(std::string& out, std::uint64_t v, int base = 10) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, base);
  (void)ec;  // 24 bytes always hold a 64-bit number
  out.append(buf, end);
}

}  // namespace

response_writer& response_writer::status_line(int status) {
  if (status < 100 || status > 999) status = 500;
  out_.append("HTTP/1.1 ");
  append_uint(out_, static_cast<std::uint64_t>(status));
  out_.push_back(' ');
  out_.append(reason_phrase(status));
  out_.append("\r\n");
  return *this;
}

response_writer& response_writer::start(int status, std::string_view imf_date) {
  status_line(status);
  out_.append("Server: network_server\r\nDate: ");
  out_.append(imf_date);
  out_.append("\r\n");
  return *this;
}

response_writer& response_writer::header(std::string_view name, std::string_view value) {
  out_.append(name);
  out_.append(": ");
  out_.append(value);
  out_.append("\r\n");
  return *this;
}

response_writer& response_writer::header(std::string_view name, std::uint64_t value) {
  out_.append(name);
  out_.append(": ");
  append_uint(out_, value);
  out_.append("\r\n");
  return *this;
}

void append_chunk_header(std::string& out, std::uint64_t size) {
  append_uint(out, size, 16);
  out.append("\r\n");
}

void append_error_response(std::string& out, int status, std::string_view imf_date, bool keep_alive,
                           bool head_only, std::string_view extra_headers) {
  // Body: "404 Not Found\n" — small, fixed, and never echoes request bytes (no reflection).
  if (status < 100 || status > 999) status = 500;
  const std::string_view reason = reason_phrase(status);
  response_writer w(out);
  w.start(status, imf_date)
      .header("Content-Type", "text/plain; charset=utf-8")
      .content_length(4 + reason.size() + 1)
      .keep_alive(keep_alive);
  if (status == 405) w.header("Allow", "GET, HEAD, OPTIONS");
  out.append(extra_headers);
  w.end();
  if (head_only) return;
  append_uint(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason);
  out.push_back('\n');
}

}  // namespace ns::http
