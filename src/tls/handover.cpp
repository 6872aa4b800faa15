// SPDX-License-Identifier: MIT
// The hand-over decision: every way a finished TLS 1.3 server handshake can fail to qualify,
// checked in order, and the proof that the records OpenSSL wrote last fix the sequence number
// we continue from (opening the last of them under our key).
#include "tls/handover.hpp"

#include <optional>
#include <utility>

namespace ns::tls::detail {

namespace {

// The protected (application_data) records that @p bytes consists of exactly: how many, and
// the last one (empty if none); nullopt if @p bytes is anything else.
struct record_run {
  std::uint64_t count = 0;
  std::span<const std::byte> last;
};
std::optional<record_run> protected_records(std::span<const std::byte> bytes) noexcept {
  record_run run;
  while (!bytes.empty()) {
    if (bytes.size() < record_layer::header_size || bytes[0] != std::byte{23}) return std::nullopt;
    const std::size_t size =
        record_layer::header_size +
        ((std::to_integer<std::size_t>(bytes[3]) << 8) | std::to_integer<std::size_t>(bytes[4]));
    if (bytes.size() < size) return std::nullopt;
    run.last = bytes.first(size);
    bytes = bytes.subspan(size);
    ++run.count;
  }
  return run;
}

handover refused(handover_refusal why) {
  return {nullptr, why};
}

}  // namespace

handover hand_over(const handshake_end& end, traffic_secret client, traffic_secret server) {
  if (!end.server) return refused(handover_refusal::client_role);
  if (!end.tls13) return refused(handover_refusal::not_tls13);
  if (end.input_pending) return refused(handover_refusal::input_pending);
  const std::optional<suite> st = suite_from_code(end.cipher_code);
  if (!st) return refused(handover_refusal::unknown_suite);
  if (client.size != secret_size(*st) || server.size != secret_size(*st)) {
    return refused(handover_refusal::missing_secrets);
  }
  // What OpenSSL wrote while finishing the handshake (the session tickets) is protected with
  // our application key already: those records set the sequence number we continue from.
  const std::optional<record_run> records = protected_records(end.written);
  if (!records) return refused(handover_refusal::unexpected_output);
  auto layer =
      std::make_unique<record_layer>(*st, std::move(client), std::move(server), records->count);
  // Proof rather than assumption: the last of them must open under the key and sequence
  // number we are about to use, or the hand-over is skipped (OpenSSL keeps the session).
  if (records->count > 0 && !layer->wrote(records->last, records->count - 1)) {
    return refused(handover_refusal::sequence_unproven);
  }
  return {std::move(layer), handover_refusal::none};
}

}  // namespace ns::tls::detail
