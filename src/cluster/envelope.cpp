// SPDX-License-Identifier: MIT
#include "cluster/envelope.hpp"

#include <cstring>
#include <limits>

namespace ns::cluster {
namespace {

constexpr char magic[2] = {'n', 's'};

bool origin_ok(std::string_view origin) noexcept {
  return !origin.empty() && origin.size() <= max_origin_bytes;
}

bool payload_fits(std::size_t size) noexcept {
  return size <= std::numeric_limits<std::uint32_t>::max();
}

void append_header(std::string& out, std::string_view origin, payload_type type,
                   std::size_t payload_size) {
  out.append(magic, sizeof(magic));
  out += static_cast<char>(envelope_version);
  out += static_cast<char>(type);
  out += static_cast<char>(origin.size());
  out.append(origin);
  const auto n = static_cast<std::uint32_t>(payload_size);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
}

void append_bulk(std::string& out, std::size_t size) {
  out += '$';
  out += std::to_string(size);
  out += "\r\n";
}

}  // namespace

std::string_view describe(decode_status s) noexcept {
  switch (s) {
    case decode_status::ok:
      return "ok";
    case decode_status::truncated:
      return "truncated";
    case decode_status::bad_magic:
      return "not an envelope";
    case decode_status::bad_version:
      return "unknown envelope version";
    case decode_status::bad_type:
      return "unknown message type";
    case decode_status::bad_origin:
      return "bad origin";
    case decode_status::trailing:
      return "bytes after the payload";
    case decode_status::oversized:
      return "payload too large";
  }
  return "unknown";  // GCOVR_EXCL_LINE: every enumerator is handled above
}

decode_result decode_envelope(std::span<const std::byte> message,
                              std::size_t max_payload) noexcept {
  decode_result r;
  const auto* p = reinterpret_cast<const unsigned char*>(message.data());
  const std::size_t n = message.size();
  // Each field is checked as soon as its bytes are there, so a prefix of a foreign message is
  // already "not an envelope" and a prefix of ours is "truncated".
  if (n >= 1 && p[0] != static_cast<unsigned char>(magic[0])) return {decode_status::bad_magic, {}};
  if (n >= 2 && p[1] != static_cast<unsigned char>(magic[1])) return {decode_status::bad_magic, {}};
  if (n >= 3 && p[2] != envelope_version) return {decode_status::bad_version, {}};
  if (n >= 4 && p[3] != static_cast<unsigned char>(payload_type::text) &&
      p[3] != static_cast<unsigned char>(payload_type::binary)) {
    return {decode_status::bad_type, {}};
  }
  if (n >= 5 && (p[4] == 0 || p[4] > max_origin_bytes)) return {decode_status::bad_origin, {}};
  if (n < 5 || n < envelope_header_size(p[4])) return r;  // truncated
  const std::size_t origin_size = p[4];
  const std::size_t at = 5 + origin_size;
  const std::uint32_t length = (std::uint32_t{p[at]} << 24) | (std::uint32_t{p[at + 1]} << 16) |
                               (std::uint32_t{p[at + 2]} << 8) | std::uint32_t{p[at + 3]};
  if (length > max_payload) return {decode_status::oversized, {}};
  const std::size_t header = envelope_header_size(origin_size);
  if (n - header < length) return r;  // truncated
  if (n - header > length) return {decode_status::trailing, {}};
  r.status = decode_status::ok;
  r.value.origin = std::string_view(reinterpret_cast<const char*>(p + 5), origin_size);
  r.value.type = static_cast<payload_type>(p[3]);
  r.value.payload = message.subspan(header, length);
  return r;
}

bool encode_envelope(std::string& out, std::string_view origin, payload_type type,
                     std::span<const std::byte> payload) {
  if (!origin_ok(origin) || !payload_fits(payload.size())) return false;
  out.reserve(out.size() + envelope_header_size(origin.size()) + payload.size());
  append_header(out, origin, type, payload.size());
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return true;
}

bool format_publish(std::string& out, std::string_view channel, std::string_view origin,
                    payload_type type, std::span<const std::byte> payload) {
  if (!origin_ok(origin) || !payload_fits(payload.size())) return false;
  const std::size_t body = envelope_header_size(origin.size()) + payload.size();
  out.reserve(out.size() + 64 + channel.size() + body);
  out += "*3\r\n$7\r\nPUBLISH\r\n";
  append_bulk(out, channel.size());
  out.append(channel);
  out += "\r\n";
  append_bulk(out, body);
  append_header(out, origin, type, payload.size());
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  out += "\r\n";
  return true;
}

std::string channel_name(std::string_view prefix, std::string_view topic) {
  std::string c;
  c.reserve(prefix.size() + topic.size());
  c.append(prefix);
  c.append(topic);
  return c;
}

std::optional<std::string_view> topic_of_channel(std::string_view prefix, std::string_view channel,
                                                 std::size_t max_topic) noexcept {
  if (!channel.starts_with(prefix)) return std::nullopt;
  const std::string_view topic = channel.substr(prefix.size());
  if (topic.size() > max_topic) return std::nullopt;
  return topic;
}

}  // namespace ns::cluster
