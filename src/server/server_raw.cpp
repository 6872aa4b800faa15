// SPDX-License-Identifier: MIT
// The parts of the API that are not HTTP or WebSocket: descriptors the application hands in,
// application eventfds, and post() — the thread-safe way into the loop.
//
// eventfd_trigger and post are the only methods called from other threads. They touch nothing
// but `cross_mutex_`-guarded state and write(2) to an eventfd; the loop thread does the rest.
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {

io_uring_sqe* network_server::impl::sqe_for(client_num_t c, io::op_kind kind) {
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return nullptr;
  io_uring_sqe_set_data64(sqe, io::encode({kind, static_cast<std::uint32_t>(c >> 32),
                                           static_cast<std::uint32_t>(c)}));
  return sqe;
}

int network_server::impl::raw_adopt(int fd, client_num_t& out) {
  if (fd < 0) return -EBADF;
  auto handle = conns_.emplace(fd, config_.http, server::conn_kind::raw);
  if (!handle) return -EMFILE;
  conn& k = *conns_.find(*handle);
  k.phase = server::conn_phase::responding;  // no timeouts on raw fds
  struct stat st {};
  k.raw_is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  out = *handle;
  return 0;
}

int network_server::impl::raw_read(client_num_t c, std::span<std::byte> buf,
                                   std::span<const iovec> iov, bool vector) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::raw) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (k->raw_read_in_flight) return -EBUSY;
  io_uring_sqe* sqe = sqe_for(c, io::op_kind::raw_read);
  if (sqe == nullptr) return -EAGAIN;
  if (vector) {
    io_uring_prep_readv(sqe, k->fd, iov.data(), static_cast<unsigned>(iov.size()), -1);
  } else {
    io_uring_prep_read(sqe, k->fd, buf.data(), static_cast<unsigned>(buf.size()), -1);
  }
  k->raw_read_in_flight = true;
  k->raw_read_is_vector = vector;
  k->raw_read_buf = buf;
  k->raw_read_iov = iov;
  ++k->inflight;
  return 0;
}

void network_server::impl::on_raw_read(client_num_t c, conn& k, const io_uring_cqe& cqe) {
  --k.inflight;
  k.raw_read_in_flight = false;
  const bool failed = cqe.res < 0;
  const std::size_t n = failed ? 0 : static_cast<std::size_t>(cqe.res);
  if (failed && cqe.res != -ECANCELED) {
    NS_LOG(log_level::debug, "raw read on handle ", c, ": ", std::strerror(-cqe.res));
  }
  if (k.raw_read_is_vector) {
    app_.raw_readv_callback(k.raw_read_iov, n, c, failed);
  } else {
    app_.raw_read_callback(k.raw_read_buf.first(n), c, failed);
  }
}

int network_server::impl::raw_write(client_num_t c, std::span<const iovec> pieces,
                                    server::write_kind kind) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::raw) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (k->out.queued() + total > config_.max_queued_output) return -ENOBUFS;
  for (const iovec& v : pieces) queue_plain(*k, {static_cast<const std::byte*>(v.iov_base), v.iov_len});
  k->out.mark(kind);
  flush(c, *k);
  return 0;
}

int network_server::impl::raw_close(client_num_t c) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::raw) return -EBADF;
  close_graceful(c, *k);
  return 0;
}

client_num_t network_server::impl::eventfd_open() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
  if (fd < 0) return invalid_client;
  auto handle = conns_.emplace(fd, config_.http, server::conn_kind::event);
  if (!handle) {
    ::close(fd);
    errno = EMFILE;
    return invalid_client;
  }
  conns_.find(*handle)->phase = server::conn_phase::responding;  // no timeouts
  std::lock_guard lock(cross_mutex_);
  event_fds_.emplace(*handle, fd);
  return *handle;
}

int network_server::impl::eventfd_prepare(client_num_t c, std::uint64_t info) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::event) return -EBADF;
  if (k->closing) return -EPIPE;
  k->event_info = info;  // a re-prepare while armed only updates the value reported
  if (k->event_prepared) return 0;
  io_uring_sqe* sqe = sqe_for(c, io::op_kind::event_read);
  if (sqe == nullptr) return -EAGAIN;
  // EFD_SEMAPHORE: each read takes exactly one trigger, so none is merged or lost.
  io_uring_prep_read(sqe, k->fd, &k->event_buf, sizeof(k->event_buf), 0);
  k->event_prepared = true;
  ++k->inflight;
  return 0;
}

void network_server::impl::on_event_read(client_num_t c, conn& k, const io_uring_cqe& cqe) {
  --k.inflight;
  k.event_prepared = false;
  if (cqe.res == static_cast<int>(sizeof(std::uint64_t)) && !k.closing) {
    app_.event_trigger_callback(c, k.event_info);
    return;
  }
  if (cqe.res < 0 && cqe.res != -ECANCELED) {
    NS_LOG(log_level::warn, "eventfd read: ", std::strerror(-cqe.res));
  }
  app_.event_error_close_callback(c, k.event_info);
  if (!k.closing) close_hard(c, k);
}

int network_server::impl::eventfd_trigger(client_num_t c) {
  std::lock_guard lock(cross_mutex_);
  auto it = event_fds_.find(c);
  if (it == event_fds_.end()) return -EBADF;
  const std::uint64_t one = 1;
  if (::write(it->second, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) return -errno;
  return 0;
}

int network_server::impl::eventfd_close(client_num_t c) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::event) return -EBADF;
  close_hard(c, *k);
  return 0;
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

}  // namespace ns
