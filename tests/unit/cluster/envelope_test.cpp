// SPDX-License-Identifier: MIT
// cluster::envelope: the bytes of one publish between instances, and channel names.
#include "cluster/envelope.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

namespace ns::cluster {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string text_of(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string encoded(std::string_view origin, payload_type type, std::string_view payload) {
  std::string out;
  EXPECT_TRUE(encode_envelope(out, origin, type, bytes(payload)));
  return out;
}

constexpr std::size_t big = 1 << 20;

TEST(Envelope, RoundTripsTextBinaryAndEmptyPayloads) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  for (const auto& [type, payload] : {std::pair{payload_type::text, std::string("hello")},
                                      std::pair{payload_type::binary, every_byte},
                                      std::pair{payload_type::binary, std::string()}}) {
    const std::string e = encoded("0123456789abcdef0123456789abcdef", type, payload);
    EXPECT_EQ(e.size(), envelope_header_size(32) + payload.size());
    const decode_result r = decode_envelope(bytes(e), big);
    ASSERT_EQ(r.status, decode_status::ok) << describe(r.status);
    EXPECT_EQ(r.value.origin, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(r.value.type, type);
    EXPECT_EQ(text_of(r.value.payload), payload);
    // The views point into the message: nothing is copied.
    EXPECT_EQ(static_cast<const void*>(r.value.origin.data()), e.data() + 5);
  }
}

TEST(Envelope, TheWireFormatIsAsDocumented) {
  const std::string e = encoded("o1", payload_type::text, "hi");
  EXPECT_EQ(e, std::string("ns\x01\x01\x02o1\x00\x00\x00\x02hi", 13));
}

TEST(Envelope, EveryPrefixIsTruncatedAndAByteMoreIsTrailing) {
  const std::string e = encoded("origin", payload_type::binary, "payload bytes");
  for (std::size_t cut = 0; cut < e.size(); ++cut) {
    EXPECT_EQ(decode_envelope(bytes(std::string_view(e).substr(0, cut)), big).status,
              decode_status::truncated)
        << "cut at " << cut;
  }
  EXPECT_EQ(decode_envelope(bytes(e + "x"), big).status, decode_status::trailing);
  EXPECT_EQ(decode_envelope(bytes(e + std::string(1, '\0')), big).status, decode_status::trailing);
}

TEST(Envelope, ForeignAndDamagedHeadersAreNamed) {
  const std::string e = encoded("origin", payload_type::text, "x");
  auto with = [&](std::size_t at, char c) {
    std::string d = e;
    d[at] = c;
    return decode_envelope(bytes(d), big).status;
  };
  EXPECT_EQ(with(0, 'N'), decode_status::bad_magic);
  EXPECT_EQ(with(1, 'S'), decode_status::bad_magic);
  EXPECT_EQ(with(2, 0), decode_status::bad_version);
  EXPECT_EQ(with(2, 2), decode_status::bad_version);
  EXPECT_EQ(with(3, 0), decode_status::bad_type);
  EXPECT_EQ(with(3, 3), decode_status::bad_type);
  EXPECT_EQ(with(4, 0), decode_status::bad_origin);
  EXPECT_EQ(with(4, static_cast<char>(max_origin_bytes + 1)), decode_status::bad_origin);
  // A shorter origin length moves the payload length: the bytes no longer add up.
  EXPECT_NE(with(4, 5), decode_status::ok);
  // Foreign bytes are recognised from their first byte on.
  EXPECT_EQ(decode_envelope(bytes("{"), big).status, decode_status::bad_magic);
  EXPECT_EQ(decode_envelope(bytes("hello world"), big).status, decode_status::bad_magic);
  EXPECT_EQ(decode_envelope(bytes("nx"), big).status, decode_status::bad_magic);
  EXPECT_EQ(decode_envelope(bytes("ns"), big).status, decode_status::truncated);
}

TEST(Envelope, ThePayloadBoundIsInclusiveAndCheckedBeforeTheBytesArrive) {
  const std::string e = encoded("o", payload_type::binary, std::string(100, 'p'));
  EXPECT_EQ(decode_envelope(bytes(e), 100).status, decode_status::ok);
  EXPECT_EQ(decode_envelope(bytes(e), 99).status, decode_status::oversized);
  // A header announcing 4 GiB - 1 is refused without the bytes: no buffer is ever sized by it.
  std::string claim("ns\x01\x02\x01o\xff\xff\xff\xff", 10);
  EXPECT_EQ(decode_envelope(bytes(claim), big).status, decode_status::oversized);
  EXPECT_EQ(decode_envelope(bytes(claim), 0xffffffffu).status, decode_status::truncated);
}

TEST(Envelope, OriginsAreBounded) {
  std::string out = "kept";
  EXPECT_FALSE(encode_envelope(out, "", payload_type::text, bytes("x")));
  EXPECT_FALSE(
      encode_envelope(out, std::string(max_origin_bytes + 1, 'o'), payload_type::text, bytes("x")));
  EXPECT_FALSE(format_publish(out, "c", "", payload_type::text, bytes("x")));
  EXPECT_EQ(out, "kept");
  const std::string longest = encoded(std::string(max_origin_bytes, 'o'), payload_type::text, "x");
  EXPECT_EQ(decode_envelope(bytes(longest), big).status, decode_status::ok);
}

TEST(Envelope, DescribeNamesEveryStatus) {
  for (auto s : {decode_status::ok, decode_status::truncated, decode_status::bad_magic,
                 decode_status::bad_version, decode_status::bad_type, decode_status::bad_origin,
                 decode_status::trailing, decode_status::oversized}) {
    EXPECT_NE(describe(s), "unknown");
  }
  EXPECT_EQ(describe(decode_status::oversized), "payload too large");
}

// The command we format equals hiredis's own formatting of PUBLISH channel envelope.
TEST(FormatPublish, IsWhatHiredisWouldSend) {
  const std::string channel("ns:\0chat\r\nroom", 14);
  const std::string payload = "payload with \r\n and \0 inside" + std::string(1, '\0');
  std::string ours = "previous";
  ASSERT_TRUE(format_publish(ours, channel, "origin-id", payload_type::text, bytes(payload)));
  const std::string env = encoded("origin-id", payload_type::text, payload);
  const char* argv[] = {"PUBLISH", channel.data(), env.data()};
  const size_t lens[] = {7, channel.size(), env.size()};
  char* theirs = nullptr;
  const int n = redisFormatCommandArgv(&theirs, 3, argv, lens);
  ASSERT_GT(n, 0);
  EXPECT_EQ(ours, "previous" + std::string(theirs, static_cast<std::size_t>(n)));
  redisFreeCommand(theirs);
}

TEST(Channel, IsThePrefixAndTheTopicBytes) {
  const std::string topic("a\0b\r\n*$", 7);
  const std::string c = channel_name("ns:", topic);
  EXPECT_EQ(c, "ns:" + topic);
  EXPECT_EQ(topic_of_channel("ns:", c, 256), topic);
  EXPECT_EQ(topic_of_channel("", "t", 256), "t");
  EXPECT_EQ(topic_of_channel("ns:", "ns:", 256), "");
  EXPECT_FALSE(topic_of_channel("ns:", "nx:t", 256));
  EXPECT_FALSE(topic_of_channel("ns:", "ns", 256));
  EXPECT_EQ(topic_of_channel("ns:", "ns:" + std::string(256, 't'), 256)->size(), 256u);
  EXPECT_FALSE(topic_of_channel("ns:", "ns:" + std::string(257, 't'), 256));
}

}  // namespace
}  // namespace ns::cluster
