// SPDX-License-Identifier: MIT
// RFC 6455 §5.2: frame_encoder writes minimal headers; decode(encode(x)) == x.
#include <gtest/gtest.h>

#include "ws/frame_decoder.hpp"
#include "ws/frame_encoder.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

TEST(WsFrameEncoder, Rfc6455Section5_2MinimalHeaderSizes) {
  std::array<std::byte, max_header_size> h;
  EXPECT_EQ(write_frame_header(h, {opcode::text, true, false, {}}, 0), 2u);
  EXPECT_EQ(h[0], std::byte{0x81});
  EXPECT_EQ(h[1], std::byte{0x00});
  EXPECT_EQ(write_frame_header(h, {opcode::binary, true, false, {}}, 125), 2u);
  EXPECT_EQ(write_frame_header(h, {opcode::binary, true, false, {}}, 126), 4u);
  EXPECT_EQ(h[1], std::byte{126});
  EXPECT_EQ(write_frame_header(h, {opcode::binary, true, false, {}}, 65535), 4u);
  EXPECT_EQ(write_frame_header(h, {opcode::binary, false, true, {}}, 65536), 10u);
  EXPECT_EQ(h[0], std::byte{0x42});
  EXPECT_EQ(h[1], std::byte{127});
  EXPECT_EQ(h[7], std::byte{0x01});
  EXPECT_EQ(write_frame_header(h, {opcode::ping, true, false, 0x01020304u}, 5), 6u);
  EXPECT_EQ(h[1], std::byte{0x85});
}

TEST(WsFrameEncoder, MakeFrameReferencesPayloadWithoutCopy) {
  const auto payload = test::to_bytes("broadcast me");
  const encoded_frame f = make_frame({opcode::text, true, false, 0x11223344u}, payload);
  EXPECT_EQ(f.payload.data(), payload.data());
  EXPECT_EQ(f.header_size, 2u);  // mask dropped: a referenced payload cannot be masked
  EXPECT_EQ(f.size(), 2 + payload.size());
}

TEST(WsFrameEncoder, EncodeThenDecodeRoundTripsMaskedAndUnmasked) {
  for (bool masked : {false, true}) {
    for (std::size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u, 100000u}) {
      std::vector<std::byte> payload(n);
      for (std::size_t i = 0; i < n; ++i) payload[i] = std::byte(i * 31 + 7);
      std::vector<std::byte> wire;
      frame_spec spec{opcode::binary, true, false, {}};
      if (masked) spec.mask = 0xDEADBEEFu;
      append_frame(wire, spec, payload);
      frame_decoder dec({1 << 20, masked, false});
      decode_step s = dec.decode(wire);
      ASSERT_EQ(s.status, decode_status::header);
      EXPECT_EQ(dec.header().payload_length, n);
      EXPECT_EQ(s.frame_end, n == 0);
      std::vector<std::byte> out(n);
      if (n != 0) {
        s = dec.decode(std::span(wire).subspan(s.consumed));
        ASSERT_EQ(s.status, decode_status::payload);
        ASSERT_TRUE(s.frame_end);
        apply_mask(out.data(), s.payload.data(), n, dec.header().mask, s.mask_phase);
      }
      EXPECT_EQ(out, payload) << masked << " " << n;
    }
  }
}

}  // namespace
}  // namespace ns::ws
