// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// LRU cache of static files, bounded in bytes, keyed by resolved path (resolved_file::fs_path).
///
/// Sans-IO: the cache never reads or stats. The caller passes the fresh `struct stat` of the
/// file it opened (document_root::resolve() provides it) and, on a miss, the bytes it read.
/// An entry is valid while size, mtime (ns), inode and device are unchanged; otherwise lookup()
/// drops it. Each entry remembers when a stat last confirmed it: lookup_recent() answers from
/// that without a stat while the confirmation is younger than the caller's validity window
/// (like nginx's open_file_cache_valid). Entries are shared_ptr: one evicted or invalidated
/// while a response still sends from it stays alive until that response releases it. One cache
/// per server thread (no lock).

#include <sys/stat.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/conditional.hpp"
#include "http/http_date.hpp"

namespace ns::http {

/// The identity of a file version.
struct file_version {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  /// From a stat result.
  [[nodiscard]] static file_version from(const struct stat& st) noexcept;
  friend bool operator==(const file_version&, const file_version&) = default;
};

/// One cached file: metadata, the precomputed header block and (for small files) the bytes.
struct cached_file {
  std::string path;
  file_version version;
  http::etag etag;
  char last_modified[imf_fixdate_size] = {};
  std::string_view content_type;  ///< static (mime table)
  /// "Content-Type: …\r\nETag: …\r\nLast-Modified: …\r\nAccept-Ranges: bytes\r\n"
  std::string header_block;
  std::string body;  ///< the file's bytes when has_body
  bool has_body = false;
  std::uint64_t checked_ms = 0;  ///< when a stat last matched `version` (caller's clock)

  [[nodiscard]] std::string_view last_modified_view() const noexcept {
    return {last_modified, imf_fixdate_size};
  }
  /// Validators for conditional requests.
  [[nodiscard]] http::validators validators() const noexcept {
    return {etag.view(), version.mtime_ns / 1'000'000'000};
  }
};

/// Counters for monitoring.
struct file_cache_stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;      ///< dropped to stay within max_bytes
  std::uint64_t invalidations = 0;  ///< dropped because the file changed
  std::size_t bytes = 0;            ///< current charge
  std::size_t entries = 0;
};

/// Bounded LRU cache of cached_file.
class file_cache {
 public:
  struct options {
    std::size_t max_bytes = 64 * 1024 * 1024;  ///< total charge (bytes + metadata)
    std::size_t max_file_bytes = 1024 * 1024;  ///< larger files are cached without their bytes
  };

  explicit file_cache(options opt) : opt_(opt) {}

  /// The entry for @p path if it matches @p st (a fresh stat of the opened file), else null.
  /// A stale entry is dropped. A hit makes the entry most recently used and records @p now_ms
  /// as its last confirmation.
  [[nodiscard]] std::shared_ptr<const cached_file> lookup(std::string_view path,
                                                          const struct stat& st,
                                                          std::uint64_t now_ms = 0);

  /// The entry for @p path if it holds the file's bytes and a stat confirmed it less than
  /// @p valid_ms before @p now_ms; else null (the caller then opens, stats and calls lookup()).
  /// A hit counts as one and makes the entry most recently used. valid_ms 0: always null.
  [[nodiscard]] std::shared_ptr<const cached_file> lookup_recent(std::string_view path,
                                                                 std::uint64_t now_ms,
                                                                 std::uint64_t valid_ms);

  /// Build an entry for @p path/@p st and cache it. @p bytes are the file's contents when the
  /// caller read them (kept if they match st.st_size and fit max_file_bytes), or empty to cache
  /// metadata only. Returns the entry even when it is too big to be cached.
  /// @p checked_ms: when @p st was taken (the entry's first confirmation).
  std::shared_ptr<const cached_file> insert(std::string_view path, const struct stat& st,
                                            std::string_view bytes = {},
                                            std::uint64_t checked_ms = 0);

  /// Drop @p path if cached.
  void erase(std::string_view path);

  [[nodiscard]] const file_cache_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const options& config() const noexcept { return opt_; }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using lru_list = std::list<std::shared_ptr<cached_file>>;

  static std::size_t charge(const cached_file& f) noexcept;
  void drop(lru_list::iterator it);

  options opt_;
  lru_list lru_;  // front = most recently used
  std::unordered_map<std::string, lru_list::iterator, string_hash, std::equal_to<>> index_;
  file_cache_stats stats_;
};

}  // namespace ns::http
