// SPDX-License-Identifier: MIT
// http_send_file on HTTP/1.1: resolve (document root confinement), cache lookup, plan
// (304/412/416/206/200), then pump the body into the transport — from the cache entry's bytes,
// or from io_uring reads of the file, one chunk at a time, only while the queued output is below
// send_low_water (see server_file.hpp). The response is the answer to the request in hand:
// response_done() runs only when its last byte has been queued, so pipelined requests wait.

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/response.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/log.hpp"

namespace ns::server {
int http1_handler::send_file(const http_request& req, std::string_view path, bool use_target,
                             file_source from) {
  if (ex_.long_response()) return -EBUSY;
  if (from == file_source::document_root && core_.files().root() == nullptr) return -EINVAL;
  // A body the application left unread cannot be skipped safely: close after this response.
  const bool keep_alive = ex_.keep_alive && !ex_.body.active;
  if (!ex_.file) ex_.file = std::make_unique<file_transfer>();
  const int status = prepare_file_response(core_.files(), core_.now_ms(), req, path, use_target,
                                           from, keep_alive, date(), ex_.head, *ex_.file);
  ex_.status = static_cast<std::uint16_t>(status);
  if (!ex_.file->active) {
    return queued(put(std::string_view(ex_.head)), write_kind::http_writev, true);
  }
  file_pump();
  return 0;
}

void http1_handler::flush_stage() {
  std::string& stage = ex_.stage;
  if (stage.empty()) return;
  const bool ok = put(std::string_view(stage));
  stage.clear();
  if (!ok) core_.close_hard(t_);
}

void http1_handler::emit(std::string_view piece) {
  // Pieces small enough are gathered in the stage; a larger piece goes out on its own (one
  // SSL_write: its records go straight into the output queue).
  std::string& stage = ex_.stage;
  if (stage.size() + piece.size() > stage_bytes) flush_stage();
  if (piece.size() >= stage_bytes) {
    if (!put(piece)) core_.close_hard(t_);
  } else {
    stage.append(piece);
  }
}

void http1_handler::file_pump() {
  file_transfer& t = *ex_.file;
  file_service& fs = core_.files();
  const std::size_t chunk = fs.config().read_chunk_bytes;
  const std::size_t low_water = fs.config().send_low_water;
  while (t.active && t_.open() && !t.read_in_flight) {
    if (t.filling) {
      file_submit_read(reinterpret_cast<std::byte*>(t.fill.data()) + t.fill_done,
                       t.fill.size() - t.fill_done, t.fill_done);
      break;
    }
    if (t.finished()) {
      file_finish();
      return;
    }
    if (t_.out.queued() + ex_.stage.size() >= low_water) break;  // on_sent pumps again
    const file_segment& s = t.segs[t.seg];
    const std::uint64_t left = s.len - t.seg_done;
    std::uint64_t n = left;
    if (s.literal) {
      emit(std::string_view(t.literal).substr(s.off + t.seg_done, n));
    } else if (t.entry->has_body) {
      n = std::min<std::uint64_t>(left, chunk);
      emit(std::string_view(t.entry->body).substr(s.off + t.seg_done, n));
    } else {
      flush_stage();
      if (!t.buf) {
        t.buf = fs.take_buffer();
      } else if (t.buf.size == chunk && t_.out.queued() == 0) {
        // The client took every byte before the next read was due: it keeps up, so read in
        // large pieces (when the loop's budget allows).
        if (read_buffer large = fs.take_large_buffer()) {
          fs.give_back(std::move(t.buf));
          t.buf = std::move(large);
        }
      }
      file_submit_read(t.buf.get(), std::min<std::uint64_t>(left, t.buf.size), s.off + t.seg_done);
      break;
    }
    t.seg_done += n;
    if (t.seg_done == s.len) {
      ++t.seg;
      t.seg_done = 0;
    }
  }
  flush_stage();
  core_.flush(t_);
}

void http1_handler::file_submit_read(std::byte* dst, std::uint64_t len, std::uint64_t off) {
  io_uring_sqe* sqe = core_.sqe_for(t_, io::op_kind::file_read);
  if (sqe == nullptr) {
    NS_LOG(log_level::warn, "submission queue full; dropping a file transfer");
    core_.close_hard(t_);
    return;
  }
  constexpr std::uint64_t max_read = 1u << 30;
  io_uring_prep_read(sqe, ex_.file->fd.get(), dst, static_cast<unsigned>(std::min(len, max_read)),
                     off);
  ex_.file->read_in_flight = true;
  ++t_.inflight;
}

void http1_handler::on_file_read(const io_uring_cqe& cqe) {
  if (!ex_.file) return;
  file_transfer& t = *ex_.file;
  t.read_in_flight = false;
  if (t_.closing || !t.active) return;  // finalize reports the failure
  if (cqe.res == -EINTR || cqe.res == -EAGAIN) {
    file_pump();  // the same read again
    return;
  }
  if (cqe.res <= 0) {
    // An error, or end of file before the length the head announced (the file shrank): the
    // response cannot be completed, so the connection is closed (RFC 9112 §8: incomplete).
    NS_LOG(log_level::warn, "file ", t.entry->path, ": ",
           cqe.res == 0 ? "shorter than its size" : std::strerror(-cqe.res), "; closing");
    core_.close_hard(t_);
    return;
  }
  const auto got = static_cast<std::uint64_t>(cqe.res);
  if (t.filling) {
    t.fill_done += got;
    if (t.fill_done == t.fill.size()) {
      t.entry = core_.files().cache()->insert(t.key, t.st, t.fill, t.st_ms);
      t.filling = false;
      t.fd.reset();
      std::string().swap(t.fill);
    }
    file_pump();
    return;
  }
  const file_segment& s = t.segs[t.seg];
  if (!put(std::span<const std::byte>(t.buf.get(), got))) {
    core_.close_hard(t_);
    return;
  }
  t.seg_done += got;
  if (t.seg_done == s.len) {
    ++t.seg;
    t.seg_done = 0;
  }
  file_pump();
}

void http1_handler::file_finish() {
  file_transfer& t = *ex_.file;
  flush_stage();
  // The outcome is reported when the last byte has been sent (or failed at close).
  t_.out.mark(write_kind::http_writev);
  t.active = false;
  t.entry.reset();
  t.fd.reset();
  core_.files().give_back(std::move(t.buf));
  if (t_.closing) return;
  response_done();
  core_.flush(t_);
}

}  // namespace ns::server
