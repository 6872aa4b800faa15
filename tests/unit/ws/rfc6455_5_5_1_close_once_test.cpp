// SPDX-License-Identifier: MIT
// RFC 6455 §5.5.1: after an endpoint has sent its close frame it sends nothing more: no ping,
// and no second close when the peer then violates the protocol (§7.1.7 fails the connection,
// but the close frame is already out). A close without a code has an empty body (§5.5.1).
#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::raw_frame;

TEST(WsCloseOnce, CloseWithoutCodeHasAnEmptyBody) {
  connection c({});
  c.close(0, "ignored without a code");
  const auto out = c.pending_output();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], std::byte{0x88});
  EXPECT_EQ(out[1], std::byte{0x00});
  EXPECT_EQ(c.state(), connection_state::closing);
}

TEST(WsCloseOnce, NoPingAfterOurClose) {
  connection c({});
  c.close(1000);
  const std::size_t n = c.pending_output().size();
  c.make_ping(test::to_bytes("late"));
  EXPECT_EQ(c.pending_output().size(), n);
}

TEST(WsCloseOnce, ProtocolErrorAfterOurCloseSendsNoSecondClose) {
  connection c({});
  c.close(1001, "bye");
  c.consume_output(c.pending_output().size());
  // Reserved opcode 0x3: a protocol error (1002) — but our close is already on the wire.
  const auto ev = test::drive(c, raw_frame(0x83, "x"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::failed);
  EXPECT_EQ(ev[0].code, 1002);
  EXPECT_EQ(c.state(), connection_state::failed);
  EXPECT_TRUE(c.pending_output().empty());
}

TEST(WsCloseOnce, ClientRoleMasksItsCloseFrame) {
  connection_options o;
  o.client_role = true;
  o.mask_seed = 0;  // 0 would stall xorshift: the connection must pick a usable seed
  connection c(o);
  c.close(1000);
  const auto out = c.pending_output();
  ASSERT_EQ(out.size(), 2u + 4u + 2u);
  EXPECT_EQ(out[1], std::byte{0x82}) << "MASK bit and a 2-byte body";
  const std::uint8_t k0 = static_cast<std::uint8_t>(out[2]);
  const std::uint8_t k1 = static_cast<std::uint8_t>(out[3]);
  EXPECT_EQ(static_cast<std::uint8_t>(out[6]) ^ k0, 0x03);
  EXPECT_EQ(static_cast<std::uint8_t>(out[7]) ^ k1, 0xE8);
  const bool zero_key = out[2] == std::byte{0} && out[3] == std::byte{0} &&
                        out[4] == std::byte{0} && out[5] == std::byte{0};
  EXPECT_FALSE(zero_key) << "a zero seed must not produce all-zero masks";
}

}  // namespace
}  // namespace ns::ws
