// SPDX-License-Identifier: MIT
#pragma once
// Trusted source networks of a PROXY listener: CIDR blocks, IPv4 and IPv6. Only a peer inside
// one may send a PROXY header (the spec's §2: otherwise anyone could claim any address).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/address.hpp"

namespace ns::proxy {

/// One block: the first `prefix` bits of `base.ip` (family v4 or v6; the port is unused).
struct network {
  endpoint base;
  unsigned prefix = 0;
};

/// "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). Refused with @p error (one
/// line, naming @p text): anything else, a prefix above the family's width or with leading
/// zeros, and host bits set below the prefix ("10.1.0.0/8": a typo more often than not).
[[nodiscard]] std::optional<network> parse_network(std::string_view text, std::string& error);

/// Whether @p e lies in @p n. An IPv4-mapped IPv6 peer (::ffff:a.b.c.d, an IPv4 client of a
/// dual-stack listener) is matched as its IPv4 address.
[[nodiscard]] bool contains(const network& n, const endpoint& e) noexcept;

class network_list {
 public:
  /// Adds one network (parse_network); false with @p error on a bad one.
  bool add(std::string_view text, std::string& error);
  [[nodiscard]] bool contains(const endpoint& e) const noexcept;
  [[nodiscard]] bool empty() const noexcept { return nets_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return nets_.size(); }

 private:
  std::vector<network> nets_;
};

/// Splits "a, b,c" at commas into trimmed entries; false with @p error on an empty entry.
bool split_list(std::string_view list, std::vector<std::string>& out, std::string& error);

}  // namespace ns::proxy
