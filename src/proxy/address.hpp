// SPDX-License-Identifier: MIT
#pragma once
// IP endpoints as the PROXY protocol carries them: an address family, 16 bytes of address (an
// IPv4 address in the first 4) and a port. Strict text parsing for the human-readable header
// and for trusted networks, and the "ip:port" text the server logs (the same form as
// io::peer_name, so a proxied client looks like a direct one). Sans-IO: no descriptor.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ns::proxy {

enum class family : std::uint8_t { none, v4, v6 };

/// An address and port. family::none: no address (a LOCAL or UNKNOWN header).
struct endpoint {
  family fam = family::none;
  std::array<std::uint8_t, 16> ip{};  ///< network byte order; IPv4 in ip[0..4)
  std::uint16_t port = 0;
};

/// Dotted decimal as the PROXY protocol writes it: exactly four numbers 0-255 separated by
/// single dots, no leading zeros (they would read as octal elsewhere), nothing else.
[[nodiscard]] bool parse_ipv4(std::string_view text, std::span<std::uint8_t, 4> out) noexcept;

/// An IPv6 literal (hex groups, one "::", an embedded dotted IPv4 tail), at most 45 characters.
[[nodiscard]] bool parse_ipv6(std::string_view text, std::span<std::uint8_t, 16> out) noexcept;

/// A decimal port 0-65535 without leading zeros.
[[nodiscard]] bool parse_port(std::string_view text, std::uint16_t& out) noexcept;

/// The address alone: "a.b.c.d" or the compressed IPv6 form; "" for family::none.
[[nodiscard]] std::string ip_text(const endpoint& e);

/// "a.b.c.d:port" or "[v6]:port"; "" for family::none.
[[nodiscard]] std::string to_string(const endpoint& e);

/// The endpoint of a socket address: AF_INET and AF_INET6, anything else family::none.
[[nodiscard]] endpoint from_sockaddr(const sockaddr_storage& ss) noexcept;

/// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack listener sees an IPv4
/// client) as the IPv4 address it stands for; any other endpoint unchanged.
[[nodiscard]] endpoint unmapped(const endpoint& e) noexcept;

}  // namespace ns::proxy
