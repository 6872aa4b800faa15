// SPDX-License-Identifier: MIT
#pragma once
// Listening sockets. Each server thread binds its own socket to the same address with
// SO_REUSEPORT, so the kernel spreads new connections across threads without a shared accept
// queue (DESIGN.md "Threads and scale").

#include <sys/socket.h>

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

/// True if @p fd is a listening TCP (IPv4 or IPv6) stream socket; @p local gets its address.
bool listening_tcp_address(int fd, sockaddr_storage& local);

/// Takes a duplicate (close-on-exec) of @p fd, a listening socket made by someone else
/// (socket activation, a hand-over), after checking it is a listening TCP stream socket.
listen_result adopt_listener(int fd);

/// "ip:port" (IPv4) or "[ip]:port" (IPv6) of @p ss.
std::string address_text(const sockaddr_storage& ss);

/// "ip:port" of a connected socket's peer, for log lines.
std::string peer_name(int fd);

}  // namespace ns::io
