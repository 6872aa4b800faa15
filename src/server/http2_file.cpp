// SPDX-License-Identifier: MIT
// http_send_file on an HTTP/2 stream: the same resolution, cache and plan as HTTP/1.1
// (prepare_file_response: ranges, validators, traversal refusal, MIME), its head translated
// into HEADERS, its body segments given to the stream's data provider. File slices are read
// with io_uring only when the provider has taken everything read so far, one read in flight
// per connection: a file is read no faster than the stream's and the connection's windows open.
#include <cerrno>
#include <cstring>

#include "http2/translate.hpp"
#include "server/core.hpp"
#include "server/http2_handler.hpp"
#include "server/log.hpp"

namespace ns::server {

int http2_handler::send_file(std::uint32_t tag, const http_request& req, std::string_view path,
                             bool use_target, file_source from) {
  h2_stream* s = by_tag(tag);
  if (s == nullptr) return -EBADF;
  if (s->responded) return -EBUSY;
  file_service& fs = core_.files();
  if (from == file_source::document_root && fs.root() == nullptr) return -EINVAL;
  if (!s->ex.file) s->ex.file = std::make_unique<file_transfer>();
  file_transfer& t = *s->ex.file;
  const int status = prepare_file_response(fs, core_.now_ms(), req, path, use_target, from, true,
                                           date(), s->ex.head, t);
  s->kind = write_kind::http_writev;
  s->ended = true;  // the application gives nothing more; the file's segments follow
  http2::translated_response r;
  if (!t.active) {
    // An error answer, whole in the head (404 page, 301 …).
    if (!http2::translate_http1_response(s->ex.head, r, s->ex.stage)) return -EINVAL;
    const bool body = !r.body.empty();
    if (body) {
      s->out.assign(r.body);
      pending_bytes_ += s->out.size();
    }
    return start_response(*s, status, r.fields, body);
  }
  // The first segment is the HTTP/1.1 head: it becomes HEADERS; the body segments follow.
  if (!http2::translate_http1_response(std::string_view(t.literal).substr(0, t.segs[0].len), r,
                                       s->ex.stage)) {
    t.active = false;
    return -EINVAL;
  }
  t.seg = 1;
  t.seg_done = 0;
  const bool body = !t.finished();
  if (!body) {
    t.active = false;
    t.fd.reset();
    t.entry.reset();
  }
  return start_response(*s, r.status, r.fields, body);
}

http2::body_chunk http2_handler::read_file(h2_stream& s, std::span<std::byte> out) {
  file_transfer& t = *s.ex.file;
  if (t.finished()) {
    t.active = false;
    t.fd.reset();
    t.entry.reset();
    return {0, true, false};
  }
  if (t.filling) {
    want_read(s);  // the whole small file first, then it is served from the cache entry
    return {0, false, true};
  }
  const file_segment& seg = t.segs[t.seg];
  const std::uint64_t left = seg.len - t.seg_done;
  std::size_t n = 0;
  if (seg.literal) {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(left, out.size()));
    std::memcpy(out.data(), t.literal.data() + seg.off + t.seg_done, n);
  } else if (t.entry->has_body) {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(left, out.size()));
    std::memcpy(out.data(), t.entry->body.data() + seg.off + t.seg_done, n);
  } else if (s.buf_off < s.buf_len) {
    n = static_cast<std::size_t>(
        std::min<std::uint64_t>({left, out.size(), s.buf_len - s.buf_off}));
    std::memcpy(out.data(), s.buf.get() + s.buf_off, n);
    s.buf_off += n;
  } else {
    want_read(s);
    return {0, false, true};
  }
  s.ex.bytes += n;
  body_out_ += n;
  t.seg_done += n;
  if (t.seg_done == seg.len) {
    ++t.seg;
    t.seg_done = 0;
  }
  const bool done = t.finished();
  if (done) {
    t.active = false;
    t.fd.reset();
    t.entry.reset();
  }
  return {n, done, false};
}

void http2_handler::want_read(h2_stream& s) {
  s.read_wanted = true;
  if (read_stream_ == 0) start_next_read();
}

void http2_handler::start_next_read() {
  for (auto& p : streams_) {
    h2_stream& s = *p;
    if (!s.read_wanted || !s.ex.file || !s.ex.file->active) continue;
    s.read_wanted = false;
    file_transfer& t = *s.ex.file;
    std::byte* dst = nullptr;
    std::uint64_t len = 0;
    std::uint64_t off = 0;
    if (t.filling) {
      dst = reinterpret_cast<std::byte*>(t.fill.data()) + t.fill_done;
      len = t.fill.size() - t.fill_done;
      off = t.fill_done;
    } else {
      if (!s.buf) s.buf = core_.files().take_buffer();
      const file_segment& seg = t.segs[t.seg];
      dst = s.buf.get();
      len = std::min<std::uint64_t>(seg.len - t.seg_done, s.buf.size);
      off = seg.off + t.seg_done;
    }
    io_uring_sqe* sqe = core_.sqe_for(t_, io::op_kind::file_read);
    if (sqe == nullptr) {
      NS_LOG(log_level::warn, "submission queue full; dropping an HTTP/2 connection");
      core_.close_hard(t_);
      return;
    }
    constexpr std::uint64_t max_read = 1u << 30;
    io_uring_prep_read(sqe, t.fd.get(), dst, static_cast<unsigned>(std::min(len, max_read)), off);
    t.read_in_flight = true;
    ++t_.inflight;
    read_stream_ = s.id;
    return;
  }
}

void http2_handler::on_file_read(const io_uring_cqe& cqe) {
  const std::int32_t id = read_stream_;
  read_stream_ = 0;
  if (reading_ && reading_->id == id) {
    // Its stream closed while the read was in flight: the buffer is free now.
    reading_->ex.file->read_in_flight = false;
    if (reading_->buf) core_.files().give_back(std::move(reading_->buf));
    reading_.reset();
    if (!t_.closing) start_next_read();
    return;
  }
  h2_stream* s = by_id(id);
  if (s == nullptr || !s->ex.file) return;
  file_transfer& t = *s->ex.file;
  t.read_in_flight = false;
  if (t_.closing) return;
  if (cqe.res == -EINTR || cqe.res == -EAGAIN) {
    want_read(*s);
    return;
  }
  if (cqe.res <= 0) {
    // The file shrank or failed: this response cannot be completed (RFC 9113 §8.1: reset).
    NS_LOG(log_level::warn, "file ", t.entry->path, ": ",
           cqe.res == 0 ? "shorter than its size" : std::strerror(-cqe.res), "; resetting");
    session_.reset(s->id, http2::error_code::internal_error);
  } else if (t.filling) {
    t.fill_done += static_cast<std::uint64_t>(cqe.res);
    if (t.fill_done == t.fill.size()) {
      t.entry = core_.files().cache()->insert(t.key, t.st, t.fill, t.st_ms);
      t.filling = false;
      t.fd.reset();
      std::string().swap(t.fill);
    }
    session_.resume(s->id);
  } else {
    s->buf_len = static_cast<std::size_t>(cqe.res);
    s->buf_off = 0;
    session_.resume(s->id);
  }
  start_next_read();
  pump();
}

}  // namespace ns::server
