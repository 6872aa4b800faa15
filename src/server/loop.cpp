// SPDX-License-Identifier: MIT
// The event loop: set-up, completion dispatch, accept, timers, deferred work, post() and
// shutdown.
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/listener.hpp"
#include "server/clock.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/log.hpp"
#include "server/stream_handle.hpp"

namespace ns {
namespace {

constexpr std::uint32_t listener_slot = 0xffff'fffe;
constexpr std::uint32_t wake_slot = 0xffff'fffd;
constexpr std::uint16_t recv_group = 0;
constexpr std::chrono::milliseconds tick_interval{100};

std::shared_ptr<shared_tls> make_tls(const server_config& cfg, std::shared_ptr<shared_tls> given) {
  if (cfg.tls.http2 && cfg.max_connections > server::max_h2_slots) {
    // A stream handle keeps its stream tag above a 20-bit slot (stream_handle.hpp).
    throw std::invalid_argument("max_connections above 1048576 needs tls.http2 off");
  }
  if (cfg.plaintext) return nullptr;
  if (given) return given;
  if (cfg.tls.certificates.empty()) {
    throw std::runtime_error("TLS needs at least one certificate/key pair (or plaintext mode)");
  }
  return shared_tls::create(cfg.tls);
}

}  // namespace

network_server::impl::impl(network_server& self, server_config config, application_methods& app,
                           shared_resources shared)
    : self_(self),
      config_(std::move(config)),
      app_(app),
      tls_(make_tls(config_, std::move(shared.tls))),
      ring_(config_.ring_entries),
      conns_(config_.max_connections),
      timer_ids_(config_.max_connections),
      timers_(config_.max_connections, 50, 2048, server::steady_ms()),
      now_ms_(server::steady_ms()),
      scratch_(16 * 1024 + 512),
      topics_(*this, std::move(shared.topics)) {
  buffers_.emplace(ring_.raw(), recv_group, config_.recv_buffer_count, config_.recv_buffer_size);
  auto l = config_.listen_fd >= 0
               ? io::adopt_listener(config_.listen_fd)
               : io::open_listener(config_.bind_address, config_.port, config_.reuse_port);
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
  topics_.detach();  // no other loop posts to us from here on
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  // Connections still open (start() never ran to completion) are closed without callbacks.
  conns_.for_each([](client_num_t, transport& t) {
    if (t.fd >= 0) close(t.fd);
  });
}

void network_server::impl::request_drain(std::chrono::milliseconds websocket_grace,
                                         std::shared_ptr<connection_mover> mover) noexcept {
  if (mover) {
    std::lock_guard lock(cross_mutex_);
    mover_offered_ = std::move(mover);
  }
  drain_grace_ms_.store(websocket_grace.count(), std::memory_order_relaxed);
  drain_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void network_server::impl::request_recheck_accept() noexcept {
  recheck_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void network_server::impl::request_stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // write(2) is async-signal-safe; the loop's pending read on wake_fd_ completes.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

int network_server::impl::run() {
  debug_.tid = static_cast<pid_t>(::gettid());
  ring_.attach_to_current_thread();
  const server::topic_service::running on_this_thread(topics_);
  arm_accept();
  arm_wake();
  app_.server_started_callback(self_);
  NS_LOG(log_level::info, "listening on ", config_.bind_address, ":", port_,
         config_.plaintext ? " (plaintext)" : " (TLS)");
  for (;;) {
    if (stop_requested_.load(std::memory_order_acquire) && !stopping_) begin_stop();
    if (drain_requested_.load(std::memory_order_acquire) && !draining_ && !stopping_) {
      begin_drain();
    }
    if (recheck_requested_.exchange(false, std::memory_order_acq_rel) && accept_armed_ &&
        !draining_ && !stopping_) {
      cancel_accept();  // on_accept arms a new one when this one ends (-ECANCELED)
    }
    if ((stopping_ || draining_) && !accept_armed_) {
      accepting_.store(false, std::memory_order_release);
      if (conns_.size() == 0) break;
    }
    int rc = ring_.submit_and_wait(tick_interval);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      NS_LOG(log_level::error, "io_uring_submit_and_wait failed: ", std::strerror(-rc));
      accepting_.store(false, std::memory_order_release);
      return rc;
    }
    now_ms_ = server::steady_ms();
    ring_.drain([this](const io_uring_cqe& cqe) {
      dispatch(cqe);
      // Deferred work runs between completions, never inside a callback of the same connection.
      if (!to_resume_.empty()) run_deferred();
      if (!to_finalize_.empty()) finalize_closed();
      watch_memory();  // per completion: one batch can queue many echoes of big messages
    });
    watch_memory();
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
  transport* t = conns_.find_by_tag(tag.slot, tag.generation);
  if (t == nullptr) {
    // A completion for a slot that was freed: only possible for a recv buffer we must return.
    if (cqe.flags & IORING_CQE_F_BUFFER) {
      buffers_->recycle(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    }
    return;
  }
  switch (tag.kind) {
    case io::op_kind::recv:
      on_recv(*t, cqe);
      break;
    case io::op_kind::send:
      on_send(*t, cqe);
      break;
    case io::op_kind::raw_read:
    case io::op_kind::event_read:
    case io::op_kind::file_read:
      --t->inflight;
      t->handler->on_completion(tag.kind, cqe);
      break;
    default:
      --t->inflight;
      break;
  }
  t->retired.reset();  // a handler replaced during this completion has returned by now
  if (t->closing && t->inflight == 0 && !t->close_listed) {
    t->close_listed = true;
    to_finalize_.push_back(t->handle);
  }
}

network_server::impl::transport* network_server::impl::open_slot(int fd, bool counted) {
  const auto handle = conns_.emplace(fd, counted);
  if (!handle) return nullptr;
  transport& t = *conns_.find(*handle);
  t.handle = *handle;
  t.timer = timer_ids_.take(*handle);  // as many ids as slots: never none
  return &t;
}

void network_server::impl::arm_accept() {
  if (accept_armed_ || listen_fd_ < 0 || stopping_ || draining_) return;
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
  if (refuse_over_cap(fd) || (proxy_ && refuse_untrusted(fd))) {
    arm_accept();  // if this was the multishot accept's last completion
    return;
  }
  transport* t = open_slot(fd, true);  // while draining too: the accept was under way
  if (t == nullptr) {
    // At max_connections: refuse this one cleanly rather than letting it wait without service.
    NS_LOG(log_level::debug, "connection limit (", config_.max_connections, ") reached; refusing");
    close(fd);
    arm_accept();
    return;
  }
  ++stats_.connections_total;
  if (tls_) t->accepted_ns = server::steady_ns();
  t->handler = std::make_unique<server::http1_handler>(*this, *t);
  if (draining_) t->handler->drain();
  if (tls_) t->tls.emplace(tls_->internal().holder.get());
  if (proxy_) t->preamble = std::make_unique<proxy::parser>(proxy_->mode);
  if (tls_ || proxy_) {
    // One deadline for what comes before the application's bytes: the PROXY header and the
    // TLS handshake.
    schedule(*t, now_ms_ + static_cast<std::uint64_t>(config_.handshake_timeout.count()));
  } else {
    on_transport_ready(*t);
  }
  arm_recv(*t);
  app_.accept_callback(t->handle);
  if (!accept_armed_) arm_accept();
}

void network_server::impl::schedule(transport& t, std::uint64_t deadline_ms) {
  if (deadline_ms == 0) {
    timers_.cancel(t.timer);
  } else {
    timers_.schedule(t.timer, deadline_ms);
  }
}

bool network_server::impl::timer_armed(const transport& t) const {
  return timers_.armed(t.timer);
}

void network_server::impl::on_timer(server::timer_id id) {
  // A released id has been cancelled first; the owner is looked up by handle, generation
  // included, so a due id never reaches another connection.
  transport* t = conns_.find(timer_ids_.owner(id));
  if (t == nullptr || t->closing) return;
  if (!t->ready) {
    if (t->preamble) {
      report_error(*t, server::conn_error::proxy_timeout, {});
    } else {
      report_error(*t, server::conn_error::handshake_timeout, {}, log_level::debug);
    }
    close_hard(*t);
    return;
  }
  t->handler->on_timer();
}

void network_server::impl::resume_later(transport& t) {
  if (t.resume_listed) return;
  t.resume_listed = true;
  to_resume_.push_back(t.handle);
}

void network_server::impl::run_deferred() {
  while (!to_resume_.empty()) {
    const client_num_t c = to_resume_.back();
    to_resume_.pop_back();
    transport* t = conns_.find(c);
    if (t == nullptr) continue;
    t->resume_listed = false;
    if (t->closing) continue;
    t->handler->on_resume();
    t->retired.reset();
  }
}

void network_server::impl::swap_handler(transport& t, std::unique_ptr<server::protocol_handler> h) {
  t.retired = std::move(t.handler);
  t.handler = std::move(h);
}

void network_server::impl::tick() {
  if (tls_ && now_ms_ >= next_ticket_check_ms_) {
    // Any loop may rotate the shared ticket keys; only the first past the interval does.
    next_ticket_check_ms_ = now_ms_ + 1000;
    tls_->internal().holder.get()->rotate_ticket_keys(std::chrono::steady_clock::now());
  }
  timers_.advance(now_ms_, [this](std::uint32_t id) { on_timer(id); });
  release_idle();
  release_idle_pools();
  if (!to_finalize_.empty()) finalize_closed();
  if (const std::size_t freed = trimmer_.maybe_trim(now_ms_); freed > 0) {
    NS_LOG(log_level::debug, "gave up to ", freed >> 20, " MiB of free heap back to the kernel");
  }
  if (accept_paused_ && !stopping_ && conns_.available() > 0) arm_accept();
  if (draining_ && mover_ && !mover_failed_) move_ready();
  if (draining_ && !drain_went_away_ && now_ms_ >= drain_deadline_ms_) {
    drain_went_away_ = true;  // what is still open after the grace period: WebSockets (1001)
    // and, with a mover, keep-alive connections that found no clean point to move from: their
    // next response says Connection: close.
    conns_.for_each([this](client_num_t, transport& t) {
      if (!t.open()) return;
      if (mover_) t.handler->drain();
      t.handler->going_away();
    });
  }
  if (stopping_ && now_ms_ >= stop_deadline_ms_) {
    conns_.for_each([this](client_num_t, transport& t) {
      if (!t.closing) close_hard(t);
    });
    if (!to_finalize_.empty()) finalize_closed();
  }
}

void network_server::impl::begin_stop() {
  stopping_ = true;
  stop_deadline_ms_ = now_ms_ + static_cast<std::uint64_t>(config_.shutdown_deadline.count());
  cancel_accept();
  NS_LOG(log_level::info, "shutting down: ", conns_.size(), " connection(s) open");
  // Queued responses still go out (until the deadline); nothing new is read.
  conns_.for_each([this](client_num_t, transport& t) {
    if (t.open()) t.handler->going_away();
    close_graceful(t);
  });
}

void network_server::impl::cancel_accept() {
  if (!accept_armed_) return;
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe != nullptr) {
    io_uring_prep_cancel64(sqe, io::encode({io::op_kind::accept, 0, listener_slot}), 0);
    io_uring_sqe_set_data64(sqe, io::encode({io::op_kind::cancel, 0, listener_slot}));
  }
}

void network_server::impl::begin_drain() {
  draining_ = true;
  drain_deadline_ms_ =
      now_ms_ + static_cast<std::uint64_t>(drain_grace_ms_.load(std::memory_order_relaxed));
  cancel_accept();
  // Another process accepts on the same socket now; our descriptor is only a reference to it
  // (the pending accept holds its own until the cancel completes).
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  NS_LOG(log_level::info, "draining: ", conns_.size(), " connection(s) open");
  {
    std::lock_guard lock(cross_mutex_);
    mover_ = std::move(mover_offered_);
  }
  conns_.for_each([this](client_num_t, transport& t) {
    // One that may move to the other process (HTTP/1.1 or a WebSocket on our TLS 1.3 record
    // layer) keeps its keep-alive: it moves at a clean point (move_ready, on each tick). The
    // rest finish what they do and close (HTTP/2: GOAWAY now).
    const bool may_move = mover_ && t.tls && t.tls->handed_over() &&
                          (t.handler->kind() == server::handler_kind::http1 ||
                           t.handler->kind() == server::handler_kind::websocket);
    if (t.open() && !may_move) t.handler->drain();
  });
  if (mover_) move_ready();
}

int network_server::impl::post(std::function<void()> fn) {
  {
    std::lock_guard lock(cross_mutex_);
    if (stopping_posts_) return -ESHUTDOWN;
    posted_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  return 0;
}

void network_server::impl::run_posted() {
  {
    std::lock_guard lock(cross_mutex_);
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

server::ws_shared& network_server::impl::ws_resources() {
  if (ws_.ready) return ws_;
  ws_.ready = true;
  for (const std::string& o : config_.websocket.allowed_origins) ws_.origins.emplace_back(o);
  if (config_.websocket.deflate == ws_deflate_mode::shared) {
    // One compressor for the loop: with no context takeover its history is reset after every
    // message, so any connection (and any broadcast) can use it (RFC 7692 §7.1.1.1).
    const ws::deflate_options d{config_.websocket.deflate_level, 8,
                                config_.websocket.deflate_threshold};
    ws_.compressor = std::make_unique<ws::deflater>(15, true, d);
  }
  return ws_;
}

}  // namespace ns
