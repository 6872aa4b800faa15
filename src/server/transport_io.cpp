// SPDX-License-Identifier: MIT
// Bytes in and out of a transport: multishot recv → TLS → the handler's plaintext; the
// handler's bytes → TLS records in the output queue → one send at a time → the write callbacks.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "http/response.hpp"
#include "io/listener.hpp"
#include "server/core.hpp"
#include "server/log.hpp"
#include "tls/session.hpp"

namespace ns {
namespace {

constexpr std::uint16_t recv_group = 0;

// Plain HTTP on the TLS port: an answer the client can read, built once.
const std::string& plain_http_refusal() {
  static const std::string bytes = [] {
    static constexpr std::string_view body = "This port speaks HTTPS; use https:// URLs.\n";
    std::string s;
    http::response_writer(s)
        .status_line(400)
        .header("Content-Type", "text/plain")
        .content_length(body.size())
        .keep_alive(false)
        .end();
    return s.append(body);
  }();
  return bytes;
}

}  // namespace

io_uring_sqe* network_server::impl::sqe_for(const transport& t, io::op_kind kind) {
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return nullptr;
  io_uring_sqe_set_data64(sqe, io::encode({kind, static_cast<std::uint32_t>(t.handle >> 32),
                                           static_cast<std::uint32_t>(t.handle)}));
  return sqe;
}

void network_server::impl::arm_recv(transport& t) {
  if (t.recv_armed || t.closing || t.eof || t.recv_paused) return;
  io_uring_sqe* sqe = sqe_for(t, io::op_kind::recv);
  if (sqe == nullptr) {
    close_hard(t);
    return;
  }
  io_uring_prep_recv_multishot(sqe, t.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = recv_group;
  t.recv_armed = true;
  ++t.inflight;
}

void network_server::impl::pause_recv(transport& t) {
  if (t.recv_paused || t.closing) return;
  t.recv_paused = true;
  if (!t.recv_armed) return;
  io_uring_sqe* sqe = sqe_for(t, io::op_kind::cancel);
  if (sqe == nullptr) return;  // the handler's hold bound still applies; recv stays armed
  io_uring_prep_cancel64(sqe,
                         io::encode({io::op_kind::recv, static_cast<std::uint32_t>(t.handle >> 32),
                                     static_cast<std::uint32_t>(t.handle)}),
                         0);
  ++t.inflight;  // the cancel's own completion (dispatch's default case counts it down)
}

void network_server::impl::unpause_recv(transport& t) {
  if (!t.recv_paused) return;
  t.recv_paused = false;
  if (!t.closing) arm_recv(t);
}

void network_server::impl::on_recv(transport& t, const io_uring_cqe& cqe) {
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    t.recv_armed = false;
    --t.inflight;
  }
  if (t.moving) {
    // Frozen for a move (move_out.cpp): bytes still arriving are kept as ciphertext for
    // whichever process reads them; the recv's last completion completes the move.
    if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
      const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      const auto bytes = buffers_->view(bid, static_cast<std::size_t>(cqe.res));
      stats_.bytes_in += static_cast<std::uint64_t>(cqe.res);
      t.held_input.insert(t.held_input.end(), bytes.begin(), bytes.end());
      buffers_->recycle(bid);
    }
    if (cqe.res > 0 || cqe.res == -ECANCELED || cqe.res == -ENOBUFS) {
      if (!more) finish_move(t);
      return;
    }
    thaw(t, false);  // end of file or an error: the connection ends here, held bytes first
  }
  if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    auto bytes = buffers_->view(bid, static_cast<std::size_t>(cqe.res));
    stats_.bytes_in += static_cast<std::uint64_t>(cqe.res);
    if (t.preamble && !t.closing) take_preamble(t, bytes);  // what follows the PROXY header
    if (!t.closing && !bytes.empty()) {
      if (t.tls && !t.got_bytes && tls::looks_like_plain_http(bytes)) {
        NS_LOG(log_level::info, peer_of(t), ": plaintext HTTP on the TLS port; answered 400");
        t.got_bytes = true;
        buffers_->recycle(bid);
        const std::string& msg = plain_http_refusal();
        t.out.append(std::as_bytes(std::span(msg.data(), msg.size())));
        close_graceful(t);
        return;
      }
      t.got_bytes = true;
      if (t.tls) {
        on_ciphertext(t, bytes);  // OpenSSL reads straight from the ring buffer
      } else {
        t.handler->on_plaintext(bytes);
        flush(t);
      }
    }
    buffers_->recycle(bid);
    if (!more && !t.closing) arm_recv(t);
    return;
  }
  if (cqe.res == -ENOBUFS) {
    // The buffer ring ran dry; buffers are returned as soon as each CQE is handled, so re-arming
    // now continues the stream without losing or reordering bytes.
    if (!more && !t.closing) arm_recv(t);
    return;
  }
  if (cqe.res == 0) {
    t.eof = true;
    if (t.preamble && !t.closing) {
      preamble_eof(t);  // TLS has seen nothing: its truncation is not the story
    } else if (t.tls && !t.closing) {
      // EOF without close_notify is truncation (RFC 8446 §6.1); the session tells which it was.
      t.tls->on_transport_eof();
      on_ciphertext(t, {});
    }
    close_graceful(t);
    return;
  }
  if (cqe.res < 0 && cqe.res != -ECANCELED) {
    report_error(t, server::conn_error::recv, std::strerror(-cqe.res));
    close_hard(t);
  }
}

void network_server::impl::on_transport_ready(transport& t) {
  t.ready = true;
  t.handler->on_ready();
}

void network_server::impl::on_ciphertext(transport& t, std::span<const std::byte> bytes) {
  tls::session& s = *t.tls;
  bool first = !bytes.empty();
  for (;;) {
    const tls::read_result r = first ? s.read(bytes, scratch_) : s.read(scratch_);
    first = false;
    t.drain_tls_output();
    if (!t.ready && s.handshake_done()) {
      note_handshake(t);
      on_transport_ready(t);
    }
    if (r.st == tls::status::ok) {
      const bool more =
          t.handler->on_plaintext(std::span<const std::byte>(scratch_.data(), r.bytes));
      if (!t.open() || !more) break;  // closing, or the handler holds input (back-pressure)
      continue;
    }
    if (r.st == tls::status::want_more) break;
    if (r.st == tls::status::closed) {
      // close_notify from the peer: answer with ours (queued by close_graceful) and close.
      close_graceful(t);
      break;
    }
    if (r.st == tls::status::truncated) {
      // Between requests this is how many HTTP clients hang up (RFC 9112 §9.8): worth a log
      // line only when it cuts a request or response short.
      const bool mid_exchange = !t.ready || !t.handler->quiescent() || !t.out.empty();
      report_error(t, server::conn_error::tls_truncated, "peer closed without close_notify",
                   mid_exchange ? log_level::info : log_level::debug);
    } else {
      report_error(t,
                   s.handshake_done() ? server::conn_error::tls : server::conn_error::tls_handshake,
                   s.last_error());
    }
    close_graceful(t);  // an alert may be queued
    break;
  }
  flush(t);
}

void network_server::impl::redeliver(transport& t) {
  if (t.tls && t.open()) on_ciphertext(t, {});
}

bool network_server::impl::send(transport& t, std::span<const std::byte> bytes) {
  if (!t.queue(bytes)) {
    close_graceful(t);
    return false;
  }
  flush(t);
  return true;
}

void network_server::impl::flush(transport& t) {
  if (t.send_in_flight || t.closing) return;
  auto bytes = t.out.next();
  if (bytes.empty()) {
    if (t.close_after_flush) close_hard(t);
    return;
  }
  io_uring_sqe* sqe = sqe_for(t, io::op_kind::send);
  if (sqe == nullptr) {
    close_hard(t);
    return;
  }
  if (t.write_not_send) {
    // Any descriptor: pipes and files too (offset -1: the file position, like write(2)).
    io_uring_prep_write(sqe, t.fd, bytes.data(), static_cast<unsigned>(bytes.size()), -1);
  } else {
    io_uring_prep_send(sqe, t.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  t.send_in_flight = true;
  ++t.inflight;
  if (t.counted) stats_.histograms.queued_output_bytes.observe(t.out.queued());
  if (t.ready) t.handler->on_output_pending();  // the handshake has its own deadline
}

void network_server::impl::on_send(transport& t, const io_uring_cqe& cqe) {
  --t.inflight;
  t.send_in_flight = false;
  if (cqe.res < 0) {
    if (cqe.res != -ECANCELED) report_error(t, server::conn_error::send, std::strerror(-cqe.res));
    close_hard(t);
    return;
  }
  if (t.counted) stats_.bytes_out += static_cast<std::uint64_t>(cqe.res);
  t.out.on_sent(static_cast<std::size_t>(cqe.res),
                [&](server::write_kind kind) { fire_write_callback(t.handle, kind, false); });
  // The callbacks may have closed or written; the transport stays valid until finalize.
  if (t.closing) return;
  if (t.ready) t.handler->on_sent();
  if (t.closing) return;
  if (t.out.empty() && t.close_after_flush) {
    close_hard(t);
    return;
  }
  // Draining with a mover: the moment a response or message has gone out is the clean point
  // a busy connection may not show on a tick.
  if (mover_ && !mover_failed_ && draining_ && can_move(t)) {
    freeze(t);
    return;
  }
  flush(t);
}

std::string_view network_server::impl::peer_of(transport& t) {
  return t.peer_name();
}

}  // namespace ns
