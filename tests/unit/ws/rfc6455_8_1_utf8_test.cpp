// SPDX-License-Identifier: MIT
// RFC 6455 §8.1 / RFC 3629: UTF-8 validation, with the Autobahn test suite's case 6.x sequences.
#include <gtest/gtest.h>

#include "ws/utf8.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::bytes;
using test::hex;

struct utf8_case {
  const char* name;
  bytes input;
  bool valid;
  std::ptrdiff_t fails_at;  // index of the first byte after which validation fails; -1: at end
};

std::vector<utf8_case> autobahn_cases() {
  return {
      {"6.2 kosme", hex({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5}), true,
       -1},
      {"6.3 kosme+surrogate",
       hex({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80,
            0x65}),
       false, 12},
      {"6.4 above U+10FFFF fails on 2nd byte", hex({0xCE, 0xBA, 0xF4, 0x90, 0x80, 0x80}), false, 3},
      {"6.5 first 1-byte", hex({0x00}), true, -1},
      {"6.5 first 2-byte", hex({0xC2, 0x80}), true, -1},
      {"6.5 first 3-byte", hex({0xE0, 0xA0, 0x80}), true, -1},
      {"6.5 first 4-byte", hex({0xF0, 0x90, 0x80, 0x80}), true, -1},
      {"6.6 5-byte form", hex({0xF8, 0x88, 0x80, 0x80, 0x80}), false, 0},
      {"6.6 6-byte form", hex({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}), false, 0},
      {"6.7 last 1-byte", hex({0x7F}), true, -1},
      {"6.7 last 2-byte", hex({0xDF, 0xBF}), true, -1},
      {"6.7 last 3-byte", hex({0xEF, 0xBF, 0xBF}), true, -1},
      {"6.7 F7 BF BF BF", hex({0xF7, 0xBF, 0xBF, 0xBF}), false, 0},
      {"6.8 U+D7FF", hex({0xED, 0x9F, 0xBF}), true, -1},
      {"6.8 U+E000", hex({0xEE, 0x80, 0x80}), true, -1},
      {"6.8 U+FFFD", hex({0xEF, 0xBF, 0xBD}), true, -1},
      {"6.8 U+10FFFF", hex({0xF4, 0x8F, 0xBF, 0xBF}), true, -1},
      {"6.8 U+110000", hex({0xF4, 0x90, 0x80, 0x80}), false, 1},
      {"6.9 overlong / C0 AF", hex({0xC0, 0xAF}), false, 0},
      {"6.9 overlong / E0 80 AF", hex({0xE0, 0x80, 0xAF}), false, 1},
      {"6.9 overlong / F0 80 80 AF", hex({0xF0, 0x80, 0x80, 0xAF}), false, 1},
      {"6.9 max overlong C1 BF", hex({0xC1, 0xBF}), false, 0},
      {"6.9 max overlong E0 9F BF", hex({0xE0, 0x9F, 0xBF}), false, 1},
      {"6.9 max overlong F0 8F BF BF", hex({0xF0, 0x8F, 0xBF, 0xBF}), false, 1},
      {"6.9 overlong NUL C0 80", hex({0xC0, 0x80}), false, 0},
      {"6.10 lone continuation 80", hex({0x80}), false, 0},
      {"6.10 lone continuation BF", hex({0x41, 0xBF}), false, 1},
      {"6.11 lonely start C2 space", hex({0xC2, 0x20}), false, 1},
      {"6.11 lonely start E1 space", hex({0xE1, 0x20}), false, 1},
      {"6.12 truncated 2-byte", hex({0x41, 0xC2}), false, -1},
      {"6.12 truncated 3-byte", hex({0xE0, 0xA0}), false, -1},
      {"6.12 truncated 4-byte", hex({0xF0, 0x90, 0x80}), false, -1},
      {"6.13 FE", hex({0xFE}), false, 0},
      {"6.13 FF", hex({0xFF}), false, 0},
      {"6.14 U+D800", hex({0xED, 0xA0, 0x80}), false, 1},
      {"6.14 U+DB7F", hex({0xED, 0xAD, 0xBF}), false, 1},
      {"6.14 U+DFFF", hex({0xED, 0xBF, 0xBF}), false, 1},
      {"6.14 paired surrogates", hex({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), false, 1},
      {"6.15 noncharacter U+FFFE", hex({0xEF, 0xBF, 0xBE}), true, -1},
      {"6.15 noncharacter U+10FFFE", hex({0xF4, 0x8F, 0xBF, 0xBE}), true, -1},
      {"ASCII run then bad", hex({0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0xFF}),
       false, 9},
  };
}

TEST(WsUtf8, Autobahn6xWholeBuffer) {
  for (const auto& c : autobahn_cases()) {
    EXPECT_EQ(is_valid_utf8(c.input), c.valid) << c.name;
  }
}

TEST(WsUtf8, Autobahn6xEverySplitPoint) {
  for (const auto& c : autobahn_cases()) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      utf8_validator v;
      const bool a = v.feed(std::span(c.input).first(split));
      const bool b = a && v.feed(std::span(c.input).subspan(split));
      EXPECT_EQ(b && v.complete(), c.valid) << c.name << " split " << split;
    }
  }
}

TEST(WsUtf8, Autobahn6xFailsFastOnFirstImpossibleByte) {
  for (const auto& c : autobahn_cases()) {
    utf8_validator v;
    std::ptrdiff_t failed_at = -1;
    for (std::size_t i = 0; i < c.input.size(); ++i) {
      if (!v.feed(std::span(c.input).subspan(i, 1))) {
        failed_at = static_cast<std::ptrdiff_t>(i);
        break;
      }
    }
    EXPECT_EQ(failed_at, c.fails_at) << c.name;
    if (failed_at >= 0) {
      EXPECT_TRUE(v.failed()) << c.name;
      EXPECT_FALSE(v.feed(hex({0x41}))) << "stays failed: " << c.name;
    }
  }
}

TEST(WsUtf8, EveryCodePointRoundTripsThroughOurValidator) {
  // Encode every scalar value and check acceptance; check every surrogate is refused.
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x3000 ? 1 : 97)) {
    bytes b;
    if (cp < 0x80) {
      b = hex({cp});
    } else if (cp < 0x800) {
      b = hex({0xC0 | (cp >> 6), 0x80 | (cp & 0x3F)});
    } else if (cp < 0x10000) {
      b = hex({0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)});
    } else {
      b = hex({0xF0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3F), 0x80 | ((cp >> 6) & 0x3F),
               0x80 | (cp & 0x3F)});
    }
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    EXPECT_EQ(is_valid_utf8(b), !surrogate) << std::hex << cp;
  }
}

TEST(WsUtf8, ResetStartsOver) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(hex({0xE2, 0x82})));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed(hex({0x41})));
}

}  // namespace
}  // namespace ns::ws
