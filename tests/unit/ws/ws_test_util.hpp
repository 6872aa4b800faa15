// SPDX-License-Identifier: MIT
#pragma once
// Helpers for the ns_ws tests: byte builders, a raw frame writer that can produce invalid frames,
// and a driver that feeds a connection in chunks and records what it reports.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ws/connection.hpp"

namespace ns::ws::test {

using bytes = std::vector<std::byte>;

inline bytes to_bytes(std::string_view s) {
  bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

inline bytes hex(std::initializer_list<unsigned> v) {
  bytes b;
  for (unsigned x : v) b.push_back(std::byte(x));
  return b;
}

inline std::string to_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline constexpr std::uint32_t test_key = 0x5A1B3C7Du;

/// Writes a frame with an arbitrary first byte (FIN/RSV/opcode) and length encoding:
/// len_form 0 = minimal, 16 or 64 = force that extended form.
inline bytes raw_frame(unsigned b0, std::span<const std::byte> payload, bool mask = true,
                       int len_form = 0) {
  bytes f;
  f.push_back(std::byte(b0));
  const unsigned m = mask ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (len_form == 0 && n < 126) {
    f.push_back(std::byte(m | n));
  } else if (len_form == 16 || (len_form == 0 && n <= 0xFFFF)) {
    f.push_back(std::byte(m | 126));
    f.push_back(std::byte(n >> 8));
    f.push_back(std::byte(n & 0xFF));
  } else {
    f.push_back(std::byte(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(std::byte((n >> (8 * i)) & 0xFF));
  }
  std::byte k[4];
  std::memcpy(k, &test_key, 4);
  if (mask) f.insert(f.end(), k, k + 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f.push_back(mask ? payload[i] ^ k[i % 4] : payload[i]);
  return f;
}

inline bytes raw_frame(unsigned b0, std::string_view payload, bool mask = true, int len_form = 0) {
  return raw_frame(b0, to_bytes(payload), mask, len_form);
}

inline bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// An event with its data copied out (views die at the next feed).
struct recorded {
  event_type type;
  opcode op;
  std::string data;
  std::uint16_t code;
  error err;
  bool operator==(const recorded&) const = default;
};

/// Feeds @p input in pieces of @p chunk bytes (0 = all at once), recording every event. Stops
/// when the connection stops consuming (closed/failed).
inline std::vector<recorded> drive(connection& c, std::span<const std::byte> input,
                                   std::size_t chunk = 0) {
  std::vector<recorded> out;
  if (chunk == 0) chunk = input.size() == 0 ? 1 : input.size();
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::span<const std::byte> piece = input.subspan(pos, std::min(chunk, input.size() - pos));
    while (!piece.empty()) {
      const feed_result r = c.feed(piece);
      if (r.consumed > piece.size()) {
        ADD_FAILURE() << "consumed more than given";
        return out;
      }
      piece = piece.subspan(r.consumed);
      if (r.ev.type != event_type::none) {
        out.push_back({r.ev.type, r.ev.op, to_string(r.ev.data), r.ev.code, r.ev.err});
      } else if (r.consumed == 0) {
        return out;  // closed or failed: nothing more is read
      }
    }
    pos += std::min(chunk, input.size() - pos);
  }
  return out;
}

/// Feeds @p input split once at every offset and checks each run reports @p expected.
inline void expect_same_at_every_split(const connection_options& opts,
                                       std::span<const std::byte> input,
                                       const std::vector<recorded>& expected) {
  for (std::size_t split = 0; split <= input.size(); ++split) {
    connection c(opts);
    std::vector<recorded> got = drive(c, input.first(split));
    if (c.state() == connection_state::open || c.state() == connection_state::closing) {
      auto rest = drive(c, input.subspan(split));
      got.insert(got.end(), rest.begin(), rest.end());
    }
    ASSERT_EQ(got, expected) << "split at " << split;
  }
  connection c(opts);
  ASSERT_EQ(drive(c, input, 1), expected) << "byte by byte";
}

/// Decodes frames a server connection wrote (unmasked) as (opcode byte, payload) pairs.
struct out_frame {
  unsigned b0;
  std::string payload;
};
inline std::vector<out_frame> parse_output(std::span<const std::byte> out) {
  std::vector<out_frame> frames;
  std::size_t i = 0;
  while (i + 2 <= out.size()) {
    const unsigned b0 = std::to_integer<unsigned>(out[i]);
    std::uint64_t n = std::to_integer<unsigned>(out[i + 1]) & 0x7F;
    const bool masked = (std::to_integer<unsigned>(out[i + 1]) & 0x80) != 0;
    i += 2;
    if (n == 126) {
      n = (std::to_integer<unsigned>(out[i]) << 8) | std::to_integer<unsigned>(out[i + 1]);
      i += 2;
    } else if (n == 127) {
      n = 0;
      for (int k = 0; k < 8; ++k) n = (n << 8) | std::to_integer<unsigned>(out[i + k]);
      i += 8;
    }
    std::byte key[4] = {};
    if (masked) {
      std::memcpy(key, out.data() + i, 4);
      i += 4;
    }
    std::string p;
    for (std::uint64_t k = 0; k < n; ++k) p.push_back(static_cast<char>(out[i + k] ^ key[k % 4]));
    i += n;
    frames.push_back({b0, p});
  }
  return frames;
}

inline std::uint16_t close_code_of(const out_frame& f) {
  if (f.payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                    static_cast<unsigned char>(f.payload[1]));
}

}  // namespace ns::ws::test
