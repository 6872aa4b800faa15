// SPDX-License-Identifier: MIT
// A moving connection's state on byte arrays: every field round-trips; every truncation and
// every field out of its bounds is refused with a reason, never half-read.
#include "handover/connection_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ns::handover {
namespace {

connection_state sample(protocol p = protocol::websocket) {
  connection_state s;
  s.proto = p;
  s.tls.records.cipher = tls::suite::aes_256_gcm_sha384;
  s.tls.records.read.size = s.tls.records.write.size = 48;
  for (std::size_t i = 0; i < 48; ++i) {
    s.tls.records.read.bytes[i] = static_cast<std::uint8_t>(i + 1);
    s.tls.records.write.bytes[i] = static_cast<std::uint8_t>(200 - i);
  }
  s.tls.records.read_seq = 0x0102030405060708;
  s.tls.records.write_seq = 7;
  s.tls.resumed = true;
  s.tls.records.owe_update = true;
  s.tls.alpn = "http/1.1";
  s.tls.sni = "example.test";
  s.tls.input = {std::byte{23}, std::byte{3}, std::byte{3}};
  s.peer = "192.0.2.7:40000";
  if (p == protocol::websocket) {
    s.deflate.enabled = true;
    s.deflate.server_no_context_takeover = s.deflate.client_no_context_takeover = true;
    s.deflate.server_max_window_bits = 12;
    s.deflate.client_max_window_bits = 9;
  }
  s.app = "room=lobby";
  return s;
}

void expect_same(const connection_state& a, const connection_state& b) {
  EXPECT_EQ(a.proto, b.proto);
  EXPECT_EQ(a.tls.records.cipher, b.tls.records.cipher);
  EXPECT_EQ(a.tls.records.read.size, b.tls.records.read.size);
  EXPECT_EQ(a.tls.records.read.bytes, b.tls.records.read.bytes);
  EXPECT_EQ(a.tls.records.write.bytes, b.tls.records.write.bytes);
  EXPECT_EQ(a.tls.records.read_seq, b.tls.records.read_seq);
  EXPECT_EQ(a.tls.records.write_seq, b.tls.records.write_seq);
  EXPECT_EQ(a.tls.resumed, b.tls.resumed);
  EXPECT_EQ(a.tls.records.owe_update, b.tls.records.owe_update);
  EXPECT_EQ(a.tls.alpn, b.tls.alpn);
  EXPECT_EQ(a.tls.sni, b.tls.sni);
  EXPECT_EQ(a.tls.input, b.tls.input);
  EXPECT_EQ(a.peer, b.peer);
  EXPECT_EQ(a.deflate.enabled, b.deflate.enabled);
  EXPECT_EQ(a.deflate.server_no_context_takeover, b.deflate.server_no_context_takeover);
  EXPECT_EQ(a.deflate.client_no_context_takeover, b.deflate.client_no_context_takeover);
  EXPECT_EQ(a.deflate.server_max_window_bits, b.deflate.server_max_window_bits);
  EXPECT_EQ(a.deflate.client_max_window_bits, b.deflate.client_max_window_bits);
  EXPECT_EQ(a.app, b.app);
}

TEST(HandoverConnectionState, RoundTripsBothProtocols) {
  for (protocol p : {protocol::http1, protocol::websocket}) {
    const connection_state s = sample(p);
    std::vector<std::byte> bytes = encode(s);
    connection_state back;
    std::string error;
    ASSERT_TRUE(decode(bytes, back, error)) << error;
    expect_same(s, back);
    wipe(bytes);
    for (std::byte b : bytes) ASSERT_EQ(b, std::byte{0});
  }
}

TEST(HandoverConnectionState, EveryTruncationAndTrailingByteIsRefused) {
  const std::vector<std::byte> bytes = encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    connection_state out;
    std::string error;
    EXPECT_FALSE(decode(std::span(bytes).first(n), out, error)) << n;
    EXPECT_EQ(error, "connection state: truncated") << n;
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  connection_state out;
  std::string error;
  EXPECT_FALSE(decode(longer, out, error));
  EXPECT_EQ(error, "connection state: 1 bytes after the state");
}

// Offsets of the fixed-position fields in sample()'s encoding.
constexpr std::size_t at_version = 0, at_protocol = 2, at_suite = 3, at_read_len = 4;

TEST(HandoverConnectionState, FieldsOutOfTheirBoundsAreRefused) {
  const auto refused = [](std::size_t at, std::uint8_t value, const std::string& why) {
    std::vector<std::byte> bytes = encode(sample());
    bytes[at] = std::byte(value);
    connection_state out;
    std::string error;
    EXPECT_FALSE(decode(bytes, out, error)) << at;
    EXPECT_NE(error.find(why), std::string::npos) << error;
  };
  refused(at_version + 1, 2, "version 2, this one reads 1");
  refused(at_protocol, 3, "unknown protocol 3");
  refused(at_suite, 3, "unknown cipher suite 3");
  refused(at_suite, 0, "a traffic secret of 48 bytes for its suite");  // AES-128: 32 bytes
  refused(at_read_len, 32, "");  // shorter secret: the rest no longer parses
  refused(at_read_len + 1 + 48 + 1 + 48 + 16, 4, "unknown TLS flags 4");
  // The tail: deflate (4 bytes) then the blob (2 + 10).
  const std::size_t tail = encode(sample()).size() - 12 - 4;
  refused(tail, 2, "cannot have been agreed");
  refused(tail + 1, 1, "context takeover");  // the client keeps its window
  refused(tail + 2, 16, "cannot have been agreed");
  refused(tail + 3, 7, "cannot have been agreed");
  connection_state http = sample(protocol::http1);
  http.deflate.enabled = true;
  http.deflate.server_no_context_takeover = http.deflate.client_no_context_takeover = true;
  connection_state out;
  std::string error;
  EXPECT_FALSE(decode(encode(http), out, error));
  EXPECT_NE(error.find("on HTTP/1.1"), std::string::npos) << error;
}

TEST(HandoverConnectionState, BoundsHoldOnBothSides) {
  connection_state s = sample();
  s.tls.input.assign(max_input + 1, std::byte{1});
  EXPECT_THROW(encode(s), std::length_error);
  s.tls.input.clear();
  s.app.assign(max_app_blob + 1, 'x');
  EXPECT_THROW(encode(s), std::length_error);
  s.app.clear();
  s.peer.assign(256, 'p');
  EXPECT_THROW(encode(s), std::length_error);
  // A length field over the bound is refused before the bytes are looked for.
  s.peer.clear();
  s.tls.input.assign(max_input, std::byte{1});
  std::vector<std::byte> bytes = encode(s);
  const std::size_t at_input_len = 2 + 1 + 1 + 49 + 49 + 8 + 8 + 1 + (1 + 8) + (1 + 12) + 1;
  ASSERT_EQ(bytes[at_input_len + 2], std::byte{0x80});  // 32768 = 0x00008000
  bytes[at_input_len + 3] = std::byte{1};
  connection_state out;
  std::string error;
  EXPECT_FALSE(decode(bytes, out, error));
  EXPECT_EQ(error, "connection state: 32769 bytes of input");
}

}  // namespace
}  // namespace ns::handover
