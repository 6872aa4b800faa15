// SPDX-License-Identifier: MIT
#include "http2/translate.hpp"

#include <charconv>

#include "http2/ascii.hpp"

namespace ns::http2 {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Takes one CRLF-terminated line off the front of @p in.
bool take_line(std::string_view& in, std::string_view& line) noexcept {
  const std::size_t end = in.find("\r\n");
  if (end == std::string_view::npos) return false;
  line = in.substr(0, end);
  in.remove_prefix(end + 2);
  return true;
}

// RFC 9112 §7.1: chunk-size [; ext] CRLF data CRLF … 0 CRLF [trailers] CRLF.
bool dechunk(std::string_view in, std::string& out) {
  out.clear();
  for (;;) {
    std::string_view line;
    if (!take_line(in, line)) return false;
    line = line.substr(0, line.find(';'));
    std::uint64_t size = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || p != line.data() + line.size() || line.empty()) return false;
    if (size == 0) return true;  // trailers, if any, are dropped
    if (in.size() < size + 2 || in.substr(size, 2) != "\r\n") return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

bool translate_http1_response(std::string_view bytes, translated_response& out,
                              std::string& scratch) {
  for (;;) {
    out.fields.clear();
    std::string_view line;
    if (!take_line(bytes, line)) return false;
    // "HTTP/1.x SSS reason"
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return false;
    int status = 0;
    const auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
    if (ec != std::errc() || p != line.data() + 12 || status < 100) return false;
    bool chunked = false;
    for (;;) {
      if (!take_line(bytes, line)) return false;
      if (line.empty()) break;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "transfer-encoding")) {
        chunked = iequals(value, "chunked");
        continue;
      }
      if (connection_specific(name)) continue;
      out.fields.push_back({name, value});
    }
    if (status < 200) continue;  // an interim response: the final one follows
    out.status = status;
    if (chunked) {
      if (!dechunk(bytes, scratch)) return false;
      out.body = scratch;
    } else {
      out.body = bytes;
    }
    return true;
  }
}

}  // namespace ns::http2
