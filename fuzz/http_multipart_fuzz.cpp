// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Fuzzes the streaming multipart/form-data parser: byte 0 picks the chunk size, the bytes up to
// the first newline are the Content-Type, the rest is the body. Invariants: consumed never
// exceeds the input, events come in a valid order, part data is readable and non-empty, and
// the bytes of all parts never exceed the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 61;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl = rest.find('\n');
  const std::string content_type(rest.substr(0, nl));
  const std::string_view body_src = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
  std::vector<char> body(body_src.begin(), body_src.end());  // exact-size heap copy

  std::string_view boundary = ns::http::multipart_boundary(content_type);
  if (boundary.empty()) boundary = "b";  // still exercise the body with a fixed boundary
  ns::http::multipart_limits lim;
  lim.max_header_bytes = 256;
  lim.max_headers = 4;
  lim.max_parts = 16;
  ns::http::multipart_parser p(boundary, lim);
  bool in_part = false;
  std::size_t data_bytes = 0;
  std::uint32_t sum = 0;
  for (std::size_t pos = 0; pos < body.size();) {
    const std::size_t n = std::min(chunk, body.size() - pos);
    std::string_view in(body.data() + pos, n);
    bool finished = false;
    for (int idle = 0;;) {
      const auto r = p.feed(in);
      if (r.consumed > in.size()) std::abort();
      idle = r.consumed == 0 ? idle + 1 : 0;
      if (idle > 3) std::abort();
      in.remove_prefix(r.consumed);
      pos += r.consumed;
      using ns::http::multipart_status;
      if (r.status == multipart_status::need_more) break;
      if (r.status == multipart_status::part_begin) {
        if (in_part) std::abort();
        in_part = true;
        for (char c : p.part().name) sum += static_cast<unsigned char>(c);
        for (char c : p.part().filename) sum += static_cast<unsigned char>(c);
      } else if (r.status == multipart_status::part_data) {
        if (!in_part || r.data.empty()) std::abort();
        for (char c : r.data) sum += static_cast<unsigned char>(c);
        data_bytes += r.data.size();
      } else if (r.status == multipart_status::part_end) {
        if (!in_part) std::abort();
        in_part = false;
      } else {
        if (r.status == multipart_status::done && in_part) std::abort();
        finished = true;
        break;
      }
    }
    if (finished) break;
  }
  if (data_bytes > body.size()) std::abort();
  if (sum == 0xdeadbeef) std::printf("%u\n", sum);
  return 0;
}
