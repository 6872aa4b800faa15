// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Incremental UTF-8 validator (RFC 3629 as required by RFC 6455 §8.1).

#include <cstddef>
#include <cstdint>
#include <span>

namespace ns::ws {

/// Validates UTF-8 fed in arbitrary pieces (a text message split across frames and recv calls).
///
/// A small state machine: each state says how many continuation bytes are still due and which
/// range the next one must fall into, which is how overlongs (E0 80..9F, F0 80..8F), surrogates
/// (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF) are rejected on the first byte
/// that makes the sequence impossible (fail fast, Autobahn 6.x). ASCII runs are skipped eight
/// bytes at a time.
class utf8_validator {
 public:
  /// Feeds the next bytes. Returns false as soon as the input can no longer be valid UTF-8;
  /// once false, it stays false until reset().
  bool feed(std::span<const std::byte> bytes) noexcept;

  /// True if everything fed so far is complete, valid UTF-8 (no sequence cut at the end).
  [[nodiscard]] bool complete() const noexcept { return state_ == accept; }

  /// True once an invalid byte has been seen.
  [[nodiscard]] bool failed() const noexcept { return state_ == reject; }

  /// Starts a new message.
  void reset() noexcept { state_ = accept; }

 private:
  // States: number of continuation bytes due, with a special first-continuation range.
  enum state : std::uint8_t {
    accept = 0,
    need1,     // one more 80..BF
    need2,     // two more 80..BF
    need3,     // three more 80..BF
    after_e0,  // A0..BF then need1 (no overlong 3-byte forms)
    after_ed,  // 80..9F then need1 (no UTF-16 surrogates)
    after_f0,  // 90..BF then need2 (no overlong 4-byte forms)
    after_f4,  // 80..8F then need2 (nothing above U+10FFFF)
    reject,
  };
  std::uint8_t state_ = accept;
};

/// Validates one complete buffer.
[[nodiscard]] bool is_valid_utf8(std::span<const std::byte> bytes) noexcept;

}  // namespace ns::ws
