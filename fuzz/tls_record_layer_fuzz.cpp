// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_tls
// libFuzzer harness for tls::record_layer (the TLS 1.3 record layer a server session uses after
// its handshake). Random ciphertext would almost never authenticate, so the input is a script
// that a peer holding the right key plays: records of any inner type and content (alerts,
// KeyUpdate pieces, padding, oversize), key changes, raw bytes and tampering, fed in chunks of
// scripted sizes to a layer reading into scripted output sizes. Invariants:
//  - a step never consumes more than it was given nor produces more than fits;
//  - error / closed end the stream; data never follows them;
//  - everything the layer sends (KeyUpdate answers, alerts, data) is valid for a peer that
//    follows it: a mirror layer reads it without error, except the fatal alert it ends with.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tls/record_layer.hpp"

namespace {

using ns::tls::record_layer;
using step_kind = record_layer::step_kind;

#define NS_CHECK(cond)    \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

// Ciphertext collected in a vector (tls::vector_sink over an owned buffer).
struct vec_sink {
  vec_sink() = default;
  vec_sink(const vec_sink&) = delete;
  vec_sink& operator=(const vec_sink&) = delete;
  operator ns::tls::ciphertext_sink&() { return sink; }  // NOLINT: passed where a sink is expected
  std::vector<std::byte> bytes;
  ns::tls::vector_sink sink{bytes};
};

ns::tls::traffic_secret secret(std::uint8_t seed) {
  ns::tls::traffic_secret s;
  s.size = 32;
  for (std::size_t i = 0; i < s.size; ++i) s.bytes[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return s;
}

struct reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::vector<std::uint8_t> take(std::size_t k) {
    k = std::min(k, n);
    std::vector<std::uint8_t> v(p, p + k);
    p += k;
    n -= k;
    return v;
  }
};

// Seals @p content + @p type + @p padding zeros as one record with @p peer.
void seal(ns::tls::record_protector& peer, std::vector<std::byte>& wire, std::uint8_t type,
          std::vector<std::uint8_t> content, std::size_t padding) {
  content.push_back(type);
  content.insert(content.end(), padding, 0);
  const std::uint8_t last = content.back();
  content.pop_back();
  const std::size_t len = content.size() + 1 + ns::tls::tag_size;
  const std::uint8_t header[5] = {23, 3, 3, static_cast<std::uint8_t>(len >> 8),
                                  static_cast<std::uint8_t>(len)};
  const std::size_t at = wire.size();
  wire.resize(at + 5 + len);
  std::memcpy(wire.data() + at, header, 5);
  NS_CHECK(peer.seal(header, content, last,
                     {reinterpret_cast<std::uint8_t*>(wire.data()) + at + 5, len}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // up: the peer's sending secret; down: ours.
  record_layer layer(ns::tls::suite::aes_128_gcm_sha256, secret(1), secret(2), 0,
                     4);  // rotate often
  record_layer mirror(ns::tls::suite::aes_128_gcm_sha256, secret(2), secret(1), 0);
  ns::tls::record_protector peer(ns::tls::suite::aes_128_gcm_sha256, secret(1), true);
  reader in{data, size};
  std::vector<std::byte> wire;
  while (in.n > 0) {
    const std::uint8_t op = in.byte();
    const std::size_t len = in.byte() | (std::size_t{op & 0x40u ? in.byte() : 0u} << 8);
    switch (op % 8) {
      case 0:    // application data
      case 1:    // alert
      case 2: {  // handshake (KeyUpdate pieces, or anything else)
        static constexpr std::uint8_t types[] = {23, 21, 22};
        seal(peer, wire, types[op % 8], in.take(len), 0);
        break;
      }
      case 3: {  // any inner type
        const std::uint8_t type = in.byte();
        seal(peer, wire, type, in.take(len), in.byte());
        break;
      }
      case 4:  // padded data
        seal(peer, wire, 23, in.take(len % 64), len);
        break;
      case 5:  // the peer moves to its next key (after it sent a KeyUpdate, or not)
        NS_CHECK(peer.update());
        break;
      case 6: {  // raw bytes on the wire
        const auto raw = in.take(len);
        for (const std::uint8_t b : raw) wire.push_back(std::byte{b});
        break;
      }
      default:  // tamper with a byte already on the wire
        if (!wire.empty()) wire[len % wire.size()] ^= std::byte{static_cast<std::uint8_t>(op | 1)};
        break;
    }
  }

  vec_sink control;
  std::vector<std::byte> out(record_layer::max_ciphertext);
  std::span<const std::byte> rest(wire);
  std::size_t chunk = size % 97 + 1;  // input arrives in pieces; the layer must wait for more
  std::size_t have = 0;
  bool ended = false;
  while (!ended) {
    have = std::min(rest.size(), have + chunk);
    chunk = chunk * 5 % 251 + 1;
    const std::size_t room = (have * 13 + size) % out.size();
    record_layer::step st = layer.read(rest.first(have), std::span(out).first(room), control);
    if (st.kind == step_kind::need_room) {
      NS_CHECK(st.need > room);
      st = layer.read(rest.first(have), out, control);
    }
    NS_CHECK(st.consumed <= have);
    NS_CHECK(st.bytes <= out.size());
    switch (st.kind) {
      case step_kind::need_more:
        NS_CHECK(st.consumed == 0);
        if (have == rest.size()) ended = true;  // the script ran out mid-record
        break;
      case step_kind::need_room:
        abort();  // a full-size buffer always has room
      case step_kind::data:
        NS_CHECK(st.consumed > 0);
        rest = rest.subspan(st.consumed);
        have -= st.consumed;
        if (st.bytes > 0) {  // echo it back, as a server would
          NS_CHECK(layer.write(std::span(out).first(st.bytes), control));
        }
        break;
      case step_kind::closed:
      case step_kind::error:
        ended = true;
        break;
    }
  }
  // The mirror follows everything the layer sent.
  std::span<const std::byte> sent(control.bytes);
  vec_sink ignored;
  for (;;) {
    const record_layer::step st = mirror.read(sent, out, ignored);
    if (st.kind != step_kind::data) {
      NS_CHECK(st.kind == step_kind::need_more ? sent.empty() : st.kind == step_kind::error);
      if (st.kind == step_kind::error)
        NS_CHECK(mirror.peer_alert() != 0 && st.consumed == sent.size());
      break;
    }
    sent = sent.subspan(st.consumed);
  }
  NS_CHECK(ignored.bytes.empty());  // no alert to the layer: it never sent anything invalid
  return 0;
}
