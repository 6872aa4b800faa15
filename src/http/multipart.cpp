// SPDX-License-Identifier: MIT
// The delimiter is CRLF "--" boundary (RFC 2046 §5.1.1). Its only '\r' is the first byte and
// a boundary cannot contain CR, so after a failed partial match the search restarts at the
// mismatching byte: no KMP table is needed. Bytes held back as a possible delimiter are equal
// to the delimiter's prefix, so they are handed out from delim_ itself when the match fails.
#include "http/multipart.hpp"

#include <cstring>

#include "http/request_line_check.hpp"

namespace ns::http {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  return v;
}

// bchars (RFC 2046 §5.1.1): DIGIT / ALPHA / "'()+_,-./:=?" and space (not last).
bool is_bchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
         (u != 0 && std::strchr("'()+_,-./:=? ", u) != nullptr);
}

// Parameters "; key=value" / "; key=\"quoted\"" after a media type or disposition type.
// Calls f(key, value) for each; false on malformed syntax.
template <typename F>
bool for_each_param(std::string_view s, F&& f) {
  for (;;) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    if (s.empty()) return true;
    if (s.front() != ';') return false;
    s.remove_prefix(1);
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    if (s.empty()) return true;  // tolerate a trailing ';'
    std::size_t k = 0;
    while (k < s.size() && is_tchar(static_cast<unsigned char>(s[k]))) ++k;
    const std::string_view key = s.substr(0, k);
    s.remove_prefix(k);
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    if (key.empty() || s.empty() || s.front() != '=') return false;
    s.remove_prefix(1);
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    std::string_view value;
    if (!s.empty() && s.front() == '"') {
      std::size_t e = 1;
      while (e < s.size() && s[e] != '"') e += (s[e] == '\\' && e + 1 < s.size()) ? 2 : 1;
      if (e >= s.size()) return false;
      value = s.substr(1, e - 1);  // escapes are left as sent (browsers percent-encode)
      s.remove_prefix(e + 1);
    } else {
      std::size_t e = 0;
      while (e < s.size() && is_tchar(static_cast<unsigned char>(s[e]))) ++e;
      value = s.substr(0, e);
      s.remove_prefix(e);
    }
    f(key, value);
  }
}

}  // namespace

std::string_view multipart_boundary(std::string_view content_type) noexcept {
  content_type = trim(content_type);
  const auto semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return {};
  if (semi == std::string_view::npos) return {};
  std::string_view boundary;
  const bool ok = for_each_param(content_type.substr(semi), [&](auto k, auto v) {
    if (iequals(k, "boundary")) boundary = v;
  });
  if (!ok || boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') return {};
  for (char c : boundary) {
    if (!is_bchar(c)) return {};
  }
  return boundary;
}

std::string_view reason(multipart_error e) noexcept {
  switch (e) {
    case multipart_error::none:
      return "no error";
    case multipart_error::bad_boundary:
      return "invalid multipart boundary";
    case multipart_error::malformed_delimiter:
      return "malformed multipart delimiter";
    case multipart_error::headers_too_large:
      return "multipart part headers too large";
    case multipart_error::too_many_headers:
      return "too many multipart part headers";
    case multipart_error::too_many_parts:
      return "too many multipart parts";
    case multipart_error::malformed_header:
      return "malformed multipart part header";
    case multipart_error::missing_disposition:
      return "part without form-data disposition";
  }
  return "unknown error";
}

multipart_parser::multipart_parser(std::string_view boundary, multipart_limits limits)
    : limits_(limits) {
  delim_.reserve(4 + boundary.size());
  delim_.append("\r\n--").append(boundary);
  head_.reserve(limits_.max_header_bytes);
  if (boundary.empty() || boundary.size() > 70) {
    state_ = state::failed;
    error_ = multipart_error::bad_boundary;
  }
}

multipart_result multipart_parser::fail(multipart_error e, std::size_t consumed) {
  error_ = e;
  state_ = state::failed;
  return {consumed, multipart_status::error, {}};
}

bool multipart_parser::parse_headers() {
  part_ = {};
  std::string_view rest(head_);
  std::size_t count = 0;
  bool disposition = false;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);  // head_ always ends with CRLF
    if (line.empty()) break;
    if (++count > limits_.max_headers) {
      error_ = multipart_error::too_many_headers;
      return false;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error_ = multipart_error::malformed_header;
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    for (char c : name) {
      if (!is_tchar(static_cast<unsigned char>(c))) {
        error_ = multipart_error::malformed_header;
        return false;
      }
    }
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f) {
        error_ = multipart_error::malformed_header;
        return false;
      }
    }
    if (iequals(name, "content-disposition")) {
      const auto semi = value.find(';');
      if (!iequals(trim(value.substr(0, semi)), "form-data") || semi == std::string_view::npos) {
        error_ = multipart_error::missing_disposition;
        return false;
      }
      bool has_name = false;
      const bool ok = for_each_param(value.substr(semi), [&](auto k, auto v) {
        if (iequals(k, "name")) {
          part_.name = v;
          has_name = true;
        } else if (iequals(k, "filename")) {
          part_.filename = v;
          part_.has_filename = true;
        }
      });
      if (!ok) {
        error_ = multipart_error::malformed_header;
        return false;
      }
      disposition = has_name;
    } else if (iequals(name, "content-type")) {
      part_.content_type = value;
    }
  }
  if (!disposition) {
    error_ = multipart_error::missing_disposition;
    return false;
  }
  return true;
}

multipart_result multipart_parser::feed(std::span<const std::byte> input) {
  const char* in = reinterpret_cast<const char*>(input.data());
  const std::size_t n = input.size();
  const std::size_t dlen = delim_.size();
  std::size_t i = 0;
  for (;;) {
    switch (state_) {
      case state::failed:
        return {0, multipart_status::error, {}};
      case state::epilogue:
        return {n, multipart_status::done, {}};
      case state::preamble:
      case state::data: {
        const bool discard = state_ == state::preamble;
        if (matched_ > 0) {  // a delimiter prefix carried over from the previous input
          while (i < n && matched_ < dlen && in[i] == delim_[matched_]) ++i, ++matched_;
          if (matched_ == dlen) {
            matched_ = 0;
            state_ = state::after_delim;
            if (discard) continue;
            return {i, multipart_status::part_end, {}};
          }
          if (i == n) return {n, multipart_status::need_more, {}};
          const std::size_t held = matched_;
          matched_ = 0;
          if (!discard) return {i, multipart_status::part_data, {delim_.data(), held}};
          continue;  // re-examine in[i] from scratch
        }
        const std::size_t start = i;
        std::size_t p = i;
        for (;;) {
          const void* cr = p < n ? std::memchr(in + p, '\r', n - p) : nullptr;
          if (cr == nullptr) {
            if (discard || n == start) return {n, multipart_status::need_more, {}};
            return {n, multipart_status::part_data, {in + start, n - start}};
          }
          p = static_cast<std::size_t>(static_cast<const char*>(cr) - in);
          std::size_t m = 0;
          while (p + m < n && m < dlen && in[p + m] == delim_[m]) ++m;
          if (m == dlen) {
            if (!discard && p > start)
              return {p, multipart_status::part_data, {in + start, p - start}};
            i = p + dlen;
            state_ = state::after_delim;
            if (discard) break;
            return {i, multipart_status::part_end, {}};
          }
          if (p + m == n) {  // input ends inside what may be a delimiter: hold it back
            matched_ = m;
            if (!discard && p > start)
              return {n, multipart_status::part_data, {in + start, p - start}};
            return {n, multipart_status::need_more, {}};
          }
          ++p;
        }
        continue;
      }
      case state::after_delim:
        if (i == n) return {n, multipart_status::need_more, {}};
        if (in[i] == '-') {
          ++i;
          state_ = state::close_dash;
        } else {
          padding_ = 0;
          state_ = state::padding;
        }
        continue;
      case state::close_dash:
        if (i == n) return {n, multipart_status::need_more, {}};
        if (in[i] != '-') return fail(multipart_error::malformed_delimiter, i);
        state_ = state::epilogue;
        return {i + 1, multipart_status::done, {}};
      case state::padding:
        // Transport padding (LWSP) then CRLF ends the delimiter line. padding_ == SIZE_MAX
        // records that the CR was seen.
        while (i < n) {
          const char c = in[i++];
          if (padding_ == SIZE_MAX) {
            if (c != '\n') return fail(multipart_error::malformed_delimiter, i);
            state_ = state::headers;
            head_.clear();
            break;
          }
          if (c == '\r') {
            padding_ = SIZE_MAX;
          } else if (is_ows(c) && ++padding_ < 256) {
            continue;
          } else {
            return fail(multipart_error::malformed_delimiter, i);
          }
        }
        if (state_ == state::padding) return {n, multipart_status::need_more, {}};
        continue;
      case state::headers:
        while (i < n) {
          if (head_.size() >= limits_.max_header_bytes) {
            return fail(multipart_error::headers_too_large, i);
          }
          head_.push_back(in[i++]);
          const std::string_view h(head_);
          if (h == "\r\n" || (h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n")) {
            if (++parts_ > limits_.max_parts) return fail(multipart_error::too_many_parts, i);
            if (!parse_headers()) return fail(error_, i);
            state_ = state::data;
            matched_ = 0;
            return {i, multipart_status::part_begin, {}};
          }
        }
        return {n, multipart_status::need_more, {}};
    }
  }
}

}  // namespace ns::http
