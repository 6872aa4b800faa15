// SPDX-License-Identifier: MIT
#include "io/op.hpp"

#include <gtest/gtest.h>

namespace ns::io {

TEST(IoOp, EncodeDecodeRoundTripsEveryField) {
  const op_tag t{op_kind::send, 0x00ab'cdefu, 0xfffe'1234u};
  const op_tag d = decode(encode(t));
  EXPECT_EQ(d.kind, op_kind::send);
  EXPECT_EQ(d.generation, 0x00ab'cdefu);
  EXPECT_EQ(d.slot, 0xfffe'1234u);
}

TEST(IoOp, GenerationIsTruncatedTo24Bits) {
  const op_tag d = decode(encode({op_kind::recv, 0x1234'5678u, 7}));
  EXPECT_EQ(d.generation, 0x0034'5678u);
  EXPECT_EQ(d.kind, op_kind::recv);
  EXPECT_EQ(d.slot, 7u);
}

}  // namespace ns::io
