// SPDX-License-Identifier: MIT
#include "io/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ns::io {

TEST(IoTimerWheel, FiresAtDeadlineNotBefore) {
  timer_wheel w(8, 10, 16, 1000);
  w.schedule(3, 1055);
  std::vector<std::uint32_t> fired;
  w.advance(1050, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_TRUE(fired.empty());
  w.advance(1060, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, std::vector<std::uint32_t>{3});
  EXPECT_FALSE(w.armed(3));
}

TEST(IoTimerWheel, RescheduleAndCancel) {
  timer_wheel w(8, 10, 16, 0);
  w.schedule(1, 50);
  w.schedule(2, 50);
  w.schedule(1, 500);  // moved later
  w.cancel(2);
  std::vector<std::uint32_t> fired;
  w.advance(100, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_TRUE(fired.empty());
  w.advance(510, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, std::vector<std::uint32_t>{1});
}

TEST(IoTimerWheel, PushedLaterFiresOnlyAtTheNewDeadline) {
  // Activity re-arms a connection's timer again and again with later deadlines, some more
  // than a turn of the wheel away; each must fire once, at its last deadline.
  timer_wheel w(4, 10, 4, 0);  // one turn = 40 ms
  w.schedule(0, 20);
  w.schedule(1, 20);
  w.schedule(0, 25);   // same bucket
  w.schedule(1, 115);  // nearly three turns on, another bucket
  w.schedule(2, 30);
  w.schedule(2, 70);  // the bucket of 30 comes round before 70's
  std::vector<std::pair<std::uint64_t, std::uint32_t>> fired;
  for (std::uint64_t t = 0; t <= 200; t += 5) {
    w.advance(t, [&](std::uint32_t i) { fired.emplace_back(t, i); });
    if (t == 60) w.schedule(2, 90);  // pushed again after a move to its new bucket
  }
  const std::vector<std::pair<std::uint64_t, std::uint32_t>> expected = {
      {25, 0}, {90, 2}, {115, 1}};
  EXPECT_EQ(fired, expected);
}

TEST(IoTimerWheel, PulledEarlierIsMovedAtOnce) {
  timer_wheel w(2, 10, 16, 0);
  w.schedule(0, 150);
  w.schedule(0, 30);
  EXPECT_EQ(w.deadline(0), 30u);
  std::vector<std::uint32_t> fired;
  w.advance(30, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, std::vector<std::uint32_t>{0});
  EXPECT_FALSE(w.armed(0));
}

TEST(IoTimerWheel, DeadlinesBeyondOneTurnWaitForTheirTurn) {
  timer_wheel w(4, 10, 4, 0);  // one turn = 40 ms
  w.schedule(0, 125);
  std::vector<std::uint32_t> fired;
  for (std::uint64_t t = 0; t <= 120; t += 10) {
    w.advance(t, [&](std::uint32_t i) { fired.push_back(i); });
  }
  EXPECT_TRUE(fired.empty());
  w.advance(130, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired, std::vector<std::uint32_t>{0});
}

TEST(IoTimerWheel, ManyTimersInOneBucketAllFireEvenWhenCallbacksCancelOthers) {
  timer_wheel w(100, 10, 8, 0);
  for (std::uint32_t i = 0; i < 100; ++i) w.schedule(i, 20);
  std::vector<int> count(100, 0);
  w.advance(25, [&](std::uint32_t i) {
    ++count[i];
    if (i % 2 == 0 && i + 1 < 100) w.cancel(i + 1);  // a callback closing a neighbour
  });
  int total = 0;
  for (int c : count) total += c;
  EXPECT_GE(total, 50);
  for (std::uint32_t i = 0; i < 100; ++i) {
    EXPECT_FALSE(w.armed(i));
    EXPECT_LE(count[i], 1);
  }
}

TEST(IoTimerWheel, LongJumpFiresEverythingDue) {
  timer_wheel w(3, 10, 4, 0);
  w.schedule(0, 15);
  w.schedule(1, 35);
  w.schedule(2, 10'000);
  std::vector<std::uint32_t> fired;
  w.advance(5'000, [&](std::uint32_t i) { fired.push_back(i); });
  EXPECT_EQ(fired.size(), 2u);
  EXPECT_TRUE(w.armed(2));
}

}  // namespace ns::io
