// SPDX-License-Identifier: MIT
// RFC 6455 §4 end to end over TLS: the server's answers to good and bad upgrade requests, the
// application's say, Origin, subprotocols, bytes pipelined behind the upgrade, non-WebSocket
// upgrades, and which close callback fires.
#include <gtest/gtest.h>

#include "integration/ws_support.hpp"
#include "ws/handshake.hpp"

namespace ns::test {
namespace {

TEST(WsHandshake, ValidUpgradeGets101WithAcceptKeyAndEchoes) {
  ws_server s;
  ws_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_EQ(c.status(), 101) << c.head();
  // §1.3 sample key and its accept value.
  EXPECT_EQ(c.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(c.header("sec-websocket-extensions"), "");  // not offered, not answered
  ASSERT_TRUE(c.send_text("hello"));
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::message);
  EXPECT_EQ(e->op, ws::opcode::text);
  EXPECT_EQ(e->data, "hello");
}

TEST(WsHandshake, WrongVersionGets426WithSupportedVersion) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.version = "8";
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  EXPECT_EQ(c.status(), 426) << c.head();
  EXPECT_EQ(c.header("sec-websocket-version"), "13");
  EXPECT_TRUE(c.wait_eof());
}

TEST(WsHandshake, MalformedKeyGets400) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.key = "short";
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  EXPECT_EQ(c.status(), 400) << c.head();
  EXPECT_TRUE(c.wait_eof());
}

TEST(WsHandshake, OriginOutsideTheAllowListGets403) {
  ws_server s([](server_config& cfg) { cfg.websocket.allowed_origins = {"https://good.example"}; });
  {
    ws_client c;
    ws_client::options o;
    o.extra_headers = "Origin: https://evil.example\r\n";
    ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
    EXPECT_EQ(c.status(), 403) << c.head();
  }
  {
    ws_client c;
    ws_client::options o;
    o.extra_headers = "Origin: https://GOOD.example\r\n";
    ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
    EXPECT_EQ(c.status(), 101) << c.head();
  }
  {
    ws_client c;  // no Origin at all while an allow-list is configured
    ASSERT_TRUE(c.connect(s.port())) << c.error();
    EXPECT_EQ(c.status(), 403) << c.head();
  }
}

TEST(WsHandshake, ApplicationRefusalUsesItsStatusAndNeverOpens) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.path = "/nowhere";
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  EXPECT_EQ(c.status(), 404) << c.head();
  EXPECT_TRUE(c.wait_eof());
  std::lock_guard l(s.app().rec.m);
  EXPECT_TRUE(s.app().rec.opened.empty());
}

TEST(WsHandshake, SubprotocolChosenByTheApplicationIsConfirmed) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.path = "/sub";
  o.extra_headers = "Sec-WebSocket-Protocol: other, chat.v1\r\n";
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  EXPECT_EQ(c.header("sec-websocket-protocol"), "chat.v1");
}

TEST(WsHandshake, PermessageDeflateIsAgreedWithSharedCompressorByDefault) {
  ws_server s;
  ws_client c;
  ws_client::options o;
  o.deflate = true;
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  const std::string ext = c.header("sec-websocket-extensions");
  EXPECT_NE(ext.find("permessage-deflate"), std::string::npos) << ext;
  EXPECT_NE(ext.find("server_no_context_takeover"), std::string::npos) << ext;
}

TEST(WsHandshake, DeflateOffDeclinesTheExtension) {
  ws_server s([](server_config& cfg) { cfg.websocket.deflate = ws_deflate_mode::off; });
  ws_client c;
  ws_client::options o;
  o.deflate = true;
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  EXPECT_EQ(c.header("sec-websocket-extensions"), "");
}

TEST(WsHandshake, FramesInTheSameWriteAsTheUpgradeAreProcessed) {
  ws_server s;
  // A masked text frame "early" glued behind the request: one TLS record carries both.
  std::vector<std::byte> frame;
  ws::frame_spec spec;
  spec.op = ws::opcode::text;
  spec.mask = 0x01020304u;
  const std::string early = "early";
  ws::append_frame(frame, spec, std::as_bytes(std::span(early.data(), early.size())));
  ws_client c;
  ws_client::options o;
  o.trailing.assign(reinterpret_cast<const char*>(frame.data()), frame.size());
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_EQ(c.status(), 101);
  auto e = c.next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->data, "early");
}

TEST(WsHandshake, NonWebSocketUpgradeIsAnsweredAsAPlainRequestThenClosed) {
  ws_server s;
  tls_client c;
  ASSERT_TRUE(c.connect(s.port())) << c.error();
  ASSERT_TRUE(
      c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
              "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "plain");
  EXPECT_TRUE(c.wait_closed());
}

TEST(WsHandshake, UpgradedConnectionGetsOnlyWebsocketCloseCallback) {
  ws_server s;
  {
    ws_client c;
    ASSERT_TRUE(c.connect(s.port())) << c.error();
    ASSERT_EQ(c.status(), 101);
    ASSERT_TRUE(c.send_text("x"));
    ASSERT_TRUE(c.next_message());
  }  // dropped without a close frame → 1006
  {
    tls_client h;  // a plain HTTP connection for comparison
    ASSERT_TRUE(h.connect(s.port())) << h.error();
    ASSERT_TRUE(h.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(h.read_response().status, 200);
  }
  ASSERT_TRUE(
      s.app().wait([](ws_record& r) { return r.ws_close_calls == 1 && r.http_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  ASSERT_EQ(s.app().rec.ws_closed.size(), 1u);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1006);
}

}  // namespace
}  // namespace ns::test
