// SPDX-License-Identifier: MIT
#include "proxy/networks.hpp"

namespace ns::proxy {
namespace {

// The bits of @p ip below @p prefix cleared.
std::array<std::uint8_t, 16> masked(const std::array<std::uint8_t, 16>& ip, unsigned prefix) {
  std::array<std::uint8_t, 16> out{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
    const unsigned keep = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    out[i] = static_cast<std::uint8_t>(ip[i] & keep);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<network> parse_network(std::string_view text, std::string& error) {
  const auto bad = [&](std::string_view why) {
    error = "'" + std::string(text) + "' " + std::string(why);
    return std::nullopt;
  };
  const std::size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  network n;
  if (parse_ipv4(addr, std::span(n.base.ip).first<4>())) {
    n.base.fam = family::v4;
  } else if (parse_ipv6(addr, n.base.ip)) {
    n.base.fam = family::v6;
  } else {
    return bad("is not an IPv4 or IPv6 network (ADDRESS or ADDRESS/BITS)");
  }
  const unsigned width = n.base.fam == family::v4 ? 32 : 128;
  n.prefix = width;
  if (slash != std::string_view::npos) {
    std::uint16_t bits = 0;
    // parse_port's rules fit a prefix length too: decimal, no sign, no leading zeros.
    if (!parse_port(text.substr(slash + 1), bits) || bits > width) {
      return bad("has a bad prefix length (0-" + std::to_string(width) + ")");
    }
    n.prefix = bits;
  }
  if (const auto m = masked(n.base.ip, n.prefix); m != n.base.ip) {
    endpoint meant = n.base;
    meant.ip = m;
    return bad("has bits set after its prefix (did you mean " + ip_text(meant) + "/" +
               std::to_string(n.prefix) + "?)");
  }
  return n;
}

bool contains(const network& n, const endpoint& e) noexcept {
  const endpoint a = unmapped(e);
  if (a.fam != n.base.fam) return false;
  return masked(a.ip, n.prefix) == n.base.ip;
}

bool network_list::add(std::string_view text, std::string& error) {
  auto n = parse_network(text, error);
  if (!n) return false;
  nets_.push_back(*n);
  return true;
}

bool network_list::contains(const endpoint& e) const noexcept {
  for (const network& n : nets_) {
    if (proxy::contains(n, e)) return true;
  }
  return false;
}

bool split_list(std::string_view list, std::vector<std::string>& out, std::string& error) {
  out.clear();
  for (std::string_view text = list;;) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (item.empty()) {
      error = "empty entry in '" + std::string(list) + "'";
      return false;
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace ns::proxy
