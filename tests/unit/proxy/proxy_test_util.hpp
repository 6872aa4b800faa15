// SPDX-License-Identifier: MIT
#pragma once
// Builders of PROXY protocol headers (doc/proxy-protocol.txt) and a feed loop for the parser
// tests: whole, split once at every offset, and one byte at a time.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/header.hpp"

namespace ns::proxy::test {

inline const std::string v2_sig("\r\n\r\n\0\r\nQUIT\n", 12);

/// A v2 header: signature, @p ver_cmd, @p fam, big-endian length of @p body, @p body.
inline std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& body) {
  std::string h = v2_sig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

inline std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

/// One TLV: type, 16-bit length, value.
inline std::string tlv(std::uint8_t type, const std::string& value) {
  return static_cast<char>(type) + be16(static_cast<std::uint16_t>(value.size())) + value;
}

/// The address block of TCP over IPv4: 192.0.2.7:51234 → 198.51.100.1:443.
inline std::string v4_block() {
  return std::string("\xc0\x00\x02\x07\xc6\x33\x64\x01", 8) + be16(51234) + be16(443);
}

/// The address block of TCP over IPv6: [2001:db8::7]:40000 → [2001:db8::1]:8443.
inline std::string v6_block() {
  std::string src(16, '\0'), dst(16, '\0');
  src[0] = dst[0] = 0x20;
  src[1] = dst[1] = 0x01;
  src[2] = dst[2] = 0x0d;
  src[3] = dst[3] = static_cast<char>(0xb8);
  src[15] = 7;
  dst[15] = 1;
  return src + dst + be16(40000) + be16(8443);
}

inline std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// What a run of feeds ended in.
struct outcome {
  status st = status::need_more;
  error err = error::none;
  std::size_t consumed = 0;  ///< total over all feeds
  header h;
};

/// Feeds @p input in pieces cut at @p cuts (ascending offsets), stopping at the first done or
/// error; checks that no feed consumes more than it was given.
inline outcome run(version_mode mode, std::string_view input,
                   const std::vector<std::size_t>& cuts) {
  parser p(mode);
  outcome o;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(input.size());
  for (const std::size_t to : ends) {
    const std::string_view piece = input.substr(from, to - from);
    from = to;
    const result r = p.feed(bytes(piece));
    EXPECT_LE(r.consumed, piece.size());
    o.consumed += r.consumed;
    o.st = r.st;
    if (r.st != status::need_more) break;
  }
  o.err = p.err();
  if (o.st == status::done) o.h = p.get();
  return o;
}

inline bool same_endpoint(const endpoint& a, const endpoint& b) {
  return a.fam == b.fam && a.ip == b.ip && a.port == b.port;
}

/// Feeds @p input whole, then split once at every offset, then byte by byte: every run must
/// end alike (status, error, header, and when done the bytes consumed) — the parsegrind idea.
inline outcome expect_same_at_every_split(version_mode mode, std::string_view input) {
  const outcome whole = run(mode, input, {});
  std::vector<std::vector<std::size_t>> splits;
  for (std::size_t k = 1; k < input.size(); ++k) splits.push_back({k});
  std::vector<std::size_t> each;
  for (std::size_t k = 1; k < input.size(); ++k) each.push_back(k);
  splits.push_back(each);
  for (const auto& cuts : splits) {
    const outcome o = run(mode, input, cuts);
    const std::string where = cuts.size() == 1 ? "split at " + std::to_string(cuts[0]) : "bytewise";
    EXPECT_EQ(o.st, whole.st) << where;
    EXPECT_EQ(o.err, whole.err) << where;
    if (whole.st == status::done) {
      EXPECT_EQ(o.consumed, whole.consumed) << where;
    }
    EXPECT_EQ(o.h.local, whole.h.local) << where;
    EXPECT_EQ(o.h.version, whole.h.version) << where;
    EXPECT_TRUE(same_endpoint(o.h.source, whole.h.source)) << where;
    EXPECT_TRUE(same_endpoint(o.h.destination, whole.h.destination)) << where;
  }
  return whole;
}

}  // namespace ns::proxy::test
