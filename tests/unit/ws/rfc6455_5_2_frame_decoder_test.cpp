// SPDX-License-Identifier: MIT
// RFC 6455 §5.2 (base framing), §5.3 (masking): frame_decoder and apply_mask.
#include <gtest/gtest.h>

#include <random>

#include "ws/frame_decoder.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::bytes;
using test::raw_frame;

struct decoded {
  std::vector<frame_header> headers;
  std::vector<std::string> payloads;  // unmasked, one per frame
  error err = error::none;
};

// Decodes @p in fed in pieces of @p chunk bytes.
decoded decode_all(std::span<const std::byte> in, std::size_t chunk, decoder_options o = {}) {
  decoded d;
  frame_decoder dec(o);
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto piece = in.subspan(pos, std::min(chunk, in.size() - pos));
    pos += piece.size();
    while (!piece.empty()) {
      const decode_step s = dec.decode(piece);
      EXPECT_LE(s.consumed, piece.size());
      piece = piece.subspan(s.consumed);
      if (s.status == decode_status::error) {
        d.err = dec.last_error();
        return d;
      }
      if (s.status == decode_status::header) {
        d.headers.push_back(dec.header());
        d.payloads.emplace_back();
      }
      if (s.status == decode_status::payload) {
        std::string p(s.payload.size(), '\0');
        apply_mask(reinterpret_cast<std::byte*>(p.data()), s.payload.data(), s.payload.size(),
                   dec.header().mask, s.mask_phase);
        d.payloads.back() += p;
      }
      if (s.status == decode_status::need_more) {
        EXPECT_TRUE(piece.empty());
        break;
      }
    }
  }
  return d;
}

TEST(WsFrameDecoder, Rfc6455Section5_2SevenSixteenSixtyFourBitLengths) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 1000u, 65535u, 65536u, 70000u}) {
    const std::string payload(n, 'x');
    const bytes f = raw_frame(0x82, payload);
    const decoded d = decode_all(f, f.size());
    ASSERT_EQ(d.err, error::none) << n;
    ASSERT_EQ(d.headers.size(), 1u);
    EXPECT_EQ(d.headers[0].payload_length, n);
    EXPECT_EQ(d.headers[0].op, opcode::binary);
    EXPECT_TRUE(d.headers[0].fin);
    EXPECT_EQ(d.payloads[0], payload);
  }
}

TEST(WsFrameDecoder, Rfc6455Section5_2AcceptsNonMinimalLengthEncodings) {
  for (int form : {16, 64}) {
    const bytes f = raw_frame(0x81, "hi", true, form);
    const decoded d = decode_all(f, f.size());
    ASSERT_EQ(d.err, error::none);
    EXPECT_EQ(d.payloads[0], "hi");
  }
}

TEST(WsFrameDecoder, Rfc6455Section5_2RejectsLengthWithMostSignificantBitSet) {
  bytes f = test::hex({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
  const decoded d = decode_all(f, f.size());
  EXPECT_EQ(d.err, error::length_msb_set);
  EXPECT_EQ(close_code_for(d.err), close_code::protocol_error);
}

TEST(WsFrameDecoder, Rfc6455Section5_1RejectsUnmaskedClientFrame) {
  const bytes f = raw_frame(0x81, "hello", false);
  EXPECT_EQ(decode_all(f, f.size()).err, error::unmasked_frame);
  EXPECT_EQ(close_code_for(error::unmasked_frame), close_code::protocol_error);
}

TEST(WsFrameDecoder, Rfc6455Section5_1ClientRoleRejectsMaskedServerFrame) {
  const bytes f = raw_frame(0x81, "hello", true);
  EXPECT_EQ(decode_all(f, f.size(), {1024, false, false}).err, error::masked_frame);
  const bytes ok = raw_frame(0x81, "hello", false);
  EXPECT_EQ(decode_all(ok, ok.size(), {1024, false, false}).payloads.at(0), "hello");
}

TEST(WsFrameDecoder, Rfc6455Section5_2RejectsReservedBitsWithoutExtension) {
  for (unsigned rsv : {0x40u, 0x20u, 0x10u, 0x70u}) {
    const bytes f = raw_frame(0x80 | rsv | 0x1, "x");
    EXPECT_EQ(decode_all(f, f.size()).err, error::reserved_bits) << rsv;
  }
  // RSV1 becomes legal with permessage-deflate; RSV2/3 never.
  const bytes c = raw_frame(0xC1, "x");
  EXPECT_EQ(decode_all(c, c.size(), {1024, true, true}).err, error::none);
  const bytes r2 = raw_frame(0xA1, "x");
  EXPECT_EQ(decode_all(r2, r2.size(), {1024, true, true}).err, error::reserved_bits);
}

TEST(WsFrameDecoder, Rfc6455Section5_2RejectsReservedOpcodes) {
  for (unsigned op : {3u, 4u, 5u, 6u, 7u, 0xBu, 0xCu, 0xDu, 0xEu, 0xFu}) {
    const bytes f = raw_frame(0x80 | op, "");
    EXPECT_EQ(decode_all(f, f.size()).err, error::unknown_opcode) << op;
  }
}

TEST(WsFrameDecoder, Rfc7692Section6_1Rsv1OnlyOnFirstFrameOfMessage) {
  const decoder_options o{1024, true, true};
  const bytes cont = test::cat({raw_frame(0x41, "a"), raw_frame(0x40, "b")});
  EXPECT_EQ(decode_all(cont, cont.size(), o).err, error::misplaced_rsv1);
  const bytes ping = raw_frame(0xC9, "");
  EXPECT_EQ(decode_all(ping, ping.size(), o).err, error::misplaced_rsv1);
  const bytes good = test::cat({raw_frame(0x41, "a"), raw_frame(0x80, "b")});
  EXPECT_EQ(decode_all(good, good.size(), o).err, error::none);
}

TEST(WsFrameDecoder, EnforcesMaxFrameBytesAs1009) {
  const bytes f = raw_frame(0x82, std::string(101, 'a'));
  EXPECT_EQ(decode_all(f, f.size(), {100, true, false}).err, error::frame_too_big);
  EXPECT_EQ(close_code_for(error::frame_too_big), close_code::message_too_big);
  EXPECT_EQ(decode_all(f, f.size(), {101, true, false}).err, error::none);
}

TEST(WsFrameDecoder, SplitAtEveryByteGivesSameFrames) {
  const bytes in = test::cat({raw_frame(0x01, "Hello, "), raw_frame(0x89, "p"),
                              raw_frame(0x80, std::string(300, 'w')), raw_frame(0x82, ""),
                              raw_frame(0x88,
                                        "\x03\xe8"
                                        "bye")});
  const decoded whole = decode_all(in, in.size());
  ASSERT_EQ(whole.err, error::none);
  ASSERT_EQ(whole.headers.size(), 5u);
  EXPECT_EQ(whole.payloads[2], std::string(300, 'w'));
  for (std::size_t chunk = 1; chunk <= 17; ++chunk) {
    const decoded d = decode_all(in, chunk);
    EXPECT_EQ(d.payloads, whole.payloads) << chunk;
    EXPECT_EQ(d.headers.size(), whole.headers.size());
  }
}

TEST(WsFrameDecoder, FailsOnFirstTwoBytesWithoutWaitingForTheRest) {
  frame_decoder dec;
  const bytes f = test::hex({0x81, 0x05});  // unmasked: detectable now
  const decode_step s = dec.decode(f);
  EXPECT_EQ(s.status, decode_status::error);
  EXPECT_EQ(s.consumed, 2u);
  EXPECT_EQ(dec.decode(f).status, decode_status::error);  // stays failed
}

TEST(WsFrameDecoder, Rfc6455Section5_3ApplyMaskMatchesBytewiseForAllPhases) {
  std::mt19937 rng(7);
  bytes src(1031);
  for (auto& b : src) b = std::byte(rng());
  const std::uint32_t key = 0xA1B2C3D4u;
  unsigned char k[4];
  std::memcpy(k, &key, 4);
  for (std::size_t phase = 0; phase < 4; ++phase) {
    for (std::size_t len : {0u, 1u, 3u, 7u, 8u, 9u, 15u, 16u, 100u, 1031u}) {
      bytes dst(len);
      const std::size_t next = apply_mask(dst.data(), src.data(), len, key, phase);
      EXPECT_EQ(next, (phase + len) % 4);
      for (std::size_t i = 0; i < len; ++i) {
        ASSERT_EQ(dst[i], src[i] ^ std::byte{k[(phase + i) % 4]})
            << phase << " " << len << " " << i;
      }
    }
  }
  bytes inplace(src.begin(), src.end());
  apply_mask(inplace.data(), inplace.data(), inplace.size(), key, 0);
  apply_mask(inplace.data(), inplace.data(), inplace.size(), key, 0);
  EXPECT_EQ(inplace, src);
}

}  // namespace
}  // namespace ns::ws
