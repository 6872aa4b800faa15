// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Fuzzes Range, If-Range, preconditions and HTTP-date parsing. Invariants: every range lies
// inside the file, ranges are sorted and disjoint, multipart_length() equals the bytes the
// builders write, and a parsed date formats back to a date that parses to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/conditional.hpp"
#include "http/http_date.hpp"
#include "http/range.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint64_t file_size = static_cast<std::uint64_t>(data[0]) << 4 | (data[1] & 0xf);
  const std::string value(reinterpret_cast<const char*>(data + 2), size - 2);

  const auto set = ns::http::parse_range(value, file_size);
  if (set.count > ns::http::max_ranges) std::abort();
  if (set.outcome == ns::http::range_outcome::partial) {
    if (set.count == 0) std::abort();
    for (std::size_t i = 0; i < set.count; ++i) {
      const auto& r = set.ranges[i];
      if (r.first > r.last || r.last >= file_size) std::abort();
      if (i > 0 && r.first <= set.ranges[i - 1].last) std::abort();
    }
    char b[ns::http::boundary_size];
    ns::http::make_boundary(size, b);
    const std::string_view boundary(b, sizeof b);
    std::string body;
    for (std::size_t i = 0; i < set.count; ++i) {
      ns::http::append_part_header(body, boundary, "text/plain", set.ranges[i], file_size);
      body.append(set.ranges[i].length(), 'x');
    }
    ns::http::append_multipart_end(body, boundary);
    if (body.size() != ns::http::multipart_length(set, boundary, "text/plain", file_size)) {
      std::abort();
    }
  } else if (set.count != 0) {
    std::abort();
  }

  if (const auto t = ns::http::parse_http_date(value)) {
    char out[ns::http::imf_fixdate_size];
    ns::http::format_imf_fixdate(*t, out);
    const auto again = ns::http::parse_http_date(std::string_view(out, sizeof out));
    if (*t >= 0 && *t < 253402300800 && (!again || *again != *t)) std::abort();
  }
  const auto tag = ns::http::make_etag(file_size, 1, 2);
  const ns::http::validators v{tag.view(), 784111777};
  (void)ns::http::if_range_allows(value, v);
  (void)ns::http::etag_list_matches(value, tag.view(), size & 1);
  ns::http::conditional_headers h;
  h.if_none_match = value;
  h.if_modified_since = value;
  (void)ns::http::evaluate_preconditions(h, true, v);
  return 0;
}
