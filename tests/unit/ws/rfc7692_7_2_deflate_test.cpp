// SPDX-License-Identifier: MIT
// RFC 7692 §7.2: compressing and decompressing messages, context takeover, window bits, limits.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "ws/deflate.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using test::bytes;
using test::drive;
using test::recorded;

bytes sample_text(std::size_t n, unsigned seed) {
  static const char* words[] = {"alpha ",     "beta ",  "gamma ",   "delta ",
                                "websocket ", "frame ", "deflate ", "κόσμε "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += words[rng() % 8];
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80)) s.pop_back();
  return test::to_bytes(s);
}

TEST(WsDeflate, Rfc7692Section7_2RoundTripEveryWindowAndTakeoverCombination) {
  for (int bits = 8; bits <= 15; ++bits) {
    for (bool nct : {false, true}) {
      deflater d(bits, nct);
      inflater inf(bits, nct);  // 8 really inflates with a 256-byte window: proves 9 is safe
      byte_buffer z, out;
      std::size_t first_size = 0;
      for (int m = 0; m < 4; ++m) {
        const bytes msg = sample_text(3000 + 500 * static_cast<std::size_t>(m % 2), 1);
        ASSERT_TRUE(d.compress(msg, z));
        if (m == 0) first_size = z.size();
        // §7.2.1: the 00 00 FF FF tail is removed.
        ASSERT_GE(z.size(), 4u);
        out.clear();
        ASSERT_EQ(inf.inflate(z.span(), out, 1 << 20), inflate_status::ok) << bits << nct << m;
        ASSERT_EQ(inf.finish(out, 1 << 20), inflate_status::ok);
        ASSERT_EQ(test::to_string(out.span()), test::to_string(msg))
            << bits << " " << nct << " " << m;
        if (m == 2 && nct) {
          EXPECT_EQ(z.size(), first_size) << "reset per message";
        }
      }
    }
  }
}

TEST(WsDeflate, Rfc7692Section7_2_3ContextTakeoverReusesHistoryAndNoTakeoverDoesNot) {
  // Incompressible data repeated: only the previous message's history can shrink it.
  std::mt19937 rng(3);
  bytes msg(2000);
  for (auto& b : msg) b = std::byte(rng());
  for (bool nct : {false, true}) {
    deflater d(12, nct);
    inflater inf(12, nct);
    byte_buffer z, out;
    ASSERT_TRUE(d.compress(msg, z));
    const std::size_t first = z.size();
    ASSERT_EQ(inf.inflate(z.span(), out, 1 << 20), inflate_status::ok);
    ASSERT_EQ(inf.finish(out, 1 << 20), inflate_status::ok);
    ASSERT_TRUE(d.compress(msg, z));
    if (nct) {
      EXPECT_EQ(z.size(), first);
    } else {
      EXPECT_LT(z.size(), first / 10);
    }
    out.clear();
    ASSERT_EQ(inf.inflate(z.span(), out, 1 << 20), inflate_status::ok);
    ASSERT_EQ(inf.finish(out, 1 << 20), inflate_status::ok);
    EXPECT_EQ(test::to_string(out.span()), test::to_string(msg));
  }
}

TEST(WsDeflate, Rfc7692Section7_2_3_6EmptyMessage) {
  deflater d(15, false);
  inflater inf(15, false);
  byte_buffer z, out;
  // Twice with context takeover: the second time zlib has nothing to flush (found by
  // fuzz_ws_inflate), the payload must still decode.
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(d.compress({}, z));
    EXPECT_GE(z.size(), 1u);
    ASSERT_EQ(inf.inflate(z.span(), out, 100), inflate_status::ok) << round;
    ASSERT_EQ(inf.finish(out, 100), inflate_status::ok) << round;
    EXPECT_EQ(out.size(), 0u);
  }
}

bytes zeros_bomb(std::size_t n) {
  // Raw deflate of n zero bytes, sync-flushed, tail removed: what a hostile client would send.
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<unsigned char> in(n, 0);
  bytes out(deflateBound(&zs, n) + 64);
  zs.next_in = in.data();
  zs.avail_in = static_cast<uInt>(n);
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
  const std::size_t used = out.size() - zs.avail_out;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(used - 4), out.end());
  deflateEnd(&zs);
  return out;
}

TEST(WsDeflate, Rfc7692Section7_2_3_6EmptyCompressedFramesMakeAnEmptyMessage) {
  // Found by fuzz_ws_frame: a compressed message whose frames are all empty.
  connection_options o;
  o.deflate.enabled = true;
  connection c(o);
  const auto ev = drive(c, test::cat({test::raw_frame(0x41, ""), test::raw_frame(0x80, ""),
                                      test::raw_frame(0xC2, test::hex({0x00}))}));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0], (recorded{event_type::message, opcode::text, "", 0, error::none}));
  EXPECT_EQ(ev[1], (recorded{event_type::message, opcode::binary, "", 0, error::none}));
}

bytes zlib_raw(std::string_view text, int flush) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  bytes out(256 + text.size() * 2);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, flush);
  const std::size_t used = out.size() - zs.avail_out;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(used), out.end());
  deflateEnd(&zs);
  return out;
}

TEST(WsDeflate, Rfc7692Section7_2_3_4MessageEndingWithBfinalBlock) {
  // A sender may finish the DEFLATE stream (BFINAL) instead of sync-flushing; the next message
  // then starts a new stream.
  connection_options o;
  o.deflate.enabled = true;
  o.deflate.client_no_context_takeover = true;
  o.release_idle_inflater = false;
  connection c(o);
  const bytes in = test::cat({test::raw_frame(0xC1, zlib_raw("first final", Z_FINISH)),
                              test::raw_frame(0xC1, zlib_raw("second final", Z_FINISH))});
  EXPECT_EQ(
      drive(c, in),
      (std::vector<recorded>{{event_type::message, opcode::text, "first final", 0, error::none},
                             {event_type::message, opcode::text, "second final", 0, error::none}}));
}

TEST(WsDeflate, Rfc7692Section7_2_2MessageCutInsideABlockIs1007) {
  // Without the sync flush the data stops mid-block: appending the tail cannot complete it and
  // the stream would otherwise swallow the next message.
  bytes partial = zlib_raw(std::string(200, 'q') + "tail", Z_NO_FLUSH);
  partial.push_back(std::byte{0x05});
  connection_options o;
  o.deflate.enabled = true;
  connection c(o);
  const auto ev = drive(c, test::raw_frame(0xC1, partial));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::failed);
  EXPECT_EQ(ev[0].code, 1007);
}

TEST(WsDeflate, Rfc7692Section7_2_2StoredBlockLongerThanTheMessageIsAnError) {
  // A stored block announcing 10 bytes, 3 of them sent: the tail's 4 bytes are read as more
  // block data and zlib reports no error, only that the message stopped inside the block.
  const bytes cut = {std::byte{0x00}, std::byte{0x0a}, std::byte{0x00}, std::byte{0xf5},
                     std::byte{0xff}, std::byte{'a'},  std::byte{'b'},  std::byte{'c'}};
  inflater inf(15, false);
  byte_buffer out;
  ASSERT_EQ(inf.inflate(cut, out, 1000), inflate_status::ok);
  EXPECT_EQ(inf.finish(out, 1000), inflate_status::error);
}

TEST(WsDeflate, MessageOfExactlyTheLimitInflates) {
  const bytes msg = sample_text(1000, 7);
  deflater d(15, false);
  byte_buffer z;
  ASSERT_TRUE(d.compress(msg, z));
  for (const std::size_t limit : {msg.size(), msg.size() - 1}) {
    inflater inf(15, false);
    byte_buffer out;
    inflate_status s = inf.inflate(z.span(), out, limit);
    if (s == inflate_status::ok) s = inf.finish(out, limit);
    if (limit == msg.size()) {
      ASSERT_EQ(s, inflate_status::ok);
      EXPECT_TRUE(std::equal(msg.begin(), msg.end(), out.data(), out.data() + out.size()));
    } else {
      EXPECT_EQ(s, inflate_status::too_big);
    }
  }
}

TEST(WsDeflate, DecompressionBombStopsAtLimit) {
  const bytes bomb = zeros_bomb(16 << 20);
  EXPECT_LT(bomb.size(), 32u * 1024);  // 16 MiB of zeros in a few KiB
  inflater inf(15, false);
  byte_buffer out;
  const std::size_t limit = 1 << 20;
  EXPECT_EQ(inf.inflate(bomb, out, limit), inflate_status::too_big);
  EXPECT_LE(out.size(), limit + 1);
  EXPECT_LE(out.capacity(), limit + 64 * 1024);  // never grew towards 16 MiB
}

TEST(WsDeflate, DecompressionBombThroughConnectionIs1009) {
  connection_options o;
  o.deflate.enabled = true;
  o.limits.max_message_bytes = 1 << 20;
  connection c(o);
  const bytes frame = test::raw_frame(0xC2, zeros_bomb(16 << 20));
  const auto ev = drive(c, frame, 1000);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, event_type::failed);
  EXPECT_EQ(ev[0].err, error::message_too_big);
  EXPECT_EQ(ev[0].code, 1009);
  EXPECT_EQ(test::close_code_of(test::parse_output(c.pending_output()).at(0)), 1009);
}

TEST(WsDeflate, CompressedWireSizeIsBoundedToo) {
  // 2000 bytes of empty stored blocks inflate to nothing but still count on the wire.
  connection_options o;
  o.deflate.enabled = true;
  o.limits.max_message_bytes = 100;
  connection c(o);
  bytes empties;
  for (int i = 0; i < 400; ++i) {
    const bytes blk = test::hex({0x00, 0x00, 0x00, 0xFF, 0xFF});
    empties.insert(empties.end(), blk.begin(), blk.end());
  }
  const auto ev = drive(c, test::cat({test::raw_frame(0x41, std::span(empties).first(1000)),
                                      test::raw_frame(0x80, std::span(empties).subspan(1000))}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].err, error::message_too_big);
  EXPECT_EQ(ev[0].code, 1009);
}

TEST(WsDeflate, InvalidDeflateDataIs1007) {
  connection_options o;
  o.deflate.enabled = true;
  connection c(o);
  const auto ev = drive(c, test::raw_frame(0xC1, test::hex({0xFF, 0xFF, 0xFF, 0xFF, 0x00})));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].err, error::inflate_failed);
  EXPECT_EQ(ev[0].code, 1007);
}

// A client/server pair with mirrored parameters.
struct pair_setup {
  connection_options server, client;
  explicit pair_setup(deflate_params p) {
    p.enabled = true;
    server.deflate = p;
    client.deflate = p;
    client.client_role = true;
    server.compression.threshold = client.compression.threshold = 16;
  }
};

bytes wire_of(const encoded_frame& f) {
  bytes w(f.header().begin(), f.header().end());
  w.insert(w.end(), f.payload.begin(), f.payload.end());
  return w;
}

TEST(WsDeflate, Rfc7692ConnectionRoundTripsEachParameterCombination) {
  for (int sbits : {8, 9, 12, 15}) {
    for (int cbits : {8, 9, 12, 15}) {
      for (int nct = 0; nct < 4; ++nct) {
        deflate_params p;
        p.server_max_window_bits = sbits;
        p.client_max_window_bits = cbits;
        p.server_no_context_takeover = (nct & 1) != 0;
        p.client_no_context_takeover = (nct & 2) != 0;
        pair_setup s(p);
        connection server(s.server), client(s.client);
        for (int m = 0; m < 3; ++m) {
          const bytes msg = sample_text(2000, static_cast<unsigned>(m));
          const bytes up = wire_of(client.encode_message(opcode::text, msg));
          EXPECT_EQ(std::to_integer<unsigned>(up[0]) & 0x40, 0x40u);  // RSV1: compressed
          ASSERT_EQ(drive(server, up),
                    (std::vector<recorded>{
                        {event_type::message, opcode::text, test::to_string(msg), 0, error::none}}))
              << sbits << " " << cbits << " " << nct;
          const bytes down = wire_of(server.encode_message(opcode::binary, msg));
          ASSERT_EQ(drive(client, down),
                    (std::vector<recorded>{{event_type::message, opcode::binary,
                                            test::to_string(msg), 0, error::none}}));
        }
        EXPECT_EQ(server.inflater_allocated(), !p.client_no_context_takeover);
      }
    }
  }
}

TEST(WsDeflate, CompressedMessageSplitAtEveryByteAndFragmented) {
  pair_setup s({});
  connection client(s.client);
  const bytes msg = sample_text(300, 9);
  const encoded_frame f = client.encode_message(opcode::text, msg);
  const std::vector<recorded> want{
      {event_type::message, opcode::text, test::to_string(msg), 0, error::none}};
  test::expect_same_at_every_split(s.server, wire_of(f), want);
  // Same compressed payload as three fragments, RSV1 only on the first (RFC 7692 §6.1).
  deflater d(15, true);
  byte_buffer z;
  ASSERT_TRUE(d.compress(msg, z));
  const auto zs = z.span();
  const std::size_t a = zs.size() / 3, b = 2 * zs.size() / 3;
  const bytes frag = test::cat({test::raw_frame(0x41, zs.first(a)), test::raw_frame(0x89, "mid"),
                                test::raw_frame(0x00, zs.subspan(a, b - a)),
                                test::raw_frame(0x80, zs.subspan(b))});
  test::expect_same_at_every_split(
      s.server, frag, {{event_type::ping, opcode::binary, "mid", 0, error::none}, want[0]});
}

TEST(WsDeflate, InvalidUtf8InsideCompressedTextIs1007) {
  deflater d(15, true);
  byte_buffer z;
  const bytes bad = test::to_bytes("valid prefix \xed\xa0\x80 surrogate");
  ASSERT_TRUE(d.compress(bad, z));
  connection_options o;
  o.deflate.enabled = true;
  connection c(o);
  const auto ev = drive(c, test::raw_frame(0xC1, z.span()));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].err, error::invalid_utf8);
  EXPECT_EQ(ev[0].code, 1007);
}

TEST(WsDeflate, SmallMessagesBelowThresholdAreNotCompressed) {
  connection_options o;
  o.deflate.enabled = true;
  o.compression.threshold = 64;
  connection c(o);
  const bytes small = test::to_bytes(std::string(63, 'a'));
  encoded_frame f = c.encode_message(opcode::text, small);
  EXPECT_EQ(std::to_integer<unsigned>(f.header()[0]), 0x81u);
  EXPECT_EQ(f.payload.data(), small.data());
  const bytes big = test::to_bytes(std::string(64, 'a'));
  f = c.encode_message(opcode::text, big);
  EXPECT_EQ(std::to_integer<unsigned>(f.header()[0]), 0xC1u);
  f = c.encode_message(opcode::text, big, false);  // caller opts out
  EXPECT_EQ(std::to_integer<unsigned>(f.header()[0]), 0x81u);
}

TEST(WsDeflate, SharedCompressorAndBroadcastFrameDecodeOnEveryReceiver) {
  deflater shared(15, true);
  deflate_params p;
  p.enabled = true;
  p.server_no_context_takeover = true;
  connection_options so;
  so.deflate = p;
  so.shared_compressor = &shared;
  connection server(so);
  EXPECT_TRUE(server.accepts_shared_compression(shared));
  deflate_params takeover = p;
  takeover.server_no_context_takeover = false;
  connection_options to;
  to.deflate = takeover;
  EXPECT_FALSE(connection(to).accepts_shared_compression(shared));
  deflate_params small = p;
  small.server_max_window_bits = 10;
  connection_options sm;
  sm.deflate = small;
  EXPECT_FALSE(connection(sm).accepts_shared_compression(shared));

  const bytes msg = sample_text(5000, 3);
  byte_buffer scratch;
  const encoded_frame f = encode_broadcast(opcode::text, msg, &shared, 64, scratch);
  EXPECT_EQ(std::to_integer<unsigned>(f.header()[0]), 0xC1u);
  const bytes wire = wire_of(f);
  for (int receiver = 0; receiver < 3; ++receiver) {
    connection_options co;
    co.client_role = true;
    co.deflate = p;
    connection client(co);
    // Two broadcasts in a row decode on the same receiver (no shared history assumed).
    for (int k = 0; k < 2; ++k) {
      ASSERT_EQ(drive(client, wire),
                (std::vector<recorded>{
                    {event_type::message, opcode::text, test::to_string(msg), 0, error::none}}));
    }
  }
  // The connection's own encode uses the shared compressor too.
  const encoded_frame g = server.encode_message(opcode::text, msg);
  EXPECT_EQ(std::to_integer<unsigned>(g.header()[0]), 0xC1u);
  const encoded_frame plain = encode_broadcast(opcode::text, msg, nullptr, 64, scratch);
  EXPECT_EQ(plain.payload.data(), msg.data());
}

}  // namespace
}  // namespace ns::ws
