// SPDX-License-Identifier: MIT
// record_layer against RFC 8446's limits: every alert it sends, checked byte for byte (level
// and code of the one protected record it writes), the TLSInnerPlaintext size limit (§5.4),
// the bound on records that make no progress, what a failed seal leaves in the sink, and
// KeyUpdate in every suite.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "record_layer_support.hpp"
#include "tls/record_layer.hpp"

using namespace ns::tls;
using namespace ns::tls::record_test;

namespace {

constexpr std::uint8_t t_alert = 21, t_handshake = 22, t_data = 23;

// An AEAD record of exactly @p plaintext (no content type appended): what record_protector
// never produces, for the tag-only record (an empty TLSInnerPlaintext). AES-128-GCM, seq 0.
std::vector<std::byte> seal_raw(const traffic_secret& secret, std::span<const std::uint8_t> pt) {
  std::uint8_t key[16], iv[iv_size];
  EXPECT_TRUE(hkdf_expand_label(suite::aes_128_gcm_sha256, secret.view(), "key", key));
  EXPECT_TRUE(hkdf_expand_label(suite::aes_128_gcm_sha256, secret.view(), "iv", iv));
  const std::size_t len = pt.size() + tag_size;
  std::vector<std::uint8_t> rec = {23, 3, 3, static_cast<std::uint8_t>(len >> 8),
                                   static_cast<std::uint8_t>(len)};
  rec.resize(5 + len);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, key, iv), 1);
  EXPECT_EQ(EVP_EncryptUpdate(c, nullptr, &n, rec.data(), 5), 1);
  if (!pt.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(c, rec.data() + 5, &n, pt.data(), static_cast<int>(pt.size())), 1);
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(c, rec.data() + 5 + pt.size(), &n), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, tag_size, rec.data() + 5 + pt.size()), 1);
  EVP_CIPHER_CTX_free(c);
  const auto* b = reinterpret_cast<const std::byte*>(rec.data());
  return {b, b + rec.size()};
}

// What the server layer of @p t sent on @p control: {type, level, code} of its one record.
std::vector<std::uint8_t> sent(const std::vector<std::byte>& control, std::uint64_t seq = 0) {
  record_protector reader(suite::aes_128_gcm_sha256, secret_of(100), false);
  reader.set_sequence(seq);
  return open_one(reader, control);
}

std::vector<std::uint8_t> fatal(alert a) {
  return {t_alert, 2, static_cast<std::uint8_t>(a)};
}

}  // namespace

TEST(RecordLayerAlerts, EveryRecordItRefusesGetsTheRfcsFatalAlert) {
  struct violation {
    const char* what;
    std::vector<std::vector<std::byte>> (*records)(crafted&);
    alert expected;
  };
  using recs = std::vector<std::vector<std::byte>>;
  const violation cases[] = {
      // §5.1: zero-length fragments of Handshake or Alert are unexpected_message.
      {"empty handshake", [](crafted& t) { return recs{craft(t.peer, t_handshake, {})}; },
       alert::unexpected_message},
      {"empty alert", [](crafted& t) { return recs{craft(t.peer, t_alert, {})}; },
       alert::unexpected_message},
      // §5.1 / §6: an alert is one whole two-byte message per record.
      {"alert fragment", [](crafted& t) { return recs{craft(t.peer, t_alert, {2})}; },
       alert::decode_error},
      {"two alerts in one record",
       [](crafted& t) {
         return recs{craft(t.peer, t_alert, {1, 90, 1, 0})};
       },
       alert::decode_error},
      // §4.6.3: request_update other than 0 or 1.
      {"KeyUpdate value",
       [](crafted& t) {
         return recs{craft(t.peer, t_handshake, {24, 0, 0, 1, 2})};
       },
       alert::illegal_parameter},
      {"KeyUpdate length",
       [](crafted& t) {
         return recs{craft(t.peer, t_handshake, {24, 0, 0, 2})};
       },
       alert::decode_error},
      // §5.1: a message before a key change must end its record.
      {"KeyUpdate not last",
       [](crafted& t) {
         return recs{craft(t.peer, t_handshake, {24, 0, 0, 1, 0, 24})};
       },
       alert::unexpected_message},
      // §4.6: a client sends no other handshake message after its Finished here.
      {"NewSessionTicket", [](crafted& t) { return recs{craft(t.peer, t_handshake, {4})}; },
       alert::unexpected_message},
      {"ClientHello",
       [](crafted& t) {
         return recs{craft(t.peer, t_handshake, {1, 0, 0, 0})};
       },
       alert::unexpected_message},
      // §5.1: handshake messages are not interleaved with other record types.
      {"KeyUpdate interrupted",
       [](crafted& t) {
         return recs{craft(t.peer, t_handshake, {24, 0}), craft(t.peer, t_data, {'x'})};
       },
       alert::unexpected_message},
      // §5: unknown and protected change_cipher_spec content types.
      {"unknown type", [](crafted& t) { return recs{craft(t.peer, 99, {1})}; },
       alert::unexpected_message},
      {"protected change_cipher_spec", [](crafted& t) { return recs{craft(t.peer, 20, {1})}; },
       alert::unexpected_message},
      // §5.4: no non-zero octet in the plaintext — padding only, or nothing but the tag.
      {"padding only", [](crafted& t) { return recs{craft(t.peer, 0, {}, 3)}; },
       alert::unexpected_message},
      {"tag only", [](crafted&) { return recs{seal_raw(secret_of(1), {})}; },
       alert::unexpected_message},
      // §5.4: the whole TLSInnerPlaintext is at most 2^14 + 1 bytes.
      {"inner plaintext 2^14 + 2",
       [](crafted& t) {
         return recs{
             craft(t.peer, t_data, std::vector<std::uint8_t>(record_layer::max_plaintext, 'a'), 1)};
       },
       alert::record_overflow},
      // §5.2: a record that does not authenticate.
      {"tampered",
       [](crafted& t) {
         auto r = craft(t.peer, t_data, {'a'});
         r.back() ^= std::byte{1};
         return recs{r};
       },
       alert::bad_record_mac},
  };
  for (const violation& v : cases) {
    crafted t;
    const recs records = v.records(t);
    record_layer::step r;
    for (const auto& rec : records) r = t.feed(rec);
    EXPECT_EQ(r.kind, record_layer::step_kind::error) << v.what;
    EXPECT_EQ(sent(t.control.bytes), fatal(v.expected)) << v.what << ": " << t.s.error_reason();
    buffer_sink wire;
    EXPECT_FALSE(t.s.write(as_bytes("x"), wire)) << v.what;  // nothing after a fatal alert
    EXPECT_TRUE(wire.bytes.empty());
  }
}

TEST(RecordLayerAlerts, RecordsRefusedBeforeDecryption) {
  struct bad {
    const char* what;
    std::vector<std::uint8_t> bytes;
    alert expected;
  };
  std::vector<std::uint8_t> forged = {23, 3, 3, 0, 20};
  forged.resize(5 + 20, 0x41);
  const bad cases[] = {
      {"change_cipher_spec after Finished", {20, 3, 3, 0, 1, 1}, alert::unexpected_message},
      {"unprotected alert", {21, 3, 3, 0, 2, 1, 0}, alert::unexpected_message},
      {"unprotected handshake", {22, 3, 3, 0, 5, 24, 0, 0, 1, 0}, alert::unexpected_message},
      {"ciphertext 2^14 + 257", {23, 3, 3, 0x41, 0x01}, alert::record_overflow},
      {"shorter than its tag", {23, 3, 3, 0, 15}, alert::bad_record_mac},
      {"forged", forged, alert::bad_record_mac},
  };
  for (const bad& b : cases) {
    pair p;
    buffer_sink control;
    std::vector<std::byte> out(record_layer::max_ciphertext);
    EXPECT_EQ(p.s.read(std::as_bytes(std::span(b.bytes)), out, control).kind,
              record_layer::step_kind::error)
        << b.what;
    EXPECT_EQ(sent(control.bytes), fatal(b.expected)) << b.what;
  }
}

TEST(RecordLayerAlerts, PeerAlertsOfAnyLevelAndUnknownCodesEndWithoutAnswer) {
  // §6: every alert but close_notify and user_canceled is an error whatever its level, and
  // unknown codes are errors too; no alert answers an alert.
  for (const std::vector<std::uint8_t>& a :
       {std::vector<std::uint8_t>{2, 40}, {1, 40}, {2, 255}, {1, 200}, {7, 123}}) {
    crafted t;
    const auto r = t.feed(craft(t.peer, t_alert, a));
    EXPECT_EQ(r.kind, record_layer::step_kind::error);
    EXPECT_EQ(r.consumed, 5 + 2 + 1 + tag_size);
    EXPECT_EQ(t.s.peer_alert(), a[1]);
    EXPECT_TRUE(t.control.bytes.empty());
  }
}

TEST(RecordLayerAlerts, AnAlertSplitAcrossRecordsIsDecodeError) {
  crafted t;
  EXPECT_EQ(t.feed(craft(t.peer, t_alert, {2})).kind, record_layer::step_kind::error);
  EXPECT_EQ(sent(t.control.bytes), fatal(alert::decode_error));
  EXPECT_EQ(t.s.peer_alert(), 0);  // the fragment was not taken for the peer's alert
}

TEST(RecordLayerLimits, InnerPlaintextUpToTwoToTheFourteenPlusOne) {
  const std::size_t max = record_layer::max_plaintext;
  struct bound {
    std::size_t content, padding;
    bool ok;
  };
  // content + type + padding: 2^14 + 1 is the limit (§5.4), however it is made up.
  for (const bound b : {bound{max, 0, true}, bound{max - 1, 1, true}, bound{0, max, true},
                        bound{max, 1, false}, bound{max - 1, 2, false}, bound{10, max - 9, false},
                        bound{max, 239, false}}) {  // 2^14 + 256 of ciphertext
    crafted t;
    const auto r =
        t.feed(craft(t.peer, t_data, std::vector<std::uint8_t>(b.content, 'a'), b.padding));
    if (b.ok) {
      EXPECT_EQ(r.kind, record_layer::step_kind::data) << b.content << "+" << b.padding;
      EXPECT_EQ(r.bytes, b.content);
    } else {
      EXPECT_EQ(r.kind, record_layer::step_kind::error) << b.content << "+" << b.padding;
      EXPECT_EQ(sent(t.control.bytes), fatal(alert::record_overflow));
    }
  }
}

TEST(RecordLayerLimits, ThirtyTwoUselessRecordsInARowAndNoMore) {
  using rec_fn = std::vector<std::byte> (*)(crafted&);
  const rec_fn kinds[] = {
      [](crafted& t) {  // KeyUpdate, then the peer's next key
        auto r = craft(t.peer, t_handshake, {24, 0, 0, 1, 0});
        EXPECT_TRUE(t.peer.update());
        return r;
      },
      [](crafted& t) { return craft(t.peer, t_data, {}); },      // empty application data
      [](crafted& t) { return craft(t.peer, t_data, {}, 50); },  // padding only data
      [](crafted& t) {
        return craft(t.peer, t_alert, {1, 90});
      },  // user_canceled
      [](crafted& t) {
        return craft(t.peer, t_handshake, {24, 0});
      }  // a KeyUpdate fragment
  };
  for (std::size_t k = 0; k < std::size(kinds); ++k) {
    crafted t;
    for (unsigned i = 0; i < record_layer::max_useless_records; ++i) {
      ASSERT_EQ(t.feed(kinds[k](t)).kind, record_layer::step_kind::data) << k << " #" << i;
      if (k == 4 && i % 2 == 0) {  // complete the fragment so the next one starts afresh
        ASSERT_EQ(t.feed(craft(t.peer, t_handshake, {0, 1, 0})).kind,
                  record_layer::step_kind::data);
        ASSERT_TRUE(t.peer.update());
        ++i;
      }
    }
    EXPECT_TRUE(t.control.bytes.empty()) << k;
    EXPECT_EQ(t.feed(kinds[k](t)).kind, record_layer::step_kind::error) << k;
    EXPECT_EQ(sent(t.control.bytes), fatal(alert::unexpected_message)) << k;
  }
}

TEST(RecordLayerLimits, ApplicationDataResetsTheCount) {
  crafted t;
  for (int round = 0; round < 3; ++round) {
    for (unsigned i = 0; i < record_layer::max_useless_records; ++i) {
      const auto rec = i % 2 == 0 ? craft(t.peer, t_data, {}) : craft(t.peer, t_alert, {1, 90});
      ASSERT_EQ(t.feed(rec).kind, record_layer::step_kind::data) << round << " #" << i;
    }
    const auto r = t.feed(craft(t.peer, t_data, {'x'}));  // one byte of progress
    ASSERT_EQ(r.kind, record_layer::step_kind::data);
    EXPECT_EQ(r.bytes, 1u);
  }
  EXPECT_TRUE(t.control.bytes.empty());
  // A close_notify after a full run of useless records still closes (it is not useless).
  for (unsigned i = 0; i < record_layer::max_useless_records; ++i)
    t.feed(craft(t.peer, t_data, {}));
  EXPECT_EQ(t.feed(craft(t.peer, t_alert, {1, 0})).kind, record_layer::step_kind::closed);
}

TEST(RecordLayerLimits, AFailedSealLeavesTheSinkAsItWas) {
  // Sequence numbers must not wrap (§5.3): at 2^64 - 1 nothing more is sealed, and with no
  // key update due (the limit set out of reach) the write fails.
  constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  {
    record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), last - 1, last);
    buffer_sink wire;
    ASSERT_TRUE(s.write(as_bytes("x"), wire));  // sealed at 2^64 - 2
    const std::vector<std::byte> before = wire.bytes;
    EXPECT_FALSE(s.write(as_bytes("y"), wire));
    EXPECT_EQ(wire.bytes, before);               // no grown, half-written record
    EXPECT_FALSE(s.write(as_bytes("z"), wire));  // and nothing after
    s.close(wire);
    EXPECT_EQ(wire.bytes, before);
  }
  {
    // A write of two records: the first goes out whole, the second leaves no trace.
    record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), last - 1, last);
    buffer_sink wire;
    wire.bytes.assign(3, std::byte{7});  // earlier, unrelated bytes in the sink
    EXPECT_FALSE(s.write(as_bytes(std::string(record_layer::max_plaintext + 10, 'a')), wire));
    ASSERT_EQ(wire.bytes.size(), 3 + 5 + record_layer::max_plaintext + 1 + tag_size);
    record_protector reader(suite::aes_128_gcm_sha256, secret_of(2), false);
    reader.set_sequence(last - 1);
    const std::vector<std::byte> rec(wire.bytes.begin() + 3, wire.bytes.end());
    const auto got = open_one(reader, rec);
    EXPECT_EQ(got.size(), 1 + record_layer::max_plaintext);
  }
  {
    // The KeyUpdate owed to the peer cannot be sealed: the data is not sent either.
    record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), last, last);
    record_protector peer(suite::aes_128_gcm_sha256, secret_of(1), true);
    buffer_sink control, wire;
    std::vector<std::byte> out(64);
    ASSERT_EQ(s.read(craft(peer, t_handshake, {24, 0, 0, 1, 1}), out, control).kind,
              record_layer::step_kind::data);
    EXPECT_FALSE(s.write(as_bytes("x"), wire));
    EXPECT_TRUE(wire.bytes.empty());
    EXPECT_TRUE(control.bytes.empty());
  }
  {
    // The fatal alert for a bad record cannot be sealed either: the control sink stays empty.
    record_layer s(suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), last, last);
    buffer_sink control;
    const std::uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    std::vector<std::byte> out(64);
    EXPECT_EQ(s.read(std::as_bytes(std::span(ccs)), out, control).kind,
              record_layer::step_kind::error);
    EXPECT_TRUE(control.bytes.empty());
  }
}

TEST(RecordLayerLimits, ProtectorRefusesTheLastSequenceNumberBothWays) {
  constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  record_protector w(suite::aes_128_gcm_sha256, secret_of(1), true);
  record_protector r(suite::aes_128_gcm_sha256, secret_of(1), false);
  const std::uint8_t header[5] = {23, 3, 3, 0, 2 + tag_size};
  const std::uint8_t pt[1] = {'a'};
  std::uint8_t rec[2 + tag_size];
  w.set_sequence(last - 1);
  ASSERT_TRUE(w.seal(header, pt, 23, rec));
  EXPECT_EQ(w.sequence(), last);
  EXPECT_FALSE(w.seal(header, pt, 23, rec));
  EXPECT_EQ(w.sequence(), last);  // did not wrap to 0
  std::uint8_t out[2];
  r.set_sequence(last - 1);
  ASSERT_TRUE(r.open(header, rec, out));
  EXPECT_FALSE(r.open(header, rec, out));
  EXPECT_EQ(r.sequence(), last);
}

TEST(RecordLayerKeyUpdate, EverySuiteFollowsAndAnswersThePeer) {
  for (const suite su :
       {suite::aes_128_gcm_sha256, suite::aes_256_gcm_sha384, suite::chacha20_poly1305_sha256}) {
    crafted t(su);
    ASSERT_EQ(t.feed(craft(t.peer, t_handshake, {24, 0, 0, 1, 1})).kind,
              record_layer::step_kind::data);
    ASSERT_TRUE(t.peer.update());
    const auto r = t.feed(craft(t.peer, t_data, {'o', 'k'}));
    ASSERT_EQ(r.kind, record_layer::step_kind::data) << t.s.error_reason();
    EXPECT_EQ(r.bytes, 2u);
    buffer_sink wire, control;
    ASSERT_TRUE(t.s.write(as_bytes("answer"), wire));
    EXPECT_EQ(t.s.write_updates(), 1u);
    const drained d = read_all(t.c, wire.bytes, control);
    EXPECT_EQ(d.data, "answer");
    EXPECT_EQ(t.c.read_updates(), 1u);
    // And our own rotation before the AEAD limit, in the same suite.
    pair p(su, 2);
    buffer_sink w2, c2;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.s.write(as_bytes("r"), w2));
    EXPECT_EQ(read_all(p.c, w2.bytes, c2).data, "rrrrr");
    EXPECT_EQ(p.c.read_updates(), 2u);
  }
}

TEST(RecordLayerKeyUpdate, FollowsThePeerAfterTheIdleRelease) {
  crafted t;
  t.s.release_idle();
  EXPECT_EQ(t.s.live_contexts(), 0u);
  ASSERT_EQ(t.feed(craft(t.peer, t_handshake, {24, 0, 0, 1, 1})).kind,
            record_layer::step_kind::data);
  ASSERT_TRUE(t.peer.update());
  t.s.release_idle();  // idle again between the KeyUpdate and the data under the new key
  const auto r = t.feed(craft(t.peer, t_data, {'a'}));
  ASSERT_EQ(r.kind, record_layer::step_kind::data) << t.s.error_reason();
  EXPECT_EQ(r.bytes, 1u);
  buffer_sink wire, control;
  ASSERT_TRUE(t.s.write(as_bytes("b"), wire));
  EXPECT_EQ(read_all(t.c, wire.bytes, control).data, "b");
}

TEST(RecordLayerKeyUpdate, CloseNotifyWhileAnAnswerIsOwedGoesUnderTheCurrentKey) {
  // §4.6.3 owes our KeyUpdate before our next application data; close_notify is not data,
  // so it goes out under the current key and the owed update is never sent.
  crafted t;
  ASSERT_EQ(t.feed(craft(t.peer, t_handshake, {24, 0, 0, 1, 1})).kind,
            record_layer::step_kind::data);
  buffer_sink wire, control;
  t.s.close(wire);
  EXPECT_EQ(t.s.write_updates(), 0u);
  EXPECT_EQ(sent(wire.bytes), (std::vector<std::uint8_t>{t_alert, 1, 0}));
  EXPECT_EQ(read_all(t.c, wire.bytes, control).last.kind, record_layer::step_kind::closed);
  EXPECT_FALSE(t.s.write(as_bytes("late"), wire));
}

TEST(RecordLayerAlerts, NoAlertAfterOurCloseNotify) {
  // Once close_notify went out nothing follows it, not even the alert for a bad record.
  crafted t;
  buffer_sink wire;
  t.s.close(wire);
  const auto r = t.feed(craft(t.peer, 99, {1}));
  EXPECT_EQ(r.kind, record_layer::step_kind::error);
  EXPECT_TRUE(t.control.bytes.empty());
}
