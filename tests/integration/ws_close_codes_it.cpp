// SPDX-License-Identifier: MIT
// The exact close code the SERVER sends for each way a client can break RFC 6455 (§5.1, §5.2,
// §5.5, §7.4, §8.1) or our limits, over a real TLS connection; then the server closes the
// transport, the application hears failed_req once and websocket_close_callback with that code.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

struct bad_case {
  const char* name;
  unsigned first_byte;
  std::string payload;
  bool mask;
  std::uint16_t expected;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.name;
}

class WsCloseCode : public ::testing::TestWithParam<bad_case> {};

TEST_P(WsCloseCode, ServerSendsExactCodeThenCloses) {
  const bad_case& bc = GetParam();
  ws_server s([](server_config& cfg) { cfg.ws.max_frame_bytes = cfg.ws.max_message_bytes = 1024; });
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_EQ(c.status(), 101);
  ASSERT_TRUE(c.send_frame(bc.first_byte, bc.payload, bc.mask));
  auto e = c.next_message();
  ASSERT_TRUE(e) << "no close frame";
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_EQ(e->code, bc.expected);
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, bc.expected);
  EXPECT_EQ(s.app().rec.failed_reads, 1);
  EXPECT_EQ(s.app().rec.messages, 0u);
}

const std::string invalid_utf8 = "ok \xC3\x28 bad";  // 0xC3 followed by a non-continuation

INSTANTIATE_TEST_SUITE_P(
    Rfc6455, WsCloseCode,
    ::testing::Values(
        bad_case{"UnmaskedFrame_5_1", 0x81, "hello", false, 1002},
        bad_case{"ReservedOpcode3_5_2", 0x83, "x", true, 1002},
        bad_case{"ReservedControlOpcodeB_5_2", 0x8B, "", true, 1002},
        bad_case{"Rsv1WithoutExtension_5_2", 0xC1, "x", true, 1002},
        bad_case{"Rsv2_5_2", 0xA1, "x", true, 1002}, bad_case{"Rsv3_5_2", 0x91, "x", true, 1002},
        bad_case{"InvalidUtf8Text_8_1", 0x81, invalid_utf8, true, 1007},
        bad_case{"MessageTooBig_10_4", 0x82, std::string(2000, 'b'), true, 1009},
        bad_case{"CloseCode999_7_4", 0x88, std::string("\x03\xE7", 2), true, 1002},
        bad_case{"CloseCode1005OnTheWire_7_4", 0x88, std::string("\x03\xED", 2), true, 1002},
        bad_case{"CloseCode1004Reserved_7_4", 0x88, std::string("\x03\xEC", 2), true, 1002},
        bad_case{"CloseBodyOneByte_5_5_1", 0x88, std::string("\x03", 1), true, 1002},
        bad_case{"CloseReasonInvalidUtf8_5_5_1", 0x88, std::string("\x03\xE8\xFF", 3), true, 1007},
        bad_case{"FragmentedPing_5_5", 0x09, "p", true, 1002},
        bad_case{"ControlFrameTooLong_5_5", 0x89, std::string(126, 'p'), true, 1002},
        bad_case{"ContinuationWithoutStart_5_4", 0x80, "x", true, 1002}),
    [](const auto& i) { return std::string(i.param.name); });

TEST(WsCloseCodes, NewMessageInsideAFragmentedOneIs1002) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_frame(0x01, "start"));  // text, not final
  ASSERT_TRUE(c.send_frame(0x81, "again"));  // a new text frame instead of a continuation
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1002);
  EXPECT_TRUE(c.wait_eof());
}

TEST(WsCloseCodes, InvalidUtf8IsCaughtInTheFirstFragment) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  // The message is not finished, but its first fragment can never become valid UTF-8 (§8.1).
  ASSERT_TRUE(c.send_frame(0x01, "\xF8\x88\x80"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1007);
}

TEST(WsCloseCodes, NormalCloseIsEchoedWith1000) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_frame(0x88, std::string("\x03\xE8", 2)));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_EQ(e->code, 1000);
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.failed_reads, 0);
}

TEST(WsCloseCodes, EmptyCloseIsReportedAs1005) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_frame(0x88, ""));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1005);
}

TEST(WsCloseCodes, WebsocketCloseRejectsCodesNotAllowedOnTheWire) {
  struct app_t : ws_test_app {
    void websocket_open_callback(client_num_t c) override {
      rc_1005 = server->websocket_close(c, 1005);
      rc_999 = server->websocket_close(c, 999);
      rc_long = server->websocket_close(c, 1000, std::string(124, 'r'));
      rc_http = server->websocket_close(c + 0, 4999);  // valid: starts the close
      rc_again = server->websocket_close(c, 1000);
      ws_test_app::websocket_open_callback(c);
    }
    int rc_1005 = 0, rc_999 = 0, rc_long = 0, rc_http = -1, rc_again = 0;
  } app;
  ws_server s({}, &app);
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 4999);
  EXPECT_TRUE(app.wait([](ws_record& r) { return r.opened.size() == 1; }));
  EXPECT_EQ(app.rc_1005, -EINVAL);
  EXPECT_EQ(app.rc_999, -EINVAL);
  EXPECT_EQ(app.rc_long, -EINVAL);
  EXPECT_EQ(app.rc_http, 0);
  EXPECT_EQ(app.rc_again, -EPIPE);
}

// Found by the stress suite (stalled scenario at full scale): a WebSocket peer that sends
// messages and never reads their echoes held its connection and queue until the ping and idle
// timeouts (95 s by default). Output that waits on a peer taking no bytes is bounded by
// server_config::idle_timeout, as for HTTP responses.
TEST(WsStalledReader, PeerThatStopsReadingIsCutOffAfterTheIdleTimeout) {
  ws_server s([](server_config& cfg) { cfg.idle_timeout = std::chrono::milliseconds(1000); });
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_EQ(c.status(), 101);
  const int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  const std::string payload = make_payload(256 * 1024, false);
  for (int i = 0; i < 24; ++i) ASSERT_TRUE(c.send(ws::opcode::binary, payload));  // 6 MiB echoed
  const auto sent = std::chrono::steady_clock::now();
  // The echoes wait on us; we read nothing. The WebSocket idle timeout (60 s) and the ping
  // (30 s) are far away: only the send-progress bound can close it this soon.
  ASSERT_TRUE(
      s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }, std::chrono::seconds(8)));
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1006);  // no close frame: transport cut
}

}  // namespace
}  // namespace ns::test
