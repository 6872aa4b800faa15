// SPDX-License-Identifier: MIT
// The hand-over records on byte arrays: every type round-trips, split at every offset; a
// record is never read past its end; whatever is malformed is refused, and stays refused.
#include "handover/record.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ns::handover {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

std::vector<record> samples() {
  record hello;
  hello.pid = 0x01020304;
  record listeners;
  listeners.type = record_type::listeners;
  listener_address v4;
  v4.port = 8443;
  v4.ip = {127, 0, 0, 1};
  listener_address v6;
  v6.family = 6;
  v6.port = 443;
  v6.ip[15] = 1;
  listeners.listeners = {v4, v6, v4};
  record none;
  none.type = record_type::listeners;
  record ready;
  ready.type = record_type::ready;
  ready.count = 3;
  record refused;
  refused.type = record_type::refused;
  refused.text = "listener 0 is on 127.0.0.1:1, not on --port 2";
  record released;
  released.type = record_type::released;
  record connection;
  connection.type = record_type::connection;
  connection.id = 0xfeedbeef;
  connection.state = bytes({1, 2, 3, 0, 255});
  record adopted;
  adopted.type = record_type::adopted;
  adopted.id = 42;
  adopted.ok = true;
  record refused_move = adopted;
  refused_move.ok = false;
  return {hello, listeners, none, ready, refused, released, connection, adopted, refused_move};
}

bool same(const record& a, const record& b) {
  return a.type == b.type && a.pid == b.pid && a.listeners == b.listeners && a.count == b.count &&
         a.text == b.text && a.id == b.id && a.state == b.state && a.ok == b.ok;
}

TEST(HandoverRecord, EveryTypeRoundTripsSplitAtEveryOffset) {
  for (const record& r : samples()) {
    const std::vector<std::byte> wire = encode(r);
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      decoder d;
      record out;
      std::span<const std::byte> first(wire.data(), cut);
      std::span<const std::byte> second(wire.data() + cut, wire.size() - cut);
      decode_status s = d.feed(first, out);
      EXPECT_TRUE(first.empty());
      if (cut < wire.size()) {
        ASSERT_EQ(s, decode_status::need_more) << cut;
        s = d.feed(second, out);
      }
      ASSERT_EQ(s, decode_status::ready) << cut << " " << d.error();
      EXPECT_TRUE(second.empty() || cut == wire.size());
      EXPECT_TRUE(same(out, r)) << cut;
    }
  }
}

TEST(HandoverRecord, OneFeedStopsAtTheEndOfARecord) {
  std::vector<std::byte> wire;
  for (const record& r : samples()) {
    const auto w = encode(r);
    wire.insert(wire.end(), w.begin(), w.end());
  }
  decoder d;
  std::span<const std::byte> in(wire);
  for (const record& r : samples()) {
    record out;
    ASSERT_EQ(d.feed(in, out), decode_status::ready) << d.error();
    EXPECT_TRUE(same(out, r));
  }
  EXPECT_TRUE(in.empty());
}

// A header with @p type and @p length, then @p payload.
std::vector<std::byte> raw(int type, std::uint32_t length, std::vector<std::byte> payload,
                           int version_lo = 1) {
  std::vector<std::byte> w =
      bytes({'N', 'S', 'H', 'O', 0, version_lo, 0, type, static_cast<int>(length >> 24),
             static_cast<int>(length >> 16 & 0xff), static_cast<int>(length >> 8 & 0xff),
             static_cast<int>(length & 0xff)});
  w.insert(w.end(), payload.begin(), payload.end());
  return w;
}

void expect_refused(const std::vector<std::byte>& wire, const std::string& why) {
  decoder d;
  record out;
  std::span<const std::byte> in(wire);
  EXPECT_EQ(d.feed(in, out), decode_status::error) << why;
  EXPECT_EQ(d.error(), why);
  std::span<const std::byte> more(wire);
  EXPECT_EQ(d.feed(more, out), decode_status::error) << "an error is final";
}

TEST(HandoverRecord, MalformedRecordsAreRefused) {
  auto bad_magic = encode(samples()[0]);
  bad_magic[0] = std::byte('X');
  expect_refused(bad_magic, "not a hand-over record (bad magic)");
  expect_refused(raw(1, 4, bytes({0, 0, 0, 1}), 2), "hand-over version 2, this one speaks 1");
  expect_refused(raw(9, 0, {}), "unknown hand-over record type 9");
  expect_refused(raw(0, 0, {}), "unknown hand-over record type 0");
  // Refused from the header alone: no 4 GiB buffer is waited for.
  expect_refused(raw(2, 0xffffffff, {}), "hand-over record of 4294967295 bytes");
  expect_refused(raw(1, 3, bytes({0, 0, 1})), "hello record of 3 bytes, not 4");
  expect_refused(raw(3, 4, bytes({0, 0, 0, 1})), "ready record of 4 bytes, not 2");
  expect_refused(raw(4, max_text + 1, std::vector<std::byte>(max_text + 1, std::byte('a'))),
                 "refused record text of 1025 bytes");
  expect_refused(raw(2, 0, {}), "listeners record without a count");
  expect_refused(raw(2, 2, bytes({0, 1})), "listeners record of 2 bytes for 1 listener(s)");
  std::vector<std::byte> one(19, std::byte(0));
  one[0] = std::byte(5);
  auto payload = bytes({0, 1});
  payload.insert(payload.end(), one.begin(), one.end());
  expect_refused(raw(2, 21, payload), "listener 0: bad address family 5");
  payload[2] = std::byte(4);
  payload[2 + 3 + 4] = std::byte(1);  // an IPv4 address with bytes past its 4
  expect_refused(raw(2, 21, payload), "listener 0: bad address family 4");
  expect_refused(raw(5, 1, bytes({0})), "released record of 1 bytes, not 0");
  expect_refused(raw(6, 3, bytes({0, 0, 1})), "connection record without an id");
  expect_refused(raw(7, 4, bytes({0, 0, 0, 1})), "adopted record of 4 bytes, not 5 with ok 0 or 1");
  expect_refused(raw(7, 5, bytes({0, 0, 0, 1, 2})),
                 "adopted record of 5 bytes, not 5 with ok 0 or 1");
  // The count is bounded before the size is compared.
  expect_refused(raw(2, 2, bytes({0xff, 0xff})),
                 "listeners record of 2 bytes for 65535 listener(s)");
}

TEST(HandoverRecord, ATruncatedRecordIsNeverReady) {
  const auto wire = encode(samples()[1]);
  for (std::size_t n = 0; n < wire.size(); ++n) {
    decoder d;
    record out;
    std::span<const std::byte> in(wire.data(), n);
    EXPECT_EQ(d.feed(in, out), decode_status::need_more) << n;
  }
}

}  // namespace
}  // namespace ns::handover
