// SPDX-License-Identifier: MIT
// RFC 6455 §5.4 fragmentation, §5.6 data frames, §8.1 text validity, and our size limits.
#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::bytes;
using test::drive;
using test::raw_frame;
using test::recorded;

recorded msg(opcode op, std::string data) {
  return {event_type::message, op, std::move(data), 0, error::none};
}
recorded failed(error e) {
  return {event_type::failed, opcode::binary, "", static_cast<std::uint16_t>(close_code_for(e)), e};
}

TEST(WsFragmentation, Rfc6455Section5_6SingleTextAndBinaryMessages) {
  const bytes in = test::cat(
      {raw_frame(0x81, "Hello"), raw_frame(0x82, test::hex({0, 1, 2, 255})), raw_frame(0x81, "")});
  test::expect_same_at_every_split(
      {}, in,
      {msg(opcode::text, "Hello"), msg(opcode::binary, std::string("\0\1\2\xff", 4)),
       msg(opcode::text, "")});
}

TEST(WsFragmentation, Rfc6455Section5_4FragmentsWithInterleavedControlFrames) {
  const bytes in = test::cat({raw_frame(0x01, "fra"), raw_frame(0x89, "p1"), raw_frame(0x00, "gme"),
                              raw_frame(0x8A, "p2"), raw_frame(0x00, ""), raw_frame(0x80, "nted")});
  test::expect_same_at_every_split({}, in,
                                   {{event_type::ping, opcode::binary, "p1", 0, error::none},
                                    {event_type::pong, opcode::binary, "p2", 0, error::none},
                                    msg(opcode::text, "fragmented")});
}

TEST(WsFragmentation, Rfc6455Section5_4ContinuationWithoutStartIs1002) {
  test::expect_same_at_every_split({}, raw_frame(0x80, "x"),
                                   {failed(error::unexpected_continuation)});
  // Also after a complete message.
  test::expect_same_at_every_split(
      {}, test::cat({raw_frame(0x81, "a"), raw_frame(0x80, "b")}),
      {msg(opcode::text, "a"), failed(error::unexpected_continuation)});
}

TEST(WsFragmentation, Rfc6455Section5_4NewDataFrameInsideFragmentedMessageIs1002) {
  test::expect_same_at_every_split({}, test::cat({raw_frame(0x01, "a"), raw_frame(0x81, "b")}),
                                   {failed(error::expected_continuation)});
  test::expect_same_at_every_split({}, test::cat({raw_frame(0x02, "a"), raw_frame(0x02, "b")}),
                                   {failed(error::expected_continuation)});
}

TEST(WsFragmentation, Rfc6455Section8_1InvalidUtf8TextIs1007AndFailsFast) {
  // Autobahn 6.4.1: the first frame already holds an impossible sequence (F4 90): fail on it,
  // before the rest of the message arrives.
  connection c({});
  const auto ev = drive(c, raw_frame(0x01, "\xce\xba\xf4\x90\x80\x80"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], failed(error::invalid_utf8));
  EXPECT_EQ(test::close_code_of(test::parse_output(c.pending_output()).at(0)), 1007);
}

TEST(WsFragmentation, Rfc6455Section8_1Utf8SplitAcrossFragments) {
  // κόσμε with every frame boundary inside multi-byte sequences.
  const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  for (std::size_t cut = 0; cut <= kosme.size(); ++cut) {
    const bytes in =
        test::cat({raw_frame(0x01, kosme.substr(0, cut)), raw_frame(0x80, kosme.substr(cut))});
    connection c({});
    EXPECT_EQ(drive(c, in), std::vector<recorded>{msg(opcode::text, kosme)}) << cut;
  }
  // Truncated at the end of the message: 1007.
  test::expect_same_at_every_split({}, raw_frame(0x81, "ok\xe2\x82"),
                                   {failed(error::invalid_utf8)});
}

TEST(WsFragmentation, BinaryMessagesAreNotUtf8Checked) {
  connection c({});
  EXPECT_EQ(drive(c, raw_frame(0x82, "\xff\xfe")),
            std::vector<recorded>{msg(opcode::binary, "\xff\xfe")});
}

TEST(WsFragmentation, MessageLimitCountsAllFragmentsAs1009) {
  connection_options o;
  o.limits.max_message_bytes = 10;
  test::expect_same_at_every_split(o,
                                   test::cat({raw_frame(0x01, "123456"), raw_frame(0x80, "7890")}),
                                   {msg(opcode::text, "1234567890")});
  test::expect_same_at_every_split(o,
                                   test::cat({raw_frame(0x01, "123456"), raw_frame(0x80, "78901")}),
                                   {failed(error::message_too_big)});
}

TEST(WsFragmentation, FrameLimitIs1009BeforePayloadArrives) {
  connection_options o;
  o.limits.max_frame_bytes = 1000;
  connection c(o);
  // Only the header of a 1 MiB frame: fails at once.
  const bytes hdr = test::hex({0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4});
  const auto ev = drive(c, hdr);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], failed(error::frame_too_big));
}

TEST(WsFragmentation, ReservedBitsAndOpcodesThroughConnection) {
  test::expect_same_at_every_split({}, raw_frame(0xC1, "x"), {failed(error::reserved_bits)});
  test::expect_same_at_every_split({}, raw_frame(0x83, "x"), {failed(error::unknown_opcode)});
  test::expect_same_at_every_split({}, raw_frame(0x81, "x", false),
                                   {failed(error::unmasked_frame)});
}

TEST(WsFragmentation, MessageViewValidUntilNextFeedAndBufferReused) {
  connection c({});
  const bytes a = raw_frame(0x82, std::string(1000, 'a'));
  feed_result r = c.feed(a);
  ASSERT_EQ(r.ev.type, event_type::message);
  const std::byte* first = r.ev.data.data();
  r = c.feed(raw_frame(0x82, std::string(900, 'b')));
  ASSERT_EQ(r.ev.type, event_type::message);
  EXPECT_EQ(r.ev.data.data(), first);  // same storage: no allocation in steady state
}

TEST(WsFragmentation, ClientRoleMasksOutputAndReadsUnmasked) {
  connection_options co;
  co.client_role = true;
  connection client(co);
  connection server({});
  const auto payload = test::to_bytes("from client");
  const encoded_frame f = client.encode_message(opcode::text, payload);
  EXPECT_EQ(std::to_integer<unsigned>(f.header()[1]) & 0x80, 0x80u);
  bytes wire(f.header().begin(), f.header().end());
  wire.insert(wire.end(), f.payload.begin(), f.payload.end());
  EXPECT_EQ(drive(server, wire), std::vector<recorded>{msg(opcode::text, "from client")});
  const encoded_frame back = server.encode_message(opcode::binary, payload);
  EXPECT_EQ(back.payload.data(), payload.data());  // server frame references caller bytes
  bytes wire2(back.header().begin(), back.header().end());
  wire2.insert(wire2.end(), back.payload.begin(), back.payload.end());
  EXPECT_EQ(drive(client, wire2), std::vector<recorded>{msg(opcode::binary, "from client")});
}

}  // namespace
}  // namespace ns::ws
