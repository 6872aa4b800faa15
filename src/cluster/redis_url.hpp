// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Where a Redis server is and how to log in (sans-IO): the URL forms
///
///     redis://[[user]:password@]host[:port][/db]     host: a name, IPv4, or [IPv6]
///     unix://[[user]:password@]/path/redis.sock[?db=N]
///
/// The user and password may be percent-encoded (%40 for '@', %3A for ':'). The port defaults
/// to 6379 and the database to 0. rediss:// (TLS) is refused: this build has no TLS to Redis.

#include <cstdint>
#include <string>
#include <string_view>

namespace ns::cluster {

struct redis_endpoint {
  std::string host;  ///< empty for a unix socket
  std::uint16_t port = 6379;
  std::string unix_path;  ///< non-empty for a unix socket
  std::string user;       ///< empty: AUTH with the password only (the default user)
  std::string password;   ///< empty: no AUTH
  unsigned db = 0;        ///< SELECT after connecting when not 0

  [[nodiscard]] bool is_unix() const noexcept { return !unix_path.empty(); }
  /// The URL without the password (for logs): "redis://user@host:6379/2", "unix:///run/r.sock".
  [[nodiscard]] std::string describe() const;
};

/// Parses @p url into @p out. On error returns false and sets @p error to one line that says
/// what is wrong without repeating the URL (it may hold a password).
bool parse_redis_url(std::string_view url, redis_endpoint& out, std::string& error);

}  // namespace ns::cluster
