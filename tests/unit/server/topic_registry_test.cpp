// SPDX-License-Identifier: MIT
// The per-loop topic registry (src/server/topic_registry.hpp) as a plain data structure:
// subscribe / unsubscribe / remove_all, the first/last edges the hub is told about, and a
// randomized run against a std::map model that checks every index after every step.
#include "server/topic_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

namespace ns::server {
namespace {

std::set<client_num_t> subs_of(const topic_registry& r, std::string_view topic) {
  const auto s = r.subscribers(topic);
  return {s.begin(), s.end()};
}

TEST(TopicRegistry, SubscribeReportsTheFirstSubscriberAndRefusesDuplicates) {
  topic_registry r;
  const auto a = r.subscribe(1, "news");
  EXPECT_TRUE(a.changed);
  EXPECT_TRUE(a.edge);  // first on this loop: the hub hears of it
  const auto b = r.subscribe(2, "news");
  EXPECT_TRUE(b.changed);
  EXPECT_FALSE(b.edge);
  const auto again = r.subscribe(1, "news");
  EXPECT_FALSE(again.changed);
  EXPECT_FALSE(again.edge);
  EXPECT_EQ(subs_of(r, "news"), (std::set<client_num_t>{1, 2}));
  EXPECT_EQ(r.topic_count(), 1u);
  EXPECT_EQ(r.subscription_count(), 2u);
  EXPECT_TRUE(r.subscribers("other").empty());
}

TEST(TopicRegistry, UnsubscribeReportsTheLastSubscriber) {
  topic_registry r;
  r.subscribe(1, "t");
  r.subscribe(2, "t");
  EXPECT_FALSE(r.unsubscribe(3, "t").changed);  // never subscribed
  EXPECT_FALSE(r.unsubscribe(1, "u").changed);  // no such topic
  const auto a = r.unsubscribe(1, "t");
  EXPECT_TRUE(a.changed);
  EXPECT_FALSE(a.edge);
  EXPECT_FALSE(r.unsubscribe(1, "t").changed);  // already gone
  const auto b = r.unsubscribe(2, "t");
  EXPECT_TRUE(b.changed);
  EXPECT_TRUE(b.edge);  // last one: the topic is gone from this loop
  EXPECT_EQ(r.topic_count(), 0u);
  EXPECT_EQ(r.subscription_count(), 0u);
  EXPECT_TRUE(r.topics_of(1).empty());
}

TEST(TopicRegistry, RemoveAllReportsEveryTopicItEmptied) {
  topic_registry r;
  r.subscribe(7, "a");
  r.subscribe(7, "b");
  r.subscribe(7, "c");
  r.subscribe(8, "b");
  std::vector<std::string> emptied;
  r.remove_all(7, [&](std::string_view t) { emptied.emplace_back(t); });
  std::sort(emptied.begin(), emptied.end());
  EXPECT_EQ(emptied, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(subs_of(r, "b"), (std::set<client_num_t>{8}));
  EXPECT_EQ(r.topic_count(), 1u);
  EXPECT_EQ(r.subscription_count(), 1u);
  r.remove_all(7, [&](std::string_view) { ADD_FAILURE() << "nothing left to empty"; });
}

TEST(TopicRegistry, TopicsAreOpaqueBytes) {
  topic_registry r;
  const std::string with_nul("a\0b", 3);
  r.subscribe(1, with_nul);
  r.subscribe(2, "a");
  r.subscribe(3, "");
  EXPECT_EQ(subs_of(r, with_nul), (std::set<client_num_t>{1}));
  EXPECT_EQ(subs_of(r, "a"), (std::set<client_num_t>{2}));
  EXPECT_EQ(subs_of(r, ""), (std::set<client_num_t>{3}));
  EXPECT_EQ(r.topic_count(), 3u);
}

// Random subscribe / unsubscribe / remove_all against a model; after every step each topic's
// subscribers, each handle's topics and the counts agree, and the edges are exactly the model's
// transitions between 0 and 1 subscribers. Small alphabets make collisions (and so the swap-
// with-last fix-ups on both sides) frequent.
TEST(TopicRegistry, RandomOperationsMatchAModel) {
  std::mt19937 rng(12345);
  topic_registry r;
  std::map<std::string, std::set<client_num_t>> model;
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  for (int step = 0; step < 20000; ++step) {
    const client_num_t c = rng() % 12;
    const std::string& t = names[rng() % names.size()];
    const unsigned op = rng() % 10;
    if (op < 5) {
      const auto ch = r.subscribe(c, t);
      const bool fresh = model[t].empty();
      const bool added = model[t].insert(c).second;
      ASSERT_EQ(ch.changed, added) << step;
      ASSERT_EQ(ch.edge, added && fresh) << step;
    } else if (op < 9) {
      const auto ch = r.unsubscribe(c, t);
      const bool removed = model[t].erase(c) == 1;
      ASSERT_EQ(ch.changed, removed) << step;
      ASSERT_EQ(ch.edge, removed && model[t].empty()) << step;
    } else {
      std::set<std::string> emptied;
      r.remove_all(c, [&](std::string_view s) { emptied.emplace(s); });
      std::set<std::string> expected;
      for (auto& [name, set] : model) {
        if (set.erase(c) == 1 && set.empty()) expected.insert(name);
      }
      ASSERT_EQ(emptied, expected) << step;
    }
    std::size_t topics = 0, subs = 0;
    for (const auto& [name, set] : model) {
      ASSERT_EQ(subs_of(r, name), set) << step << " topic " << name;
      ASSERT_EQ(r.subscribers(name).size(), set.size()) << "a duplicate in " << name;
      topics += set.empty() ? 0 : 1;
      subs += set.size();
    }
    ASSERT_EQ(r.topic_count(), topics) << step;
    ASSERT_EQ(r.subscription_count(), subs) << step;
    for (client_num_t h = 0; h < 12; ++h) {
      std::set<std::string> got;
      for (std::string_view s : r.topics_of(h)) got.emplace(s);
      std::set<std::string> want;
      for (const auto& [name, set] : model) {
        if (set.count(h) != 0) want.insert(name);
      }
      ASSERT_EQ(got, want) << step << " handle " << h;
    }
  }
}

}  // namespace
}  // namespace ns::server
