// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Chunked request bodies (RFC 9112 §7.1). Two modes, chosen by the first byte:
//  - round trip: the input is cut into chunks (sizes from the input), encoded with our own
//    chunk writer, fed to request_parser in pieces of a fuzzed size; the body it delivers —
//    buffered or streamed — must be exactly the concatenated chunk data;
//  - raw: the input follows a chunked header block verbatim; the parser must never consume more
//    than given, never stall, and refuse only with 400 or 413.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "http/response.hpp"

namespace {

constexpr std::string_view head =
    "POST /upload HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n";

// Feeds @p wire in pieces of @p piece bytes; returns the body delivered (or aborts on a broken
// invariant). Sets @p failed when the parser refused the request.
std::string run(const std::string& wire, std::size_t piece, bool& failed, int& status) {
  ns::http_limits lim;
  lim.max_body_bytes = 1 << 20;
  lim.max_buffered_body = 256;  // small: exercise the switch to streaming mid-body
  ns::http::request_parser p(lim);
  std::vector<std::byte> buf(wire.size());
  if (!buf.empty()) std::memcpy(buf.data(), wire.data(), wire.size());
  std::string body;
  std::size_t pos = 0;
  failed = false;
  bool done = false;
  int idle = 0;
  while (!done && !failed) {
    const std::size_t n = std::min(piece, buf.size() - pos);
    std::span<const std::byte> in(buf.data() + pos, n);
    for (;;) {
      const auto r = p.feed(in);
      if (r.consumed > in.size()) std::abort();
      idle = (r.consumed == 0 && r.status != ns::http::parse_status::need_more) ? idle + 1 : 0;
      if (idle > 4) std::abort();  // no progress without input
      in = in.subspan(r.consumed);
      pos += r.consumed;
      using ns::http::parse_status;
      if (r.status == parse_status::body_chunk) body.append(r.body);
      if (r.status == parse_status::request_ready) {
        body.append(p.request().body);
        done = true;
        break;
      }
      if (r.status == parse_status::body_done) {
        done = true;
        break;
      }
      if (r.status == parse_status::error) {
        status = p.status_code();
        failed = true;
        break;
      }
      if (r.status == parse_status::need_more) break;
    }
    if (pos >= buf.size() && !done) break;  // input exhausted mid-body
  }
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool round_trip = (data[0] & 1) != 0;
  const std::size_t piece = 1 + data[1] % 61;
  data += 2;
  size -= 2;
  bool failed = false;
  int status = 0;
  if (round_trip) {
    // Chunk k has size (byte % 37) and takes its data from the bytes after it.
    std::string wire(head);
    std::string expected;
    std::size_t i = 0;
    while (i < size) {
      const std::size_t len = std::min<std::size_t>(data[i] % 37, size - i - 1);
      ++i;
      if (len == 0) continue;  // a zero-size chunk would end the body
      ns::http::append_chunk_header(wire, len);
      wire.append(reinterpret_cast<const char*>(data + i), len);
      wire.append(ns::http::chunk_end);
      expected.append(reinterpret_cast<const char*>(data + i), len);
      i += len;
    }
    wire.append(ns::http::last_chunk);
    const std::string got = run(wire, piece, failed, status);
    if (failed || got != expected) std::abort();  // our own encoding must decode to itself
  } else {
    std::string wire(head);
    wire.append(reinterpret_cast<const char*>(data), size);
    (void)run(wire, piece, failed, status);
    if (failed && status != 400 && status != 413) std::abort();
  }
  return 0;
}
