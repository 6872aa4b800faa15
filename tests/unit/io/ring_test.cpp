// SPDX-License-Identifier: MIT
#include "io/ring.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "io/buffer_ring.hpp"
#include "io/op.hpp"

namespace ns::io {

TEST(IoRing, SetupHintNamesTheLikelyCause) {
  EXPECT_NE(ring_setup_hint(EPERM).find("io_uring_disabled"), std::string::npos);
  EXPECT_NE(ring_setup_hint(ENOSYS).find("kernel"), std::string::npos);
  EXPECT_NE(ring_setup_hint(ENOMEM).find("ulimit -l"), std::string::npos);
}

TEST(IoRing, GetSqeSurvivesAFullSubmissionQueue) {
  ring r(4);
  r.attach_to_current_thread();
  // More NOPs than the SQ holds: get_sqe must submit to make room instead of failing.
  for (int i = 0; i < 64; ++i) {
    io_uring_sqe* sqe = r.get_sqe();
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(i));
    if (i % 3 == 0) r.drain([](const io_uring_cqe&) {});
  }
  ASSERT_EQ(r.submit(), 0);
}

TEST(IoRing, CanBeBuiltOnOneThreadAndDrivenFromAnother) {
  ring r(8);
  int rc = -1;
  std::thread t([&] {
    r.attach_to_current_thread();
    io_uring_sqe* sqe = r.get_sqe();
    io_uring_prep_nop(sqe);
    rc = r.submit_and_wait(std::chrono::milliseconds(1000));
    r.drain([](const io_uring_cqe&) {});
  });
  t.join();
  EXPECT_EQ(rc, 0);
}

TEST(IoRing, WaitTimesOutWithoutCompletions) {
  ring r(8);
  r.attach_to_current_thread();
  EXPECT_EQ(r.submit_and_wait(std::chrono::milliseconds(20)), -ETIME);
}

TEST(IoBufferRing, MultishotRecvUsesAndRecyclesProvidedBuffers) {
  ring r(16);
  buffer_ring br(r.raw(), 3, 2, 64);
  r.attach_to_current_thread();  // only two small buffers: forces ENOBUFS and re-arm
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto arm = [&] {
    io_uring_sqe* sqe = r.get_sqe();
    io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 3;
    io_uring_sqe_set_data64(sqe, encode({op_kind::recv, 1, 1}));
  };
  arm();
  std::string sent;
  std::string received;
  for (int round = 0; round < 20; ++round) {
    std::string chunk(50, static_cast<char>('a' + round));
    sent += chunk;
    ASSERT_EQ(write(sv[1], chunk.data(), chunk.size()), 50);
    while (received.size() < sent.size()) {
      ASSERT_EQ(r.submit_and_wait(std::chrono::milliseconds(2000)), 0);
      bool rearm = false;
      r.drain([&](const io_uring_cqe& cqe) {
        if (cqe.res > 0) {
          ASSERT_TRUE(cqe.flags & IORING_CQE_F_BUFFER);
          const auto id = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
          auto v = br.view(id, static_cast<std::size_t>(cqe.res));
          received.append(reinterpret_cast<const char*>(v.data()), v.size());
          br.recycle(id);
        }
        if (!(cqe.flags & IORING_CQE_F_MORE)) rearm = true;
      });
      if (rearm) arm();
    }
  }
  EXPECT_EQ(received, sent);
  close(sv[0]);
  close(sv[1]);
}

TEST(IoBufferRing, RejectsCountThatIsNotAPowerOfTwo) {
  ring r(8);
  EXPECT_THROW(buffer_ring(r.raw(), 1, 3, 64), std::system_error);
}

}  // namespace ns::io
