// SPDX-License-Identifier: MIT
#pragma once
// State of http_send_file: the server-wide part (document root, file cache, 404 page, pool of
// read buffers) and the per-connection transfer.
//
// A transfer is a list of segments — literal bytes (the response head, multipart part headers
// and close delimiter) and file slices — pumped into the connection's output queue. File slices
// come from the cache entry's bytes (small files) or from io_uring reads of the file
// (IORING_OP_READ into one pooled buffer of read_chunk_bytes). The pump adds more only while the
// connection's queued output is below send_low_water, and at most one read is in flight, so a
// transfer holds one read buffer plus about send_low_water + read_chunk_bytes of ciphertext,
// whatever the file size: like nginx's output_buffers with sendfile off (TLS needs the bytes).

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <network_server/config.hpp>
#include <network_server/http_request.hpp>
#include <network_server/server.hpp>

#include "http/file_cache.hpp"
#include "http/http_date.hpp"
#include "http/path.hpp"
#include "http/static_files.hpp"

namespace ns::server {

/// One piece of a file response.
struct file_segment {
  bool literal = false;   ///< bytes of file_transfer::literal (else a slice of the file)
  std::uint64_t off = 0;  ///< offset in literal / in the file
  std::uint64_t len = 0;
};

/// A pooled read buffer: read_chunk_bytes, or large_read_chunk_bytes for a fast reader.
struct read_buffer {
  std::unique_ptr<std::byte[]> bytes;
  std::size_t size = 0;
  explicit operator bool() const noexcept { return bytes != nullptr; }
  [[nodiscard]] std::byte* get() const noexcept { return bytes.get(); }
};

/// The per-connection state of one http_send_file response. Allocated on a connection's first
/// file response and reused (its strings and vector keep their capacity).
struct file_transfer {
  bool active = false;          ///< a response is being pumped; its callback is owed
  bool read_in_flight = false;  ///< an IORING_OP_READ on fd is pending (its buffer is lent)
  bool filling = false;         ///< reading a small file whole into `fill` for the cache
  std::shared_ptr<const http::cached_file> entry;  ///< metadata (+ bytes when has_body)
  http::unique_fd fd;                              ///< the open file (streamed or being filled)
  struct stat st {};                               ///< of fd, for the cache insert after a fill
  std::uint64_t st_ms = 0;                         ///< when st was taken (loop clock)
  std::string key;                                 ///< cache key (resolved path)
  std::string literal;                             ///< head + part headers + close delimiter
  std::vector<file_segment> segs;
  std::size_t seg = 0;         ///< current segment
  std::uint64_t seg_done = 0;  ///< bytes of it already queued
  read_buffer buf;             ///< lent from the pool while streaming from fd
  std::string fill;            ///< the whole small file while filling
  std::uint64_t fill_done = 0;

  /// Segments left to queue.
  [[nodiscard]] bool finished() const noexcept { return seg >= segs.size(); }
  /// Bytes still to be produced (for tests and logs).
  [[nodiscard]] std::uint64_t remaining() const noexcept;
};

/// Build the segments of a response into @p t (clearing what was there): @p head, then the
/// body @p plan asks for. Single part: one slice [offset, offset+length). Multipart: for each
/// range its part header (appended to t.literal) and slice, then the close delimiter.
/// @p content_type and @p size describe the file (for the part headers). Pure, unit-tested.
void build_segments(file_transfer& t, std::string_view head, const http::static_plan& plan,
                    std::string_view content_type, std::uint64_t size);

/// Server-wide static file state (one per network_server, loop thread only).
/// Literal and cached pieces are gathered up to one TLS record before they are encrypted, so a
/// small response (head + body) leaves as one record.
inline constexpr std::size_t stage_bytes = 16 * 1024;

class file_service {
 public:
  /// Opens the document root and reads the 404 page. Throws at setup on failure.
  explicit file_service(const static_files_config& cfg);

  [[nodiscard]] const static_files_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const http::document_root* root() const noexcept {
    return root_ ? &*root_ : nullptr;
  }
  [[nodiscard]] http::file_cache* cache() noexcept { return cache_ ? &*cache_ : nullptr; }
  [[nodiscard]] http::file_cache_stats stats() const noexcept;
  [[nodiscard]] std::string_view not_found_body() const noexcept { return not_found_; }
  [[nodiscard]] std::string_view not_found_type() const noexcept { return not_found_type_; }
  /// The Date header value for @p unix_seconds.
  [[nodiscard]] std::string_view date(std::int64_t unix_seconds) noexcept {
    return date_.get(unix_seconds);
  }
  /// A value that differs per response (multipart boundaries).
  [[nodiscard]] std::uint64_t next_seed() noexcept { return ++seed_ * 0x9e3779b97f4a7c15ull; }

  /// A read buffer of read_chunk_bytes from the pool (allocated when the pool is empty).
  [[nodiscard]] read_buffer take_buffer();
  /// A buffer of large_read_chunk_bytes, or an empty one when large reads are off or the
  /// loop's large_read_budget_bytes is used up.
  [[nodiscard]] read_buffer take_large_buffer();
  /// Returns a buffer of either size; at most a few are kept, the rest freed.
  void give_back(read_buffer b) noexcept;
  /// Frees the pooled large buffers if none was taken since the previous call (see
  /// output_queue::release_unused_pool); returns the bytes freed.
  std::size_t release_unused_large_pool() noexcept;
  /// Large buffers lent out now (for tests).
  [[nodiscard]] std::size_t large_buffers_out() const noexcept { return large_out_; }

  /// Builds entries that are never cached (cache disabled, or a small file not yet read).
  [[nodiscard]] http::file_cache& builder() noexcept { return builder_; }

  // Scratch of one http_send_file call (never kept across calls: responses in progress keep
  // theirs in their exchange).
  http::resolved_file resolved;  ///< reused by every resolve (its strings keep capacity)
  std::string extra;             ///< extra header lines (Location)

 private:
  static_files_config cfg_;
  std::optional<http::document_root> root_;
  std::optional<http::file_cache> cache_;
  http::file_cache builder_;
  std::string not_found_;
  std::string_view not_found_type_;
  http::http_date date_;
  std::uint64_t seed_ = 0;
  std::vector<read_buffer> pool_;
  std::vector<read_buffer> large_pool_;
  std::size_t large_out_ = 0;
  bool large_taken_ = false;
};

/// Resolves and plans the response of http_send_file into @p head (an HTTP/1.1 head) and
/// @p t. Returns the status. A 200/206/304/412/416 leaves @p t active with its segments (the
/// head first); any other status (404, 403, 301 …) leaves @p t inactive and the whole response
/// in @p head (its body too, unless HEAD). @p now is the loop clock (cache validity).
int prepare_file_response(file_service& fs, std::uint64_t now, const http_request& req,
                          std::string_view path, bool use_target, file_source from, bool keep_alive,
                          std::string_view today, std::string& head, file_transfer& t);

}  // namespace ns::server
