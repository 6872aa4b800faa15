// SPDX-License-Identifier: MIT
#include "server/output_queue.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace ns::server {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(ServerOutputQueue, PartialSendsContinueWhereTheyStopped) {
  output_queue q;
  q.append(bytes("hello world"));
  q.mark(write_kind::http_write);
  std::vector<write_kind> done;
  auto cb = [&](write_kind k) { done.push_back(k); };
  EXPECT_EQ(text(q.next()), "hello world");
  q.on_sent(5, cb);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(text(q.next()), " world");
  q.on_sent(6, cb);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(q.empty());
}

TEST(ServerOutputQueue, WritesDuringASendKeepTheirOrder) {
  output_queue q;
  std::vector<write_kind> done;
  auto cb = [&](write_kind k) { done.push_back(k); };
  q.append(bytes("AAA"));
  q.mark(write_kind::http_write);
  auto first = q.next();  // in flight
  q.append(bytes("BBB"));
  q.mark(write_kind::http_writev);
  EXPECT_EQ(text(first), "AAA");  // the in-flight view is untouched by the later write
  q.on_sent(3, cb);
  ASSERT_EQ(done, std::vector<write_kind>{write_kind::http_write});
  EXPECT_EQ(text(q.next()), "BBB");
  q.on_sent(3, cb);
  EXPECT_EQ(done, (std::vector<write_kind>{write_kind::http_write, write_kind::http_writev}));
}

TEST(ServerOutputQueue, EveryMarkFiresExactlyOnceAlsoOnFailure) {
  output_queue q;
  int ok = 0, failed = 0;
  for (int i = 0; i < 4; ++i) {
    q.append(bytes("xx"));
    q.mark(write_kind::http_write);
  }
  (void)q.next();
  q.on_sent(3, [&](write_kind) { ++ok; });
  q.fail_all([&](write_kind) { ++failed; });
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(failed, 3);
  EXPECT_TRUE(q.empty());
  q.fail_all([&](write_kind) { ++failed; });
  EXPECT_EQ(failed, 3);
}

TEST(ServerOutputQueue, PrepareCommitAppendsInPlace) {
  output_queue q;
  auto room = q.prepare(10);
  std::memcpy(room.data(), "abcdefghij", 10);
  q.commit(4);  // only part of the room was used
  EXPECT_EQ(q.queued(), 4u);
  EXPECT_EQ(text(q.next()), "abcd");
}

TEST(ServerOutputQueue, TrimReleasesLargeBuffersOnlyWhenIdle) {
  output_queue q;
  q.append(bytes(std::string(100000, 'z')));
  q.mark(write_kind::internal);
  q.trim();
  EXPECT_EQ(q.queued(), 100000u);  // not idle: nothing dropped
  (void)q.next();
  q.on_sent(100000, [](write_kind) {});
  q.trim();
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.next().empty());
}

// A large buffer of a connection that went idle is kept by the thread's pool, and the next
// connection that needs one takes it instead of allocating (no malloc, page faults or copies
// per bulk response).
TEST(ServerOutputQueue, IdleLargeBuffersAreReusedThroughThePool) {
  const std::string big(100000, 'y');
  {
    output_queue q;
    q.append(bytes(big));
    EXPECT_EQ(text(q.next()), big);
    q.on_sent(big.size(), [](write_kind) {});
    q.trim();
  }
  const std::size_t pooled = output_queue::pooled_bytes();
  EXPECT_GE(pooled, big.size());
  output_queue other;
  other.append(bytes(big));
  EXPECT_LT(output_queue::pooled_bytes(), pooled);  // taken from the pool
  EXPECT_EQ(text(other.next()), big);
}

// The pool is freed by a loop's periodic call only after a period in which nobody used it.
TEST(ServerOutputQueue, UnusedPoolIsFreedAfterAQuietPeriod) {
  output_queue::release_unused_pool();  // start from a quiet state
  output_queue::release_unused_pool();
  const std::string big(100000, 'z');
  {
    output_queue q;
    q.append(bytes(big));
    q.on_sent(big.size(), [](write_kind) {});
    q.trim();  // gives the large buffer to the pool
  }
  ASSERT_GE(output_queue::pooled_bytes(), big.size());
  EXPECT_EQ(output_queue::release_unused_pool(), 0u);  // used during this period: kept
  EXPECT_GE(output_queue::pooled_bytes(), big.size());
  EXPECT_GE(output_queue::release_unused_pool(), big.size());  // a quiet period: freed
  EXPECT_EQ(output_queue::pooled_bytes(), 0u);
}

TEST(ServerOutputQueue, GrowingKeepsTheBytesInOrder) {
  output_queue q;
  std::string all;
  for (int i = 0; i < 200; ++i) {
    const std::string piece(997, static_cast<char>('a' + i % 26));
    q.append(bytes(piece));
    all += piece;
  }
  EXPECT_EQ(q.queued(), all.size());
  EXPECT_EQ(text(q.next()), all);
}

}  // namespace
}  // namespace ns::server
