// SPDX-License-Identifier: MIT
// Every ws::error has its own static reason and fails the connection with the close code
// RFC 6455 §7.4.1 assigns: 1009 for size limits, 1007 for payload data that is not what the
// message type says (invalid UTF-8, RFC 7692 §8 for a broken DEFLATE stream), 1002 for the rest.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "ws/error.hpp"

namespace {

using ns::ws::close_code;
using ns::ws::error;

constexpr auto last_error = error::inflate_failed;

TEST(WsErrorMapping, EveryErrorHasADistinctReason) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(last_error); ++i) {
    const auto e = static_cast<error>(i);
    const std::string_view r = ns::ws::reason(e);
    EXPECT_FALSE(r.empty()) << i;
    EXPECT_NE(r, "unknown error") << i;
    EXPECT_TRUE(seen.insert(std::string(r)).second) << "duplicate reason: " << r;
  }
  EXPECT_EQ(ns::ws::reason(static_cast<error>(200)), "unknown error");
}

TEST(WsErrorMapping, CloseCodesFollowRfc6455Section7_4_1) {
  EXPECT_EQ(ns::ws::close_code_for(error::none), close_code::normal);
  EXPECT_EQ(ns::ws::close_code_for(error::frame_too_big), close_code::message_too_big);
  EXPECT_EQ(ns::ws::close_code_for(error::message_too_big), close_code::message_too_big);
  EXPECT_EQ(ns::ws::close_code_for(error::invalid_utf8), close_code::invalid_payload);
  EXPECT_EQ(ns::ws::close_code_for(error::inflate_failed), close_code::invalid_payload);
  for (const error e :
       {error::unmasked_frame, error::masked_frame, error::reserved_bits, error::unknown_opcode,
        error::control_too_long, error::fragmented_control, error::length_msb_set,
        error::unexpected_continuation, error::expected_continuation, error::misplaced_rsv1,
        error::close_payload_too_short, error::invalid_close_code}) {
    EXPECT_EQ(ns::ws::close_code_for(e), close_code::protocol_error) << ns::ws::reason(e);
  }
}

TEST(WsErrorMapping, NoErrorMapsToACodeReservedForLocalUse) {
  // 1005 and 1006 must never be sent in a close frame (§7.4.1).
  for (int i = 0; i <= static_cast<int>(last_error); ++i) {
    const close_code c = ns::ws::close_code_for(static_cast<error>(i));
    EXPECT_NE(c, close_code::no_status);
    EXPECT_NE(c, close_code::abnormal);
  }
}

}  // namespace
