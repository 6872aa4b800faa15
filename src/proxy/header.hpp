// SPDX-License-Identifier: MIT
#pragma once
// The PROXY protocol header (HAProxy's doc/proxy-protocol.txt), versions 1 and 2, as a sans-IO
// parser: bytes in, need_more / done / error out. A load balancer in TCP mode (HAProxy's
// `send-proxy`, `send-proxy-v2`) prepends it to the connection, before the TLS ClientHello, to
// tell the server whom it relays.
//
// Version 1 is one text line, "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n", at most 107
// bytes; version 2 a 16-byte binary block (12-byte signature, version/command, family/protocol,
// 16-bit length) followed by `length` bytes of addresses and TLVs, read in one piece once the
// 16 bytes say how long it is. Anything that is not exactly that is an error: the receiver must
// not guess (§2), so a listener expects one version, or either.
//
// The parser copies nothing when the header arrives in one piece (the usual case: a proxy
// sends it in one segment); split, it buffers at most max_header_bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "proxy/address.hpp"

namespace ns::proxy {

/// Which header a listener expects.
enum class version_mode : std::uint8_t { v1, v2, any };

enum class status : std::uint8_t {
  need_more,  ///< a prefix of a valid header: feed more
  done,       ///< a complete header: header() is valid, the bytes after it are the payload's
  error,      ///< not a valid header (err() says why); close the connection
};

enum class error : std::uint8_t {
  none,
  not_proxy,         ///< does not start with the signature of an accepted version
  v1_too_long,       ///< no CRLF within 107 bytes
  v1_bad_line,       ///< a byte outside printable ASCII, a lone CR or LF, or wrong fields
  v1_bad_address,    ///< an address or port not in the strict form or out of range
  v2_bad_version,    ///< version nibble not 2
  v2_bad_command,    ///< command neither LOCAL (0) nor PROXY (1)
  v2_bad_family,     ///< unassigned address family or transport protocol
  v2_too_long,       ///< length above max_v2_length
  v2_short_address,  ///< length too small for the family's address block
  v2_bad_tlv,        ///< the TLVs after the addresses do not fill the block exactly
};

/// One line without a trailing period: "v1 line longer than 107 bytes", …
[[nodiscard]] std::string_view reason(error e) noexcept;

/// What a complete header said.
struct header {
  std::uint8_t version = 0;  ///< 1 or 2
  /// The connection's own addresses stand: v2 LOCAL (the proxy's health check), v1 UNKNOWN,
  /// or a v2 family/protocol this server does not take addresses from (UNSPEC, UDP, AF_UNIX:
  /// the spec's fallback to UNSPEC, §2.2).
  bool local = true;
  endpoint source;       ///< the client (when !local)
  endpoint destination;  ///< the address the client connected to (when !local)
};

struct result {
  status st = status::need_more;
  std::size_t consumed = 0;  ///< bytes of this feed that belong to the header (≤ given)
};

/// Longest v2 address block + TLVs accepted: the AF_UNIX block (216) and the TLVs HAProxy
/// sends (ALPN, authority, unique id ≤ 128, SSL details) fit with room to spare.
inline constexpr std::size_t max_v2_length = 2048;
/// The most a parser ever buffers.
inline constexpr std::size_t max_header_bytes = 16 + max_v2_length;
/// A v1 line, CRLF included, is at most this long (§2.1).
inline constexpr std::size_t max_v1_bytes = 107;

/// Parses a header that starts at @p in[0] without buffering: need_more when @p in is a proper
/// prefix of a valid header, done with @p length = the header's size, or error.
struct parse_outcome {
  status st = status::need_more;
  std::size_t length = 0;
  error err = error::none;
};
[[nodiscard]] parse_outcome parse(std::span<const std::byte> in, version_mode mode, header& out);

class parser {
 public:
  explicit parser(version_mode mode) noexcept : mode_(mode) {}

  /// Feeds the next bytes of the connection. need_more consumes all of @p in; done consumes
  /// exactly the header's remaining bytes (the rest is the payload's); after done or error,
  /// further feeds return the same status and consume nothing.
  result feed(std::span<const std::byte> in);

  /// The header, once feed() returned done.
  [[nodiscard]] const header& get() const noexcept { return header_; }
  [[nodiscard]] error err() const noexcept { return err_; }
  /// Bytes received so far of an incomplete header.
  [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size(); }
  /// Heap bytes held (the buffer of a split header).
  [[nodiscard]] std::size_t footprint() const noexcept { return buf_.capacity(); }

 private:
  version_mode mode_;
  status st_ = status::need_more;
  error err_ = error::none;
  header header_;
  std::vector<std::byte> buf_;
};

}  // namespace ns::proxy
