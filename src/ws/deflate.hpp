// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// permessage-deflate data path (RFC 7692 §7.2) on zlib raw deflate streams.

#include <cstddef>
#include <memory>
#include <span>

#include "ws/byte_buffer.hpp"

namespace ns::ws {

/// Compression knobs (not negotiated, local choice).
struct deflate_options {
  int level = 1;               ///< zlib level: 1 favours CPU over ratio for chatty traffic
  int mem_level = 8;           ///< zlib memLevel (1..9): hash table size
  std::size_t threshold = 64;  ///< messages shorter than this are sent uncompressed
};

/// Compresses whole messages (RFC 7692 §7.2.1).
///
/// The zlib stream is created on first use. With no context takeover it is reset after every
/// message, so one instance can serve every connection of a thread (the shared compressor).
class deflater {
 public:
  /// @p window_bits is the negotiated server_max_window_bits (8..15; 8 runs as 9, see
  /// deflate_params::server_max_window_bits).
  deflater(int window_bits, bool no_context_takeover, const deflate_options& opts = {});
  ~deflater();
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;

  /// Replaces the content of @p out with the compressed form of @p message, without the
  /// trailing 00 00 FF FF (§7.2.1). Returns false if zlib fails (out is then unspecified).
  bool compress(std::span<const std::byte> message, byte_buffer& out);

  [[nodiscard]] int window_bits() const noexcept { return window_bits_; }
  /// Heap bytes of the zlib stream (window, hash tables), counted by its allocator; 0 before
  /// first use.
  [[nodiscard]] std::size_t zlib_bytes() const noexcept;
  [[nodiscard]] bool no_context_takeover() const noexcept { return no_context_takeover_; }

 private:
  struct impl;
  std::unique_ptr<impl> z_;
  int window_bits_;
  bool no_context_takeover_;
  deflate_options opts_;
};

/// Outcome of an inflate step.
enum class inflate_status { ok, too_big, error };

/// Decompresses messages (RFC 7692 §7.2.2) under a hard output limit.
///
/// zlib state is allocated on the first compressed message and can be released between
/// messages when the peer agreed to client_no_context_takeover, so idle connections hold none.
class inflater {
 public:
  inflater(int window_bits, bool no_context_takeover) noexcept;
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  /// Inflates the next piece of a compressed message, appending to @p out. The message's total
  /// (out.size()) may not exceed @p limit: inflation stops after at most limit + 1 bytes and
  /// returns too_big (decompression bombs cost no more than the limit).
  inflate_status inflate(std::span<const std::byte> piece, byte_buffer& out, std::size_t limit);

  /// Ends the message: inflates the implied 00 00 FF FF tail (§7.2.2) and checks the message
  /// ended on a DEFLATE block boundary (error otherwise: the stream would swallow the next
  /// message), then resets the stream when there is no context takeover (the caller may also
  /// release() it to free memory).
  inflate_status finish(byte_buffer& out, std::size_t limit);

  /// Frees the zlib state (it is recreated on demand).
  void release() noexcept;

  /// True while zlib state is allocated.
  [[nodiscard]] bool allocated() const noexcept { return z_ != nullptr; }
  /// Heap bytes of the zlib stream (window, state), counted by its allocator; 0 when released.
  [[nodiscard]] std::size_t zlib_bytes() const noexcept;

 private:
  inflate_status run(std::span<const std::byte> piece, byte_buffer& out, std::size_t limit,
                     bool tail);

  struct impl;
  std::unique_ptr<impl> z_;
  int window_bits_;
  bool no_context_takeover_;
  bool stream_ended_ = false;  // the last piece ended exactly at a BFINAL block's end
};

}  // namespace ns::ws
