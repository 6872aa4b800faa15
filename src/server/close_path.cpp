// SPDX-License-Identifier: MIT
// The one close path (DESIGN.md): graceful close flushes queued output (and TLS close_notify)
// first; hard close cancels every in-flight operation of the transport; once the last of their
// completions has arrived, finalize fails the writes that never went out and whatever the
// handler still owes, closes the fd exactly once, frees the slot (retiring the handle) and
// calls the close callback exactly once. Errors on the way are reported from their type.
#include <unistd.h>

#include "server/core.hpp"
#include "server/log.hpp"

namespace ns {

void network_server::impl::close_graceful(transport& t) {
  if (t.closing) return;
  if (!t.close_after_flush) {
    t.close_after_flush = true;
    if (t.tls && t.tls->handshake_done() && !t.eof) {
      t.tls->shutdown();  // close_notify (RFC 8446 §6.1)
      t.drain_tls_output();
    }
  }
  if (t.out.empty() && !t.send_in_flight) {
    close_hard(t);
  } else {
    flush(t);
  }
}

void network_server::impl::close_hard(transport& t) {
  if (t.closing) return;
  t.closing = true;
  timers_.cancel(t.timer);
  if (t.inflight > 0) {
    io_uring_sqe* sqe = sqe_for(t, io::op_kind::cancel);
    if (sqe != nullptr) {
      io_uring_prep_cancel_fd(sqe, t.fd, IORING_ASYNC_CANCEL_ALL);
      ++t.inflight;
    } else if (!t.moved) {
      // No SQE: shutting the socket down completes its pending recv/send just the same. Not
      // for a moved connection, whose socket lives on in the other process: only its recv's
      // cancel is in flight, and it completes by itself.
      ::shutdown(t.fd, SHUT_RDWR);
    }
  }
  if (t.inflight == 0 && !t.close_listed) {
    t.close_listed = true;
    to_finalize_.push_back(t.handle);
  }
}

void network_server::impl::finalize_closed() {
  // Callbacks below may close further connections: take the list, loop until it is empty.
  while (!to_finalize_.empty()) {
    const client_num_t c = to_finalize_.back();
    to_finalize_.pop_back();
    transport* t = conns_.find(c);
    if (t == nullptr) continue;
    if (t->inflight != 0) {  // a completion is still owed; dispatch re-lists it when it arrives
      t->close_listed = false;
      continue;
    }
    timers_.cancel(t->timer);
    timer_ids_.release(t->timer);
    t->timer = server::no_timer;
    t->out.fail_all([&](server::write_kind kind) { fire_write_callback(c, kind, true); });
    t->handler->fail_owed();  // a file response or body read still owed fails (fd still open)
    ::close(t->fd);
    t->fd = -1;
    note_closed(*t);
    std::unique_ptr<server::protocol_handler> h = std::move(t->handler);
    conns_.erase(c);  // the handle is dead before the application hears of the close
    h->report_closed(app_, c);
    if (accept_paused_ && !stopping_) arm_accept();
  }
}

void network_server::impl::report_error(transport& t, server::conn_error e, std::string_view detail,
                                        log_level level) {
  const bool reported = server::reported_to_application(e);
  if (reported) {
    if (t.error_reported) return;
    t.error_reported = true;
  }
  ++server::counter_of(stats_.errors, e);
  if (!reported && static_cast<int>(level) < static_cast<int>(get_log_level())) return;
  const std::string line = server::describe(e, detail);
  NS_LOG(level, peer_of(t), ": ", line);
  if (reported) app_.connection_error_callback(t.handle, line);
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
