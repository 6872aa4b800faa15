// SPDX-License-Identifier: MIT
// RFC 6455 §5.5 control frames and §7.4 close codes, as handled by ws::connection.
#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::bytes;
using test::drive;
using test::raw_frame;
using test::recorded;

// Feeds @p in to a fresh connection and expects it to fail with @p code (and queue that close).
void expect_failure(std::span<const std::byte> in, error err, std::uint16_t code) {
  connection c({});
  const auto ev = drive(c, in);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().type, event_type::failed);
  EXPECT_EQ(ev.back().err, err);
  EXPECT_EQ(ev.back().code, code);
  EXPECT_EQ(c.state(), connection_state::failed);
  const auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b0, 0x88u);
  EXPECT_EQ(test::close_code_of(out[0]), code);
  // Nothing more is read after failing.
  EXPECT_EQ(c.feed(raw_frame(0x81, "x")).consumed, 0u);
}

TEST(WsControlFrames, Rfc6455Section5_5_2PingQueuesPongWithSamePayload) {
  connection c({});
  const bytes in = raw_frame(0x89, "are you there");
  const auto ev = drive(c, in);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::ping);
  EXPECT_EQ(ev[0].data, "are you there");
  const auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b0, 0x8Au);
  EXPECT_EQ(out[0].payload, "are you there");
  c.consume_output(c.pending_output().size());
  EXPECT_TRUE(c.pending_output().empty());
}

TEST(WsControlFrames, Rfc6455Section5_5_3UnsolicitedPongIsReportedNotAnswered) {
  connection c({});
  const auto ev = drive(c, raw_frame(0x8A, "hb"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::pong);
  EXPECT_EQ(ev[0].data, "hb");
  EXPECT_TRUE(c.pending_output().empty());
}

TEST(WsControlFrames, Rfc6455Section5_5_3PingFloodDoesNotGrowOutputUnbounded) {
  connection_options o;
  o.max_pending_control_output = 1000;
  connection c(o);
  bytes in;
  for (int i = 0; i < 100; ++i) {
    auto f = raw_frame(0x89, std::string(125, 'p'));
    in.insert(in.end(), f.begin(), f.end());
  }
  const auto ev = drive(c, in);
  EXPECT_EQ(ev.size(), 100u);
  EXPECT_LE(c.pending_output().size(), 1000u + 127u);
}

TEST(WsControlFrames, Rfc6455Section5_5ControlPayloadOver125Is1002) {
  expect_failure(raw_frame(0x89, std::string(126, 'a')), error::control_too_long, 1002);
  expect_failure(raw_frame(0x88, std::string(126, 'a')), error::control_too_long, 1002);
}

TEST(WsControlFrames, Rfc6455Section5_5FragmentedControlIs1002) {
  expect_failure(raw_frame(0x09, "a"), error::fragmented_control, 1002);
  expect_failure(raw_frame(0x0A, "a"), error::fragmented_control, 1002);
}

TEST(WsControlFrames, Rfc6455Section5_5_1CloseIsEchoedWithSameCode) {
  connection c({});
  const auto ev = drive(c, raw_frame(0x88,
                                     "\x0f\xa0"
                                     "going"));  // 4000
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::close);
  EXPECT_EQ(ev[0].code, 4000);
  EXPECT_EQ(ev[0].data, "going");
  EXPECT_TRUE(c.close_received());
  EXPECT_TRUE(c.close_sent());
  EXPECT_EQ(c.state(), connection_state::closed);
  const auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(test::close_code_of(out[0]), 4000);
  EXPECT_EQ(c.feed(raw_frame(0x81, "late")).consumed, 0u);
}

TEST(WsControlFrames, Rfc6455Section5_5_1EmptyCloseReports1005AndEchoesEmpty) {
  connection c({});
  const auto ev = drive(c, raw_frame(0x88, ""));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, 1005);
  const auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "");
}

TEST(WsControlFrames, Rfc6455Section5_5_1OneByteCloseBodyIs1002) {
  expect_failure(raw_frame(0x88, "\x03"), error::close_payload_too_short, 1002);
}

TEST(WsControlFrames, Rfc6455Section7_4CloseCodeValidity) {
  for (unsigned code : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u, 3000u, 3999u,
                        4000u, 4999u}) {
    connection c({});
    const bytes body = test::hex({code >> 8, code & 0xFF});
    const auto ev = drive(c, raw_frame(0x88, body));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::close) << code;
    EXPECT_EQ(ev[0].code, code);
  }
  for (unsigned code : {0u, 999u, 1004u, 1005u, 1006u, 1012u, 1013u, 1014u, 1015u, 1016u, 1100u,
                        2000u, 2999u, 5000u, 65535u}) {
    SCOPED_TRACE(code);
    expect_failure(raw_frame(0x88, test::hex({code >> 8, code & 0xFF})), error::invalid_close_code,
                   1002);
  }
}

TEST(WsControlFrames, Rfc6455Section5_5_1InvalidUtf8CloseReasonIs1007) {
  expect_failure(
      raw_frame(0x88, "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
      error::invalid_utf8, 1007);
}

TEST(WsControlFrames, Rfc6455Section7_1_2ServerInitiatedClose) {
  connection c({});
  c.close(1001, "shutting down");
  EXPECT_EQ(c.state(), connection_state::closing);
  EXPECT_TRUE(c.close_sent());
  auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(test::close_code_of(out[0]), 1001);
  EXPECT_EQ(out[0].payload.substr(2), "shutting down");
  c.consume_output(c.pending_output().size());
  c.close(1000);  // second close is a no-op
  EXPECT_TRUE(c.pending_output().empty());
  // Data still arriving before the peer's close is delivered; no pong once closing.
  auto ev = drive(c, test::cat({raw_frame(0x81, "in flight"), raw_frame(0x89, ""),
                                raw_frame(0x88, "\x03\xe9")}));
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].data, "in flight");
  EXPECT_EQ(ev[2].type, event_type::close);
  EXPECT_EQ(c.state(), connection_state::closed);
  EXPECT_TRUE(c.pending_output().empty());  // no echo of the peer's close: we already sent ours
}

TEST(WsControlFrames, CloseReasonIsTruncatedToFitControlFrame) {
  connection c({});
  c.close(1000, std::string(300, 'r'));
  auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 125u);
}

TEST(WsControlFrames, MakePingQueuesPing) {
  connection c({});
  c.make_ping(test::to_bytes("t=1"));
  auto out = test::parse_output(c.pending_output());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b0, 0x89u);
  EXPECT_EQ(out[0].payload, "t=1");
}

TEST(WsControlFrames, ControlFramesSplitAtEveryByte) {
  const bytes in = test::cat({raw_frame(0x89, "ping"), raw_frame(0x8A, "pong"),
                              raw_frame(0x88,
                                        "\x03\xe8"
                                        "done")});
  test::expect_same_at_every_split(
      {}, in,
      {{event_type::ping, opcode::binary, "ping", 0, error::none},
       {event_type::pong, opcode::binary, "pong", 0, error::none},
       {event_type::close, opcode::binary, "done", 1000, error::none}});
}

}  // namespace
}  // namespace ns::ws
