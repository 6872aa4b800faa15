// SPDX-License-Identifier: MIT
#include "io/slot_map.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ns::io {

TEST(IoSlotMap, StaleHandleNeverReachesTheNextOccupant) {
  slot_map<int> m(1);
  const auto a = m.emplace(1);
  ASSERT_TRUE(a);
  m.erase(*a);
  const auto b = m.emplace(2);
  ASSERT_TRUE(b);
  EXPECT_EQ(static_cast<std::uint32_t>(*a), static_cast<std::uint32_t>(*b));  // same slot...
  EXPECT_NE(*a, *b);                                                          // ...new handle
  EXPECT_EQ(m.find(*a), nullptr);
  ASSERT_NE(m.find(*b), nullptr);
  EXPECT_EQ(*m.find(*b), 2);
}

TEST(IoSlotMap, FullMapRefusesAndFreesOnErase) {
  slot_map<int> m(3);
  std::set<client_num_t> handles;
  for (int i = 0; i < 3; ++i) handles.insert(*m.emplace(i));
  EXPECT_EQ(handles.size(), 3u);
  EXPECT_FALSE(m.emplace(9));
  EXPECT_EQ(m.size(), 3u);
  m.erase(*handles.begin());
  EXPECT_EQ(m.available(), 1u);
  EXPECT_TRUE(m.emplace(9));
}

TEST(IoSlotMap, ReferencesStayValidWhileOtherSlotsChange) {
  slot_map<int> m(100);
  const auto first = *m.emplace(42);
  int* p = m.find(first);
  for (int i = 0; i < 99; ++i) m.emplace(i);
  EXPECT_EQ(p, m.find(first));
  EXPECT_EQ(*p, 42);
}

TEST(IoSlotMap, FindByTagChecksGenerationLow24Bits) {
  slot_map<int> m(2);
  const auto h = *m.emplace(5);
  const auto slot = static_cast<std::uint32_t>(h);
  const auto gen = static_cast<std::uint32_t>(h >> 32);
  EXPECT_NE(m.find_by_tag(slot, gen & 0xffffff), nullptr);
  EXPECT_EQ(m.find_by_tag(slot, (gen + 1) & 0xffffff), nullptr);
  EXPECT_EQ(m.find_by_tag(99, gen), nullptr);
  m.erase(h);
  EXPECT_EQ(m.find_by_tag(slot, gen & 0xffffff), nullptr);
}

TEST(IoSlotMap, HandlesStayDistinctPastTheTagsGenerationWidth) {
  // Completion tags carry 24 bits of generation, so 2^24 reuses of a slot alias a tag (the
  // slot_map comment says why that cannot confuse a completion). Handles carry all 32 bits: the
  // first occupant's handle still never reaches the one 2^24 reuses later.
  slot_map<int> m(1);
  const client_num_t first = *m.emplace(1);
  m.erase(first);
  for (std::uint32_t i = 1; i < (1u << 24); ++i) m.erase(*m.emplace(0));
  const client_num_t later = *m.emplace(2);
  const auto gen = [](client_num_t h) { return static_cast<std::uint32_t>(h >> 32); };
  EXPECT_EQ(gen(later) & 0xffffff, gen(first) & 0xffffff);  // the tags alias
  EXPECT_EQ(m.find(first), nullptr);                        // the handles do not
  ASSERT_NE(m.find(later), nullptr);
  EXPECT_EQ(*m.find(later), 2);
}

TEST(IoSlotMap, InvalidHandleIsRejected) {
  slot_map<int> m(2);
  EXPECT_EQ(m.find(invalid_client), nullptr);
  EXPECT_EQ(m.find(12345), nullptr);
}

}  // namespace ns::io
