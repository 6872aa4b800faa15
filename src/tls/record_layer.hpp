// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `ns::tls::record_layer`: the TLS 1.3 record layer of a connection after its handshake
/// (RFC 8446 §5, §4.6.3, §6), sans-IO: whole records in, plaintext out; plaintext in, records
/// out. `tls::session` hands a server connection over to it once OpenSSL has finished the
/// handshake, so that each application record costs one AEAD operation on the caller's
/// buffers instead of a pass through OpenSSL's record layer (which copies every byte into and
/// out of its own record buffers and allocates them per record under RELEASE_BUFFERS). It is
/// what kernel TLS does after a userspace handshake, in user space.
///
/// Handles what a TLS 1.3 peer may send after the handshake: application data (with padding,
/// and empty records), alerts (close_notify; user_canceled is ignored; any other ends the
/// connection), KeyUpdate (either way, answered when the peer asks), and rejects everything
/// else with the alert the RFC names. Rotates its own sending key before the AEAD's limit.
/// Records that carry no application data (KeyUpdate, empty data, user_canceled) are limited
/// to `max_useless_records` in a row, as BoringSSL limits them: otherwise a peer could keep us
/// deriving keys or decrypting nothing forever.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tls/record_protection.hpp"
#include "tls/session.hpp"

namespace ns::tls {

/// TLS alert descriptions this layer sends or recognises (RFC 8446 §6).
enum class alert : std::uint8_t {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  illegal_parameter = 47,
  decode_error = 50,
  internal_error = 80,
  user_canceled = 90,
};

/// A record layer between two records, as a live connection carries it to another process
/// (issue 20 §2, handover/connection_state.hpp): the suite, and per direction the current
/// traffic secret and the next sequence number. Holds secrets: not copyable; a move wipes the
/// source, and the destructor wipes what is left (OPENSSL_cleanse).
struct record_state {
  suite cipher = suite::aes_128_gcm_sha256;
  traffic_secret read;   ///< the peer's
  traffic_secret write;  ///< ours
  std::uint64_t read_seq = 0;
  std::uint64_t write_seq = 0;
  bool owe_update = false;  ///< the peer asked for a KeyUpdate: ours goes before more data

  record_state() = default;
  record_state(const record_state&) = delete;
  record_state& operator=(const record_state&) = delete;
  record_state(record_state&&) noexcept = default;  // traffic_secret's move wipes the source
  record_state& operator=(record_state&&) noexcept = default;
  ~record_state() = default;  // and its destructor what is left
};

class record_layer {
 public:
  /// Largest plaintext of one record (2^14) and largest encrypted_record (2^14 + 256).
  static constexpr std::size_t max_plaintext = 16384;
  static constexpr std::size_t max_ciphertext = max_plaintext + 256;
  static constexpr std::size_t header_size = 5;
  /// Records sent under one key before it is updated: AES-GCM's margin (RFC 8446 §5.5 says at
  /// most 2^24.5 full-size records per key).
  static constexpr std::uint64_t default_key_update_after = std::uint64_t{1} << 24;
  /// Records in a row without application data (KeyUpdate, empty application data,
  /// user_canceled) accepted; the next one is refused with unexpected_message.
  static constexpr unsigned max_useless_records = 32;

  /// @p read / @p write: the peer's and our application traffic secrets, taken over (left
  /// empty; wiped when this layer goes); @p write_seq: records already sent under @p write
  /// (session tickets OpenSSL wrote at the end of the handshake).
  record_layer(suite s, traffic_secret&& read, traffic_secret&& write, std::uint64_t write_seq,
               std::uint64_t key_update_after = default_key_update_after);

  /// Continues a record layer exported by export_state() (in another process); takes the
  /// secrets out of @p st.
  explicit record_layer(record_state&& st,
                        std::uint64_t key_update_after = default_key_update_after);

  /// Copies this layer's state into @p out when it is between records: no KeyUpdate
  /// half-received, nothing closed or failed. False (and @p out untouched) otherwise.
  [[nodiscard]] bool export_state(record_state& out) const noexcept;

  enum class step_kind {
    need_more,  ///< @p in does not hold a whole record yet (`need` = its size once known)
    need_room,  ///< @p out is smaller than `need`, the record's largest possible plaintext
    data,       ///< a record was consumed; `bytes` of application data (possibly 0) are in out
    closed,     ///< the peer sent close_notify
    error,      ///< fatal; an alert was queued to the control sink; see `error_reason()`
  };
  struct step {
    step_kind kind = step_kind::need_more;
    std::size_t consumed = 0;  ///< input bytes used (a whole record, or 0)
    std::size_t bytes = 0;     ///< plaintext bytes in out (data)
    std::size_t need = 0;      ///< need_more: record size (0 if the header is incomplete);
                               ///< need_room: plaintext room needed
  };

  /// Processes the first record of @p in: decrypts it into @p out (which must not overlap
  /// @p in) and acts on its content. KeyUpdate answers and alerts go to @p control.
  step read(std::span<const std::byte> in, std::span<std::byte> out, ciphertext_sink& control);

  /// Seals @p plaintext as application-data records of ≤ 16 KiB into @p sink. False if a
  /// record cannot be sealed (the sequence numbers are used up, or OpenSSL fails): the sink is
  /// left without that record (records sealed before it stay) and the layer sends nothing more.
  bool write(std::span<const std::byte> plaintext, ciphertext_sink& sink);
  /// Sends close_notify (once; later calls and writes after it do nothing).
  void close(ciphertext_sink& sink);

  /// True if @p record (header included) was sealed with our sending key at sequence number
  /// @p seq: how the hand-over proves where OpenSSL's sequence ended. Changes no state.
  [[nodiscard]] bool wrote(std::span<const std::byte> record, std::uint64_t seq) noexcept;

  /// Frees the cipher contexts while the connection is idle (set up again on next use).
  void release_idle() noexcept {
    read_.release();
    write_.release();
  }

  /// Cipher contexts allocated now: 0 (idle, released) to 2 (memory accounting).
  [[nodiscard]] unsigned live_contexts() const noexcept {
    return static_cast<unsigned>(read_.live()) + static_cast<unsigned>(write_.live());
  }

  /// Why the last `error` happened (static string).
  [[nodiscard]] const char* error_reason() const noexcept { return reason_; }
  /// The alert the peer sent that ended the connection (valid after an error it caused).
  [[nodiscard]] std::uint8_t peer_alert() const noexcept { return peer_alert_; }
  /// Sequence numbers (for tests): the next record to open / to seal.
  [[nodiscard]] std::uint64_t read_sequence() const noexcept { return read_.sequence(); }
  [[nodiscard]] std::uint64_t write_sequence() const noexcept { return write_.sequence(); }
  /// Key updates done in each direction (for tests).
  [[nodiscard]] unsigned read_updates() const noexcept { return read_updates_; }
  [[nodiscard]] unsigned write_updates() const noexcept { return write_updates_; }

 private:
  step fail(alert a, const char* why, ciphertext_sink& control);
  bool seal(std::uint8_t inner_type, std::span<const std::uint8_t> plaintext,
            ciphertext_sink& sink);
  bool send_key_update(ciphertext_sink& sink);
  step on_handshake(std::span<const std::uint8_t> body, ciphertext_sink& control);
  step no_progress(std::size_t consumed, ciphertext_sink& control);

  record_protector read_;
  record_protector write_;
  std::uint64_t key_update_after_;
  const char* reason_ = "";
  std::uint8_t peer_alert_ = 0;
  std::array<std::uint8_t, 5> hs_{};  // a KeyUpdate split over records (4-byte header + 1)
  std::size_t hs_len_ = 0;
  unsigned read_updates_ = 0;
  unsigned write_updates_ = 0;
  unsigned useless_ = 0;     // records in a row without application data
  bool owe_update_ = false;  // the peer requested a KeyUpdate: send ours before more data
  bool closed_ = false;      // close_notify or a fatal alert sent: nothing more goes out
};

}  // namespace ns::tls
