// SPDX-License-Identifier: MIT
#pragma once
// A live connection as it moves from a running process to the one replacing it (issue 20 §2):
// the payload of a `connection` hand-over record (record.hpp), sans-IO. The socket itself
// travels beside it (SCM_RIGHTS).
//
// Only connections at a clean point move: a TLS 1.3 session our record layer drives, between
// records; HTTP/1.1 between requests, or a WebSocket between messages with no deflate history.
// So the state is small and fully described: the record layer (suite, both directions' current
// traffic secrets and sequence numbers), ciphertext received but not yet decrypted, the
// handshake's facts, the peer's address as the old process knew it (a PROXY header's client is
// not what getpeername says), the WebSocket's negotiated extension, and an opaque blob of the
// application's (a user id, its topics).
//
// Layout (big-endian), state version 1:
//   version u16 | protocol u8 (1 http1, 2 websocket) | suite u8 (0..2)
//   read secret: len u8 + bytes | write secret: len u8 + bytes | read seq u64 | write seq u64
//   flags u8 (1 resumed, 2 KeyUpdate owed) | alpn, sni, peer: each len u8 + bytes
//   input: len u32 + bytes
//   deflate: enabled u8 | no-context-takeover flags u8 (1 server, 2 client) | server bits u8 |
//            client bits u8
//   application blob: len u16 + bytes
// The decoder refuses another version, an unknown protocol or suite, a secret of the wrong size
// for its suite, lengths over their bounds, deflate parameters that could not have been agreed
// or that carry history, and bytes left over: a corrupt record is refused, never half-used.
//
// Secrets are in the encoded bytes: wipe them (wipe()) once sent or decoded.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tls/moved_session.hpp"
#include "ws/deflate_negotiation.hpp"

namespace ns::handover {

inline constexpr std::uint16_t state_version = 1;
/// Ciphertext carried with a connection; a connection holding more drains instead.
inline constexpr std::size_t max_input = 32 * 1024;
/// The application's blob (network_server's connection_moving callback).
inline constexpr std::size_t max_app_blob = 4096;
inline constexpr std::size_t max_short_text = 255;

enum class protocol : std::uint8_t { http1 = 1, websocket = 2 };

struct connection_state {
  protocol proto = protocol::http1;
  tls::moved_session tls;
  std::string peer;            ///< "ip:port" of the client as the old process knew it
  ws::deflate_params deflate;  ///< websocket only (enabled = false otherwise)
  std::string app;             ///< the application's blob
};

/// The bytes of @p s. They hold the traffic secrets: wipe() them after use. Throws
/// std::length_error if a field is over its bound (the caller checks before it moves).
std::vector<std::byte> encode(const connection_state& s);

/// Decodes @p bytes into @p out. False with @p error (one line) if they are not exactly one
/// valid state of this version.
bool decode(std::span<const std::byte> bytes, connection_state& out, std::string& error);

/// Overwrites @p bytes with zeros in a way the compiler keeps (tls::wipe: OPENSSL_cleanse).
void wipe(std::span<std::byte> bytes) noexcept;

}  // namespace ns::handover
