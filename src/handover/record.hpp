// SPDX-License-Identifier: MIT
#pragma once
// The records of a hand-over between a running ns_serve (old) and the one replacing it (new),
// over a unix socket; sans-IO. The descriptors themselves travel beside the bytes
// (SCM_RIGHTS); a record says what they are, and the receiver checks the two agree.
//
// Every record: magic "NSHO" | version u16 | type u16 | length u32 | payload (length bytes),
// big-endian. The decoder refuses a wrong magic, another version, an unknown type, a length
// above max_payload and a payload that does not have exactly the size its type implies, so a
// later version can add record types (live connections, issue 20 §2) without an old reader
// misreading them.
//
// The exchange (version 1):
//   new → old  hello      {pid u32}                     the kernel attaches the sender's
//                                                       credentials; the old side checks them
//   old → new  listeners  {count u16, count × listener} + count descriptors (SCM_RIGHTS)
//   new → old  ready      {count u16}                   accepting on that many listeners
//   (either)   refused    {text}                        why it stops, for the other's log
// then, while the old process drains (live connections, issue 20 §2):
//   old → new  released   {}                            no longer accepting: recheck accept
//   old → new  connection {id u32, state}  + 1 descriptor   a live connection at a clean point
//                                                       (connection_state.hpp; holds secrets)
//   new → old  adopted    {id u32, ok u8}               taken (ok 1), or refused and its
//                                                       descriptor closed (ok 0): the old
//                                                       process keeps it and drains it
// A reader of the first exchange only (an older successor) refuses the later types; the old
// process then drains what it would have moved. End of file on the channel ends it all.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ns::handover {

inline constexpr std::uint32_t magic = 0x4e53484f;  // "NSHO"
inline constexpr std::uint16_t version = 1;
inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_payload = 64 * 1024;
inline constexpr std::size_t max_listeners = 1024;  ///< also the most descriptors in one record
inline constexpr std::size_t max_text = 1024;

enum class record_type : std::uint16_t {
  hello = 1,
  listeners = 2,
  ready = 3,
  refused = 4,
  released = 5,
  connection = 6,
  adopted = 7,
};

/// A listening socket's local address: family 4 or 6, port, address (4 or 16 bytes used).
struct listener_address {
  std::uint8_t family = 4;
  std::uint16_t port = 0;
  std::array<std::uint8_t, 16> ip{};
  bool operator==(const listener_address&) const = default;
};

struct record {
  record_type type = record_type::hello;
  std::uint32_t pid = 0;                    ///< hello
  std::vector<listener_address> listeners;  ///< listeners
  std::uint16_t count = 0;                  ///< ready
  std::string text;                         ///< refused
  std::uint32_t id = 0;                     ///< connection, adopted
  std::vector<std::byte> state;             ///< connection (wipe after use: secrets)
  bool ok = false;                          ///< adopted
};

std::vector<std::byte> encode(const record& r);

enum class decode_status : std::uint8_t { need_more, ready, error };

/// Incremental decoder: feed bytes as they come (a record may arrive in pieces); each
/// complete record is returned once. After an error it stays in error.
class decoder {
 public:
  /// Consumes from @p in at most up to the end of one record. ready: @p out holds it.
  decode_status feed(std::span<const std::byte>& in, record& out);
  /// Why the decoder stopped (one line), after error.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  decode_status fail(std::string why);
  bool reject(std::string why);
  bool parse(record& out);
  std::vector<std::byte> buf_;
  std::string error_;
  bool failed_ = false;
};

}  // namespace ns::handover
