// SPDX-License-Identifier: MIT
// wsload's Socket.IO framing: what a server's text message is, and the events it sends.
#include "sio.hpp"

#include <gtest/gtest.h>

namespace ns::bench::sio {
namespace {

kind of(std::string_view text, std::string_view* arg_out = nullptr) {
  std::string_view arg = "stale";
  const kind k = classify(text, "m", arg);
  if (arg_out != nullptr) *arg_out = arg;
  return k;
}

TEST(SioFraming, EngineIoPackets) {
  EXPECT_EQ(of(R"(0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000})"),
            kind::open);
  EXPECT_EQ(of("2"), kind::ping);
  EXPECT_EQ(of("1"), kind::disconnected);
  EXPECT_EQ(of("0"), kind::unknown);   // an open packet carries its JSON
  EXPECT_EQ(of("2x"), kind::unknown);  // probe pings ("2probe") belong to polling upgrades
  EXPECT_EQ(of("3"), kind::unknown);   // servers do not pong (they ping)
  EXPECT_EQ(of(""), kind::unknown);
  EXPECT_EQ(of("4"), kind::unknown);
}

TEST(SioFraming, SocketIoPackets) {
  EXPECT_EQ(of(R"(40{"sid":"abc"})"), kind::connected);
  EXPECT_EQ(of("40"), kind::connected);
  EXPECT_EQ(of("41"), kind::disconnected);
  EXPECT_EQ(of(R"(44{"message":"no"})"), kind::connect_error);
  EXPECT_EQ(of("40/admin,"), kind::unknown);  // another namespace
  EXPECT_EQ(of("43[1]"), kind::unknown);      // an ack
  EXPECT_EQ(of("41x"), kind::unknown);
}

TEST(SioFraming, EventWithOneStringArgument) {
  std::string_view arg;
  EXPECT_EQ(of(R"(42["m","Wab01 xyz"])", &arg), kind::event);
  EXPECT_EQ(arg, "Wab01 xyz");
  EXPECT_EQ(of(R"(42["m",""])", &arg), kind::event);
  EXPECT_EQ(arg, "");
}

TEST(SioFraming, OtherEventShapesAreUnknownWithoutArgument) {
  for (std::string_view bad : {R"(42["n","x"])", R"(42["m",1])", R"(42["m","x",2])",
                               R"(42["m","a\"b"])", R"(42["m","a\\b"])", R"(42["m","x")",
                               R"(42["m"])", R"(42["m","])", R"(42)", R"(451-["m",{}])"}) {
    std::string_view arg;
    EXPECT_EQ(of(bad, &arg), kind::unknown) << bad;
    EXPECT_TRUE(arg.empty()) << bad;
  }
}

TEST(SioFraming, EventPacketRoundTrips) {
  const std::string text = event_packet("m", "M01 0000002a payload");
  EXPECT_EQ(text, R"(42["m","M01 0000002a payload"])");
  std::string_view arg;
  EXPECT_EQ(of(text, &arg), kind::event);
  EXPECT_EQ(arg, "M01 0000002a payload");
  EXPECT_EQ(connect_packet, "40");
  EXPECT_EQ(pong_packet, "3");
}

}  // namespace
}  // namespace ns::bench::sio
