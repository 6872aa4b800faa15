// SPDX-License-Identifier: MIT
#include "http/path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <system_error>

namespace ns::http {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

int hex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decode @p in once and normalise it into a relative path ("a/b", "" for the root).
// Returns 0 or the HTTP status to answer. @p dir_form: the path names a directory ("/" end).
int normalise(std::string_view in, std::string& rel, bool& dir_form) {
  rel.clear();
  dir_form = false;
  std::size_t seg_start = 0;  // start of the current segment in rel
  std::size_t depth = 0;
  auto finish_segment = [&]() -> int {
    const std::string_view seg(rel.data() + seg_start, rel.size() - seg_start);
    dir_form = seg.empty() || seg == "." || seg == "..";
    if (seg == ".") {
      rel.resize(seg_start);
    } else if (seg == "..") {
      // RFC 3986 §5.2.4 would clamp at the root; a client that tries to climb is refused.
      if (depth == 0) return 403;
      --depth;
      rel.resize(seg_start);
      const auto prev = rel.find_last_of('/', rel.empty() ? 0 : rel.size() - 2);
      rel.resize(prev == std::string::npos ? 0 : prev + 1);
    } else if (!seg.empty()) {
      ++depth;
      rel.push_back('/');
    }
    seg_start = rel.size();
    return 0;
  };
  for (std::size_t i = 1; i < in.size(); ++i) {  // in[0] == '/'
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return 400;
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return 400;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '/') return 404;
    } else if (c == '/') {
      if (const int s = finish_segment(); s != 0) return s;
      continue;
    }
    if (c == '\0' || c == '\\') return 400;
    rel.push_back(c);
  }
  if (const int s = finish_segment(); s != 0) return s;
  if (!rel.empty() && rel.back() == '/') rel.pop_back();
  return 0;
}

}  // namespace

document_root::document_root(std::string_view root) {
  char buf[PATH_MAX];
  const std::string r(root);
  if (::realpath(r.c_str(), buf) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "document root " + r);
  }
  root_ = buf;
  if (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  root_fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + root_);
}

document_root::~document_root() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

int document_root::open_beneath(const std::string& rel, resolved_file& out) const {
  const char* name = rel.empty() ? "." : rel.c_str();
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd_, name, &how, sizeof how);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
    // No openat2 (old kernel or seccomp): canonicalise and check the prefix instead.
    char real[PATH_MAX];
    const std::string full = root_ + "/" + rel;
    if (::realpath(full.c_str(), real) == nullptr) return errno == EACCES ? 403 : 404;
    const std::string_view rv(real);
    if (rv != root_ && !(rv.starts_with(root_) && rv.size() > root_.size() &&
                         (root_ == "/" || rv[root_.size()] == '/'))) {
      return 403;
    }
    fd = ::open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  }
  if (fd < 0) {
    switch (errno) {
      case EXDEV:
      case ELOOP:
      case EACCES:
      case EPERM:
        return 403;
      default:
        return 404;
    }
  }
  out.fd.reset(static_cast<int>(fd));
  if (::fstat(out.fd.get(), &out.st) != 0) return 404;
  return 0;
}

namespace {

// Splits a request-target into its path and query (RFC 9112 §3.2.2: absolute-form is accepted,
// its authority was already routed on). An absolute-form target without a path means "/".
void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  for (std::string_view scheme : {"http://", "https://"}) {
    bool same = target.size() >= scheme.size();
    for (std::size_t i = 0; i < scheme.size() && same; ++i) {
      same = static_cast<char>(target[i] | 0x20) == scheme[i];
    }
    if (same) {
      target.remove_prefix(scheme.size());
      const auto start = target.find_first_of("/?");
      target = start == std::string_view::npos ? std::string_view{} : target.substr(start);
      if (target.empty() || target[0] == '?') {
        path = "/";
        query = target;
        return;
      }
      break;
    }
  }
  const auto q = std::min(target.find('?'), target.size());
  path = target.substr(0, q);
  query = target.substr(q);
}

}  // namespace

void document_root::resolve(std::string_view target, resolved_file& out) const {
  out.status = 0;
  out.fd.reset();
  out.fs_path.clear();
  out.location.clear();
  std::string_view path, query;
  split_target(target, path, query);
  resolve_origin(path, query, out);
}

bool document_root::cache_key(std::string_view target, resolved_file& out) const {
  std::string_view path, query;
  split_target(target, path, query);
  bool dir_form = false;
  if (path.empty() || path[0] != '/' || normalise(path, out.scratch, dir_form) != 0 || dir_form) {
    return false;
  }
  out.fs_path.clear();
  append_fs_path(out);
  return true;
}

void document_root::append_fs_path(resolved_file& out) const {
  out.fs_path.assign(root_);
  if (root_.back() != '/') out.fs_path.push_back('/');
  out.fs_path.append(out.scratch);
}

void document_root::resolve_origin(std::string_view path, std::string_view query,
                                   resolved_file& out) const {
  if (path.empty() || path[0] != '/') {
    out.status = 400;
    return;
  }
  bool dir_form = false;
  if (const int s = normalise(path, out.scratch, dir_form); s != 0) {
    out.status = s;
    return;
  }
  if (const int s = open_beneath(out.scratch, out); s != 0) {
    out.fd.reset();
    out.status = s;
    return;
  }
  if (S_ISDIR(out.st.st_mode)) {
    if (!dir_form) {
      out.fd.reset();
      out.location.assign(path);
      out.location.push_back('/');
      out.location.append(query);
      out.status = 301;
      return;
    }
    if (!out.scratch.empty()) out.scratch.push_back('/');
    out.scratch.append("index.html");
    if (const int s = open_beneath(out.scratch, out); s != 0) {
      out.fd.reset();
      out.status = s;
      return;
    }
  }
  if (!S_ISREG(out.st.st_mode)) {
    out.fd.reset();
    out.status = 404;
    return;
  }
  append_fs_path(out);
  out.status = 200;
}

}  // namespace ns::http
