// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Document-root confinement: request path → an open regular file strictly beneath the root.
///
/// The path is percent-decoded once, normalised, and opened with
/// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to an O_PATH descriptor of the
/// root, so `..` and symlinks (absolute or relative) that leave the root fail inside the
/// kernel, with no check-then-open race. Kernels without openat2 fall back to realpath() plus a
/// prefix check. This is the one place of the HTTP layer that touches the file system.

#include <sys/stat.h>

#include <string>
#include <string_view>

namespace ns::http {

/// Owns a file descriptor; closes it on destruction.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Give up ownership.
  [[nodiscard]] int release() noexcept {
    const int f = fd_;
    fd_ = -1;
    return f;
  }
  /// Close the current descriptor (if any) and own @p fd.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// Result of document_root::resolve(). Reuse one object per connection: its strings keep their
/// capacity, so resolving does not allocate once warmed up.
struct resolved_file {
  /// 200 (fd/st/fs_path valid), 301 (location valid), 400, 403 or 404.
  int status = 0;
  unique_fd fd;          ///< 200: the file, opened O_RDONLY | O_CLOEXEC
  struct stat st {};     ///< 200: fstat() of fd (size, mtime, inode for ETag and the cache)
  std::string fs_path;   ///< 200: root + "/" + normalised relative path; the cache key
  std::string location;  ///< 301: the request path with '/' appended (query kept)
  std::string scratch;   ///< internal: decoded path
};

/// A directory files are served from.
class document_root {
 public:
  /// Open @p root (O_PATH | O_DIRECTORY), canonicalised with realpath().
  /// @throws std::system_error when it cannot be opened (setup time only).
  explicit document_root(std::string_view root);
  ~document_root();
  document_root(const document_root&) = delete;
  document_root& operator=(const document_root&) = delete;

  /// Resolve a request-target (origin-form "/a/b?q", or absolute-form "http://h/a/b?q" whose
  /// authority is ignored) into @p out.
  ///
  /// - malformed %-escape, %00/NUL, backslash (raw or %5C), not origin-form → 400
  /// - %2F (an encoded '/') → 404: a slash that is data cannot name a file
  /// - `..` climbing above the root, or a symlink leaving it → 403
  /// - missing, not a regular file, permission denied → 404 / 403
  /// - a directory: without trailing '/' → 301 to path + '/'; with it → its index.html
  /// Invariant: for 200, out.fs_path starts with path() + '/' and names the opened file.
  void resolve(std::string_view target, resolved_file& out) const;

  /// The name resolve() would give a regular file for @p target (into out.fs_path, using
  /// out.scratch), computed without touching the file system, so a cache can be asked before
  /// anything is opened. False when resolve() would not answer 200 for a file named by the path
  /// itself: malformed or climbing targets, and directory forms ("/", "/a/") whose index file
  /// needs a lookup. A true answer confines nothing: the file was confined when it was cached.
  [[nodiscard]] bool cache_key(std::string_view target, resolved_file& out) const;

  /// The canonical root path (no trailing '/').
  [[nodiscard]] const std::string& path() const noexcept { return root_; }

 private:
  [[nodiscard]] int open_beneath(const std::string& rel, resolved_file& out) const;
  void resolve_origin(std::string_view path, std::string_view query, resolved_file& out) const;
  void append_fs_path(resolved_file& out) const;

  std::string root_;
  int root_fd_ = -1;
};

}  // namespace ns::http
