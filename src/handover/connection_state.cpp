// SPDX-License-Identifier: MIT
#include "handover/connection_state.hpp"

#include <stdexcept>

#include "tls/wipe.hpp"

namespace ns::handover {
namespace {

class writer {
 public:
  explicit writer(std::vector<std::byte>& o) : o_(o) {}
  void u8(std::uint8_t v) { o_.push_back(std::byte(v)); }
  void be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) o_.push_back(std::byte((v >> (8 * i)) & 0xff));
  }
  void raw(std::span<const std::byte> b) { o_.insert(o_.end(), b.begin(), b.end()); }
  void text8(std::string_view s) {
    if (s.size() > max_short_text) throw std::length_error("hand-over: text over 255 bytes");
    u8(static_cast<std::uint8_t>(s.size()));
    raw(std::as_bytes(std::span(s.data(), s.size())));
  }

 private:
  std::vector<std::byte>& o_;
};

// Reads fields off the front; after the first short read every later one fails too.
class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  bool be(std::uint64_t& v, int bytes) {
    if (in_.size() < static_cast<std::size_t>(bytes)) return short_ = true, false;
    v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(in_[i]);
    in_ = in_.subspan(static_cast<std::size_t>(bytes));
    return true;
  }
  bool u8(std::uint8_t& v) {
    std::uint64_t x = 0;
    if (!be(x, 1)) return false;
    v = static_cast<std::uint8_t>(x);
    return true;
  }
  bool take(std::size_t n, std::span<const std::byte>& out) {
    if (in_.size() < n) return short_ = true, false;
    out = in_.first(n);
    in_ = in_.subspan(n);
    return true;
  }
  bool text8(std::string& s) {
    std::uint8_t n = 0;
    std::span<const std::byte> b;
    if (!u8(n) || !take(n, b)) return false;
    s.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }
  [[nodiscard]] bool truncated() const noexcept { return short_; }
  [[nodiscard]] std::size_t left() const noexcept { return in_.size(); }

 private:
  std::span<const std::byte> in_;
  bool short_ = false;
};

void put_secret(writer& w, const tls::traffic_secret& s) {
  w.u8(static_cast<std::uint8_t>(s.size));
  w.raw(std::as_bytes(s.view()));
}

bool get_secret(reader& r, tls::suite st, tls::traffic_secret& s, std::string& error) {
  std::uint8_t n = 0;
  std::span<const std::byte> b;
  if (!r.u8(n) || !r.take(n, b)) return false;
  if (n != tls::secret_size(st)) {
    error = "a traffic secret of " + std::to_string(n) + " bytes for its suite";
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) s.bytes[i] = std::to_integer<std::uint8_t>(b[i]);
  s.size = n;
  return true;
}

bool window_bits_ok(std::uint8_t b) noexcept {
  return b >= 8 && b <= 15;
}

}  // namespace

std::vector<std::byte> encode(const connection_state& s) {
  if (s.tls.input.size() > max_input) throw std::length_error("hand-over: input over its bound");
  if (s.app.size() > max_app_blob) throw std::length_error("hand-over: blob over its bound");
  std::vector<std::byte> out;
  out.reserve(160 + s.tls.input.size() + s.app.size());
  writer w(out);
  w.be(state_version, 2);
  w.u8(static_cast<std::uint8_t>(s.proto));
  w.u8(static_cast<std::uint8_t>(s.tls.records.cipher));
  put_secret(w, s.tls.records.read);
  put_secret(w, s.tls.records.write);
  w.be(s.tls.records.read_seq, 8);
  w.be(s.tls.records.write_seq, 8);
  w.u8(static_cast<std::uint8_t>((s.tls.resumed ? 1 : 0) | (s.tls.records.owe_update ? 2 : 0)));
  w.text8(s.tls.alpn);
  w.text8(s.tls.sni);
  w.text8(s.peer);
  w.be(s.tls.input.size(), 4);
  w.raw(s.tls.input);
  w.u8(s.deflate.enabled ? 1 : 0);
  w.u8(static_cast<std::uint8_t>((s.deflate.server_no_context_takeover ? 1 : 0) |
                                 (s.deflate.client_no_context_takeover ? 2 : 0)));
  w.u8(static_cast<std::uint8_t>(s.deflate.server_max_window_bits));
  w.u8(static_cast<std::uint8_t>(s.deflate.client_max_window_bits));
  w.be(s.app.size(), 2);
  w.raw(std::as_bytes(std::span(s.app.data(), s.app.size())));
  return out;
}

bool decode(std::span<const std::byte> bytes, connection_state& out, std::string& error) {
  reader r(bytes);
  std::uint64_t version = 0, read_seq = 0, write_seq = 0, input_len = 0, app_len = 0;
  std::uint8_t proto = 0, st = 0, tls_flags = 0, deflate = 0, flags = 0, sbits = 0, cbits = 0;
  error.clear();
  const auto fail = [&](std::string why) {
    error = "connection state: " + (why.empty() ? std::string("truncated") : std::move(why));
    return false;
  };
  if (!r.be(version, 2)) return fail("");
  if (version != state_version) {
    return fail("version " + std::to_string(version) + ", this one reads " +
                std::to_string(state_version));
  }
  if (!r.u8(proto) || !r.u8(st)) return fail("");
  if (proto != static_cast<std::uint8_t>(protocol::http1) &&
      proto != static_cast<std::uint8_t>(protocol::websocket)) {
    return fail("unknown protocol " + std::to_string(proto));
  }
  if (st > static_cast<std::uint8_t>(tls::suite::chacha20_poly1305_sha256)) {
    return fail("unknown cipher suite " + std::to_string(st));
  }
  out.proto = static_cast<protocol>(proto);
  out.tls.records.cipher = static_cast<tls::suite>(st);
  std::string why;
  if (!get_secret(r, out.tls.records.cipher, out.tls.records.read, why) ||
      !get_secret(r, out.tls.records.cipher, out.tls.records.write, why)) {
    return fail(why);
  }
  if (!r.be(read_seq, 8) || !r.be(write_seq, 8) || !r.u8(tls_flags) || tls_flags > 3) {
    return fail(r.truncated() ? "" : "unknown TLS flags " + std::to_string(tls_flags));
  }
  out.tls.records.read_seq = read_seq;
  out.tls.records.write_seq = write_seq;
  out.tls.resumed = (tls_flags & 1) != 0;
  out.tls.records.owe_update = (tls_flags & 2) != 0;
  if (!r.text8(out.tls.alpn) || !r.text8(out.tls.sni) || !r.text8(out.peer)) return fail("");
  if (!r.be(input_len, 4)) return fail("");
  if (input_len > max_input) return fail(std::to_string(input_len) + " bytes of input");
  std::span<const std::byte> input;
  if (!r.take(input_len, input)) return fail("");
  out.tls.input.assign(input.begin(), input.end());
  if (!r.u8(deflate) || !r.u8(flags) || !r.u8(sbits) || !r.u8(cbits)) return fail("");
  out.deflate.enabled = deflate == 1;
  out.deflate.server_no_context_takeover = (flags & 1) != 0;
  out.deflate.client_no_context_takeover = (flags & 2) != 0;
  out.deflate.server_max_window_bits = sbits;
  out.deflate.client_max_window_bits = cbits;
  if (deflate > 1 || flags > 3 || !window_bits_ok(sbits) || !window_bits_ok(cbits)) {
    return fail("deflate parameters that cannot have been agreed");
  }
  // What moves has no deflate history (ws::connection::between_messages), and HTTP/1.1 none.
  if (out.deflate.enabled && (out.proto != protocol::websocket || flags != 3)) {
    return fail("deflate with context takeover, or on HTTP/1.1");
  }
  if (!r.be(app_len, 2)) return fail("");
  if (app_len > max_app_blob) return fail(std::to_string(app_len) + " bytes of application blob");
  std::span<const std::byte> app;
  if (!r.take(app_len, app)) return fail("");
  out.app.assign(reinterpret_cast<const char*>(app.data()), app.size());
  if (r.left() != 0) return fail(std::to_string(r.left()) + " bytes after the state");
  return true;
}

void wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) tls::wipe(bytes.data(), bytes.size());
}

}  // namespace ns::handover
