// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Moving live connections to another process (an upgrade without a dropped connection).
///
/// A server that drains with a `connection_mover` (network_server::drain) offers it each
/// connection that reaches a clean point — TLS 1.3 driven by our record layer, HTTP/1.1
/// between requests or a WebSocket between messages without deflate history — as its socket
/// and a versioned, length-checked state (record-layer keys and sequence numbers, the
/// WebSocket's agreed extension, the application's blob from
/// `application_methods::connection_moving`). The mover carries both to the other process
/// (ns_serve: over a unix socket with SCM_RIGHTS), where `network_server::adopt_connection`
/// continues the connection; its client sees no close, no reset, no missing or repeated byte.
/// What cannot move drains where it is.

#include <cstddef>
#include <span>

namespace ns {

/// Where a draining server sends the connections it can move. Called on the server's loop
/// thread: return quickly (a unix-socket round trip is fine; a network one is not).
class connection_mover {
 public:
  virtual ~connection_mover() = default;
  /// Offers one connection: its socket @p fd (still this server's) and @p state, which holds
  /// the connection's traffic secrets — never store or log it. True: the other process owns the
  /// connection now, and this server closes its descriptor without a word to the peer. False:
  /// it stays here and drains.
  virtual bool move(int fd, std::span<const std::byte> state) = 0;
};

}  // namespace ns
