// SPDX-License-Identifier: MIT
#include "proxy/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ns::proxy {
namespace {

// A decimal number of 1 to @p max_digits digits, no leading zero unless it is "0", at most
// @p max. The PROXY protocol forbids leading zeros in ports and IPv4 parts alike.
bool parse_decimal(std::string_view text, std::size_t max_digits, unsigned max,
                   unsigned& out) noexcept {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  unsigned v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_ipv4(std::string_view text, std::span<std::uint8_t, 4> out) noexcept {
  std::array<std::uint8_t, 4> parts{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return false;
    unsigned v = 0;
    if (!parse_decimal(text.substr(0, dot), 3, 255, v)) return false;
    parts[i] = static_cast<std::uint8_t>(v);
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  std::memcpy(out.data(), parts.data(), 4);
  return true;
}

bool parse_ipv6(std::string_view text, std::span<std::uint8_t, 16> out) noexcept {
  // 45 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"; inet_pton needs a terminated string
  // and accepts nothing outside these characters anyway.
  char buf[46] = {};
  if (text.empty() || text.size() > 45) return false;
  for (const char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  std::memcpy(buf, text.data(), text.size());
  return inet_pton(AF_INET6, buf, out.data()) == 1;
}

bool parse_port(std::string_view text, std::uint16_t& out) noexcept {
  unsigned v = 0;
  if (!parse_decimal(text, 5, 65535, v)) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

std::string ip_text(const endpoint& e) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (e.fam == family::none) return {};
  inet_ntop(e.fam == family::v4 ? AF_INET : AF_INET6, e.ip.data(), buf, sizeof(buf));
  return buf;
}

std::string to_string(const endpoint& e) {
  if (e.fam == family::none) return {};
  const std::string port = ":" + std::to_string(e.port);
  return e.fam == family::v4 ? ip_text(e) + port : "[" + ip_text(e) + "]" + port;
}

endpoint from_sockaddr(const sockaddr_storage& ss) noexcept {
  endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    e.fam = family::v4;
    std::memcpy(e.ip.data(), &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.fam = family::v6;
    std::memcpy(e.ip.data(), &a->sin6_addr, 16);
    e.port = ntohs(a->sin6_port);
  }
  return e;
}

endpoint unmapped(const endpoint& e) noexcept {
  static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (e.fam != family::v6 || std::memcmp(e.ip.data(), prefix, sizeof(prefix)) != 0) return e;
  endpoint v4;
  v4.fam = family::v4;
  std::memcpy(v4.ip.data(), e.ip.data() + 12, 4);
  v4.port = e.port;
  return v4;
}

}  // namespace ns::proxy
