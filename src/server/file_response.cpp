// SPDX-License-Identifier: MIT
// The protocol-independent half of http_send_file: resolve (document root confinement), cache
// lookup, plan (304/412/416/206/200) and the segments of the body. HTTP/1.1 pumps the segments
// into its output queue (http1_file.cpp); HTTP/2 reads them from a stream's data provider
// (http2_file.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "http/response.hpp"
#include "server/server_file.hpp"

namespace ns::server {
namespace {

// Opens a path the application trusts (file_source::filesystem) into @p r like resolve() does.
void open_trusted(std::string_view path, http::resolved_file& r) {
  r.status = 404;
  r.fd.reset();
  if (path.empty() || path.find('\0') != std::string_view::npos) return;
  r.fs_path.assign(path);
  r.fd.reset(::open(r.fs_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!r.fd) {
    r.status = (errno == EACCES) ? 403 : 404;
    return;
  }
  if (::fstat(r.fd.get(), &r.st) != 0 || !S_ISREG(r.st.st_mode)) {
    r.fd.reset();
    return;
  }
  r.status = 200;
}

}  // namespace

int prepare_file_response(file_service& fs, std::uint64_t now, const http_request& req,
                          std::string_view path, bool use_target, file_source from, bool keep_alive,
                          std::string_view today, std::string& head, file_transfer& t) {
  http::resolved_file& r = fs.resolved;
  http::file_cache* cache = fs.cache();
  // A file whose bytes are cached and whose stat is recent enough is served without a system
  // call (cache_valid); otherwise it is opened (beneath the root) and stat'ed as on a miss.
  std::shared_ptr<const http::cached_file> entry;
  const auto valid_ms = static_cast<std::uint64_t>(fs.config().cache_valid.count());
  if (cache != nullptr && valid_ms > 0) {
    bool keyed = false;
    if (from == file_source::document_root) {
      keyed = fs.root()->cache_key(use_target ? req.target : path, r);
    } else if (!path.empty()) {
      r.fs_path.assign(path);
      keyed = true;
    }
    if (keyed) entry = cache->lookup_recent(r.fs_path, now, valid_ms);
  }
  if (entry) {
    r.status = 200;
    r.fd.reset();
  } else if (from == file_source::document_root) {
    fs.root()->resolve(use_target ? req.target : path, r);
  } else {
    open_trusted(path, r);
  }
  const bool head_only = req.method == "HEAD";
  head.clear();

  if (r.status != 200) {
    if (r.status == 404) {
      const std::string_view body = fs.not_found_body();
      http::response_writer(head)
          .start(404, today)
          .header("Content-Type", fs.not_found_type())
          .content_length(body.size())
          .keep_alive(keep_alive)
          .end();
      if (!head_only) head.append(body);
    } else if (r.status == 301) {
      fs.extra.assign("Location: ").append(r.location).append("\r\n");
      http::append_error_response(head, 301, today, keep_alive, head_only, fs.extra);
    } else {
      http::append_error_response(head, r.status, today, keep_alive, head_only);
    }
    r.fd.reset();
    return r.status;
  }

  // Cache: a hit gives the precomputed head fields (and the bytes of a small file). A miss of a
  // small file is read whole with io_uring first and then cached; a large one has its metadata
  // cached and is streamed.
  bool fill = false;
  if (!entry) {
    entry = cache ? cache->lookup(r.fs_path, r.st, now) : nullptr;
    const auto st_size = static_cast<std::uint64_t>(r.st.st_size);
    if (!entry) {
      fill = cache != nullptr && st_size <= fs.config().cache_max_file_bytes;
      entry = (cache != nullptr && !fill) ? cache->insert(r.fs_path, r.st, {}, now)
                                          : fs.builder().insert(r.fs_path, r.st);
    }
  }
  const std::uint64_t size = entry->version.size;
  const http::static_plan plan =
      http::plan_static_response(req, *entry, today, keep_alive, fs.next_seed(), head);
  build_segments(t, head, plan, entry->content_type, size);
  t.entry = entry;
  t.active = true;
  t.filling = false;
  if (plan.send_body && !entry->has_body) {
    t.fd = std::move(r.fd);
    if (fill) {
      t.filling = true;
      t.st = r.st;
      t.st_ms = now;
      t.key.assign(r.fs_path);
      t.fill.resize(size);
      t.fill_done = 0;
    }
  }
  r.fd.reset();
  return plan.status;
}

}  // namespace ns::server
