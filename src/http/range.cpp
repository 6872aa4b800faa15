// SPDX-License-Identifier: MIT
#include "http/range.hpp"

#include <algorithm>
#include <charconv>

namespace ns::http {

namespace {

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  return v;
}

// 1*DIGIT without overflow; false on anything else.
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (out > (UINT64_MAX - d) / 10) return false;
    out = out * 10 + d;
  }
  return true;
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

std::size_t digits(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 10) v /= 10, ++n;
  return n;
}

}  // namespace

range_set parse_range(std::string_view value, std::uint64_t size) noexcept {
  range_set out;
  value = trim(value);
  // The unit is case-insensitive (RFC 9110 §14.1); anything but bytes is ignored.
  if (value.size() < 6) return out;
  for (std::size_t i = 0; i < 5; ++i) {
    const char c = static_cast<char>(value[i] | 0x20);
    if (c != "bytes"[i]) return out;
  }
  if (value[5] != '=') return out;
  value.remove_prefix(6);

  std::array<byte_range, max_ranges> tmp{};
  std::size_t n = 0;
  std::size_t specs = 0;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view spec = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (spec.empty()) continue;  // list rule: empty elements are allowed (RFC 9110 §5.6.1)
    if (++specs > max_ranges) return {};
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix-range "-n": the last n bytes
      if (!parse_u64(b, last)) return {};
      if (last == 0 || size == 0) continue;  // unsatisfiable on its own
      tmp[n++] = {last >= size ? 0 : size - last, size - 1};
      continue;
    }
    if (!parse_u64(a, first)) return {};
    if (b.empty()) {
      last = UINT64_MAX;
    } else if (!parse_u64(b, last) || last < first) {
      return {};  // invalid range-spec → ignore the whole field
    }
    if (first >= size) continue;  // unsatisfiable on its own
    tmp[n++] = {first, std::min(last, size - 1)};
  }
  if (specs == 0) return {};
  if (n == 0) {
    out.outcome = range_outcome::not_satisfiable;
    return out;
  }
  std::sort(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(n),
            [](const byte_range& x, const byte_range& y) { return x.first < y.first; });
  out.outcome = range_outcome::partial;
  out.ranges[0] = tmp[0];
  out.count = 1;
  for (std::size_t i = 1; i < n; ++i) {
    byte_range& cur = out.ranges[out.count - 1];
    if (tmp[i].first <= cur.last || tmp[i].first - cur.last <= range_coalesce_gap) {
      cur.last = std::max(cur.last, tmp[i].last);
    } else {
      out.ranges[out.count++] = tmp[i];
    }
  }
  return out;
}

void append_content_range(std::string& out, byte_range r, std::uint64_t size) {
  out.append("bytes ");
  append_u64(out, r.first);
  out.push_back('-');
  append_u64(out, r.last);
  out.push_back('/');
  append_u64(out, size);
}

void append_unsatisfied_range(std::string& out, std::uint64_t size) {
  out.append("bytes */");
  append_u64(out, size);
}

void make_boundary(std::uint64_t seed, char* out) noexcept {
  // splitmix64 finaliser so consecutive seeds give unrelated boundaries.
  seed += 0x9e3779b97f4a7c15ULL;
  seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
  seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
  seed ^= seed >> 31;
  out[0] = 'n';
  out[1] = 's';
  for (int i = 0; i < 16; ++i) out[2 + i] = "0123456789abcdef"[(seed >> (60 - 4 * i)) & 0xf];
}

void append_part_header(std::string& out, std::string_view boundary, std::string_view content_type,
                        byte_range r, std::uint64_t size) {
  // RFC 2046 §5.1.1: the CRLF before the delimiter belongs to the delimiter.
  out.append("\r\n--");
  out.append(boundary);
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\nContent-Range: ");
  append_content_range(out, r, size);
  out.append("\r\n\r\n");
}

void append_multipart_end(std::string& out, std::string_view boundary) {
  out.append("\r\n--");
  out.append(boundary);
  out.append("--\r\n");
}

std::uint64_t multipart_length(const range_set& set, std::string_view boundary,
                               std::string_view content_type, std::uint64_t size) {
  // Same text as append_part_header()/append_multipart_end(), counted instead of written.
  const std::uint64_t fixed = 4 + boundary.size() + 16 + content_type.size() + 17 + 6 + 4;
  std::uint64_t total = 4 + boundary.size() + 4;
  for (std::size_t i = 0; i < set.count; ++i) {
    const auto& r = set.ranges[i];
    total += fixed + digits(r.first) + 1 + digits(r.last) + 1 + digits(size) + r.length();
  }
  return total;
}

}  // namespace ns::http
