// SPDX-License-Identifier: MIT
#include "cluster/redis_link.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <utility>

namespace ns::cluster {
namespace {

// A Redis host that vanishes without a reset (a cable, a frozen VM) is noticed by TCP
// keepalive within ~25 s instead of the kernel's two hours. Best effort: a unix socket has no
// TCP options, and a failure only costs the early detection.
void enable_keepalive(int fd) {
  const int on = 1, idle = 10, interval = 5, count = 3;
  (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

redis_link& link_of(const redisAsyncContext* ac) {
  return *static_cast<redis_link*>(ac->data);
}

}  // namespace

redis_link::redis_link(io::ring& ring, const redis_endpoint& where, link_role role,
                       std::string name, link_owner& owner, link_timing timing, std::uint32_t seed)
    : ring_(ring),
      where_(where),
      role_(role),
      name_(std::move(name)),
      owner_(owner),
      timing_(timing),
      rng_(seed) {}

void redis_link::connect() {
  if (state_ == state::closed) return;
  redisAsyncContext* ac = where_.is_unix() ? redisAsyncConnectUnix(where_.unix_path.c_str())
                                           : redisAsyncConnect(where_.host.c_str(), where_.port);
  if (ac == nullptr || ac->err != 0) {
    failed_before_attach(ac);
    return;
  }
  attach(ac);
  state_ = state::connecting;
  deadline_ = clock::now() + timing_.connect_timeout;
}

// connect(2) refused at once (nothing listens on a loopback port, no such socket file): the
// context never reached our ring, so no hook will report it.
void redis_link::failed_before_attach(redisAsyncContext* ac) {
  std::string why = ac != nullptr ? ac->errstr : "out of memory";
  if (ac != nullptr) redisAsyncFree(ac);
  state_ = state::waiting;
  deadline_ = clock::now() + next_backoff();
  owner_.link_down(*this, why, false);
}

void redis_link::attach(redisAsyncContext* ac) {
  ctx_ = ac;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = hook_add_read;
  ac->ev.delRead = hook_del_read;
  ac->ev.addWrite = hook_add_write;
  ac->ev.delWrite = hook_del_write;
  ac->ev.cleanup = hook_cleanup;
  // The first writable event means connect(2) finished: hiredis asks for it here (addWrite).
  redisAsyncSetConnectCallback(ac, on_connect);
}

void redis_link::on_connect(const redisAsyncContext* ac, int status) {
  redis_link& self = link_of(ac);
  if (status != REDIS_OK) {
    self.why_ = ac->c.errstr;  // hiredis frees the context next: hook_cleanup reports it
    return;
  }
  if (!self.where_.is_unix()) enable_keepalive(ac->c.fd);
  self.state_ = state::handshaking;
  self.send_handshake();
}

// AUTH and SELECT when the URL asks for them, then CLIENT SETNAME: the link is ready when all
// have answered, so nothing of ours is ever sent on a connection that is not logged in, and
// every reply in the handshake has a callback waiting (hiredis 0.14 aborts on an unexpected
// one).
void redis_link::send_handshake() {
  if (!where_.password.empty()) {
    const std::string& user = where_.user;
    const std::string& pass = where_.password;
    if (user.empty()) {
      handshake_command("AUTH", {"AUTH", pass.data()}, {4, pass.size()});
    } else {
      handshake_command("AUTH", {"AUTH", user.data(), pass.data()}, {4, user.size(), pass.size()});
    }
  }
  if (where_.db != 0) {
    const std::string db = std::to_string(where_.db);
    handshake_command("SELECT", {"SELECT", db.c_str()}, {6, db.size()});
  }
  handshake_command("CLIENT SETNAME", {"CLIENT", "SETNAME", name_.c_str()}, {6, 7, name_.size()});
}

// @p step (a string literal) names the command in the reason given when it is refused.
void redis_link::handshake_command(const char* step, std::initializer_list<const char*> argv,
                                   std::initializer_list<std::size_t> lens) {
  // hiredis 0.14 takes `const char**` but only reads the array.
  if (redisAsyncCommandArgv(
          ctx_, on_handshake_reply, const_cast<char*>(step), static_cast<int>(argv.size()),
          const_cast<const char**>(std::data(argv)), std::data(lens)) == REDIS_OK) {
    ++handshake_pending_;
  }
}

void redis_link::on_handshake_reply(redisAsyncContext* ac, void* reply, void* step) {
  if (reply == nullptr) return;  // the context is being freed: hook_cleanup reports it
  redis_link& self = link_of(ac);
  const auto* r = static_cast<const redisReply*>(reply);
  --self.handshake_pending_;
  if (r->type == REDIS_REPLY_ERROR) {
    if (self.why_.empty()) {
      self.why_ =
          std::string(static_cast<const char*>(step)) + " refused: " + std::string(r->str, r->len);
    }
    redisAsyncDisconnect(ac);  // inside a callback: hiredis disconnects once it returns
    return;
  }
  if (self.handshake_pending_ != 0 || !self.why_.empty()) return;
  self.state_ = state::ready;
  self.failures_ = 0;
  self.deadline_.reset();
  self.owner_.link_ready(self);
}

void redis_link::hook_add_read(void* p) {
  auto& self = *static_cast<redis_link*>(p);
  self.want_read_ = true;
  if (!self.read_armed_) self.arm(false);
}

void redis_link::hook_del_read(void* p) {
  static_cast<redis_link*>(p)->want_read_ = false;
}

void redis_link::hook_add_write(void* p) {
  auto& self = *static_cast<redis_link*>(p);
  self.want_write_ = true;
  if (!self.write_armed_) self.arm(true);
}

void redis_link::hook_del_write(void* p) {
  static_cast<redis_link*>(p)->want_write_ = false;
}

void redis_link::hook_cleanup(void* p) {
  static_cast<redis_link*>(p)->went_down();
}

void redis_link::arm(bool write) {
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return;  // the ring is overflowing: on_time arms it again (deadline now)
  io_uring_prep_poll_add(sqe, ctx_->c.fd, write ? POLLOUT : POLLIN);
  io_uring_sqe_set_data64(sqe,
                          encode_op(write ? ring_op::poll_write : ring_op::poll_read, role_, gen_));
  (write ? write_armed_ : read_armed_) = true;
  ++in_flight_;
}

// A poll armed on a context's fd holds the socket open in the kernel even after hiredis
// closed the fd, until the poll completes: cancel it.
void redis_link::cancel(ring_op op) {
  io_uring_sqe* sqe = ring_.get_sqe();
  if (sqe == nullptr) return;  // overflowing ring: the poll ends when its socket wakes it
  io_uring_prep_cancel64(sqe, encode_op(op, role_, gen_), 0);
  io_uring_sqe_set_data64(sqe, encode_op(ring_op::cancel, role_, gen_));
  ++in_flight_;
}

// hiredis is freeing ctx_ (after an error, a close by Redis, or our own redisAsyncFree).
void redis_link::went_down() {
  const bool was_ready = state_ == state::ready;
  if (why_.empty() && ctx_ != nullptr && ctx_->c.err != 0) why_ = ctx_->c.errstr;
  if (why_.empty()) why_ = "connection closed";
  if (read_armed_) cancel(ring_op::poll_read);
  if (write_armed_) cancel(ring_op::poll_write);
  read_armed_ = write_armed_ = want_read_ = want_write_ = false;
  ctx_ = nullptr;
  ++gen_;  // whatever still completes for the old context is stale from now on
  handshake_pending_ = 0;
  std::string why = std::move(why_);
  why_.clear();
  if (state_ == state::closed) return;
  state_ = state::waiting;
  deadline_ = clock::now() + next_backoff();
  owner_.link_down(*this, why, was_ready);
}

void redis_link::on_completion(const io_uring_cqe& cqe) {
  --in_flight_;
  const ring_op op = op_of(cqe.user_data);
  if (op == ring_op::cancel || static_cast<std::uint32_t>(cqe.user_data) != gen_ ||
      ctx_ == nullptr) {
    return;
  }
  const bool write = op == ring_op::poll_write;
  (write ? write_armed_ : read_armed_) = false;
  if (cqe.res < 0) {
    // A poll that cannot be made on this fd would otherwise complete again at once, forever.
    why_ = std::string("poll failed: ") + std::strerror(-cqe.res);
    redisAsyncFree(ctx_);
    return;
  }
  // hiredis reads or writes once and asks again (addRead/addWrite) while it wants more.
  if (write && want_write_) redisAsyncHandleWrite(ctx_);
  if (!write && want_read_) read_available();
}

// hiredis reads at most 16 KiB per call: a large message would cost a poll round trip per
// 16 KiB. While the socket still holds bytes, read again at once — up to 1 MiB per wake-up, so
// one busy link does not starve the other and the hub's queue. (A 16 MiB message: 3.2 s → 2.2 s
// end to end in the ASan build.)
void redis_link::read_available() {
  const std::uint32_t gen = gen_;
  for (int reads = 0; reads < 64; ++reads) {
    redisAsyncHandleRead(ctx_);
    int pending = 0;
    if (gen != gen_ || ctx_ == nullptr || ioctl(ctx_->c.fd, FIONREAD, &pending) != 0 ||
        pending <= 0) {
      return;  // drained, or the context went away while reading (error, EOF, kicked)
    }
  }
}

void redis_link::on_time(clock::time_point now) {
  const bool due = deadline_ && now >= *deadline_;
  if (due && state_ == state::waiting) {
    connect();
  } else if (due && (state_ == state::connecting || state_ == state::handshaking)) {
    why_ = "not ready within " + std::to_string(timing_.connect_timeout.count()) + " ms";
    redisAsyncFree(ctx_);  // → hook_cleanup → went_down: reported, retried
  }
  if (ctx_ != nullptr && want_read_ && !read_armed_) arm(false);
  if (ctx_ != nullptr && want_write_ && !write_armed_) arm(true);
}

std::optional<redis_link::clock::time_point> redis_link::deadline() const noexcept {
  if (ctx_ != nullptr && ((want_read_ && !read_armed_) || (want_write_ && !write_armed_))) {
    return clock::now();  // a poll is owed (the ring had no room): arm it next turn
  }
  if (state_ == state::ready || state_ == state::closed) return std::nullopt;
  return deadline_;
}

void redis_link::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  deadline_.reset();
  if (ctx_ != nullptr) redisAsyncFree(ctx_);  // pending callbacks get NULL, then hook_cleanup
}

redis_link::clock::duration redis_link::next_backoff() {
  // reconnect_min · 2^failures, at most reconnect_max; then a uniform draw in [½, 1] of it.
  const unsigned shift = failures_ < 16 ? failures_ : 16;
  ++failures_;
  auto base = timing_.reconnect_min * (1LL << shift);
  if (base > timing_.reconnect_max) base = timing_.reconnect_max;
  const auto ms = base.count();
  std::uniform_int_distribution<long long> draw(ms / 2, ms);
  return std::chrono::milliseconds(draw(rng_));
}

}  // namespace ns::cluster
