// SPDX-License-Identifier: MIT
// The event loop: set-up, completion dispatch, accept, recv, send, timers and shutdown.
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/listener.hpp"
#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {
namespace {

constexpr std::uint32_t listener_slot = 0xffff'fffe;
constexpr std::uint32_t wake_slot = 0xffff'fffd;
constexpr std::uint16_t recv_group = 0;
constexpr std::chrono::milliseconds tick_interval{100};

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::shared_ptr<shared_tls> make_tls(const server_config& cfg, std::shared_ptr<shared_tls> given) {
  if (cfg.plaintext) return nullptr;
  if (given) return given;
  if (cfg.tls.certificates.empty()) {
    throw std::runtime_error("TLS needs at least one certificate/key pair (or plaintext mode)");
  }
  return shared_tls::create(cfg.tls);
}

}  // namespace

network_server::impl::impl(network_server& self, server_config config, application_methods& app,
                           std::shared_ptr<shared_tls> tls)
    : self_(self),
      config_(std::move(config)),
      app_(app),
      tls_(make_tls(config_, std::move(tls))),
      ring_(config_.ring_entries),
      conns_(config_.max_connections),
      timers_(config_.max_connections, 50, 2048, steady_ms()),
      now_ms_(steady_ms()),
      scratch_(16 * 1024 + 512) {
  buffers_.emplace(ring_.raw(), recv_group, config_.recv_buffer_count, config_.recv_buffer_size);
  auto l = io::open_listener(config_.bind_address, config_.port, config_.reuse_port);
  if (l.fd < 0) throw std::runtime_error(l.error);
  listen_fd_ = l.fd;
  port_ = l.port;
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    int err = errno;
    close(listen_fd_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  // A write to a pipe whose reader has gone raises SIGPIPE; a server must not die of it (sockets
  // use MSG_NOSIGNAL). Only the default disposition is changed, an application's own is kept.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
  to_finalize_.reserve(64);
  to_resume_.reserve(64);
}

network_server::impl::~impl() {
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  // Connections still open (start() never ran to completion) are closed without callbacks.
  conns_.for_each([](client_num_t, conn& k) {
    if (k.fd >= 0) close(k.fd);
  });
}

void network_server::impl::request_stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // write(2) is async-signal-safe; the loop's pending read on wake_fd_ completes.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

int network_server::impl::run() {
  ring_.attach_to_current_thread();
  arm_accept();
  arm_wake();
  app_.server_started_callback(self_);
  NS_LOG(log_level::info, "listening on ", config_.bind_address, ":", port_,
         config_.plaintext ? " (plaintext)" : " (TLS)");
  for (;;) {
    if (stop_requested_.load(std::memory_order_acquire) && !stopping_) begin_stop();
    if (stopping_ && conns_.size() == 0 && !accept_armed_) break;
    int rc = ring_.submit_and_wait(tick_interval);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      NS_LOG(log_level::error, "io_uring_submit_and_wait failed: ", std::strerror(-rc));
      return rc;
    }
    now_ms_ = steady_ms();
    ring_.drain([this](const io_uring_cqe& cqe) {
      dispatch(cqe);
      // Deferred work runs between completions, never inside a callback of the same connection.
      if (!to_resume_.empty()) resume_pending();
      if (!to_finalize_.empty()) finalize_closed();
    });
    tick();
  }
  {
    std::lock_guard lock(cross_mutex_);
    stopping_posts_ = true;
  }
  run_posted();  // nothing posted before the stop is lost
  NS_LOG(log_level::info, "server on port ", port_, " stopped");
  return 0;
}

void network_server::impl::dispatch(const io_uring_cqe& cqe) {
  const io::op_tag tag = io::decode(cqe.user_data);
  if (tag.slot == listener_slot) {
    if (tag.kind == io::op_kind::accept) on_accept(cqe);
    return;
  }
  if (tag.slot == wake_slot) {
    arm_wake();
    run_posted();
    return;  // the loop checks stop_requested_ on every turn
  }
  conn* k = conns_.find_by_tag(tag.slot, tag.generation);
  if (k == nullptr) {
    // A completion for a slot that was freed: only possible for a recv buffer we must return.
    if (cqe.flags & IORING_CQE_F_BUFFER) {
      buffers_->recycle(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    }
    return;
  }
  const client_num_t c = conns_.handle_of(tag.slot);
  switch (tag.kind) {
    case io::op_kind::recv:
      on_recv(c, *k, cqe);
      break;
    case io::op_kind::send:
      on_send(c, *k, cqe);
      break;
    case io::op_kind::raw_read:
      on_raw_read(c, *k, cqe);
      break;
    case io::op_kind::event_read:
      on_event_read(c, *k, cqe);
      break;
    case io::op_kind::file_read:
      on_file_read(c, *k, cqe);  // server_file.cpp
      break;
    default:
      --k->inflight;
      break;
  }
  if (k->closing && k->inflight == 0 && !k->close_listed) {
    k->close_listed = true;
    to_finalize_.push_back(c);
  }
}

void network_server::impl::arm_accept() {
  if (accept_armed_ || listen_fd_ < 0 || stopping_) return;
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return;  // retried on the next tick
  io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::accept, 0, listener_slot}));
  accept_armed_ = true;
  accept_paused_ = false;
}

void network_server::impl::arm_wake() {
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return;
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::wake, 0, wake_slot}));
}

void network_server::impl::on_accept(const io_uring_cqe& cqe) {
  if (!(cqe.flags & IORING_CQE_F_MORE)) accept_armed_ = false;
  if (cqe.res < 0) {
    if (cqe.res == -EMFILE || cqe.res == -ENFILE || cqe.res == -ENOBUFS || cqe.res == -ENOMEM) {
      // Out of descriptors: pause accepting until a connection closes (or the next tick);
      // the kernel keeps new connections in the backlog meanwhile, nothing spins.
      if (!accept_paused_)
        NS_LOG(log_level::warn, "accept: ", std::strerror(-cqe.res), "; pausing accept");
      accept_paused_ = true;
    } else if (cqe.res != -ECANCELED && !stopping_) {
      NS_LOG(log_level::warn, "accept: ", std::strerror(-cqe.res));
    }
    if (!accept_armed_ && !accept_paused_) arm_accept();
    return;
  }
  const int fd = cqe.res;
  if (stopping_) {
    close(fd);
    return;
  }
  auto handle = conns_.emplace(fd, config_.http);
  if (!handle) {
    // At max_connections: refuse this one cleanly rather than letting it wait without service.
    NS_LOG(log_level::debug, "connection limit (", config_.max_connections, ") reached; refusing");
    close(fd);
    if (!accept_armed_) arm_accept();
    return;
  }
  conn& k = *conns_.find(*handle);
  ++stats_.connections_total;
  if (tls_) k.tls.emplace(tls_->internal().holder.get());
  set_phase(static_cast<std::uint32_t>(*handle), k,
            tls_ ? server::conn_phase::handshake : server::conn_phase::idle);
  arm_recv(*handle, k);
  app_.accept_callback(*handle);
  if (!accept_armed_) arm_accept();
}

void network_server::impl::arm_recv(client_num_t c, conn& k) {
  if (k.recv_armed || k.closing || k.eof || k.body.recv_paused) return;
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) {
    close_hard(c, k);
    return;
  }
  io_uring_prep_recv_multishot(sqe, k.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = recv_group;
  io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::recv, static_cast<std::uint32_t>(c >> 32),
                                           static_cast<std::uint32_t>(c)}));
  k.recv_armed = true;
  ++k.inflight;
}

void network_server::impl::on_recv(client_num_t c, conn& k, const io_uring_cqe& cqe) {
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    k.recv_armed = false;
    --k.inflight;
  }
  if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    auto bytes = buffers_->view(bid, static_cast<std::size_t>(cqe.res));
    stats_.bytes_in += static_cast<std::uint64_t>(cqe.res);
    if (!k.closing) {
      if (k.tls && !k.got_bytes && tls::looks_like_plain_http(bytes)) {
        // Plain HTTP on the TLS port: tell the client in words it can read, then close.
        static constexpr char msg[] =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 43\r\n"
            "Connection: close\r\n\r\nThis port speaks HTTPS; use https:// URLs.\n";
        NS_LOG(log_level::info, io::peer_name(k.fd),
               ": plaintext HTTP on the TLS port; answered 400");
        k.got_bytes = true;
        buffers_->recycle(bid);
        queue_plain(k, std::as_bytes(std::span(msg, sizeof(msg) - 1)));
        close_graceful(c, k);
        return;
      }
      k.got_bytes = true;
      if (k.tls) {
        // OpenSSL reads straight from the ring buffer; only a partial record is copied.
        on_ciphertext(c, k, bytes);
        buffers_->recycle(bid);
      } else {
        on_plaintext(c, k, bytes);
        buffers_->recycle(bid);
      }
    } else {
      buffers_->recycle(bid);
    }
    if (!more && !k.closing) arm_recv(c, k);
    return;
  }
  if (cqe.res == -ENOBUFS) {
    // The buffer ring ran dry; buffers are returned as soon as each CQE is handled, so re-arming
    // now continues the stream without losing or reordering bytes.
    if (!more && !k.closing) arm_recv(c, k);
    return;
  }
  if (cqe.res == 0) {
    k.eof = true;
    if (k.tls && !k.closing) {
      // EOF without close_notify is truncation (RFC 8446 §6.1); the session tells which it was.
      k.tls->on_transport_eof();
      on_ciphertext(c, k, {});
    }
    close_graceful(c, k);
    return;
  }
  if (cqe.res < 0 && cqe.res != -ECANCELED) {
    report_error(c, k, std::string("recv: ") + std::strerror(-cqe.res));
    close_hard(c, k);
  }
}

void network_server::impl::flush(client_num_t c, conn& k) {
  if (k.send_in_flight || k.closing) return;
  auto bytes = k.out.next();
  if (bytes.empty()) {
    if (k.close_after_flush) close_hard(c, k);
    return;
  }
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) {
    close_hard(c, k);
    return;
  }
  if (k.kind == server::conn_kind::raw && !k.raw_is_socket) {
    // Any descriptor: pipes and files too (offset -1: the file position, like write(2)).
    io_uring_prep_write(sqe, k.fd, bytes.data(), static_cast<unsigned>(bytes.size()), -1);
  } else {
    io_uring_prep_send(sqe, k.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::send, static_cast<std::uint32_t>(c >> 32),
                                           static_cast<std::uint32_t>(c)}));
  k.send_in_flight = true;
  ++k.inflight;
  // A response being sent waits on the peer: bound that wait (see progress_timer).
  if (k.phase == server::conn_phase::responding && !timers_.armed(static_cast<std::uint32_t>(c))) {
    progress_timer(c, k);
  } else if (k.ws && !k.ws->send_watched &&
             (k.phase == server::conn_phase::websocket ||
              k.phase == server::conn_phase::ws_closing)) {
    ws_watch_send(c, k);
  }
}

void network_server::impl::progress_timer(client_num_t c, conn& k) {
  // Progress on the wire restarts the clock: a slow but moving download is never "idle", while a
  // reader that stopped reading is cut off after idle_timeout instead of holding its slot, socket
  // and file for ever (slow-read DoS).
  const auto slot = static_cast<std::uint32_t>(c);
  const bool waiting_on_peer = !k.out.empty() || k.send_in_flight || (k.file && k.file->active);
  if (k.phase == server::conn_phase::idle || waiting_on_peer) {
    timers_.schedule(slot, now_ms_ + static_cast<std::uint64_t>(config_.idle_timeout.count()));
  } else if (k.phase == server::conn_phase::responding) {
    timers_.cancel(slot);  // nothing queued: the application's turn, it has no deadline
  }
}

void network_server::impl::on_send(client_num_t c, conn& k, const io_uring_cqe& cqe) {
  --k.inflight;
  k.send_in_flight = false;
  if (cqe.res < 0) {
    if (cqe.res != -ECANCELED) report_error(c, k, std::string("send: ") + std::strerror(-cqe.res));
    close_hard(c, k);
    return;
  }
  if (k.kind == server::conn_kind::http) stats_.bytes_out += static_cast<std::uint64_t>(cqe.res);
  k.out.on_sent(static_cast<std::size_t>(cqe.res),
                [&](server::write_kind kind) { fire_write_callback(c, kind, false); });
  // The callback may have closed or written; the connection object stays valid until finalize.
  if (k.closing) return;
  if (k.ws) {
    ws_after_send(c, k);  // websocket_drain_callback
    if (k.closing) return;
  }
  // A file response refills the queue as it drains (server_file.cpp); keep its buffers.
  if (k.file && k.file->active) file_pump(c, k);
  if (k.closing) return;
  if (k.phase == server::conn_phase::idle || k.phase == server::conn_phase::responding) {
    progress_timer(c, k);
  }
  if (k.out.empty()) {
    if (!(k.file && k.file->active)) k.out.trim();
    if (k.phase == server::conn_phase::idle) note_idle(c, k);  // frees its buffers if it stays
    if (k.close_after_flush) {
      close_hard(c, k);
      return;
    }
  }
  flush(c, k);
}

void network_server::impl::set_phase(std::uint32_t slot, conn& k, server::conn_phase p) {
  k.phase = p;
  std::chrono::milliseconds limit{0};
  switch (p) {
    case server::conn_phase::handshake:
      limit = config_.handshake_timeout;
      break;
    case server::conn_phase::idle:
      limit = config_.idle_timeout;
      break;
    case server::conn_phase::reading:
      limit = config_.header_timeout;
      break;
    case server::conn_phase::responding:
      // The application's turn has no deadline, but earlier responses still waiting on the
      // peer (pipelining) keep theirs.
      progress_timer(conns_.handle_of(slot), k);
      return;
    case server::conn_phase::websocket:
    case server::conn_phase::ws_closing:
      if (k.ws) {
        k.ws->phase_deadline_ms = now_ms_ + static_cast<std::uint64_t>(ws_phase_limit(k).count());
        ws_arm_timer(slot, k);
        return;
      }
      limit = ws_phase_limit(k);
      break;
  }
  timers_.schedule(slot, now_ms_ + static_cast<std::uint64_t>(limit.count()));
}

void network_server::impl::on_timer(std::uint32_t slot) {
  // The wheel is indexed by slot; a freed slot's timer was cancelled in finalize.
  const client_num_t c = conns_.handle_of(slot);
  conn* k = conns_.find(c);
  if (k == nullptr || k->closing) return;
  if (k->ws) {  // pings, WebSocket idle and close timeouts (server_ws.cpp)
    ws_on_timer(c, *k);
    return;
  }
  static constexpr const char* names[] = {"handshake", "idle", "header", "response"};
  NS_LOG(log_level::debug, io::peer_name(k->fd), ": ", names[static_cast<int>(k->phase)],
         " timeout; closing");
  ++stats_.errors.timeouts;
  close_hard(c, *k);
}

void network_server::impl::tick() {
  if (tls_ && now_ms_ >= next_ticket_check_ms_) {
    // Any loop may rotate the shared ticket keys; only the first past the interval does.
    next_ticket_check_ms_ = now_ms_ + 1000;
    tls_->internal().holder.get()->rotate_ticket_keys(std::chrono::steady_clock::now());
  }
  timers_.advance(now_ms_, [this](std::uint32_t slot) { on_timer(slot); });
  release_idle();
  release_idle_pools();
  if (!to_finalize_.empty()) finalize_closed();
  if (const std::size_t freed = trimmer_.maybe_trim(now_ms_); freed > 0) {
    NS_LOG(log_level::debug, "gave up to ", freed >> 20, " MiB of free heap back to the kernel");
  }
  if (accept_paused_ && !stopping_ && conns_.available() > 0) arm_accept();
  if (stopping_ && now_ms_ >= stop_deadline_ms_) {
    conns_.for_each([this](client_num_t c, conn& k) {
      if (!k.closing) close_hard(c, k);
    });
    if (!to_finalize_.empty()) finalize_closed();
  }
}

void network_server::impl::begin_stop() {
  stopping_ = true;
  stop_deadline_ms_ = now_ms_ + static_cast<std::uint64_t>(config_.shutdown_deadline.count());
  if (accept_armed_) {
    io_uring_sqe* sqe = ring_.get_sqe();
    if (sqe != nullptr) {
      io_uring_prep_cancel64(sqe, io::encode({io::op_kind::accept, 0, listener_slot}), 0);
      io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::cancel, 0, listener_slot}));
    }
  }
  NS_LOG(log_level::info, "shutting down: ", conns_.size(), " connection(s) open");
  // Queued responses still go out (until the deadline); nothing new is read.
  conns_.for_each([this](client_num_t c, conn& k) {
    if (k.ws) ws_going_away(c, k);  // close frame 1001 first (RFC 6455 §7.4.1)
    close_graceful(c, k);
  });
}

}  // namespace ns
