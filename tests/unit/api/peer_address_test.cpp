// SPDX-License-Identifier: MIT
// http_response_info::peer is looked up only when read, once, and reads like a string_view.
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <network_server/application_methods.hpp>

namespace {

struct lookup {
  int calls = 0;
  std::string text = "192.0.2.7:4433";
};

std::string_view resolve(void* context) {
  auto& l = *static_cast<lookup*>(context);
  ++l.calls;
  return l.text;
}

TEST(PeerAddress, LooksUpOnlyWhenReadAndOnlyOnce) {
  lookup l;
  ns::http_response_info info;
  info.peer = ns::peer_address(&resolve, &l);
  EXPECT_EQ(l.calls, 0) << "a log that never reads the peer must not pay for it";
  EXPECT_EQ(info.peer.str(), "192.0.2.7:4433");
  const std::string_view again = info.peer;
  EXPECT_EQ(again, "192.0.2.7:4433");
  EXPECT_EQ(std::string(info.peer), "192.0.2.7:4433");
  EXPECT_EQ(l.calls, 1);
}

TEST(PeerAddress, FixedTextAndEmptyDefault) {
  ns::http_response_info info;
  EXPECT_TRUE(info.peer.str().empty());
  info.peer = "[::1]:443";
  EXPECT_EQ(info.peer.str(), "[::1]:443");
  info.peer = std::string_view("10.0.0.1:1");
  EXPECT_EQ(std::string_view(info.peer), "10.0.0.1:1");
}

}  // namespace
