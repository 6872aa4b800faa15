// SPDX-License-Identifier: MIT
#include "io/ring.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace ns::io {

std::string ring_setup_hint(int err) {
  std::string msg = "cannot create io_uring: ";
  msg += std::strerror(err);
  switch (err) {
    case EPERM:
    case EACCES:
      msg += " (io_uring is disabled: check sysctl kernel.io_uring_disabled, seccomp profiles, "
             "or container runtime settings)";
      break;
    case ENOSYS:
      msg += " (this kernel has no io_uring: Linux 6.0 or newer is required)";
      break;
    case ENOMEM:
      msg += " (raise the locked-memory limit, ulimit -l, or use fewer ring entries)";
      break;
    default:
      break;
  }
  return msg;
}

ring::ring(unsigned entries) {
  // Newest flags first; each fallback keeps working semantics, only loses speed.
  // R_DISABLED: the ring is built on one thread and driven by another (the loop); the single
  // issuer becomes whichever thread enables it in attach_to_current_thread().
  const unsigned attempts[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
          IORING_SETUP_R_DISABLED,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      0u,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == 0) {
      flags_ = flags;
      break;
    }
    if (rc != -EINVAL) break;  // only "unknown flag" is worth a retry
  }
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), ring_setup_hint(-rc));
}

void ring::attach_to_current_thread() {
  if (attached_) return;
  attached_ = true;
  if (flags_ & IORING_SETUP_R_DISABLED) {
    // Debian's liburing 2.3 declares io_uring_enable_rings but does not export it.
    (void)syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  }
  // Registered ring fds are per thread: register from the thread that calls io_uring_enter.
  // Best effort: it only saves an fdget per io_uring_enter.
  (void)io_uring_register_ring_fd(&ring_);
}

ring::~ring() { io_uring_queue_exit(&ring_); }

io_uring_sqe* ring::get_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    // SQ full: hand the queued entries to the kernel and try again.
    int rc = io_uring_submit(&ring_);
    // -EBUSY/-EAGAIN: the CQ is overflowing; the caller's loop reaps it. Anything else means
    // the ring itself is unusable; the caller fails the one operation instead of aborting.
    if (rc < 0 && rc != -EINTR) return nullptr;
  }
}

int ring::submit() {
  int rc = io_uring_submit(&ring_);
  return rc < 0 ? rc : 0;
}

int ring::submit_and_wait(std::chrono::milliseconds timeout) {
  __kernel_timespec ts{};
  ts.tv_sec = static_cast<long long>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long long>((timeout.count() % 1000) * 1'000'000);
  io_uring_cqe* cqe = nullptr;
  int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  if (rc == -ETIME) return -ETIME;
  return rc < 0 ? rc : 0;
}

}  // namespace ns::io
