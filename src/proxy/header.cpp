// SPDX-License-Identifier: MIT
#include "proxy/header.hpp"

#include <algorithm>
#include <cstring>

namespace ns::proxy {
namespace {

constexpr std::uint8_t v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::uint8_t v1_signature[6] = {'P', 'R', 'O', 'X', 'Y', ' '};
constexpr std::size_t v2_fixed = 16;

parse_outcome fail(error e) {
  return {status::error, 0, e};
}

std::uint8_t at(std::span<const std::byte> in, std::size_t i) {
  return std::to_integer<std::uint8_t>(in[i]);
}

// True if the first min(|in|, |sig|) bytes of @p in are those of @p sig.
bool prefix_matches(std::span<const std::byte> in, std::span<const std::uint8_t> sig) {
  const std::size_t n = std::min(in.size(), sig.size());
  return std::memcmp(in.data(), sig.data(), n) == 0;
}

// Splits "a b c d" at single spaces into exactly @p out.size() non-empty fields.
bool split_fields(std::string_view s, std::span<std::string_view> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t sp = i + 1 < out.size() ? s.find(' ') : s.size();
    if (sp == std::string_view::npos || sp == 0) return false;
    out[i] = s.substr(0, sp);
    s.remove_prefix(std::min(sp + 1, s.size()));
  }
  return out.back().find(' ') == std::string_view::npos;
}

// The fields of a complete v1 line (without "PROXY " and CRLF).
parse_outcome parse_v1_fields(std::string_view rest, std::size_t length, header& out) {
  out.version = 1;
  if (rest.starts_with("UNKNOWN")) {
    // The sender may omit the rest or put anything before the CRLF; it is ignored (§2.1).
    if (rest.size() > 7 && rest[7] != ' ') return fail(error::v1_bad_line);
    out.local = true;
    return {status::done, length, error::none};
  }
  const bool v4 = rest.starts_with("TCP4 ");
  if (!v4 && !rest.starts_with("TCP6 ")) return fail(error::v1_bad_line);
  std::string_view f[4];
  if (!split_fields(rest.substr(5), f)) return fail(error::v1_bad_line);
  header h;
  h.version = 1;
  h.local = false;
  h.source.fam = h.destination.fam = v4 ? family::v4 : family::v6;
  const bool addresses = v4 ? parse_ipv4(f[0], std::span(h.source.ip).first<4>()) &&
                                  parse_ipv4(f[1], std::span(h.destination.ip).first<4>())
                            : parse_ipv6(f[0], h.source.ip) && parse_ipv6(f[1], h.destination.ip);
  if (!addresses || !parse_port(f[2], h.source.port) || !parse_port(f[3], h.destination.port)) {
    return fail(error::v1_bad_address);
  }
  out = h;
  return {status::done, length, error::none};
}

parse_outcome parse_v1(std::span<const std::byte> in, header& out) {
  if (!prefix_matches(in, v1_signature)) return fail(error::not_proxy);
  // The CR of the CRLF must be at index 105 at the latest (107 bytes with CRLF). Everything
  // before it is printable ASCII; a lone CR or LF is not tolerated (§2.1).
  const std::size_t scan = std::min(in.size(), max_v1_bytes - 1);
  for (std::size_t i = 0; i < scan; ++i) {
    const std::uint8_t c = at(in, i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c != '\r') return fail(error::v1_bad_line);
    if (i + 1 == in.size()) return {};  // the LF may still come
    if (at(in, i + 1) != '\n') return fail(error::v1_bad_line);
    const std::string_view line(reinterpret_cast<const char*>(in.data()), i);
    return parse_v1_fields(line.substr(sizeof(v1_signature)), i + 2, out);
  }
  if (in.size() >= max_v1_bytes - 1) return fail(error::v1_too_long);
  return {};
}

// TLVs: type (1 byte), length (2 bytes, big-endian), value; they must tile @p tlvs exactly.
bool tlvs_valid(std::span<const std::byte> tlvs) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return false;
    const std::size_t len = std::size_t{at(tlvs, 1)} << 8 | at(tlvs, 2);
    if (tlvs.size() - 3 < len) return false;
    tlvs = tlvs.subspan(3 + len);
  }
  return true;
}

parse_outcome parse_v2(std::span<const std::byte> in, header& out) {
  if (!prefix_matches(in, v2_signature)) return fail(error::not_proxy);
  // Each fixed byte is judged as soon as it is here, so garbage is refused at once.
  if (in.size() > 12 && (at(in, 12) >> 4) != 2) return fail(error::v2_bad_version);
  if (in.size() > 12 && (at(in, 12) & 0xf) > 1) return fail(error::v2_bad_command);
  if (in.size() > 13 && ((at(in, 13) >> 4) > 3 || (at(in, 13) & 0xf) > 2)) {
    return fail(error::v2_bad_family);
  }
  if (in.size() < v2_fixed) return {};
  const std::size_t len = std::size_t{at(in, 14)} << 8 | at(in, 15);
  if (len > max_v2_length) return fail(error::v2_too_long);
  if (in.size() < v2_fixed + len) return {};
  const std::size_t length = v2_fixed + len;
  const bool proxy_command = (at(in, 12) & 0xf) == 1;
  const unsigned fam = at(in, 13) >> 4;
  const unsigned proto = at(in, 13) & 0xf;
  // The address block of each family (§2.2): IPv4 2×4 + 2×2, IPv6 2×16 + 2×2, AF_UNIX 2×108.
  static constexpr std::size_t block[4] = {0, 12, 36, 216};
  if (proxy_command && proto != 0 && len < block[fam]) return fail(error::v2_short_address);
  header h;
  h.version = 2;
  // LOCAL (a health check), UNSPEC, UDP and AF_UNIX: the connection's own endpoints stand, the
  // block is skipped (the spec's fallback for what a receiver does not implement).
  if (!proxy_command || proto != 1 || (fam != 1 && fam != 2)) {
    out = h;
    return {status::done, length, error::none};
  }
  const auto addr = in.subspan(v2_fixed, len);
  if (!tlvs_valid(addr.subspan(block[fam]))) return fail(error::v2_bad_tlv);
  const std::size_t ip_len = fam == 1 ? 4 : 16;
  h.local = false;
  h.source.fam = h.destination.fam = fam == 1 ? family::v4 : family::v6;
  std::memcpy(h.source.ip.data(), addr.data(), ip_len);
  std::memcpy(h.destination.ip.data(), addr.data() + ip_len, ip_len);
  h.source.port = static_cast<std::uint16_t>(at(addr, 2 * ip_len) << 8 | at(addr, 2 * ip_len + 1));
  h.destination.port =
      static_cast<std::uint16_t>(at(addr, 2 * ip_len + 2) << 8 | at(addr, 2 * ip_len + 3));
  out = h;
  return {status::done, length, error::none};
}

}  // namespace

std::string_view reason(error e) noexcept {
  switch (e) {
    case error::none:
      return "no error";
    case error::not_proxy:
      return "not a PROXY protocol header";
    case error::v1_too_long:
      return "v1 line longer than 107 bytes";
    case error::v1_bad_line:
      return "malformed v1 line";
    case error::v1_bad_address:
      return "bad address or port in v1 line";
    case error::v2_bad_version:
      return "v2 version is not 2";
    case error::v2_bad_command:
      return "v2 command is neither LOCAL nor PROXY";
    case error::v2_bad_family:
      return "unassigned v2 address family or protocol";
    case error::v2_too_long:
      static_assert(max_header_bytes == 2064);
      return "v2 header longer than 2064 bytes";
    case error::v2_short_address:
      return "v2 length too short for its addresses";
    case error::v2_bad_tlv:
      return "malformed v2 TLV";
  }
  return "unknown error";  // GCOVR_EXCL_LINE: every enumerator is handled above
}

parse_outcome parse(std::span<const std::byte> in, version_mode mode, header& out) {
  if (in.empty()) return {};
  switch (mode) {
    case version_mode::v1:
      return parse_v1(in, out);
    case version_mode::v2:
      return parse_v2(in, out);
    case version_mode::any:
      break;
  }
  // The two signatures differ in their first byte ('P' vs CR), so one byte decides (§2.2).
  return at(in, 0) == v2_signature[0] ? parse_v2(in, out) : parse_v1(in, out);
}

result parser::feed(std::span<const std::byte> in) {
  if (st_ != status::need_more) return {st_, 0};
  parse_outcome r;
  std::size_t before = 0;
  std::size_t taken = in.size();
  if (buf_.empty()) {
    r = parse(in, mode_, header_);  // in one piece: parsed where it lies
    if (r.st == status::need_more) buf_.assign(in.begin(), in.end());
  } else {
    // Split: append at most what a header can still need, parse the whole again (a header is
    // short; this happens once or twice per connection at most).
    before = buf_.size();
    taken = std::min(in.size(), max_header_bytes - before);
    buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(taken));
    r = parse(buf_, mode_, header_);
  }
  st_ = r.st;
  err_ = r.err;
  if (r.st == status::done) {
    std::vector<std::byte>().swap(buf_);
    return {status::done, r.length - before};
  }
  if (r.st == status::error) std::vector<std::byte>().swap(buf_);
  return {r.st, r.st == status::need_more ? taken : 0};
}

}  // namespace ns::proxy
