// SPDX-License-Identifier: MIT
#pragma once
// Per-connection state of a streamed request body (http_post_read) and of a chunked response
// (http_begin_chunked / http_write_chunk / http_end_chunked). See server_body.cpp.

#include <cstddef>
#include <cstdint>

namespace ns::server {

/// Plaintext held back while the application has not asked for the next body piece; beyond it
/// the server stops decrypting (ciphertext stays in the TLS session) and stops receiving.
inline constexpr std::size_t body_hold_bytes = 64 * 1024;

/// A request body delivered piece by piece on the application's demand.
struct body_stream {
  bool active = false;         ///< the request in hand has a streamed body not yet complete
  bool wanted = false;         ///< http_post_read asked for a piece not yet delivered
  bool continue_owed = false;  ///< `100 Continue` goes out with the first http_post_read
  bool recv_paused = false;    ///< the multishot recv was cancelled for back-pressure

  /// Bytes must wait: the application has not asked for them.
  [[nodiscard]] bool holding() const noexcept { return active && !wanted; }
};

/// A response of unknown length in progress.
struct chunked_response {
  bool open = false;     ///< begun, not ended
  bool framed = true;    ///< chunked framing (false for HTTP/1.0: raw body, then close)
  bool no_body = false;  ///< HEAD, 1xx, 204, 304: the chunks are not sent
};

}  // namespace ns::server
