// SPDX-License-Identifier: MIT
// The one close path (DESIGN.md): graceful close flushes queued output (and TLS close_notify)
// first; hard close cancels every in-flight operation of the connection; once the last of their
// completions has arrived, finalize closes the fd exactly once, fails the writes that never
// went out, calls the close callback exactly once and frees the slot (retiring the handle).
#include <unistd.h>

#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {

void network_server::impl::close_graceful(client_num_t c, conn& k) {
  if (k.closing) return;
  if (!k.close_after_flush) {
    k.close_after_flush = true;
    if (k.tls && k.tls->handshake_done() && !k.eof) {
      k.tls->shutdown();  // close_notify (RFC 8446 §6.1)
      drain_tls_output(k);
    }
  }
  if (k.out.empty() && !k.send_in_flight) {
    close_hard(c, k);
  } else {
    flush(c, k);
  }
}

void network_server::impl::close_hard(client_num_t c, conn& k) {
  if (k.closing) return;
  k.closing = true;
  timers_.cancel(static_cast<std::uint32_t>(c));
  if (k.inflight > 0) {
    io_uring_sqe* sqe = ring_.get_sqe();
    if (sqe != nullptr) {
      io_uring_prep_cancel_fd(sqe, k.fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(
          sqe, io::encode({io::op_kind::cancel, static_cast<std::uint32_t>(c >> 32),
                           static_cast<std::uint32_t>(c)}));
      ++k.inflight;
    } else {
      // No SQE: shutting the socket down completes its pending recv/send just the same.
      ::shutdown(k.fd, SHUT_RDWR);
    }
  }
  if (k.inflight == 0 && !k.close_listed) {
    k.close_listed = true;
    to_finalize_.push_back(c);
  }
}

void network_server::impl::finalize_closed() {
  // Callbacks below may close further connections: take the list, loop until it is empty.
  while (!to_finalize_.empty()) {
    const client_num_t c = to_finalize_.back();
    to_finalize_.pop_back();
    conn* k = conns_.find(c);
    if (k == nullptr) continue;
    if (k->inflight != 0) {  // a completion is still owed; dispatch re-lists it when it arrives
      k->close_listed = false;
      continue;
    }
    timers_.cancel(static_cast<std::uint32_t>(c));
    if (k->kind == server::conn_kind::event) {
      // Unpublish before closing so a concurrent eventfd_trigger never writes to a reused fd.
      std::lock_guard lock(cross_mutex_);
      event_fds_.erase(c);
    }
    ::close(k->fd);
    k->fd = -1;
    k->out.fail_all([&](server::write_kind kind) { fire_write_callback(c, kind, true); });
    release_responses(c, *k);  // a file response or body read still owed fails (server_file.cpp)
    const server::conn_kind kind = k->kind;
    const std::uint16_t ws_code = k->ws ? k->ws->close_code : 0;  // 0: never upgraded
    note_closed(*k);
    conns_.erase(c);  // the handle is dead before the application hears of the close
    switch (kind) {
      case server::conn_kind::http:
        if (ws_code != 0) {
          app_.websocket_close_callback(c, ws_code);  // instead of http_close_callback
        } else {
          app_.http_close_callback(c);
        }
        break;
      case server::conn_kind::raw: app_.raw_close_callback(c); break;
      case server::conn_kind::event: break;  // a pending prepare already reported its error
    }
    if (accept_paused_ && !stopping_) arm_accept();
  }
}

void network_server::impl::fire_write_callback(client_num_t c, server::write_kind kind,
                                               bool failed) {
  switch (kind) {
    case server::write_kind::http_write:
      app_.http_write_callback(c, failed);
      break;
    case server::write_kind::http_writev:
      app_.http_writev_callback(c, failed);
      break;
    case server::write_kind::raw_write:
      app_.raw_write_callback(c, failed);
      break;
    case server::write_kind::raw_writev:
      app_.raw_writev_callback(c, failed);
      break;
    case server::write_kind::ws_write:
      app_.websocket_write_callback(c, failed);
      break;
    case server::write_kind::ws_writev:
      app_.websocket_writev_callback(c, failed);
      break;
    case server::write_kind::internal:
      break;
  }
}

}  // namespace ns
