// SPDX-License-Identifier: MIT
#pragma once
// One io_uring per server thread.
//
// Set-up asks for IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (completions are run
// only when we wait, so a burst of CQEs is reaped in one batch) and falls back to COOP_TASKRUN
// and then to no flags on older kernels, as Seastar's try_create_uring does. The ring fd is
// registered so io_uring_enter skips the fd lookup. A full submission queue is never fatal:
// get_sqe() submits what is queued and retries (STYLE.md anti-pattern 4).

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace ns::io {

class ring {
 public:
  /// Creates the ring; throws std::system_error with a one-line message and a hint when the
  /// kernel refuses (io_uring disabled by sysctl or seccomp, memlock limits).
  explicit ring(unsigned entries);
  ~ring();
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  /// Makes the calling thread the ring's submitter (enables a ring created disabled and
  /// registers the ring fd for this thread). Call once on the loop thread before any submit.
  void attach_to_current_thread();

  /// An SQE to fill. When the SQ is full it submits the queued SQEs to make room; null only when
  /// the kernel refuses to take more (CQ overflow): the caller then fails that one operation.
  io_uring_sqe* get_sqe();

  /// Submits queued SQEs and waits until at least one CQE is ready or @p timeout elapses.
  /// Returns 0, -ETIME on timeout, or -errno (-EINTR is reported, not fatal).
  int submit_and_wait(std::chrono::milliseconds timeout);

  /// Submits without waiting.
  int submit();

  /// Calls f(cqe) for every ready CQE, then marks them seen. Returns how many were seen.
  template <class F>
  unsigned drain(F&& f) {
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      f(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    return seen;
  }

  io_uring* raw() noexcept { return &ring_; }
  [[nodiscard]] unsigned setup_flags() const noexcept { return flags_; }

 private:
  io_uring ring_{};
  unsigned flags_ = 0;
  bool attached_ = false;
};

/// One line for an errno from io_uring_queue_init, with a hint about what to check.
std::string ring_setup_hint(int err);

}  // namespace ns::io
