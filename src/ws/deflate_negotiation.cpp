// SPDX-License-Identifier: MIT
#include "ws/deflate_negotiation.hpp"

#include <algorithm>
#include <optional>

namespace ns::ws {

namespace {

bool is_tchar(char c) noexcept {
  // RFC 9110 §5.6.2 token characters.
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Window bits value: 1*DIGIT in 8..15 without leading zeros (RFC 7692 §7.1.2).
std::optional<int> parse_bits(std::string_view v) noexcept {
  if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

// Cursor over one header value, following the extension-list grammar of RFC 6455 §9.1.
struct cursor {
  std::string_view s;
  std::size_t i = 0;
  bool ok = true;

  void skip_ows() noexcept {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  bool at(char c) const noexcept { return i < s.size() && s[i] == c; }
  std::string_view token() noexcept {
    const std::size_t b = i;
    while (i < s.size() && is_tchar(s[i])) ++i;
    if (i == b) ok = false;
    return s.substr(b, i - b);
  }
  // token / quoted-string; quoted values keep only the inner text (escapes are not needed for
  // any value we accept, so a backslash simply makes the value invalid later).
  std::string_view value() noexcept {
    if (!at('"')) return token();
    const std::size_t b = ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') ++i;
      ++i;
    }
    if (i >= s.size()) {
      ok = false;
      return {};
    }
    const std::string_view v = s.substr(b, i - b);
    ++i;
    return v;
  }
};

struct offer_state {
  bool valid = true;
  bool snct = false, cnct = false;
  std::optional<int> sbits;
  bool cbits_present = false;
  std::optional<int> cbits;
};

void apply_param(offer_state& o, std::string_view name, std::optional<std::string_view> value) {
  if (iequals(name, "server_no_context_takeover")) {
    if (o.snct || value) o.valid = false;
    o.snct = true;
  } else if (iequals(name, "client_no_context_takeover")) {
    if (o.cnct || value) o.valid = false;
    o.cnct = true;
  } else if (iequals(name, "server_max_window_bits")) {
    if (o.sbits || !value) o.valid = false;
    o.sbits = value ? parse_bits(*value) : std::nullopt;
    if (!o.sbits) o.valid = false;
  } else if (iequals(name, "client_max_window_bits")) {
    if (o.cbits_present) o.valid = false;
    o.cbits_present = true;
    if (value) {
      o.cbits = parse_bits(*value);
      if (!o.cbits) o.valid = false;
    }
  } else {
    o.valid = false;  // unknown parameter: decline this offer (§7.1)
  }
}

std::optional<deflate_negotiation> accept_offer(const offer_state& o, const deflate_policy& p) {
  if (!o.valid) return std::nullopt;
  const int policy_server = std::clamp(p.server_max_window_bits, 8, 15);
  const int policy_client = std::clamp(p.client_max_window_bits, 8, 15);
  deflate_negotiation r;
  deflate_params& d = r.params;
  d.enabled = true;
  d.server_no_context_takeover = o.snct || p.shared_compressor;
  d.client_no_context_takeover = o.cnct;
  bool include_server = false;
  if (o.sbits) {
    d.server_max_window_bits = std::min(*o.sbits, policy_server);  // §7.1.2.1: must echo ≤ offer
    include_server = true;
  } else if (policy_server < 15) {
    d.server_max_window_bits = policy_server;
    include_server = true;
  }
  bool include_client = false;
  if (o.cbits_present) {
    // §7.1.2.2: only when offered may we answer client_max_window_bits.
    d.client_max_window_bits = std::min(o.cbits.value_or(15), policy_client);
    include_client = o.cbits.has_value() || d.client_max_window_bits < 15;
  }
  r.response = format_deflate_response(d, include_server, include_client);
  return r;
}

}  // namespace

std::string format_deflate_response(const deflate_params& d, bool include_server_bits,
                                    bool include_client_bits) {
  std::string s = "permessage-deflate";
  if (d.server_no_context_takeover) s += "; server_no_context_takeover";
  if (d.client_no_context_takeover) s += "; client_no_context_takeover";
  if (include_server_bits)
    s += "; server_max_window_bits=" + std::to_string(d.server_max_window_bits);
  if (include_client_bits)
    s += "; client_max_window_bits=" + std::to_string(d.client_max_window_bits);
  return s;
}

deflate_negotiation negotiate_deflate(std::span<const std::string_view> header_values,
                                      const deflate_policy& policy) {
  if (!policy.enabled) return {};
  for (std::string_view hv : header_values) {
    cursor c{hv};
    for (;;) {
      c.skip_ows();
      while (c.at(',')) {  // empty list elements are allowed (RFC 9110 §5.6.1)
        ++c.i;
        c.skip_ows();
      }
      if (c.i >= hv.size()) break;
      const std::string_view name = c.token();
      if (!c.ok) return {};
      const bool ours = iequals(name, "permessage-deflate");
      offer_state o;
      c.skip_ows();
      while (c.at(';')) {
        ++c.i;
        c.skip_ows();
        const std::string_view pname = c.token();
        c.skip_ows();
        std::optional<std::string_view> pvalue;
        if (c.at('=')) {
          ++c.i;
          c.skip_ows();
          pvalue = c.value();
          c.skip_ows();
        }
        if (!c.ok) return {};
        if (ours) apply_param(o, pname, pvalue);
      }
      if (c.i < hv.size() && !c.at(',')) return {};  // junk after an extension
      if (ours) {
        if (auto r = accept_offer(o, policy)) return std::move(*r);
      }
    }
  }
  return {};
}

deflate_negotiation negotiate_deflate(std::string_view header_value, const deflate_policy& policy) {
  return negotiate_deflate(std::span<const std::string_view>(&header_value, 1), policy);
}

}  // namespace ns::ws
