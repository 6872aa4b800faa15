// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// TLS 1.3 record protection for one direction (RFC 8446 §5.2–5.3, §7.1–7.3): the traffic key
/// and IV derived from a traffic secret, the per-record nonce, AEAD seal/open, and the
/// KeyUpdate secret ratchet. Pure computation over byte spans; no SSL object involved.
///
/// Why not let OpenSSL do it: after the handshake an SSL_read/SSL_write of a small record
/// costs several times the AEAD itself (record-layer dispatch, buffer management, copies into
/// and out of its record buffers); see record_layer.hpp.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "tls/wipe.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // NOLINT: OpenSSL's forward declaration

namespace ns::tls {

/// The TLS 1.3 cipher suites this layer implements (all AEADs with 12-byte nonces, 16-byte tags).
enum class suite : std::uint8_t {
  aes_128_gcm_sha256,        ///< 0x1301
  aes_256_gcm_sha384,        ///< 0x1302
  chacha20_poly1305_sha256,  ///< 0x1303
};

/// The suite for a TLS 1.3 cipher suite code (0x1301…), if implemented here.
std::optional<suite> suite_from_code(std::uint16_t code) noexcept;
/// Hash length of @p s (the length of its traffic secrets): 32 or 48.
std::size_t secret_size(suite s) noexcept;

inline constexpr std::size_t max_secret_size = 48;
inline constexpr std::size_t tag_size = 16;
inline constexpr std::size_t iv_size = 12;

/// A traffic secret of one direction. Move-only: the bytes exist in one place at a time (a
/// move copies them and wipes the source) and are wiped when the holder goes away, so a secret
/// leaves no stray copy behind on any path (hand-over, fallback, key update, destruction).
struct traffic_secret {
  std::array<std::uint8_t, max_secret_size> bytes{};
  std::size_t size = 0;

  traffic_secret() = default;
  ~traffic_secret() { wipe(bytes.data(), bytes.size()); }
  traffic_secret(const traffic_secret&) = delete;
  traffic_secret& operator=(const traffic_secret&) = delete;
  traffic_secret(traffic_secret&& o) noexcept : bytes(o.bytes), size(o.size) { o.clear(); }
  traffic_secret& operator=(traffic_secret&& o) noexcept {
    if (this != &o) {
      bytes = o.bytes;
      size = o.size;
      o.clear();
    }
    return *this;
  }
  /// Wipes the bytes now; the secret is empty afterwards.
  void clear() noexcept {
    wipe(bytes.data(), bytes.size());
    size = 0;
  }
  [[nodiscard]] std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
};

/// HKDF-Expand-Label(secret, label, "", out.size()) of RFC 8446 §7.1 with @p s's hash.
/// @p out must not be longer than the hash. False only if OpenSSL fails (allocation).
bool hkdf_expand_label(suite s, std::span<const std::uint8_t> secret, std::string_view label,
                       std::span<std::uint8_t> out) noexcept;

/// AEAD protection of one direction's records under a traffic secret.
/// Not copyable; one per direction per connection.
class record_protector {
 public:
  /// @p encrypt: seal (our sending direction) or open (the peer's). Takes @p secret over (it is
  /// left empty); the secret, key and IV are wiped when this goes. Throws std::runtime_error
  /// if OpenSSL cannot set up the cipher (allocation failure).
  record_protector(suite s, traffic_secret&& secret, bool encrypt);
  ~record_protector();
  record_protector(const record_protector&) = delete;
  record_protector& operator=(const record_protector&) = delete;

  /// True while the cipher context is allocated (memory accounting; see release()).
  [[nodiscard]] bool live() const noexcept { return ctx_ != nullptr; }

  /// Encrypts @p plaintext followed by @p inner_type (TLSInnerPlaintext, no padding) into
  /// @p out (`plaintext.size() + 1 + tag_size` bytes), authenticating @p header (the 5-byte
  /// record header). @p plaintext may alias the start of @p out. Uses the next sequence number;
  /// false (and nothing sealed) once the last one, 2^64 - 1, is reached: it must not wrap
  /// (RFC 8446 §5.3), the key must be updated first.
  bool seal(std::span<const std::uint8_t, 5> header, std::span<const std::uint8_t> plaintext,
            std::uint8_t inner_type, std::span<std::uint8_t> out) noexcept;

  /// Decrypts a record's encrypted_record (`ciphertext`, tag last) authenticated with
  /// @p header into @p out (`ciphertext.size() - tag_size` bytes; may alias @p ciphertext).
  /// False if it does not authenticate, or if the sequence numbers are used up (see seal()).
  /// Uses the next sequence number.
  bool open(std::span<const std::uint8_t, 5> header, std::span<const std::uint8_t> ciphertext,
            std::span<std::uint8_t> out) noexcept;

  /// True if @p ciphertext (tag last), authenticated with @p header, opens under this key at
  /// sequence number @p seq. Works in either direction; the plaintext is discarded and the
  /// sequence number is left as it was.
  bool opens(std::span<const std::uint8_t, 5> header, std::span<const std::uint8_t> ciphertext,
             std::uint64_t seq) noexcept;

  /// The suite and the current traffic secret (after every KeyUpdate): what a live connection
  /// carries to another process (record_layer::export_state).
  [[nodiscard]] suite cipher_suite() const noexcept { return suite_; }
  [[nodiscard]] const traffic_secret& secret() const noexcept { return secret_; }

  /// Records protected under the current key so far (the next record's sequence number).
  [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }
  /// Starts at sequence number @p seq (records the handshake layer already protected).
  void set_sequence(std::uint64_t seq) noexcept { seq_ = seq; }

  /// KeyUpdate: the next traffic secret (RFC 8446 §7.2) with a fresh key and IV, sequence 0.
  bool update() noexcept;

  /// Frees the cipher context (about 2 KiB with its key schedule) of an idle connection; the
  /// next seal/open sets it up again from the kept key.
  void release() noexcept;

 private:
  bool rekey() noexcept;
  // The last sequence number was used: another record would wrap it and reuse a nonce.
  [[nodiscard]] bool exhausted() const noexcept { return seq_ == ~std::uint64_t{0}; }
  bool ready() noexcept;
  void nonce(std::uint8_t (&out)[iv_size]) const noexcept;

  suite suite_;
  bool encrypt_;
  traffic_secret secret_;
  std::array<std::uint8_t, 32> key_{};
  std::array<std::uint8_t, iv_size> iv_{};
  std::uint64_t seq_ = 0;
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

}  // namespace ns::tls
