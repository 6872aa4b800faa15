// SPDX-License-Identifier: MIT
// RFC 7692 §7.2: compression is an optimisation, never a reason to lose a message: when the
// compressor cannot be set up the message goes out uncompressed (RSV1 clear, §6.1), and a peer
// that ends its DEFLATE stream (BFINAL, §7.2.3.4) and starts another inside one message is
// inflated completely.
#include <zlib.h>

#include <gtest/gtest.h>

#include <string>

#include "ws/connection.hpp"
#include "ws/deflate.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

std::string raw_deflate_final(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

TEST(WsDeflateFallbacks, CompressorThatCannotStartRefuses) {
  deflate_options bad;
  bad.level = 42;  // zlib accepts -1..9
  deflater d(15, true, bad);
  byte_buffer out;
  const auto msg = test::to_bytes(std::string(200, 'a'));
  EXPECT_FALSE(d.compress(msg, out));
  EXPECT_TRUE(out.empty());
}

TEST(WsDeflateFallbacks, BroadcastIsSentUncompressedWhenTheCompressorFails) {
  deflate_options bad;
  bad.level = 42;
  deflater d(15, true, bad);
  byte_buffer scratch;
  const std::string text(200, 'b');
  const auto msg = test::to_bytes(text);
  const encoded_frame f = encode_broadcast(opcode::text, msg, &d, 64, scratch);
  EXPECT_EQ(f.header_bytes[0], std::byte{0x81}) << "FIN + text, RSV1 clear";
  EXPECT_EQ(test::to_string(f.payload), text);
}

TEST(WsDeflateFallbacks, MessageIsSentUncompressedWhenTheCompressorFails) {
  connection_options o;
  o.deflate.enabled = true;
  o.compression.level = 42;
  o.compression.threshold = 1;
  connection c(o);
  const std::string text(100, 'c');
  const auto msg = test::to_bytes(text);
  const encoded_frame f = c.encode_message(opcode::binary, msg);
  EXPECT_EQ(f.header_bytes[0], std::byte{0x82}) << "FIN + binary, RSV1 clear";
  EXPECT_EQ(test::to_string(f.payload), text);
}

TEST(WsDeflateFallbacks, SecondDeflateStreamInOneMessageIsInflated) {
  const std::string wire = raw_deflate_final("hello, ") + raw_deflate_final("world");
  inflater inf(15, false);
  byte_buffer out;
  ASSERT_EQ(inf.inflate(test::to_bytes(wire), out, 1 << 20), inflate_status::ok);
  ASSERT_EQ(inf.finish(out, 1 << 20), inflate_status::ok);
  EXPECT_EQ(test::to_string(out.span()), "hello, world");
  // The stream was reset by BFINAL: the next message inflates from a fresh state.
  byte_buffer next;
  ASSERT_EQ(inf.inflate(test::to_bytes(raw_deflate_final("again")), next, 1 << 20),
            inflate_status::ok);
  ASSERT_EQ(inf.finish(next, 1 << 20), inflate_status::ok);
  EXPECT_EQ(test::to_string(next.span()), "again");
}

}  // namespace
}  // namespace ns::ws
