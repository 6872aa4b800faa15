// SPDX-License-Identifier: MIT
#pragma once
// The handle of one HTTP/2 stream, in the same client_num_t the API takes for a connection. A
// connection handle is `generation << 32 | slot`; a stream handle puts a per-connection stream
// tag (1 … 4095, never 0) in bits 20–31, above the slot. A stream handle never resolves as a
// connection (its low 32 bits exceed every slot index: slots are capped at 2^20 while HTTP/2 is
// on), and the HTTP/2 handler resolves the tag to a live stream or refuses it (-EBADF): a tag
// is not given to a new stream while a stream or its handle's close callback still holds it.

#include <cstdint>

#include <network_server/types.hpp>

namespace ns::server {

inline constexpr unsigned stream_tag_shift = 20;
inline constexpr std::uint32_t max_stream_tag = 0xfff;
/// Slots addressable next to a stream tag (server_config::max_connections with HTTP/2 on).
inline constexpr std::uint32_t max_h2_slots = 1u << stream_tag_shift;

[[nodiscard]] constexpr std::uint32_t stream_tag_of(client_num_t c) noexcept {
  return static_cast<std::uint32_t>(c >> stream_tag_shift) & max_stream_tag;
}
[[nodiscard]] constexpr bool is_stream_handle(client_num_t c) noexcept {
  return c != invalid_client && stream_tag_of(c) != 0;
}
/// The connection a stream handle belongs to.
[[nodiscard]] constexpr client_num_t connection_of(client_num_t c) noexcept {
  return c & ~(client_num_t{max_stream_tag} << stream_tag_shift);
}
[[nodiscard]] constexpr client_num_t stream_handle(client_num_t conn, std::uint32_t tag) noexcept {
  return connection_of(conn) | (client_num_t{tag} << stream_tag_shift);
}

}  // namespace ns::server
