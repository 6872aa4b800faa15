// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Test helper: a client and a server `tls::session` wired together entirely in memory.
/// `pump()` moves ciphertext both ways and reads plaintext on both sides until nothing moves.
/// Reusable by any suite that needs a TLS peer without sockets (server, pipeline fuzzing).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "tls/session.hpp"

namespace ns::tls::test {

inline std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// Moves all pending ciphertext of @p from into @p to (zero-copy peek + consume). Returns bytes.
inline std::size_t transfer(session& from, session& to) {
  const auto view = from.peek_ciphertext();
  const std::size_t n = view.size();
  if (n != 0) {
    to.feed(view);
    from.consume_ciphertext(n);
  }
  return n;
}

/// Reads everything available from @p s into @p sink; returns the last status seen.
inline status read_all(session& s, std::string& sink) {
  std::byte buf[4096];
  for (;;) {
    const read_result r = s.read(buf);
    if (r.st != status::ok) return r.st;
    sink.append(reinterpret_cast<const char*>(buf), r.bytes);
  }
}

/// Client + server in memory.
struct mem_pipe {
  mem_pipe(session& c, session& s) : client(c), server(s) {}

  session& client;
  session& server;
  std::string client_received;  ///< plaintext the client read
  std::string server_received;  ///< plaintext the server read
  status client_status = status::want_more;
  status server_status = status::want_more;

  /// Pumps until quiescent (or @p max_rounds). Returns true when both handshakes are done.
  bool pump(int max_rounds = 32) {
    client.handshake();  // emits the ClientHello on the first call
    for (int i = 0; i < max_rounds; ++i) {
      std::size_t moved = transfer(client, server);
      server_status = read_all(server, server_received);
      moved += transfer(server, client);
      client_status = read_all(client, client_received);
      moved += transfer(client, server);
      if (moved == 0) break;
    }
    return client.handshake_done() && server.handshake_done();
  }

  /// Writes @p text from @p from, then pumps.
  void send(session& from, std::string_view text) {
    from.write(bytes(text));
    pump();
  }
};

}  // namespace ns::tls::test
