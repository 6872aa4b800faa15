// SPDX-License-Identifier: MIT
// detail::hand_over on facts and byte arrays: every reason a finished handshake stays with
// OpenSSL, and the hand-overs that go through (no ticket written, tickets written), including
// the sequence number the new layer continues from.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "record_layer_support.hpp"
#include "tls/handover.hpp"

using namespace ns::tls;
using namespace ns::tls::record_test;
using detail::hand_over;
using detail::handover_refusal;
using detail::handshake_end;

namespace {

// A TLS 1.3 server that finished with AES-128-GCM-SHA256 and wrote @p written.
handshake_end ended(std::span<const std::byte> written = {}) {
  handshake_end e;
  e.server = true;
  e.tls13 = true;
  e.cipher_code = 0x1301;
  e.written = written;
  return e;
}

// @p n records as OpenSSL writes its tickets: sealed with our sending secret from sequence 0.
std::vector<std::byte> tickets(int n, std::uint8_t secret_seed = 2) {
  record_layer w(suite::aes_128_gcm_sha256, secret_of(9), secret_of(secret_seed), 0);
  buffer_sink out;
  for (int i = 0; i < n; ++i) EXPECT_TRUE(w.write(as_bytes(std::string(200, 't')), out));
  return out.bytes;
}

handover_refusal refusal(const handshake_end& e, std::size_t client = 32, std::size_t server = 32) {
  return hand_over(e, secret_of(1, client), secret_of(2, server)).refusal;
}

}  // namespace

TEST(TlsHandoverDecision, EveryReasonToStayWithOpenSsl) {
  handshake_end e = ended();
  e.server = false;
  EXPECT_EQ(refusal(e), handover_refusal::client_role);
  e = ended();
  e.tls13 = false;
  EXPECT_EQ(refusal(e), handover_refusal::not_tls13);
  e = ended();
  e.input_pending = true;
  EXPECT_EQ(refusal(e), handover_refusal::input_pending);
  for (const std::uint16_t code : {0x0000, 0x1304, 0x1305, 0xc02f}) {  // none, CCM, CCM_8, 1.2
    e = ended();
    e.cipher_code = code;
    EXPECT_EQ(refusal(e), handover_refusal::unknown_suite) << code;
  }
  e = ended();
  EXPECT_EQ(refusal(e, 0, 0), handover_refusal::missing_secrets);  // no key log (turned off)
  EXPECT_EQ(refusal(e, 32, 0), handover_refusal::missing_secrets);
  EXPECT_EQ(refusal(e, 0, 32), handover_refusal::missing_secrets);
  EXPECT_EQ(refusal(e, 48, 48), handover_refusal::missing_secrets);  // SHA-384 sizes, SHA-256 suite
  e.cipher_code = 0x1302;
  EXPECT_EQ(refusal(e, 32, 32), handover_refusal::missing_secrets);
}

TEST(TlsHandoverDecision, OutputThatIsNotWholeProtectedRecords) {
  const std::vector<std::byte> two = tickets(2);
  std::vector<std::byte> handshake_type = two;
  handshake_type[0] = std::byte{22};  // an unprotected handshake record
  std::vector<std::byte> trailing = two;
  trailing.push_back(std::byte{23});                       // the start of another record's header
  std::vector<std::byte> cut(two.begin(), two.end() - 1);  // the last record incomplete
  for (const std::vector<std::byte>* w : {&handshake_type, &trailing, &cut}) {
    EXPECT_EQ(refusal(ended(*w)), handover_refusal::unexpected_output);
  }
}

TEST(TlsHandoverDecision, SequenceNotProvenByTheLastRecord) {
  // Sealed with another key: not ours.
  const std::vector<std::byte> foreign = tickets(1, 77);
  EXPECT_EQ(refusal(ended(foreign)), handover_refusal::sequence_unproven);
  // Ours, but the count is not the sequence: a record OpenSSL sent earlier is missing here.
  const std::vector<std::byte> two = tickets(2);
  const std::size_t first =
      5 + ((std::to_integer<std::size_t>(two[3]) << 8) | std::to_integer<std::size_t>(two[4]));
  const std::vector<std::byte> second_only(two.begin() + static_cast<std::ptrdiff_t>(first),
                                           two.end());
  EXPECT_EQ(refusal(ended(second_only)), handover_refusal::sequence_unproven);
  // A tampered last record.
  std::vector<std::byte> tampered = two;
  tampered.back() ^= std::byte{1};
  EXPECT_EQ(refusal(ended(tampered)), handover_refusal::sequence_unproven);
}

TEST(TlsHandoverDecision, HandsOverAndContinuesAfterTheTickets) {
  for (const int n : {0, 1, 2}) {
    const std::vector<std::byte> written = tickets(n);
    detail::handover h = hand_over(ended(written), secret_of(1), secret_of(2));
    ASSERT_EQ(h.refusal, handover_refusal::none) << n;
    ASSERT_NE(h.layer, nullptr);
    EXPECT_EQ(h.layer->write_sequence(), static_cast<std::uint64_t>(n));
    EXPECT_EQ(h.layer->read_sequence(), 0u);
    // The client (secrets the other way round) reads the tickets and then our next record.
    buffer_sink wire, control;
    wire.bytes = written;
    ASSERT_TRUE(h.layer->write(as_bytes("after"), wire));
    record_layer client(suite::aes_128_gcm_sha256, secret_of(2), secret_of(1), 0);
    EXPECT_EQ(read_all(client, wire.bytes, control).data, std::string(200 * n, 't') + "after");
  }
  // The other suites hand over with their own secret sizes.
  for (const auto& [code, size] : {std::pair{0x1302, 48}, std::pair{0x1303, 32}}) {
    handshake_end e = ended();
    e.cipher_code = static_cast<std::uint16_t>(code);
    EXPECT_EQ(refusal(e, size, size), handover_refusal::none) << code;
  }
}
