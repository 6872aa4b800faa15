// SPDX-License-Identifier: MIT
// Raw descriptors and application eventfds: the handlers and the API calls that make them.
//
// eventfd_trigger is one of the two methods called from other threads (post is the other,
// loop.cpp). It touches nothing but `cross_mutex_`-guarded state and write(2) to an eventfd;
// the loop thread does the rest.
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/api_guard.hpp"
#include "server/core.hpp"
#include "server/descriptor_handlers.hpp"
#include "server/log.hpp"

namespace ns {
namespace server {

int raw_handler::read(std::span<std::byte> buf, std::span<const iovec> iov, bool vector) {
  if (read_in_flight_) return -EBUSY;
  io_uring_sqe* sqe = core_.sqe_for(t_, io::op_kind::raw_read);
  if (sqe == nullptr) return -EAGAIN;
  if (vector) {
    io_uring_prep_readv(sqe, t_.fd, iov.data(), static_cast<unsigned>(iov.size()), -1);
  } else {
    io_uring_prep_read(sqe, t_.fd, buf.data(), static_cast<unsigned>(buf.size()), -1);
  }
  read_in_flight_ = true;
  read_is_vector_ = vector;
  read_buf_ = buf;
  read_iov_ = iov;
  ++t_.inflight;
  return 0;
}

void raw_handler::on_completion(io::op_kind kind, const io_uring_cqe& cqe) {
  if (kind != io::op_kind::raw_read) return;
  read_in_flight_ = false;
  const bool failed = cqe.res < 0;
  const std::size_t n = failed ? 0 : static_cast<std::size_t>(cqe.res);
  if (failed && cqe.res != -ECANCELED) {
    NS_LOG(log_level::debug, "raw read on handle ", t_.handle, ": ", std::strerror(-cqe.res));
  }
  if (read_is_vector_) {
    core_.app().raw_readv_callback(read_iov_, n, t_.handle, failed);
  } else {
    core_.app().raw_read_callback(read_buf_.first(n), t_.handle, failed);
  }
}

int raw_handler::write(std::span<const iovec> pieces, write_kind kind) {
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (t_.out.queued() + total > core_.config().max_queued_output) return -ENOBUFS;
  for (const iovec& v : pieces) t_.queue({static_cast<const std::byte*>(v.iov_base), v.iov_len});
  t_.out.mark(kind);
  core_.flush(t_);
  return 0;
}

void raw_handler::report_closed(application_methods& app, client_num_t c) {
  app.raw_close_callback(c);
}

int event_handler::prepare(std::uint64_t info) {
  info_ = info;  // a re-prepare while armed only updates the value reported
  if (prepared_) return 0;
  io_uring_sqe* sqe = core_.sqe_for(t_, io::op_kind::event_read);
  if (sqe == nullptr) return -EAGAIN;
  // EFD_SEMAPHORE: each read takes exactly one trigger, so none is merged or lost.
  io_uring_prep_read(sqe, t_.fd, &buf_, sizeof(buf_), 0);
  prepared_ = true;
  ++t_.inflight;
  return 0;
}

void event_handler::on_completion(io::op_kind kind, const io_uring_cqe& cqe) {
  if (kind != io::op_kind::event_read) return;
  prepared_ = false;
  if (cqe.res == static_cast<int>(sizeof(std::uint64_t)) && !t_.closing) {
    core_.app().event_trigger_callback(t_.handle, info_);
    return;
  }
  if (cqe.res < 0 && cqe.res != -ECANCELED) {
    NS_LOG(log_level::warn, "eventfd read: ", std::strerror(-cqe.res));
  }
  core_.app().event_error_close_callback(t_.handle, info_);
  if (!t_.closing) core_.close_hard(t_);
}

void event_handler::fail_owed() {
  // Unpublished before the fd is closed, so a concurrent eventfd_trigger never writes to a
  // descriptor number the process has reused.
  core_.unpublish_eventfd(t_.handle);
}

}  // namespace server

using server::guard;

int network_server::impl::raw_adopt(int fd, client_num_t& out) {
  if (fd < 0) return -EBADF;
  transport* t = open_slot(fd, false);
  if (t == nullptr) return -EMFILE;
  struct stat st {};
  t->write_not_send = !(fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
  t->ready = true;
  t->handler = std::make_unique<server::raw_handler>(*this, *t);
  out = t->handle;
  return 0;
}

int network_server::impl::raw_read(client_num_t c, std::span<std::byte> buf,
                                   std::span<const iovec> iov, bool vector) {
  auto g = guard<server::raw_handler>(*this, c, server::need_open);
  return g ? g->read(buf, iov, vector) : g.err;
}

int network_server::impl::raw_write(client_num_t c, std::span<const iovec> pieces,
                                    server::write_kind kind) {
  auto g = guard<server::raw_handler>(*this, c, server::need_open);
  return g ? g->write(pieces, kind) : g.err;
}

int network_server::impl::raw_close(client_num_t c) {
  auto g = guard<server::raw_handler>(*this, c);
  if (!g) return g.err;
  close_graceful(*g.t);
  return 0;
}

client_num_t network_server::impl::eventfd_open() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
  if (fd < 0) return invalid_client;
  transport* t = open_slot(fd, false);
  if (t == nullptr) {
    ::close(fd);
    errno = EMFILE;
    return invalid_client;
  }
  t->ready = true;
  t->handler = std::make_unique<server::event_handler>(*this, *t);
  std::lock_guard lock(cross_mutex_);
  event_fds_.emplace(t->handle, fd);
  return t->handle;
}

int network_server::impl::eventfd_prepare(client_num_t c, std::uint64_t info) {
  auto g = guard<server::event_handler>(*this, c, server::need_open);
  return g ? g->prepare(info) : g.err;
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
  auto g = guard<server::event_handler>(*this, c);
  if (!g) return g.err;
  close_hard(*g.t);
  return 0;
}

void network_server::impl::unpublish_eventfd(client_num_t c) {
  std::lock_guard lock(cross_mutex_);
  event_fds_.erase(c);
}

}  // namespace ns
