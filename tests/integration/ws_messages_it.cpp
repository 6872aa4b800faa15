// SPDX-License-Identifier: MIT
// RFC 6455 §5-§7 end to end over TLS: echo of text and binary messages from 0 bytes to 16 MiB
// with and without permessage-deflate, fragmented sends, pings, server pings on idle, the close
// handshake started by the server and its timeout, writev, back-pressure and the drain callback.
#include <gtest/gtest.h>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

class WsEcho : public ::testing::TestWithParam<bool> {};  // param: offer permessage-deflate

TEST_P(WsEcho, TextAndBinaryFromZeroTo16MiB) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.deflate = GetParam();
  o.timeout = std::chrono::seconds(60);
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  EXPECT_EQ(c.deflate_agreed(), GetParam());
  const std::size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16u << 20};
  for (const bool text : {true, false}) {
    for (const std::size_t n : sizes) {
      const std::string p = make_payload(n, text);
      ASSERT_TRUE(c.send(text ? ws::opcode::text : ws::opcode::binary, p));
      auto e = c.next_message();
      ASSERT_TRUE(e) << n;
      ASSERT_EQ(e->type, ws::event_type::message) << n;
      EXPECT_EQ(e->op, text ? ws::opcode::text : ws::opcode::binary) << n;
      ASSERT_EQ(e->data.size(), n);
      EXPECT_TRUE(e->data == p) << "payload differs at size " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Deflate, WsEcho, ::testing::Values(false, true),
                         [](const auto& i) { return i.param ? "deflate" : "plain"; });

TEST(WsMessages, FragmentedMessageWithInterleavedPingIsReassembled) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_EQ(c.status(), 101);
  ASSERT_TRUE(c.send_frame(0x01, "frag"));     // text, FIN=0
  ASSERT_TRUE(c.send_frame(0x89, "mid"));      // ping inside the message (§5.4)
  ASSERT_TRUE(c.send_frame(0x00, "mented "));  // continuation
  ASSERT_TRUE(c.send_frame(0x80, "message"));  // last continuation
  auto pong = c.next();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->type, ws::event_type::pong);
  EXPECT_EQ(pong->data, "mid");
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::message);
  EXPECT_EQ(e->op, ws::opcode::text);
  EXPECT_EQ(e->data, "fragmented message");
}

TEST(WsMessages, PingGetsPongWithTheSamePayload) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_frame(0x89, "are you there"));
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::pong);
  EXPECT_EQ(e->data, "are you there");
  // An unsolicited pong is ignored: the connection keeps working.
  ASSERT_TRUE(c.send_frame(0x8A, "unsolicited"));
  ASSERT_TRUE(c.send_text("still"));
  e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->data, "still");
}

TEST(WsMessages, IdleConnectionIsPingedThenClosedWith1001) {
  ws_server s([](server_config& cfg) {
    cfg.websocket.ping_interval = std::chrono::milliseconds(200);
    cfg.websocket.idle_timeout = std::chrono::milliseconds(400);
    cfg.websocket.close_timeout = std::chrono::milliseconds(300);
  });
  ws_client c;
  ws_client::options o;
  o.auto_reply = false;  // never answer: no pong, no close echo
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::ping);
  e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_EQ(e->code, 1001);
  EXPECT_TRUE(c.wait_eof());  // close timeout: the server closes TLS/TCP by itself
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1006);  // the peer never sent a close
}

TEST(WsMessages, AnsweredPingsKeepAnIdleConnectionOpen) {
  ws_server s([](server_config& cfg) {
    cfg.websocket.ping_interval = std::chrono::milliseconds(150);
    cfg.websocket.idle_timeout = std::chrono::milliseconds(300);
  });
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  for (int i = 0; i < 4; ++i) {  // ~0.6 s: longer than ping + idle timeout together
    auto e = c.next();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->type, ws::event_type::ping);  // our pong goes back automatically
  }
  ASSERT_TRUE(c.send_text("alive"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->data, "alive");
}

TEST(WsMessages, ServerCloseHandshakeReportsThePeersEcho) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_text("close:4000"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_EQ(e->code, 4000);
  EXPECT_EQ(e->data, "bye");
  EXPECT_TRUE(c.wait_eof());  // our echo went back: the server closes at once
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 4000);
}

TEST(WsMessages, CloseTimeoutEndsTheConnectionWhenThePeerNeverAnswers) {
  ws_server s(
      [](server_config& cfg) { cfg.websocket.close_timeout = std::chrono::milliseconds(300); });
  ws_client c;
  ws_client::options o;
  o.auto_reply = false;
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_TRUE(c.send_text("close:1000"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1000);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_eof());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST(WsMessages, PeerInitiatedCloseIsEchoedAndReported) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_frame(0x88, std::string("\x03\xE9", 2) + "going"));  // 1001 "going"
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  EXPECT_EQ(e->code, 1001);  // §5.5.1: the echo carries the same code
  EXPECT_TRUE(c.wait_eof());
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1001);
  EXPECT_EQ(s.app().rec.failed_reads, 0);
}

TEST(WsMessages, WritevSendsOneMessageAndItsCallback) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(c.send_text("writev"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->op, ws::opcode::text);
  EXPECT_EQ(e->data, "abbccc");
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.writev_callbacks == 1; }));
}

TEST(WsMessages, BackPressureRefusesWritesAndDrainCallbackFollows) {
  ws_server s([](server_config& cfg) {
    cfg.max_queued_output = 4 * 1024 * 1024;
    cfg.websocket.drain_threshold = 256 * 1024;
  });
  ws_client c;
  ws_client::options o;
  o.timeout = std::chrono::seconds(30);
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_TRUE(c.send_text("flood"));
  std::size_t big = 0;
  for (;;) {
    auto e = c.next_message();
    ASSERT_TRUE(e);
    if (e->data == "end") break;
    ASSERT_EQ(e->data.size(), 1u << 20);
    ++big;
  }
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.drains >= 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.enobufs, 1);
  EXPECT_GT(s.app().rec.queued_at_enobufs, 2 * 1024 * 1024);
  EXPECT_LE(s.app().rec.queued_at_enobufs, 4 * 1024 * 1024);
  EXPECT_GE(big, 3u);
  EXPECT_LT(big, 256u);
  EXPECT_EQ(s.app().rec.drains, 1);
  EXPECT_EQ(s.app().rec.write_callbacks, static_cast<int>(big) + 1);
  EXPECT_EQ(s.app().rec.failed_writes, 0);
}

}  // namespace
}  // namespace ns::test
