// SPDX-License-Identifier: MIT
#include <network_server/histogram.hpp>

#include <gtest/gtest.h>

#include <network_server/stats.hpp>

namespace ns {
namespace {

constexpr std::uint64_t bounds3[] = {10, 100, 1000};
constexpr histogram_layout layout3{bounds3, 1.0};

TEST(Histogram, BoundsAreInclusiveAndAboveTheLastGoesToInf) {
  histogram h(layout3);
  for (std::uint64_t v : {0u, 10u, 11u, 100u, 101u, 1000u, 1001u, 5000u}) h.observe(v);
  ASSERT_EQ(h.bounds(), 3u);
  EXPECT_EQ(h.bucket(0), 2u);  // 0, 10
  EXPECT_EQ(h.bucket(1), 2u);  // 11, 100
  EXPECT_EQ(h.bucket(2), 2u);  // 101, 1000
  EXPECT_EQ(h.bucket(3), 2u);  // 1001, 5000
  EXPECT_EQ(h.count(), 8u);
  EXPECT_EQ(h.sum(), 0u + 10 + 11 + 100 + 101 + 1000 + 1001 + 5000);
}

TEST(Histogram, CumulativeIsWhatLeMeans) {
  histogram h(layout3);
  for (std::uint64_t v : {5u, 50u, 50u, 500u, 5000u, 6000u, 7000u}) h.observe(v);
  EXPECT_EQ(h.cumulative(0), 1u);
  EXPECT_EQ(h.cumulative(1), 3u);
  EXPECT_EQ(h.cumulative(2), 4u);
  EXPECT_EQ(h.cumulative(3), 7u);
  EXPECT_EQ(h.cumulative(99), h.count());  // past the end: everything
}

TEST(Histogram, MergeAddsCountsAndSumOfTheSameLayoutOnly) {
  histogram a(layout3), b(layout3), other(size_layout);
  a.observe(5);
  a.observe(500);
  b.observe(5);
  b.observe(2000);
  other.observe(1);
  EXPECT_TRUE(a.merge(b));
  EXPECT_EQ(a.bucket(0), 2u);
  EXPECT_EQ(a.bucket(2), 1u);
  EXPECT_EQ(a.bucket(3), 1u);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.sum(), 2510u);
  EXPECT_FALSE(a.merge(other));  // buckets of another layout do not line up
  EXPECT_EQ(a.count(), 4u);
}

TEST(Histogram, LayoutsOfTheServerAreAscendingAndFit) {
  for (const histogram_layout* l : {&duration_layout, &size_layout}) {
    ASSERT_LE(l->bounds.size(), histogram::max_bounds);
    for (std::size_t i = 1; i < l->bounds.size(); ++i) EXPECT_LT(l->bounds[i - 1], l->bounds[i]);
  }
  histogram h(duration_layout);
  h.observe(1'000'000);  // 1 ms: in the bucket whose bound is exactly 1 ms
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(duration_layout.bounds[3], 1'000'000u);
}

TEST(Histogram, TooManyBoundsKeepTheFirstOnes) {
  std::uint64_t many[histogram::max_bounds + 5];
  for (std::size_t i = 0; i < std::size(many); ++i) many[i] = i + 1;
  const histogram_layout big{many, 1.0};
  histogram h(big);
  EXPECT_EQ(h.bounds(), histogram::max_bounds);
  h.observe(histogram::max_bounds + 3);  // beyond the kept bounds: +Inf, no overflow
  EXPECT_EQ(h.bucket(histogram::max_bounds), 1u);
}

TEST(Histogram, ServerStatsStartEmptyWithTheirLayouts) {
  const server_histograms s;
  for (const histogram& h : s.request_seconds) {
    EXPECT_EQ(&h.layout(), &duration_layout);
    EXPECT_EQ(h.count(), 0u);
  }
  EXPECT_EQ(&s.tls_handshake_seconds.layout(), &duration_layout);
  EXPECT_EQ(&s.ws_message_in_bytes.layout(), &size_layout);
  EXPECT_EQ(&s.queued_output_bytes.layout(), &size_layout);
}

}  // namespace
}  // namespace ns
