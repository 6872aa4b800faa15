// SPDX-License-Identifier: MIT
// RFC 6455 §4.2.1/§4.4: every refused upgrade is answered with a body that says which
// requirement failed; each handshake_error has its own reason, and the list syntax the checks
// rely on (RFC 9110 §5.6.1: OWS around elements, empty elements ignored) is honoured.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ws/handshake.hpp"

namespace ns::ws {
namespace {

http_request good_request() {
  http_request r;
  r.method = "GET";
  r.target = "/chat";
  r.headers = {{"Host", "server.example.com"},
               {"Upgrade", "websocket"},
               {"Connection", "Upgrade"},
               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"Sec-WebSocket-Version", "13"}};
  r.upgrade = true;
  return r;
}

void set_header(http_request& r, std::string_view name, std::string_view value) {
  for (auto& h : r.headers) {
    if (h.name == name) h.value = value;
  }
}

constexpr auto last = handshake_error::origin_not_allowed;

TEST(WsRefusalReasons, EveryErrorHasADistinctReason) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    const std::string_view r = reason(static_cast<handshake_error>(i));
    EXPECT_FALSE(r.empty()) << i;
    EXPECT_NE(r, "unknown error") << i;
    EXPECT_TRUE(seen.insert(std::string(r)).second) << "duplicate reason: " << r;
  }
  EXPECT_EQ(reason(static_cast<handshake_error>(200)), "unknown error");
  EXPECT_EQ(reason(handshake_error::none), "no error");
}

struct refusal {
  handshake_error err;
  int status;
  std::string body;
};

refusal refuse(const http_request& req) {
  const handshake_result r = validate_upgrade(req);
  const std::string resp = build_reject_response(r);
  return {r.err, r.status, resp.substr(resp.find("\r\n\r\n") + 4)};
}

TEST(WsRefusalReasons, ResponseBodyNamesTheFailedRequirement) {
  http_request post = good_request();
  post.method = "POST";
  EXPECT_EQ(refuse(post).body, std::string(reason(handshake_error::not_get)) + "\n");

  http_request old = good_request();
  old.version_minor = 0;
  EXPECT_EQ(refuse(old).err, handshake_error::bad_http_version);
  old.version_major = 0;
  old.version_minor = 9;
  const refusal r09 = refuse(old);
  EXPECT_EQ(r09.err, handshake_error::bad_http_version) << "HTTP/0.9 is below 1.1 too";
  EXPECT_EQ(r09.body, std::string(reason(handshake_error::bad_http_version)) + "\n");

  http_request no_upgrade = good_request();
  set_header(no_upgrade, "Upgrade", "h2c");
  const refusal ru = refuse(no_upgrade);
  EXPECT_EQ(ru.status, 400);
  EXPECT_EQ(ru.body, std::string(reason(handshake_error::missing_upgrade)) + "\n");

  http_request no_conn = good_request();
  set_header(no_conn, "Connection", "keep-alive");
  EXPECT_EQ(refuse(no_conn).body, std::string(reason(handshake_error::missing_connection)) + "\n");
}

TEST(WsRefusalReasons, ListElementsAreTrimmedAndEmptyOnesSkipped) {
  http_request r = good_request();
  set_header(r, "Upgrade", " ,\t, websocket\t ,");
  set_header(r, "Connection", "keep-alive ,\t upgrade\t");
  EXPECT_TRUE(validate_upgrade(r).ok());
  // Only blanks and commas: no token at all.
  set_header(r, "Upgrade", " , \t ,");
  EXPECT_EQ(validate_upgrade(r).err, handshake_error::missing_upgrade);
  // The token must be whole: "websocket2" or "web socket" is not it.
  set_header(r, "Upgrade", "websocket2, web socket");
  EXPECT_EQ(validate_upgrade(r).err, handshake_error::missing_upgrade);
}

TEST(WsRefusalReasons, KeyMustBeExactlyBase64Of16Bytes) {
  EXPECT_TRUE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(is_valid_key("++++++++++++++++++++/w=="));   // base64 of fb ef be … ff
  EXPECT_TRUE(is_valid_key("8PHy8/T19vf4+fr7/P3+/w=="));   // base64 of f0 … ff
  EXPECT_FALSE(is_valid_key("8PHy8-T19vf4+fr7/P3+/w=="));  // '-' is base64url, not base64
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ="));   // 23 characters
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZ=A="));  // '=' must be the last two
  // Each padding character checked alone: the rest of the key is valid.
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQA="));  // 23rd is not '=' (17 bytes)
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=x"));  // 24th is not '='
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25j*Q=="));  // '*' is not base64
  http_request r = good_request();
  set_header(r, "Sec-WebSocket-Key", "  dGhlIHNhbXBsZSBub25jZQ==\t");
  EXPECT_TRUE(validate_upgrade(r).ok()) << "OWS around the field value is not part of it";
}

TEST(WsRefusalReasons, ExtensionHeadersBeyondEightAreIgnored) {
  http_request r = good_request();
  // Eight bogus offers fill the bounded list; a valid offer after them is not considered.
  for (int i = 0; i < 8; ++i) r.headers.push_back({"Sec-WebSocket-Extensions", "x-unknown"});
  r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
  deflate_policy p;
  p.enabled = true;
  handshake_options o;
  o.deflate = p;
  const handshake_result res = validate_upgrade(r, o);
  ASSERT_TRUE(res.ok());
  EXPECT_FALSE(res.deflate.params.enabled);
  // The same offer within the first eight is taken.
  http_request r2 = good_request();
  r2.headers.push_back({"Sec-WebSocket-Extensions", "x-unknown"});
  r2.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
  EXPECT_TRUE(validate_upgrade(r2, o).deflate.params.enabled);
}

}  // namespace
}  // namespace ns::ws
