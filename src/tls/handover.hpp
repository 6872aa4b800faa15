// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The decision behind `tls::session`'s hand-over to `record_layer`, apart from any SSL
/// object: given what the handshake left (role, version, cipher, input OpenSSL still holds,
/// the traffic secrets, the records it wrote last), either a record layer that continues the
/// connection or the reason to leave it with OpenSSL. Kept pure so that every refusal can be
/// tested on byte arrays (tests/unit/tls/handover_decision_test.cpp). Not installed.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tls/record_layer.hpp"

namespace ns::tls::detail {

/// What a finished handshake left behind.
struct handshake_end {
  bool server = false;                 ///< our role (only a server hands over)
  bool tls13 = false;                  ///< the negotiated version is TLS 1.3
  bool input_pending = false;          ///< OpenSSL holds input it has read but not processed
  std::uint16_t cipher_code = 0;       ///< the TLS 1.3 cipher suite code (0x1301…), 0 if none
  std::span<const std::byte> written;  ///< what OpenSSL wrote while finishing the handshake
};

/// Why a session stays with OpenSSL (`none`: it was handed over).
enum class handover_refusal : std::uint8_t {
  none,
  client_role,        ///< our client sessions stay with OpenSSL
  not_tls13,          ///< TLS 1.2 and older use OpenSSL's record layer
  input_pending,      ///< OpenSSL already buffered records we would have to read
  unknown_suite,      ///< a cipher suite record_protection does not implement (CCM)
  missing_secrets,    ///< no (or wrong-size) traffic secrets from the key log
  unexpected_output,  ///< what OpenSSL wrote last is not a run of whole protected records
  sequence_unproven,  ///< the last of them does not open under our key at the count we assume
};

struct handover {
  std::unique_ptr<record_layer> layer;  ///< set if handed over
  handover_refusal refusal = handover_refusal::none;
};

/// Builds the record layer for a session that ended its handshake as @p end says, from the
/// peer's (@p client) and our (@p server) application traffic secrets. The secrets are taken
/// by value: whatever the outcome, they are wiped before this returns (or live on, wiped
/// later, inside the layer).
handover hand_over(const handshake_end& end, traffic_secret client, traffic_secret server);

}  // namespace ns::tls::detail
