// SPDX-License-Identifier: MIT
// Set-up failures of the io layer end in one clear error (an exception with the errno, or a
// one-line listen_result::error) and leave no resource behind, whatever step failed.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>
#include <system_error>
#include <thread>

#include "io/buffer_ring.hpp"
#include "io/listener.hpp"
#include "io/ring.hpp"

namespace ns::io {
namespace {

int errno_of(const std::system_error& e) {
  return e.code().value();
}

TEST(IoSetupFailure, HintForAnUnexpectedErrnoIsJustTheReason) {
  const std::string msg = ring_setup_hint(EINVAL);
  EXPECT_EQ(msg, std::string("cannot create io_uring: ") + std::strerror(EINVAL));
}

TEST(IoSetupFailure, RingWithZeroEntriesThrowsEinvalAfterEveryFallback) {
  try {
    ring r(0);
    FAIL() << "a ring without entries was created";
  } catch (const std::system_error& e) {
    EXPECT_EQ(errno_of(e), EINVAL);
    EXPECT_NE(std::string(e.what()).find("cannot create io_uring"), std::string::npos) << e.what();
  }
}

TEST(IoSetupFailure, AttachTwiceIsHarmless) {
  ring r(4);
  r.attach_to_current_thread();
  r.attach_to_current_thread();
  io_uring_sqe* sqe = r.get_sqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  EXPECT_EQ(r.submit_and_wait(std::chrono::milliseconds(1000)), 0);
  EXPECT_EQ(r.drain([](const io_uring_cqe& c) { EXPECT_EQ(c.res, 0); }), 1u);
}

TEST(IoSetupFailure, GetSqeOnAnUnusableRingReturnsNull) {
  ring r(2);
  if ((r.setup_flags() & IORING_SETUP_R_DISABLED) == 0) {
    GTEST_SKIP() << "kernel without IORING_SETUP_R_DISABLED: the ring is usable at once";
  }
  // Not attached: the ring is still disabled, so submitting (to make room) fails with EBADFD.
  // get_sqe must report that as nullptr (the caller fails one operation) instead of spinning.
  int got = 0;
  for (int i = 0; i < 8; ++i) {
    io_uring_sqe* sqe = r.get_sqe();
    if (sqe == nullptr) break;
    io_uring_prep_nop(sqe);
    ++got;
  }
  EXPECT_EQ(got, 2) << "only the SQ's own entries can be handed out";
}

TEST(IoSetupFailure, BufferRingCountBounds) {
  ring r(4);
  for (unsigned bad : {0u, 65536u, 6u}) {
    try {
      buffer_ring br(r.raw(), 1, bad, 64);
      ADD_FAILURE() << "count " << bad << " was accepted";
    } catch (const std::system_error& e) {
      EXPECT_EQ(errno_of(e), EINVAL) << bad;
    }
  }
  buffer_ring largest(r.raw(), 2, 32768, 16);
  EXPECT_EQ(largest.buffer_size(), 16u);
}

TEST(IoSetupFailure, BufferGroupIdInUseIsRefusedAndTheFirstKeepsWorking) {
  ring r(4);
  buffer_ring first(r.raw(), 5, 4, 64);
  try {
    buffer_ring second(r.raw(), 5, 4, 64);
    FAIL() << "group 5 registered twice";
  } catch (const std::system_error& e) {
    EXPECT_EQ(errno_of(e), EEXIST);
    EXPECT_NE(std::string(e.what()).find("io_uring_register_buf_ring"), std::string::npos);
  }
  // A different group on the same ring is fine afterwards (nothing half-registered remains).
  buffer_ring third(r.raw(), 6, 4, 64);
  EXPECT_EQ(third.group_id(), 6);
  first.recycle(0);
}

TEST(IoSetupFailure, BufferMemoryThatCannotBeMappedThrows) {
  ring r(4);
  // 32768 buffers of 4 GiB: 128 TiB, the whole user address space, can never be mapped.
  try {
    buffer_ring br(r.raw(), 1, 32768, 0xFFFFFFFFu);
    FAIL() << "128 TiB were mapped";
  } catch (const std::system_error& e) {
    EXPECT_EQ(errno_of(e), ENOMEM);
    EXPECT_NE(std::string(e.what()).find("mmap recv buffers"), std::string::npos) << e.what();
  }
  buffer_ring ok(r.raw(), 1, 2, 64);  // group 1 was not left registered
  EXPECT_EQ(ok.group_id(), 1);
}

TEST(IoSetupFailure, NonLocalAddressCannotBeBound) {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local interface.
  const listen_result l = open_listener("192.0.2.1", 0, false);
  EXPECT_EQ(l.fd, -1);
  EXPECT_NE(l.error.find("cannot bind 192.0.2.1:0"), std::string::npos) << l.error;
  EXPECT_EQ(l.error.find("another server"), std::string::npos)
      << "the busy-port hint is only for EADDRINUSE: " << l.error;
}

// listen() fails after a successful bind only when another socket starts listening on the port
// in between (both bound with SO_REUSEADDR): a race no test can win on purpose. A seccomp filter
// on the calling thread makes listen() fail with that errno instead.
TEST(IoSetupFailure, ListenFailureAfterBindIsAOneLineErrorAndLeavesNoDescriptor) {
  listen_result l;
  int fds_before = -1;
  int fds_after = -1;
  std::thread([&] {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_listen, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EADDRINUSE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    // Both are per thread: the filter ends with this thread.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      l.error = std::string("seccomp: ") + std::strerror(errno);
      return;
    }
    fds_before = dup(0);
    close(fds_before);
    l = open_listener("127.0.0.1", 0, false);
    fds_after = dup(0);
    close(fds_after);
  }).join();
  EXPECT_EQ(l.fd, -1);
  EXPECT_EQ(l.error, std::string("listen: ") + std::strerror(EADDRINUSE));
  EXPECT_EQ(fds_after, fds_before) << "the bound socket was not closed";
}

TEST(IoSetupFailure, NoFreeDescriptorIsAOneLineError) {
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  const int probe = dup(0);
  ASSERT_GE(probe, 0);
  close(probe);
  // Only descriptors below `probe` are allowed, and all of them are open: socket() gets EMFILE.
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  const listen_result l = open_listener("127.0.0.1", 0, false);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_EQ(l.fd, -1);
  EXPECT_EQ(l.error, std::string("socket: ") + std::strerror(EMFILE));
}

}  // namespace
}  // namespace ns::io
