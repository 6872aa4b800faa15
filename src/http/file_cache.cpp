// SPDX-License-Identifier: MIT
#include "http/file_cache.hpp"

#include "http/mime.hpp"

namespace ns::http {

file_version file_version::from(const struct stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

std::size_t file_cache::charge(const cached_file& f) noexcept {
  return sizeof(cached_file) + f.path.capacity() + f.header_block.capacity() + f.body.capacity();
}

void file_cache::drop(lru_list::iterator it) {
  stats_.bytes -= charge(**it);
  index_.erase(index_.find(std::string_view((*it)->path)));
  lru_.erase(it);  // responses holding the shared_ptr keep the entry alive
  stats_.entries = index_.size();
}

std::shared_ptr<const cached_file> file_cache::lookup(std::string_view path, const struct stat& st,
                                                      std::uint64_t now_ms) {
  const auto found = index_.find(path);
  if (found == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  const auto it = found->second;
  if ((*it)->version != file_version::from(st)) {
    ++stats_.invalidations;
    ++stats_.misses;
    drop(it);
    return nullptr;
  }
  ++stats_.hits;
  (*it)->checked_ms = now_ms;
  lru_.splice(lru_.begin(), lru_, it);
  return *it;
}

std::shared_ptr<const cached_file> file_cache::lookup_recent(std::string_view path,
                                                             std::uint64_t now_ms,
                                                             std::uint64_t valid_ms) {
  if (valid_ms == 0) return nullptr;
  const auto found = index_.find(path);
  if (found == index_.end()) return nullptr;
  const auto it = found->second;
  const cached_file& f = **it;
  // Without the bytes the caller needs an open descriptor anyway, and its fstat is then free.
  if (!f.has_body || now_ms < f.checked_ms || now_ms - f.checked_ms >= valid_ms) return nullptr;
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it);
  return *it;
}

std::shared_ptr<const cached_file> file_cache::insert(std::string_view path, const struct stat& st,
                                                      std::string_view bytes,
                                                      std::uint64_t checked_ms) {
  auto f = std::make_shared<cached_file>();
  f->path.assign(path);
  f->version = file_version::from(st);
  f->checked_ms = checked_ms;
  f->etag = make_etag(f->version.size, f->version.mtime_ns, f->version.inode);
  format_imf_fixdate(static_cast<std::int64_t>(st.st_mtim.tv_sec), f->last_modified);
  f->content_type = mime_type(path);
  f->header_block.reserve(160);
  f->header_block.append("Content-Type: ").append(f->content_type);
  f->header_block.append("\r\nETag: ").append(f->etag.view());
  f->header_block.append("\r\nLast-Modified: ").append(f->last_modified_view());
  f->header_block.append("\r\nAccept-Ranges: bytes\r\n");
  if (bytes.size() == f->version.size && bytes.size() <= opt_.max_file_bytes &&
      (!bytes.empty() || f->version.size == 0)) {
    f->body.assign(bytes);
    f->has_body = true;
  }
  if (const auto old = index_.find(path); old != index_.end()) drop(old->second);
  const std::size_t c = charge(*f);
  if (c > opt_.max_bytes) return f;  // usable by this response, never cached
  while (!lru_.empty() && stats_.bytes + c > opt_.max_bytes) {
    ++stats_.evictions;
    drop(std::prev(lru_.end()));
  }
  lru_.push_front(f);
  index_.emplace(f->path, lru_.begin());
  stats_.bytes += c;
  stats_.entries = index_.size();
  return f;
}

void file_cache::erase(std::string_view path) {
  if (const auto it = index_.find(path); it != index_.end()) drop(it->second);
}

}  // namespace ns::http
