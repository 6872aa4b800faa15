// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_proxy
// Fuzzes the PROXY protocol header parser (v1, v2, either). The first byte picks the mode and
// the size of the pieces the rest is fed in (uWS makeChunked). Invariants: no feed consumes
// more than it was given; fed in pieces the parser ends exactly as fed whole (status, error,
// bytes consumed, header); a header is at most 107 (v1) or 2064 (v2) bytes; an address it
// reports, written back as a header of the same version, parses to the same address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "proxy/header.hpp"

namespace {

using namespace ns::proxy;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same(const endpoint& a, const endpoint& b) {
  return a.fam == b.fam && a.ip == b.ip && a.port == b.port;
}

// The header's addresses in its own version's form (v1 text, v2 binary, no TLVs).
std::string rewrite(const header& h) {
  if (h.version == 1) {
    const bool v4 = h.source.fam == family::v4;
    return std::string("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + ip_text(h.source) + " " +
           ip_text(h.destination) + " " + std::to_string(h.source.port) + " " +
           std::to_string(h.destination.port) + "\r\n";
  }
  const bool v4 = h.source.fam == family::v4;
  const std::size_t n = v4 ? 4 : 16;
  std::string s("\r\n\r\n\0\r\nQUIT\n", 12);
  s += '\x21';
  s += v4 ? '\x11' : '\x21';
  s += '\0';
  s += static_cast<char>(2 * n + 4);
  s.append(reinterpret_cast<const char*>(h.source.ip.data()), n);
  s.append(reinterpret_cast<const char*>(h.destination.ip.data()), n);
  for (const std::uint16_t port : {h.source.port, h.destination.port}) {
    s += static_cast<char>(port >> 8);
    s += static_cast<char>(port & 0xff);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const version_mode mode = static_cast<version_mode>(data[0] % 3);
  const std::size_t chunk = 1 + (data[0] >> 2);  // 1..64
  const auto in = std::as_bytes(std::span(data + 1, size - 1));

  parser whole(mode);
  const result w = whole.feed(in);
  check(w.consumed <= in.size());

  parser split(mode);
  std::size_t consumed = 0;
  status st = status::need_more;
  for (std::size_t at = 0; at < in.size() || at == 0; at += chunk) {
    const auto piece = in.subspan(at, std::min(chunk, in.size() - at));
    const result r = split.feed(piece);
    check(r.consumed <= piece.size());
    consumed += r.consumed;
    st = r.st;
    if (st != status::need_more) break;
    check(r.consumed == piece.size());
  }
  check(st == w.st);
  check(split.err() == whole.err());
  check(st == status::need_more || split.footprint() == 0);  // the split buffer is freed
  if (st == status::need_more) {
    check(split.buffered() == in.size() && in.size() < max_header_bytes);
    return 0;
  }
  if (st == status::error) {
    check(whole.err() != error::none);
    return 0;
  }
  check(consumed == w.consumed);
  const header& h = whole.get();
  check(h.version == 1 || h.version == 2);
  check(w.consumed <= (h.version == 1 ? max_v1_bytes : max_header_bytes));
  check(same(h.source, split.get().source) && same(h.destination, split.get().destination));
  check(h.local == split.get().local);
  if (h.local) {
    check(h.source.fam == family::none);
    return 0;
  }
  check(h.source.fam != family::none && h.source.fam == h.destination.fam);
  const std::string again = rewrite(h);
  header h2;
  const parse_outcome o = parse(std::as_bytes(std::span(again.data(), again.size())), mode, h2);
  check(o.st == status::done && o.length == again.size());
  check(same(h.source, h2.source) && same(h.destination, h2.destination) && !h2.local);
  return 0;
}
