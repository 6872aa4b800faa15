// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Session-ticket key ring shared by every TLS context of a process (all threads, and the
/// contexts built by a reload), so a ticket issued by one thread resumes on any other.

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace ns::tls {

/// Key ring for RFC 5077 / RFC 8446 §4.6.1 stateless session tickets: a current key (encrypts
/// new tickets) and the previous one (still decrypts, and the ticket is then renewed). After
/// two rotations a ticket can no longer be decrypted and the handshake falls back to a full one.
/// Thread-safe; hold it by `std::shared_ptr` and pass it to every `context`.
class ticket_keys {
 public:
  /// One key: 16-byte name sent in the ticket, AES-256-CBC key, HMAC-SHA256 key. Move-only
  /// and wiped when it goes (a move wipes the source): the ring hands out copies (made under
  /// its lock, see current() and find()), and each copy is zeroed once used.
  struct key {
    std::array<std::uint8_t, 16> name{};
    std::array<std::uint8_t, 32> aes{};
    std::array<std::uint8_t, 32> hmac{};

    key() = default;
    ~key() { clear(); }
    key(const key&) = delete;
    key& operator=(const key&) = delete;
    key(key&& o) noexcept : name(o.name), aes(o.aes), hmac(o.hmac) { o.clear(); }
    key& operator=(key&& o) noexcept;
    /// Wipes all three fields now.
    void clear() noexcept;
  };

  /// Makes a fresh random current key. @p interval: how often `rotate_if_due` rotates.
  explicit ticket_keys(std::chrono::seconds interval = std::chrono::hours{1});

  /// Rotates if @p now is at least one interval after the last rotation (the first call only
  /// records @p now). Returns true when it rotated. Time is passed in (no clock inside).
  bool rotate_if_due(std::chrono::steady_clock::time_point now);

  /// Rotates unconditionally: current → previous, new random current.
  void rotate();

  /// The key that encrypts new tickets.
  key current() const;

  /// Looks up a key by the name found in a ticket. `found` is false when unknown;
  /// `is_current` false means the ticket should be renewed.
  struct lookup_result {
    bool found = false;
    bool is_current = false;
    key k{};
  };
  lookup_result find(const std::uint8_t* name) const;

  std::chrono::seconds interval() const { return interval_; }

 private:
  static key random_key();
  static key copy_of(const key& k);

  mutable std::mutex mutex_;
  std::chrono::seconds interval_;
  key current_;
  std::optional<key> previous_;
  std::optional<std::chrono::steady_clock::time_point> last_rotation_;
};

}  // namespace ns::tls
