// SPDX-License-Identifier: MIT
#pragma once
// One request and its response: what a response in progress needs (file transfer, streamed
// request body, chunked framing), what the access log reports of it, and the scratch the
// response is built in. HTTP/1.1 has one exchange at a time per connection; an HTTP/2
// connection keeps one per stream (http2_handler.hpp), which is why the scratch lives here and
// not in the loop.
//
// The strings keep their capacity between requests (no allocation per response once warm) and
// are freed with the connection's other buffers when it stays idle (release()).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/server_file.hpp"

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

/// One request and its response.
struct exchange {
  bool keep_alive = true;               ///< of the request being answered
  std::uint16_t status = 0;             ///< final status of the response queued; 0 until known
  std::uint64_t bytes = 0;              ///< plaintext bytes queued for it so far
  std::uint64_t started_ns = 0;         ///< when its request head was complete (steady_ns)
  std::unique_ptr<file_transfer> file;  ///< http_send_file state, allocated on first use
  body_stream body;                     ///< streamed request body (http_post_read)
  chunked_response chunked;             ///< http_begin_chunked … http_end_chunked
  std::string head;                     ///< the response head being built
  std::string stage;                    ///< small pieces gathered into one TLS record

  /// A file or chunked response is in progress: nothing else may interleave with it.
  [[nodiscard]] bool long_response() const noexcept {
    return chunked.open || (file && file->active);
  }
  /// Bytes held by the scratch strings and the file transfer's buffers.
  [[nodiscard]] std::size_t footprint() const noexcept;
  /// Frees the scratch (and an idle file transfer); only between responses.
  void release() noexcept;
};

}  // namespace ns::server
