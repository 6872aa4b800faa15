// SPDX-License-Identifier: MIT
// http::query_value: one parameter of a request-target's query, undecoded.
#include "http/query.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ns::http {
namespace {

TEST(QueryValue, FindsTheFirstParameterOfThatName) {
  EXPECT_EQ(query_value("/ws/chat?room=blue", "room"), "blue");
  EXPECT_EQ(query_value("/ws/chat?a=1&room=blue&c=3", "room"), "blue");
  EXPECT_EQ(query_value("/ws/chat?room=first&room=second", "room"), "first");
  EXPECT_EQ(query_value("/p?a=1&b=2", "b"), "2");
  EXPECT_EQ(query_value("/p?a=x=y", "a"), "x=y");  // only the first '=' separates
}

TEST(QueryValue, AbsentParametersAndTargetsWithoutQuery) {
  EXPECT_FALSE(query_value("/ws/chat", "room"));
  EXPECT_FALSE(query_value("/ws/chat?", "room"));
  EXPECT_FALSE(query_value("/ws/chat?rooms=x", "room"));  // a longer name is another name
  EXPECT_FALSE(query_value("/ws/chat?myroom=x", "room"));
  EXPECT_FALSE(query_value("/ws/chat?x=room", "room"));    // a value is not a name
  EXPECT_FALSE(query_value("/ws/chat?%72oom=x", "room"));  // names are not decoded
  EXPECT_FALSE(query_value("/room=x", "room"));            // no '?', no query
}

TEST(QueryValue, EmptyValuesAndEmptyPairs) {
  EXPECT_EQ(query_value("/p?room=", "room"), "");
  EXPECT_EQ(query_value("/p?room", "room"), "");
  EXPECT_EQ(query_value("/p?room&x=1", "room"), "");
  EXPECT_EQ(query_value("/p?&&room=r&&", "room"), "r");
}

TEST(QueryValue, ValuesStayEncodedAndAreViewsIntoTheTarget) {
  const std::string target = "/p?room=caf%C3%A9+bar&x";
  const auto v = query_value(target, "room");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "caf%C3%A9+bar");
  EXPECT_GE(v->data(), target.data());
  EXPECT_LE(v->data() + v->size(), target.data() + target.size());
}

TEST(QueryValue, AFragmentEndsTheQuery) {
  EXPECT_EQ(query_value("/p?room=a#room=b", "room"), "a");
  EXPECT_FALSE(query_value("/p?x=1#room=b", "room"));
}

TEST(QueryValue, BytesAreBytes) {
  const std::string nul("/p?r\0m=1&room=2", 15);
  EXPECT_EQ(query_value(nul, "room"), "2");
  EXPECT_EQ(query_value(nul, std::string_view("r\0m", 3)), "1");
}

}  // namespace
}  // namespace ns::http
