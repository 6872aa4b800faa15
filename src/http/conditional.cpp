// SPDX-License-Identifier: MIT
#include "http/conditional.hpp"

#include "http/http_date.hpp"

namespace ns::http {

namespace {

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

void put_hex(etag& e, std::uint64_t v) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v != 0);
  while (n > 0) e.data[e.size++] = tmp[--n];
}

// One entity-tag at the front of @p s: [W/] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3).
bool take_etag(std::string_view& s, std::string_view& opaque, bool& weak) noexcept {
  weak = false;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    weak = true;
    s.remove_prefix(2);
  }
  if (s.empty() || s[0] != '"') return false;
  std::size_t i = 1;
  for (; i < s.size() && s[i] != '"'; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c == 0x7f) return false;  // etagc = %x21 / %x23-7E / obs-text
  }
  if (i == s.size()) return false;
  opaque = s.substr(0, i + 1);
  s.remove_prefix(i + 1);
  return true;
}

std::string_view strip_weak(std::string_view t, bool& weak) noexcept {
  weak = t.size() >= 2 && t[0] == 'W' && t[1] == '/';
  return weak ? t.substr(2) : t;
}

}  // namespace

etag make_etag(std::uint64_t size, std::int64_t mtime_ns, std::uint64_t inode) noexcept {
  etag e;
  e.data[e.size++] = '"';
  put_hex(e, inode);
  e.data[e.size++] = '-';
  put_hex(e, size);
  e.data[e.size++] = '-';
  put_hex(e, static_cast<std::uint64_t>(mtime_ns));
  e.data[e.size++] = '"';
  return e;
}

bool etag_list_matches(std::string_view list, std::string_view current, bool weak) noexcept {
  bool cur_weak = false;
  const std::string_view cur = strip_weak(current, cur_weak);
  if (cur.empty()) return false;
  while (!list.empty() && is_ows(list.front())) list.remove_prefix(1);
  if (list.size() >= 1 && list[0] == '*') {
    list.remove_prefix(1);
    while (!list.empty() && is_ows(list.back())) list.remove_suffix(1);
    return list.empty();  // "*" matches any current representation
  }
  bool matched = false;
  while (true) {
    while (!list.empty() && (is_ows(list.front()) || list.front() == ',')) list.remove_prefix(1);
    if (list.empty()) return matched;
    std::string_view opaque;
    bool w = false;
    if (!take_etag(list, opaque, w)) return false;
    if (opaque == cur && (weak || (!w && !cur_weak))) matched = true;
    while (!list.empty() && is_ows(list.front())) list.remove_prefix(1);
    if (!list.empty() && list.front() != ',') return false;
  }
}

conditional_headers conditional_headers::from(const ns::http_request& r) noexcept {
  return {r.header("If-Match"), r.header("If-Unmodified-Since"), r.header("If-None-Match"),
          r.header("If-Modified-Since"), r.header("If-Range")};
}

precondition evaluate_preconditions(const conditional_headers& h, bool get_or_head,
                                    const validators& v) noexcept {
  // Step 1/2: If-Match (strong), else If-Unmodified-Since.
  if (!h.if_match.empty()) {
    if (!etag_list_matches(h.if_match, v.etag, false)) return precondition::precondition_failed;
  } else if (!h.if_unmodified_since.empty()) {
    const auto t = parse_http_date(h.if_unmodified_since);
    if (t && v.last_modified > *t) return precondition::precondition_failed;
  }
  // Step 3/4: If-None-Match (weak), else If-Modified-Since for GET/HEAD.
  if (!h.if_none_match.empty()) {
    if (etag_list_matches(h.if_none_match, v.etag, true)) {
      return get_or_head ? precondition::not_modified : precondition::precondition_failed;
    }
  } else if (get_or_head && !h.if_modified_since.empty()) {
    const auto t = parse_http_date(h.if_modified_since);
    if (t && v.last_modified <= *t) return precondition::not_modified;
  }
  return precondition::proceed;
}

bool if_range_allows(std::string_view if_range, const validators& v) noexcept {
  while (!if_range.empty() && is_ows(if_range.front())) if_range.remove_prefix(1);
  while (!if_range.empty() && is_ows(if_range.back())) if_range.remove_suffix(1);
  if (if_range.empty()) return true;
  if (if_range.front() == '"' || if_range.starts_with("W/")) {
    // Strong comparison: a weak tag never matches (RFC 9110 §13.1.5).
    bool weak = false;
    std::string_view s = if_range, opaque;
    if (!take_etag(s, opaque, weak) || !s.empty() || weak) return false;
    bool cur_weak = false;
    const std::string_view cur = strip_weak(v.etag, cur_weak);
    return !cur_weak && opaque == cur;
  }
  const auto t = parse_http_date(if_range);
  return t && *t == v.last_modified;
}

}  // namespace ns::http
