// SPDX-License-Identifier: MIT
// RFC 6455 §4.2: server-side opening handshake.
#include <gtest/gtest.h>

#include "ws/handshake.hpp"

namespace ns::ws {
namespace {

http_request good_request() {
  http_request r;
  r.method = "GET";
  r.target = "/chat";
  r.headers = {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
               {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"Origin", "http://example.com"}, {"Sec-WebSocket-Protocol", "chat, superchat"},
               {"Sec-WebSocket-Version", "13"}};
  r.upgrade = true;
  return r;
}

void set_header(http_request& r, std::string_view name, std::string_view value) {
  for (auto& h : r.headers) {
    if (h.name == name) h.value = value;
  }
}

void drop_header(http_request& r, std::string_view name) {
  std::erase_if(r.headers, [&](const http_header& h) { return h.name == name; });
}

TEST(WsHandshake, Rfc6455Section1_3ExampleAcceptKey) {
  EXPECT_EQ(std::string_view(compute_accept("dGhlIHNhbXBsZSBub25jZQ==").data(), 28),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshake, Rfc6455Section4_2_2AcceptsValidRequestAndBuilds101) {
  const http_request req = good_request();
  const handshake_result r = validate_upgrade(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.accept_key(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  ASSERT_EQ(r.subprotocols.size(), 2u);
  EXPECT_EQ(r.subprotocols[0], "chat");
  EXPECT_EQ(r.subprotocols[1], "superchat");
  EXPECT_FALSE(r.deflate.params.enabled);
  EXPECT_EQ(build_accept_response(r, "chat"),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n\r\n");
}

TEST(WsHandshake, Rfc6455Section4_2_1TokensAreCaseInsensitiveLists) {
  http_request req = good_request();
  set_header(req, "Upgrade", "WebSocket");
  set_header(req, "Connection", "keep-alive, UPGRADE");
  EXPECT_TRUE(validate_upgrade(req).ok());
  set_header(req, "Connection", "keep-alive, upgraded");
  EXPECT_EQ(validate_upgrade(req).err, handshake_error::missing_connection);
}

TEST(WsHandshake, Rfc6455Section4_2_1RejectsEachMissingRequirement) {
  struct c {
    const char* what;
    void (*mutate)(http_request&);
    handshake_error err;
    int status;
  };
  const c cases[] = {
      {"POST", [](http_request& r) { r.method = "POST"; }, handshake_error::not_get, 400},
      {"HTTP/1.0", [](http_request& r) { r.version_minor = 0; }, handshake_error::bad_http_version,
       400},
      {"no Host", [](http_request& r) { drop_header(r, "Host"); }, handshake_error::missing_host,
       400},
      {"no Upgrade", [](http_request& r) { drop_header(r, "Upgrade"); },
       handshake_error::missing_upgrade, 400},
      {"Upgrade h2c", [](http_request& r) { set_header(r, "Upgrade", "h2c"); },
       handshake_error::missing_upgrade, 400},
      {"no Connection", [](http_request& r) { drop_header(r, "Connection"); },
       handshake_error::missing_connection, 400},
      {"no version", [](http_request& r) { drop_header(r, "Sec-WebSocket-Version"); },
       handshake_error::unsupported_version, 426},
      {"version 8", [](http_request& r) { set_header(r, "Sec-WebSocket-Version", "8"); },
       handshake_error::unsupported_version, 426},
      {"no key", [](http_request& r) { drop_header(r, "Sec-WebSocket-Key"); },
       handshake_error::bad_key, 400},
      {"short key", [](http_request& r) { set_header(r, "Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="); },
       handshake_error::bad_key, 400},
      {"bad char",
       [](http_request& r) { set_header(r, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ*=="); },
       handshake_error::bad_key, 400},
      {"no padding",
       [](http_request& r) { set_header(r, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQAA"); },
       handshake_error::bad_key, 400},
  };
  for (const auto& tc : cases) {
    http_request req = good_request();
    tc.mutate(req);
    const handshake_result r = validate_upgrade(req);
    EXPECT_EQ(r.err, tc.err) << tc.what;
    EXPECT_EQ(r.status, tc.status) << tc.what;
    EXPECT_FALSE(r.ok());
  }
}

TEST(WsHandshake, Rfc6455Section4_4RejectResponsesCarryVersion) {
  http_request req = good_request();
  set_header(req, "Sec-WebSocket-Version", "12");
  const std::string s = build_reject_response(validate_upgrade(req));
  EXPECT_EQ(s.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
  EXPECT_NE(s.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(s.find("Connection: close"), std::string::npos);
  drop_header(req, "Host");
  const std::string b = build_reject_response(validate_upgrade(req));
  EXPECT_EQ(b.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(b.find("Sec-WebSocket-Version"), std::string::npos);
  // Content-Length matches the body.
  const auto body_at = b.find("\r\n\r\n") + 4;
  const auto cl = b.find("Content-Length: ") + 16;
  EXPECT_EQ(std::stoul(b.substr(cl)), b.size() - body_at);
}

TEST(WsHandshake, Rfc6455Section10_2OriginAllowList) {
  const std::string_view allowed[] = {"https://example.com", "http://localhost:8080"};
  EXPECT_TRUE(origin_allowed("https://example.com", allowed));
  EXPECT_TRUE(origin_allowed("HTTPS://EXAMPLE.COM", allowed));
  EXPECT_TRUE(origin_allowed("http://localhost:8080", allowed));
  EXPECT_FALSE(origin_allowed("http://localhost", allowed));
  EXPECT_FALSE(origin_allowed("https://example.com.evil.org", allowed));
  EXPECT_FALSE(origin_allowed("", allowed));
  http_request req = good_request();
  handshake_options o;
  o.allowed_origins = allowed;
  EXPECT_EQ(validate_upgrade(req, o).status, 403);
  EXPECT_EQ(build_reject_response(validate_upgrade(req, o)).rfind("HTTP/1.1 403", 0), 0u);
  set_header(req, "Origin", "https://example.com");
  EXPECT_TRUE(validate_upgrade(req, o).ok());
}

TEST(WsHandshake, Rfc7692NegotiatesDeflateAcrossRepeatedExtensionHeaders) {
  http_request req = good_request();
  req.headers.push_back({"Sec-WebSocket-Extensions", "x-webkit-deflate-frame"});
  req.headers.push_back({"sec-websocket-extensions", "permessage-deflate; client_max_window_bits"});
  const handshake_result r = validate_upgrade(req);
  ASSERT_TRUE(r.deflate.params.enabled);
  EXPECT_EQ(r.deflate.response, "permessage-deflate");
  const std::string resp = build_accept_response(r);
  EXPECT_NE(resp.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), std::string::npos);
  handshake_options off;
  off.deflate.enabled = false;
  EXPECT_FALSE(validate_upgrade(req, off).deflate.params.enabled);
  EXPECT_EQ(build_accept_response(validate_upgrade(req, off)).find("Extensions"),
            std::string::npos);
}

}  // namespace
}  // namespace ns::ws
