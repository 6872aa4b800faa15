// SPDX-License-Identifier: MIT
// record_layer and record_protection on byte arrays: two layers back to back (the layer is the
// same for either role given the two secrets), and records crafted by a bare protector acting
// as the peer, for everything a well-behaved peer would never send.
#include "tls/record_layer.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <string>
#include <vector>

#include "record_layer_support.hpp"

using namespace ns::tls;
using namespace ns::tls::record_test;

TEST(RecordProtection, HkdfExpandLabelMatchesOpenSslsTls13Kdf) {
  for (const suite su : {suite::aes_128_gcm_sha256, suite::aes_256_gcm_sha384}) {
    const traffic_secret sec = secret_of(9, secret_size(su));
    std::uint8_t ours[32];
    ASSERT_TRUE(hkdf_expand_label(su, sec.view(), "key", ours));
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr);
    ASSERT_NE(kdf, nullptr);
    EVP_KDF_CTX* k = EVP_KDF_CTX_new(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    char digest[16];
    std::strcpy(digest, su == suite::aes_256_gcm_sha384 ? "SHA384" : "SHA256");
    unsigned char prefix[] = "tls13 ";
    unsigned char label[] = "key";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          const_cast<std::uint8_t*>(sec.bytes.data()), sec.size),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix, 6),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, label, 3),
        OSSL_PARAM_construct_end()};
    std::uint8_t theirs[32];
    ASSERT_EQ(EVP_KDF_derive(k, theirs, sizeof theirs, params), 1);
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
    EXPECT_EQ(std::memcmp(ours, theirs, sizeof ours), 0);
  }
  std::uint8_t too_long[64];
  EXPECT_FALSE(hkdf_expand_label(suite::aes_128_gcm_sha256, secret_of(1).view(), "key", too_long));
}

TEST(RecordProtection, SuiteCodes) {
  EXPECT_EQ(suite_from_code(0x1301), suite::aes_128_gcm_sha256);
  EXPECT_EQ(suite_from_code(0x1302), suite::aes_256_gcm_sha384);
  EXPECT_EQ(suite_from_code(0x1303), suite::chacha20_poly1305_sha256);
  EXPECT_FALSE(suite_from_code(0x1304));  // AES-128-CCM: left to OpenSSL
  EXPECT_EQ(secret_size(suite::aes_256_gcm_sha384), 48u);
}

TEST(RecordLayer, RoundTripInEverySuite) {
  for (const suite su :
       {suite::aes_128_gcm_sha256, suite::aes_256_gcm_sha384, suite::chacha20_poly1305_sha256}) {
    pair p(su);
    buffer_sink wire, control;
    ASSERT_TRUE(p.s.write(as_bytes("hello"), wire));
    ASSERT_TRUE(p.s.write({}, wire));  // nothing, no record
    EXPECT_EQ(wire.bytes.size(), 5u + 5 + 1 + tag_size);
    const drained d = read_all(p.c, wire.bytes, control);
    EXPECT_EQ(d.data, "hello");
    EXPECT_EQ(d.last.kind, record_layer::step_kind::need_more);
    EXPECT_TRUE(control.bytes.empty());
    EXPECT_EQ(p.c.read_sequence(), 1u);
  }
}

TEST(RecordLayer, LargeWritesSplitIntoFullRecords) {
  pair p;
  buffer_sink wire, control;
  std::string big(40000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(p.s.write(as_bytes(big), wire));
  EXPECT_EQ(p.s.write_sequence(), 3u);  // 16384 + 16384 + 7232
  EXPECT_EQ(read_all(p.c, wire.bytes, control).data, big);
}

TEST(RecordLayer, SendingKeyRotatesBeforeTheAeadLimit) {
  pair p(suite::aes_128_gcm_sha256, 3);
  buffer_sink wire, control;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(p.s.write(as_bytes("m"), wire));
  const drained d = read_all(p.c, wire.bytes, control);
  EXPECT_EQ(d.data, "mmmmmmm");
  EXPECT_EQ(p.s.write_updates(), 2u);  // after records 3 and 3 more (each update is a record)
  EXPECT_EQ(p.c.read_updates(), 2u);
  EXPECT_TRUE(control.bytes.empty());  // not requested: the reader does not answer
}

TEST(RecordLayer, WritingContinuesTheHandshakeLayersSequence) {
  record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), 2);  // 2 tickets before
  buffer_sink wire;
  ASSERT_TRUE(s.write(as_bytes("x"), wire));
  record_protector reader(suite::aes_128_gcm_sha256, secret_of(2), false);
  std::uint8_t out[2];
  const auto* rec = reinterpret_cast<const std::uint8_t*>(wire.bytes.data());
  EXPECT_FALSE(reader.open(std::span<const std::uint8_t, 5>(rec, 5), {rec + 5, 18}, out));
  reader.set_sequence(2);
  EXPECT_TRUE(reader.open(std::span<const std::uint8_t, 5>(rec, 5), {rec + 5, 18}, out));
  EXPECT_EQ(out[0], 'x');
  EXPECT_EQ(out[1], 23);
}

TEST(RecordLayer, RecognisesItsOwnRecordsWithoutChangingState) {
  // The hand-over's proof: a record sealed at sequence 3 by a layer with our sending secret.
  record_layer earlier(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), 3);
  buffer_sink wire;
  ASSERT_TRUE(earlier.write(as_bytes(std::string(1500, 't')), wire));  // beyond the stack scratch
  record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), 4);
  EXPECT_TRUE(s.wrote(wire.bytes, 3));
  EXPECT_FALSE(s.wrote(wire.bytes, 4));
  EXPECT_FALSE(s.wrote(std::span(wire.bytes).first(4), 3));
  record_layer other(suite::aes_128_gcm_sha256, secret_of(2), secret_of(1), 4);  // the peer's key
  EXPECT_FALSE(other.wrote(wire.bytes, 3));
  wire.bytes.back() ^= std::byte{1};
  EXPECT_FALSE(s.wrote(wire.bytes, 3));
  EXPECT_EQ(s.write_sequence(), 4U);  // the proof used sequence 3 but left ours alone
  buffer_sink next;
  ASSERT_TRUE(s.write(as_bytes("y"), next));
  EXPECT_TRUE(s.wrote(next.bytes, 4));
}

TEST(RecordLayer, PartialInputAndSmallOutputAreReported) {
  pair p;
  buffer_sink wire, control;
  ASSERT_TRUE(p.s.write(as_bytes("0123456789"), wire));
  std::vector<std::byte> out(64);
  const std::span<const std::byte> all(wire.bytes);
  EXPECT_EQ(p.c.read(all.first(3), out, control).need, 0u);  // header incomplete
  const auto part = p.c.read(all.first(10), out, control);
  EXPECT_EQ(part.kind, record_layer::step_kind::need_more);
  EXPECT_EQ(part.need, all.size());
  const auto small = p.c.read(all, std::span(out).first(5), control);
  EXPECT_EQ(small.kind, record_layer::step_kind::need_room);
  EXPECT_EQ(small.need, 11u);  // content + inner type
  EXPECT_EQ(p.c.read(all, out, control).bytes, 10u);
}

TEST(RecordLayer, PaddingAndEmptyRecordsAreAccepted) {
  crafted t;
  auto r = t.feed(craft(t.peer, 23, {'h', 'i'}, 100));
  EXPECT_EQ(r.kind, record_layer::step_kind::data);
  EXPECT_EQ(r.bytes, 2u);
  r = t.feed(craft(t.peer, 23, {}));
  EXPECT_EQ(r.kind, record_layer::step_kind::data);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(RecordLayer, RecordOfTheLargestAllowedSizeIsAccepted) {
  // 2^14 bytes of content and its type: the whole TLSInnerPlaintext may not be longer
  // (RFC 8446 §5.4), so 2^14 + 17 bytes is the longest ciphertext a peer can send us, though
  // §5.2 lets the record header say up to 2^14 + 256 (record_layer_limits_test.cpp).
  crafted t;
  const auto rec = craft(t.peer, 23, std::vector<std::uint8_t>(record_layer::max_plaintext, 'a'));
  ASSERT_EQ(rec.size(), 5 + record_layer::max_plaintext + 1 + tag_size);
  const auto r = t.feed(rec);
  EXPECT_EQ(r.kind, record_layer::step_kind::data);
  EXPECT_EQ(r.bytes, record_layer::max_plaintext);
}

TEST(RecordLayer, CloseNotifyAndUserCanceled) {
  crafted t;
  EXPECT_EQ(t.feed(craft(t.peer, 21, {1, 90})).kind, record_layer::step_kind::data);
  EXPECT_EQ(t.feed(craft(t.peer, 21, {1, 0})).kind, record_layer::step_kind::closed);
  EXPECT_TRUE(t.control.bytes.empty());
}

TEST(RecordLayer, PeersFatalAlertEndsWithoutAnAnswer) {
  crafted t;
  const auto r = t.feed(craft(t.peer, 21, {2, 40}));
  EXPECT_EQ(r.kind, record_layer::step_kind::error);
  EXPECT_EQ(t.s.peer_alert(), 40);
  EXPECT_TRUE(t.control.bytes.empty());
  buffer_sink wire;
  EXPECT_FALSE(t.s.write(as_bytes("x"), wire));  // nothing after the end
}

TEST(RecordLayer, KeyUpdateFromThePeerInPiecesIsAnsweredOnceBeforeData) {
  crafted t;
  // update_requested, split over two records; the peer's next record uses its next key.
  EXPECT_EQ(t.feed(craft(t.peer, 22, {24, 0})).kind, record_layer::step_kind::data);
  EXPECT_EQ(t.feed(craft(t.peer, 22, {0, 1, 1})).kind, record_layer::step_kind::data);
  ASSERT_TRUE(t.peer.update());
  const auto r = t.feed(craft(t.peer, 23, {'a'}));
  EXPECT_EQ(r.kind, record_layer::step_kind::data);
  EXPECT_EQ(r.bytes, 1u);
  EXPECT_EQ(t.s.read_updates(), 1u);
  EXPECT_TRUE(t.control.bytes.empty());  // the answer waits for our next data
  // A second request before we sent anything: still one answer.
  EXPECT_EQ(t.feed(craft(t.peer, 22, {24, 0, 0, 1, 1})).kind, record_layer::step_kind::data);
  ASSERT_TRUE(t.peer.update());
  buffer_sink wire;
  ASSERT_TRUE(t.s.write(as_bytes("reply"), wire));
  ASSERT_TRUE(t.s.write(as_bytes("more"), wire));
  EXPECT_EQ(t.s.write_updates(), 1u);
  buffer_sink control;
  const drained d = read_all(t.c, wire.bytes, control);  // the client layer follows it
  EXPECT_EQ(d.data, "replymore");
  EXPECT_EQ(t.c.read_updates(), 1u);
}

TEST(RecordLayer, ProtocolViolationsSendTheRfcsAlert) {
  struct violation {
    std::uint8_t type;
    std::vector<std::uint8_t> content;
    alert expected;
  };
  const violation cases[] = {
      {22, {24, 0, 0, 1, 2}, alert::illegal_parameter},       // KeyUpdate value
      {22, {24, 0, 0, 1, 0, 24}, alert::unexpected_message},  // not at the record's end
      {22, {4, 0, 0, 1}, alert::unexpected_message},          // NewSessionTicket from a client
      {22, {24, 0, 0, 2}, alert::decode_error},               // KeyUpdate length
      {22, {}, alert::unexpected_message},                    // empty handshake record
      {21, {2}, alert::decode_error},                         // alert length
      {99, {1}, alert::unexpected_message},                   // unknown content type
      {0, {}, alert::unexpected_message},                     // no content type at all
  };
  for (const violation& v : cases) {
    crafted t;
    std::vector<std::byte> rec =
        v.type == 0 ? craft(t.peer, 0, {}, 3) : craft(t.peer, v.type, v.content);
    const auto r = t.feed(rec);
    EXPECT_EQ(r.kind, record_layer::step_kind::error) << t.s.error_reason();
    // The alert goes out protected: the client layer reads it as the fatal alert it is.
    buffer_sink ignored;
    const drained d = read_all(t.c, t.control.bytes, ignored);
    EXPECT_EQ(d.last.kind, record_layer::step_kind::error);
    EXPECT_EQ(t.c.peer_alert(), static_cast<std::uint8_t>(v.expected)) << t.s.error_reason();
  }
}

TEST(RecordLayer, HandshakeFragmentInterruptedByData) {
  crafted t;
  EXPECT_EQ(t.feed(craft(t.peer, 22, {24, 0})).kind, record_layer::step_kind::data);
  EXPECT_EQ(t.feed(craft(t.peer, 23, {'x'})).kind, record_layer::step_kind::error);
}

TEST(RecordLayer, BadRecordsOnTheWire) {
  struct bad {
    std::vector<std::uint8_t> bytes;
    alert expected;
  };
  std::vector<std::uint8_t> forged = {23, 3, 3, 0, 20};
  forged.resize(5 + 20, 0x41);
  const bad cases[] = {
      {{20, 3, 3, 0, 1, 1}, alert::unexpected_message},  // change_cipher_spec after Finished
      {{23, 3, 3, 0x41, 0x01}, alert::record_overflow},  // 2^14 + 257
      {{23, 3, 3, 0, 15}, alert::bad_record_mac},        // shorter than its tag
      {forged, alert::bad_record_mac},                   // does not authenticate
  };
  for (const bad& b : cases) {
    pair p;
    buffer_sink control;
    std::vector<std::byte> out(record_layer::max_ciphertext);
    const auto r = p.s.read(std::as_bytes(std::span(b.bytes)), out, control);
    EXPECT_EQ(r.kind, record_layer::step_kind::error);
    buffer_sink ignored;
    read_all(p.c, control.bytes, ignored);
    EXPECT_EQ(p.c.peer_alert(), static_cast<std::uint8_t>(b.expected)) << p.s.error_reason();
  }
}

TEST(RecordLayer, OversizedPlaintextIsRecordOverflow) {
  crafted t;
  const auto r =
      t.feed(craft(t.peer, 23, std::vector<std::uint8_t>(record_layer::max_plaintext + 1, 'a')));
  EXPECT_EQ(r.kind, record_layer::step_kind::error);
  buffer_sink ignored;
  read_all(t.c, t.control.bytes, ignored);
  EXPECT_EQ(t.c.peer_alert(), static_cast<std::uint8_t>(alert::record_overflow));
}

TEST(RecordLayer, CloseNotifyOnceAndNothingAfter) {
  pair p;
  buffer_sink wire, control;
  p.s.close(wire);
  p.s.close(wire);  // idempotent
  EXPECT_FALSE(p.s.write(as_bytes("late"), wire));
  const drained d = read_all(p.c, wire.bytes, control);
  EXPECT_EQ(d.last.kind, record_layer::step_kind::closed);
  EXPECT_EQ(d.last.consumed, wire.bytes.size());
}

// A live connection moving to another process (issue 20 §2): the state leaves only between
// records, and a layer built from it continues both directions; a KeyUpdate owed moves too.
TEST(RecordLayer, StateMovesBetweenRecordsAndTheMovedLayerContinues) {
  crafted t;
  record_state st;
  EXPECT_EQ(t.feed(craft(t.peer, 22, {24, 0})).kind, record_layer::step_kind::data);
  EXPECT_FALSE(t.s.export_state(st)) << "half a KeyUpdate does not move";
  EXPECT_EQ(t.feed(craft(t.peer, 22, {0, 1, 1})).kind, record_layer::step_kind::data);
  ASSERT_TRUE(t.peer.update());
  EXPECT_EQ(t.feed(craft(t.peer, 23, {'a'})).bytes, 1u);
  buffer_sink wire;
  ASSERT_TRUE(t.s.export_state(st));
  EXPECT_TRUE(st.owe_update);
  EXPECT_EQ(st.read_seq, 1u);  // one record under the peer's new key
  EXPECT_EQ(st.write_seq, 0u);
  record_layer moved(std::move(st));
  EXPECT_EQ(st.read.size, 0u) << "the layer took the secrets";  // NOLINT(bugprone-use-after-move)
  for (std::uint8_t b : st.read.bytes) EXPECT_EQ(b, 0);
  for (std::uint8_t b : st.write.bytes) EXPECT_EQ(b, 0);
  std::vector<std::byte> out(record_layer::max_ciphertext);
  buffer_sink control;
  const auto r = moved.read(craft(t.peer, 23, {'b', 'c'}), out, control);
  EXPECT_EQ(r.kind, record_layer::step_kind::data);
  EXPECT_EQ(r.bytes, 2u);
  ASSERT_TRUE(moved.write(as_bytes("reply"), wire));
  EXPECT_EQ(moved.write_updates(), 1u) << "the owed KeyUpdate went first";
  buffer_sink client_control;
  EXPECT_EQ(read_all(t.c, wire.bytes, client_control).data, "reply");
  EXPECT_EQ(t.c.read_updates(), 1u);
  moved.close(wire);
  record_state after;
  EXPECT_FALSE(moved.export_state(after)) << "a closed layer does not move";
}
