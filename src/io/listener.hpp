// SPDX-License-Identifier: MIT
#pragma once
// Listening sockets. Each server thread binds its own socket to the same address with
// SO_REUSEPORT, so the kernel spreads new connections across threads without a shared accept
// queue (DESIGN.md "Threads and scale").

#include <cstdint>
#include <string>

namespace ns::io {

struct listen_result {
  int fd = -1;            ///< the listening socket, or -1
  std::uint16_t port = 0; ///< the bound port (useful when 0 was asked for)
  std::string error;      ///< one line when fd == -1
};

/// Binds and listens on @p address (IPv4 or IPv6 literal) and @p port.
listen_result open_listener(const std::string& address, std::uint16_t port, bool reuse_port,
                            int backlog = 4096);

/// "ip:port" of a connected socket's peer, for log lines.
std::string peer_name(int fd);

}  // namespace ns::io
