// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Fuzzes request_parser with small limits, the input fed in chunks whose size the first byte
// chooses (pipelined requests included). Invariants: consumed never exceeds what was given,
// body pieces lie inside the given bytes (or are the parser's own buffered bytes), every view
// of the request is readable (ASan checks), errors map to the allowed status codes, and the
// parser always makes progress.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "http/request_parser.hpp"

namespace {

void touch(std::string_view v, std::uint32_t& sum) {
  for (char c : v) sum += static_cast<unsigned char>(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 97;
  // Exact-size heap copy so ASan sees any over-read.
  std::vector<std::byte> buf(size - 1);
  if (!buf.empty()) std::memcpy(buf.data(), data + 1, size - 1);

  ns::http_limits lim;
  lim.max_request_line = 256;
  lim.max_header_bytes = 512;
  lim.max_header_count = 8;
  lim.max_body_bytes = 4096;
  lim.max_buffered_body = 64;
  ns::http::request_parser p(lim);
  std::uint32_t sum = 0;
  std::size_t pos = 0;
  bool stop = false;
  while (!stop && pos <= buf.size()) {
    const std::size_t n = std::min(chunk, buf.size() - pos);
    std::span<const std::byte> in(buf.data() + pos, n);
    int idle = 0;
    for (;;) {
      const auto r = p.feed(in);
      if (r.consumed > in.size()) std::abort();
      if (r.status == ns::http::parse_status::body_chunk && r.consumed > 0) {
        const auto* b = reinterpret_cast<const std::byte*>(r.body.data());
        if (b < in.data() || b + r.body.size() > in.data() + r.consumed) std::abort();
      }
      touch(r.body, sum);
      idle = (r.consumed == 0 && r.status != ns::http::parse_status::need_more) ? idle + 1 : 0;
      if (idle > 3) std::abort();  // no progress
      in = in.subspan(r.consumed);
      pos += r.consumed;
      using ns::http::parse_status;
      if (r.status == parse_status::need_more) break;
      if (r.status == parse_status::request_ready || r.status == parse_status::upgrade ||
          r.status == parse_status::headers_ready_streaming) {
        const auto& q = p.request();
        touch(q.method, sum);
        touch(q.target, sum);
        touch(q.body, sum);
        if (q.headers.size() > lim.max_header_count) std::abort();
        for (const auto& h : q.headers) {
          touch(h.name, sum);
          touch(h.value, sum);
        }
        if (r.status == parse_status::request_ready && q.body.size() > lim.max_buffered_body) {
          std::abort();
        }
      }
      if (r.status == parse_status::error) {
        const int s = p.status_code();
        if (s != 400 && s != 413 && s != 414 && s != 431 && s != 501 && s != 505) std::abort();
        stop = true;
        break;
      }
      if (r.status == parse_status::upgrade) {
        stop = true;
        break;
      }
    }
    if (n == 0) break;
  }
  // Keep the checksum observable so the reads are not optimised away.
  if (sum == 0xdeadbeef) std::printf("%u\n", sum);
  return 0;
}
