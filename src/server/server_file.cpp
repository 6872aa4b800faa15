// SPDX-License-Identifier: MIT
// http_send_file: resolve (document root confinement), cache lookup, plan (304/412/416/206/200),
// then pump the body into the connection's output queue — from the cache entry's bytes, or
// from io_uring reads of the file, one chunk at a time, only while the queued output is below
// send_low_water (see server_file.hpp). The response is the answer to the request in hand:
// response_done() runs only when its last byte has been queued, so pipelined requests wait.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "http/mime.hpp"
#include "http/range.hpp"
#include "http/response.hpp"
#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {
namespace server {
namespace {

// Literal and cached pieces are gathered up to one TLS record before they are encrypted, so a
// small response (head + body) leaves as one record.
constexpr std::size_t stage_bytes = 16 * 1024;
constexpr std::size_t kept_buffers = 8;

constexpr std::string_view builtin_404 =
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
    "<body><h1>404 Not Found</h1></body></html>\n";

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::system_error(errno, std::generic_category(), "cannot read 404 page " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

}  // namespace

std::uint64_t file_transfer::remaining() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = seg; i < segs.size(); ++i) n += segs[i].len;
  return n - (finished() ? 0 : seg_done);
}

void build_segments(file_transfer& t, std::string_view head, const http::static_plan& plan,
                    std::string_view content_type, std::uint64_t size) {
  t.literal.assign(head);
  t.segs.clear();
  t.seg = 0;
  t.seg_done = 0;
  t.segs.push_back({true, 0, head.size()});
  if (!plan.send_body) return;
  auto slice = [&](std::uint64_t off, std::uint64_t len) {
    if (len > 0) t.segs.push_back({false, off, len});
  };
  auto literal = [&](std::size_t from) {
    if (t.literal.size() > from) t.segs.push_back({true, from, t.literal.size() - from});
  };
  if (!plan.multipart) {
    slice(plan.offset, plan.length);
    return;
  }
  // RFC 9110 §14.6: each part is a delimiter, its Content-Type and Content-Range, the slice.
  for (std::size_t i = 0; i < plan.ranges.count; ++i) {
    const std::size_t from = t.literal.size();
    http::append_part_header(t.literal, plan.boundary_view(), content_type, plan.ranges.ranges[i],
                             size);
    literal(from);
    slice(plan.ranges.ranges[i].first, plan.ranges.ranges[i].length());
  }
  const std::size_t from = t.literal.size();
  http::append_multipart_end(t.literal, plan.boundary_view());
  literal(from);
}

file_service::file_service(const static_files_config& cfg)
    : cfg_(cfg), builder_(http::file_cache::options{0, cfg.cache_max_file_bytes}) {
  if (cfg_.read_chunk_bytes == 0) cfg_.read_chunk_bytes = 64 * 1024;
  if (!cfg_.document_root.empty()) root_.emplace(cfg_.document_root);
  if (cfg_.cache_bytes > 0) {
    cache_.emplace(http::file_cache::options{cfg_.cache_bytes, cfg_.cache_max_file_bytes});
  }
  if (cfg_.not_found_page.empty()) {
    not_found_.assign(builtin_404);
    not_found_type_ = http::mime_type(".html");
  } else {
    not_found_ = read_whole(cfg_.not_found_page);
    not_found_type_ = http::mime_type(cfg_.not_found_page);
  }
  stage.reserve(stage_bytes);
}

http::file_cache_stats file_service::stats() const noexcept {
  return cache_ ? cache_->stats() : http::file_cache_stats{};
}

read_buffer file_service::take_buffer() {
  if (!pool_.empty()) {
    read_buffer b = std::move(pool_.back());
    pool_.pop_back();
    return b;
  }
  return {std::make_unique<std::byte[]>(cfg_.read_chunk_bytes), cfg_.read_chunk_bytes};
}

read_buffer file_service::take_large_buffer() {
  const std::size_t size = cfg_.large_read_chunk_bytes;
  if (size <= cfg_.read_chunk_bytes || (large_out_ + 1) * size > cfg_.large_read_budget_bytes) {
    return {};
  }
  ++large_out_;
  large_taken_ = true;
  if (!large_pool_.empty()) {
    read_buffer b = std::move(large_pool_.back());
    large_pool_.pop_back();
    return b;
  }
  // No value-initialisation: the bytes are always read into before they are used.
  return {std::unique_ptr<std::byte[]>(new std::byte[size]), size};
}

void file_service::give_back(read_buffer b) noexcept {
  if (!b) return;
  if (b.size == cfg_.read_chunk_bytes) {
    if (pool_.size() < kept_buffers) pool_.push_back(std::move(b));
    return;
  }
  --large_out_;
  // Kept up to the budget: transfers of fast readers follow each other (a client downloading
  // one large file after another), and a fresh buffer of this size costs page faults.
  large_pool_.push_back(std::move(b));
}

std::size_t file_service::release_unused_large_pool() noexcept {
  const std::size_t freed = large_taken_ ? 0 : large_pool_.size() * cfg_.large_read_chunk_bytes;
  if (!large_taken_) std::vector<read_buffer>().swap(large_pool_);
  large_taken_ = false;
  return freed;
}

}  // namespace server

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

bool network_server::impl::queue_out(client_num_t c, conn& k, std::span<const std::byte> bytes) {
  if (!k.tls) {
    queue_plain(k, bytes);
    return true;
  }
  // One SSL_write for the whole piece: its records go straight into the output queue, and
  // OpenSSL allocates (and, with SSL_MODE_RELEASE_BUFFERS, frees) its record buffer once per
  // call rather than once per 16 KiB record.
  return queue_encrypted(c, k, bytes);
}

int network_server::impl::http_send_file(client_num_t c, const http_request& req,
                                         std::string_view path, bool use_target, file_source from) {
  conn* kp = conns_.find(c);
  if (kp == nullptr || kp->kind != server::conn_kind::http) return -EBADF;
  conn& k = *kp;
  if (k.closing || k.close_after_flush) return -EPIPE;
  if (k.ws) return -EINVAL;  // upgraded: HTTP responses no longer apply
  if (k.tls && !k.tls->handshake_done()) return -EAGAIN;
  if (k.long_response()) return -EBUSY;
  server::file_service& fs = *files_;
  if (from == file_source::document_root && fs.root() == nullptr) return -EINVAL;

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
    if (keyed) entry = cache->lookup_recent(r.fs_path, now_ms_, valid_ms);
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
  // A body the application left unread cannot be skipped safely: close after this response.
  const bool keep_alive = k.keep_alive && !k.body.active;
  const std::string_view date = fs.date(static_cast<std::int64_t>(::time(nullptr)));
  std::string& head = fs.head;
  head.clear();

  if (r.status != 200) {
    if (r.status == 404) {
      const std::string_view body = fs.not_found_body();
      http::response_writer(head)
          .start(404, date)
          .header("Content-Type", fs.not_found_type())
          .content_length(body.size())
          .keep_alive(keep_alive)
          .end();
      if (!head_only) head.append(body);
    } else if (r.status == 301) {
      fs.extra.assign("Location: ").append(r.location).append("\r\n");
      http::append_error_response(head, 301, date, keep_alive, head_only, fs.extra);
    } else {
      http::append_error_response(head, r.status, date, keep_alive, head_only);
    }
    r.fd.reset();
    const bool ok = queue_out(c, k, std::as_bytes(std::span(head.data(), head.size())));
    k.out.mark(server::write_kind::http_writev);
    if (!ok) {
      close_hard(c, k);
      return 0;
    }
    response_done(c, k);
    flush(c, k);
    return 0;
  }

  // Cache: a hit gives the precomputed head fields (and the bytes of a small file). A miss of a
  // small file is read whole with io_uring first and then cached; a large one has its metadata
  // cached and is streamed.
  bool fill = false;
  if (!entry) {
    entry = cache ? cache->lookup(r.fs_path, r.st, now_ms_) : nullptr;
    const auto st_size = static_cast<std::uint64_t>(r.st.st_size);
    if (!entry) {
      fill = cache != nullptr && st_size <= fs.config().cache_max_file_bytes;
      entry = (cache != nullptr && !fill) ? cache->insert(r.fs_path, r.st, {}, now_ms_)
                                          : fs.builder().insert(r.fs_path, r.st);
    }
  }
  const std::uint64_t size = entry->version.size;
  const http::static_plan plan =
      http::plan_static_response(req, *entry, date, keep_alive, fs.next_seed(), head);

  if (!k.file) k.file = std::make_unique<server::file_transfer>();
  server::file_transfer& t = *k.file;
  server::build_segments(t, head, plan, entry->content_type, size);
  t.entry = entry;
  t.active = true;
  t.filling = false;
  if (plan.send_body && !entry->has_body) {
    t.fd = std::move(r.fd);
    if (fill) {
      t.filling = true;
      t.st = r.st;
      t.st_ms = now_ms_;
      t.key.assign(r.fs_path);
      t.fill.resize(size);
      t.fill_done = 0;
    }
  }
  r.fd.reset();
  file_pump(c, k);
  return 0;
}

void network_server::impl::flush_stage(client_num_t c, conn& k) {
  std::string& stage = files_->stage;
  if (stage.empty()) return;
  const bool ok = queue_out(c, k, std::as_bytes(std::span(stage.data(), stage.size())));
  stage.clear();
  if (!ok) close_hard(c, k);
}

void network_server::impl::file_pump(client_num_t c, conn& k) {
  server::file_transfer& t = *k.file;
  std::string& stage = files_->stage;
  const std::size_t chunk = files_->config().read_chunk_bytes;
  const std::size_t low_water = files_->config().send_low_water;
  // Pieces small enough are gathered in `stage`; a larger piece goes out on its own.
  auto emit = [&](std::string_view piece) {
    if (stage.size() + piece.size() > server::stage_bytes) flush_stage(c, k);
    if (piece.size() >= server::stage_bytes) {
      if (!queue_out(c, k, std::as_bytes(std::span(piece.data(), piece.size())))) close_hard(c, k);
    } else {
      stage.append(piece);
    }
  };
  while (t.active && !k.closing && !k.close_after_flush && !t.read_in_flight) {
    if (t.filling) {
      file_submit_read(c, k, reinterpret_cast<std::byte*>(t.fill.data()) + t.fill_done,
                       t.fill.size() - t.fill_done, t.fill_done);
      break;
    }
    if (t.finished()) {
      file_finish(c, k);
      return;
    }
    if (k.out.queued() + stage.size() >= low_water) break;  // on_send pumps again
    const server::file_segment& s = t.segs[t.seg];
    const std::uint64_t left = s.len - t.seg_done;
    std::uint64_t n = left;
    if (s.literal) {
      emit(std::string_view(t.literal).substr(s.off + t.seg_done, n));
    } else if (t.entry->has_body) {
      n = std::min<std::uint64_t>(left, chunk);
      emit(std::string_view(t.entry->body).substr(s.off + t.seg_done, n));
    } else {
      flush_stage(c, k);
      if (!t.buf) {
        t.buf = files_->take_buffer();
      } else if (t.buf.size == chunk && k.out.queued() == 0) {
        // The client took every byte before the next read was due: it keeps up, so read in
        // large pieces (when the loop's budget allows).
        if (server::read_buffer large = files_->take_large_buffer()) {
          files_->give_back(std::move(t.buf));
          t.buf = std::move(large);
        }
      }
      file_submit_read(c, k, t.buf.get(), std::min<std::uint64_t>(left, t.buf.size),
                       s.off + t.seg_done);
      break;
    }
    t.seg_done += n;
    if (t.seg_done == s.len) {
      ++t.seg;
      t.seg_done = 0;
    }
  }
  flush_stage(c, k);
  flush(c, k);
}

void network_server::impl::file_submit_read(client_num_t c, conn& k, std::byte* dst,
                                            std::uint64_t len, std::uint64_t off) {
  io_uring_sqe* sqe = sqe_for(c, io::op_kind::file_read);
  if (sqe == nullptr) {
    NS_LOG(log_level::warn, "submission queue full; dropping a file transfer");
    close_hard(c, k);
    return;
  }
  constexpr std::uint64_t max_read = 1u << 30;
  io_uring_prep_read(sqe, k.file->fd.get(), dst, static_cast<unsigned>(std::min(len, max_read)),
                     off);
  k.file->read_in_flight = true;
  ++k.inflight;
}

void network_server::impl::on_file_read(client_num_t c, conn& k, const io_uring_cqe& cqe) {
  --k.inflight;
  if (!k.file) return;
  server::file_transfer& t = *k.file;
  t.read_in_flight = false;
  if (k.closing || !t.active) return;  // finalize reports the failure
  if (cqe.res == -EINTR || cqe.res == -EAGAIN) {
    file_pump(c, k);  // the same read again
    return;
  }
  if (cqe.res <= 0) {
    // An error, or end of file before the length the head announced (the file shrank): the
    // response cannot be completed, so the connection is closed (RFC 9112 §8: incomplete).
    NS_LOG(log_level::warn, "file ", t.entry->path, ": ",
           cqe.res == 0 ? "shorter than its size" : std::strerror(-cqe.res), "; closing");
    close_hard(c, k);
    return;
  }
  const auto got = static_cast<std::uint64_t>(cqe.res);
  if (t.filling) {
    t.fill_done += got;
    if (t.fill_done == t.fill.size()) {
      t.entry = files_->cache()->insert(t.key, t.st, t.fill, t.st_ms);
      t.filling = false;
      t.fd.reset();
      std::string().swap(t.fill);
    }
    file_pump(c, k);
    return;
  }
  const server::file_segment& s = t.segs[t.seg];
  if (!queue_out(c, k, std::span<const std::byte>(t.buf.get(), got))) {
    close_hard(c, k);
    return;
  }
  t.seg_done += got;
  if (t.seg_done == s.len) {
    ++t.seg;
    t.seg_done = 0;
  }
  file_pump(c, k);
}

void network_server::impl::file_finish(client_num_t c, conn& k) {
  server::file_transfer& t = *k.file;
  flush_stage(c, k);
  // The outcome is reported when the last byte has been sent (or failed at close).
  k.out.mark(server::write_kind::http_writev);
  t.active = false;
  t.entry.reset();
  t.fd.reset();
  files_->give_back(std::move(t.buf));
  if (k.closing) return;
  response_done(c, k);
  flush(c, k);
}

void network_server::impl::release_responses(client_num_t c, conn& k) {
  // Called once by finalize, after the queued writes were failed: what is still owed fails now.
  if (k.file) {
    server::file_transfer& t = *k.file;
    const bool owed = t.active;
    t.active = false;
    t.entry.reset();
    t.fd.reset();
    files_->give_back(std::move(t.buf));
    if (owed) fire_write_callback(c, server::write_kind::http_writev, true);
  }
  k.chunked = {};
  if (k.body.wanted) {
    k.body = {};
    app_.http_body_callback(c, {}, true, true);
  }
  k.body = {};
}

file_cache_stats network_server::impl::cache_stats() const noexcept {
  const http::file_cache_stats s = files_->stats();
  return {s.hits, s.misses, s.evictions, s.invalidations, s.bytes, s.entries};
}

}  // namespace ns
