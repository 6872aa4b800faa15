// SPDX-License-Identifier: MIT
#pragma once
// Test helpers for record_layer: two layers back to back (the layer is the same for either
// role given the two secrets), and records crafted by a bare protector acting as the peer.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tls/record_layer.hpp"

namespace ns::tls::record_test {

// Ciphertext collected in a vector (tls::vector_sink over an owned buffer).
struct buffer_sink {
  buffer_sink() = default;
  buffer_sink(const buffer_sink&) = delete;
  buffer_sink& operator=(const buffer_sink&) = delete;
  operator ciphertext_sink&() { return sink; }  // NOLINT: passed where a sink is expected
  std::vector<std::byte> bytes;
  vector_sink sink{bytes};
};

inline traffic_secret secret_of(std::uint8_t seed, std::size_t size = 32) {
  traffic_secret s;
  s.size = size;
  for (std::size_t i = 0; i < size; ++i) s.bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
  return s;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// A client (c) and a server (s) layer: the client writes with secret A, the server with B.
struct pair {
  explicit pair(suite su = suite::aes_128_gcm_sha256,
                std::uint64_t rotate_after = record_layer::default_key_update_after)
      : suite_(su),
        s(su, secret_of(1, secret_size(su)), secret_of(100, secret_size(su)), 0, rotate_after),
        c(su, secret_of(100, secret_size(su)), secret_of(1, secret_size(su)), 0) {}
  suite suite_;
  record_layer s, c;
};

// Reads every record in @p in with @p l; returns the application data, stops at a non-data step.
struct drained {
  std::string data;
  record_layer::step last;
};
inline drained read_all(record_layer& l, std::span<const std::byte> in, buffer_sink& control) {
  drained d;
  std::vector<std::byte> out(record_layer::max_ciphertext);
  for (;;) {
    d.last = l.read(in, out, control);
    if (d.last.kind != record_layer::step_kind::data) return d;
    d.data.append(reinterpret_cast<const char*>(out.data()), d.last.bytes);
    in = in.subspan(d.last.consumed);
  }
}

// A record sealed by a bare protector: inner content @p content of type @p type.
inline std::vector<std::byte> craft(record_protector& p, std::uint8_t type,
                                    std::vector<std::uint8_t> content, std::size_t padding = 0) {
  content.push_back(type);
  content.insert(content.end(), padding, 0);
  // seal() appends one more inner-type byte: pass the content without its last byte.
  const std::uint8_t last = content.back();
  content.pop_back();
  const std::size_t len = content.size() + 1 + tag_size;
  std::vector<std::byte> rec(5 + len);
  const std::uint8_t header[5] = {23, 3, 3, static_cast<std::uint8_t>(len >> 8),
                                  static_cast<std::uint8_t>(len)};
  std::memcpy(rec.data(), header, 5);
  EXPECT_TRUE(
      p.seal(header, content, last, {reinterpret_cast<std::uint8_t*>(rec.data()) + 5, len}));
  return rec;
}

// The peer's side of a pair, as a bare protector sealing what the server layer reads.
struct crafted : pair {
  explicit crafted(suite su = suite::aes_128_gcm_sha256) : pair(su) {}
  record_protector peer{suite_, secret_of(1, secret_size(suite_)), true};
  buffer_sink control;
  record_layer::step feed(const std::vector<std::byte>& rec) {
    std::vector<std::byte> out(record_layer::max_ciphertext);
    return s.read(rec, out, control);
  }
};

// The one record in @p wire, opened with @p peer_reader (the receiving side of its key) at
// its next sequence number: {inner content type, content…}. Empty if @p wire is not exactly
// one record or does not open.
inline std::vector<std::uint8_t> open_one(record_protector& reader,
                                          const std::vector<std::byte>& wire) {
  if (wire.size() < 5 + tag_size) return {};
  const auto* rec = reinterpret_cast<const std::uint8_t*>(wire.data());
  const std::size_t len = (std::size_t{rec[3]} << 8) | rec[4];
  if (wire.size() != 5 + len) return {};
  std::vector<std::uint8_t> pt(len - tag_size);
  if (!reader.open(std::span<const std::uint8_t, 5>(rec, 5), {rec + 5, len}, pt)) return {};
  while (!pt.empty() && pt.back() == 0) pt.pop_back();
  if (pt.empty()) return {};
  pt.insert(pt.begin(), pt.back());
  pt.pop_back();
  return pt;
}

}  // namespace ns::tls::record_test
