// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The bytes a cluster engine carries for one publish (sans-IO): an envelope around the
/// payload, and the channel a topic is published on.
///
/// Envelope, version 1 (all of it is the message of one PUBLISH; integers big-endian):
///
///     'n' 's'  version(1)  type(1: text, 2: binary)  origin length (1..64)  origin
///     payload length (4 bytes)  payload
///
/// The origin names the publishing process (`topic_hub::origin()`), so an instance can drop its
/// own messages when they come back. The payload length must match the bytes that follow
/// exactly and stay within the receiver's bound: a truncated, padded, foreign or oversized
/// message is refused as a whole, never partly delivered.
///
/// A channel is a prefix followed by the topic's bytes, unchanged: topics are opaque bytes and
/// Redis channels are binary-safe, so no escaping is needed and no two topics share a channel.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ns::cluster {

enum class payload_type : std::uint8_t { text = 1, binary = 2 };

inline constexpr std::uint8_t envelope_version = 1;
/// The longest origin an envelope carries (a hub's is 32 characters).
inline constexpr std::size_t max_origin_bytes = 64;
/// Bytes before the payload for an origin of @p origin_size bytes.
[[nodiscard]] constexpr std::size_t envelope_header_size(std::size_t origin_size) noexcept {
  return 2 + 1 + 1 + 1 + origin_size + 4;
}

/// A decoded envelope: views into the decoded bytes.
struct envelope {
  std::string_view origin;
  payload_type type = payload_type::binary;
  std::span<const std::byte> payload;
};

/// Why an envelope was refused.
enum class decode_status : std::uint8_t {
  ok,
  truncated,    ///< shorter than its header or its payload length says
  bad_magic,    ///< does not start with "ns": not ours
  bad_version,  ///< a version this build does not know
  bad_type,     ///< neither text nor binary
  bad_origin,   ///< empty origin, or longer than max_origin_bytes
  trailing,     ///< bytes after the payload
  oversized,    ///< payload length above the receiver's bound (checked before truncation)
};

/// A short lower-case phrase for @p s ("truncated", "payload too large", …).
[[nodiscard]] std::string_view describe(decode_status s) noexcept;

struct decode_result {
  decode_status status = decode_status::truncated;
  envelope value;  ///< meaningful when status == ok
};

/// Decodes one whole message. @p max_payload bounds the payload (oversized above it).
[[nodiscard]] decode_result decode_envelope(std::span<const std::byte> message,
                                            std::size_t max_payload) noexcept;

/// Appends the envelope of @p payload to @p out. False (and @p out unchanged) for an origin
/// that is empty or longer than max_origin_bytes, or a payload of 4 GiB or more.
bool encode_envelope(std::string& out, std::string_view origin, payload_type type,
                     std::span<const std::byte> payload);

/// Appends the RESP command `PUBLISH <channel> <envelope>` (RESP2 array of bulk strings) to
/// @p out, formatted once so the engine hands it to the connection without another copy of
/// the payload. False, with @p out unchanged, when encode_envelope would refuse.
bool format_publish(std::string& out, std::string_view channel, std::string_view origin,
                    payload_type type, std::span<const std::byte> payload);

/// The channel of @p topic: @p prefix followed by the topic's bytes.
[[nodiscard]] std::string channel_name(std::string_view prefix, std::string_view topic);

/// The topic of @p channel: what follows @p prefix, if the channel starts with it and the
/// rest is at most @p max_topic bytes; nullopt otherwise.
[[nodiscard]] std::optional<std::string_view> topic_of_channel(std::string_view prefix,
                                                               std::string_view channel,
                                                               std::size_t max_topic) noexcept;

}  // namespace ns::cluster
