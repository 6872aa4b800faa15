// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_tls ns_http ns_ws
// End-to-end in-memory pipeline: a client tls::session ↔ a server tls::session (no sockets),
// the server's plaintext into http::request_parser, an Upgrade through ws::validate_upgrade, then
// WebSocket frames through ws::connection, whose messages the server echoes back to a client-role
// ws::connection. The input is a script:
//   byte 0        flags: bit0 small HTTP limits, bit1 offer permessage-deflate,
//                 bits2-3 delivery mode (feed+read / zero-copy read / alternate), bits4-7 split
//   then ops      [op][len][len bytes]: raw client bytes, the canned upgrade request, a
//                 binary/text message, ping, close, close_notify, a server ping, a new split
//                 size, a flipped ciphertext bit, transport EOF (see `enum op`).
// Invariants (abort on violation):
//  - the handshake of two honest sessions completes;
//  - each side's decrypted plaintext is a prefix of what the peer sent, and all of it once
//    delivered, unless the ciphertext was tampered with or the transport ended;
//  - the parser and the ws connection never consume more than given;
//  - a well-formed script (upgrade first, then only encoder-made frames) upgrades with 101 and
//    every client message arrives at the server intact and in order;
//  - every message the server echoes arrives at the client intact and in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"
#include "tls/session.hpp"
#include "ws/connection.hpp"
#include "ws/handshake.hpp"

namespace {

using bytes = std::vector<std::byte>;

#define NS_CHECK(cond)    \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

enum op : std::uint8_t {
  raw_bytes,       // client writes the payload as plaintext (HTTP or ws bytes, anything)
  canned_upgrade,  // client writes a valid WebSocket upgrade request
  binary_message,  // client ws connection encodes a binary message (after the upgrade)
  text_message,    // same, text (payload folded to ASCII so it is valid UTF-8)
  client_ping,     // client ws connection queues a ping
  client_close,    // client ws connection starts the close handshake
  close_notify,    // client TLS shutdown
  server_ping,     // server ws connection queues a ping (the client answers with a pong)
  set_split,       // ciphertext is delivered in pieces of 1 + payload[0] bytes
  flip_bit,        // the next client→server ciphertext byte is corrupted
  transport_eof,   // the server's transport ends
  op_count,
};

struct contexts {
  std::shared_ptr<const ns::tls::context> server;
  std::shared_ptr<const ns::tls::context> client;
};

const contexts& ctxs() {
  static const contexts c = [] {
    contexts r;
    r.server = ns::tls::context::server_from_pem({ns::tls::make_self_signed()});
    ns::tls::client_options o;
    o.verify_peer = false;  // the harness trusts its own in-memory certificate
    r.client = ns::tls::context::client(o);
    return r;
  }();
  return c;
}

bool terminal(ns::tls::status s) {
  return s == ns::tls::status::closed || s == ns::tls::status::truncated ||
         s == ns::tls::status::error;
}

std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

void append(bytes& to, std::span<const std::byte> b) {
  to.insert(to.end(), b.begin(), b.end());
}

bool equal(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

class pipeline {
 public:
  explicit pipeline(unsigned flags)
      : flags_(flags),
        client_(ctxs().client, ns::tls::client_params{"localhost", {"http/1.1"}, nullptr}),
        server_(ctxs().server),
        parser_(limits(flags)),
        split_(1 + ((flags >> 4) & 15) * 97) {}

  void handshake() {
    for (int i = 0; i < 8 && !(client_.handshake_done() && server_.handshake_done()); ++i) {
      (void)client_.handshake();
      pump_to_server();
      pump_to_client();
    }
    NS_CHECK(client_.handshake_done() && server_.handshake_done());
  }

  void run(op o, std::span<const std::byte> payload) {
    switch (o) {
      case raw_bytes:
        well_formed_ = false;
        client_write(payload);
        break;
      case canned_upgrade: {
        if (client_sent_.size() != 0) well_formed_ = false;
        std::string req =
            "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n";
        if (flags_ & 2) req += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        req += "\r\n";
        upgrade_sent_ = true;
        client_write(as_bytes(req));
        break;
      }
      case binary_message:
      case text_message: {
        if (!client_ws_) return;
        bytes msg(payload.begin(), payload.end());
        if (o == text_message) {
          for (auto& b : msg) b = static_cast<std::byte>(std::to_integer<unsigned>(b) & 0x7F);
        }
        const auto opc = o == text_message ? ns::ws::opcode::text : ns::ws::opcode::binary;
        const ns::ws::encoded_frame f = client_ws_->encode_message(opc, msg);
        if (well_formed_ && !client_ws_->close_sent()) expected_at_server_.push_back(msg);
        client_write(f.header());
        client_write(f.payload);
        break;
      }
      case client_ping:
        if (client_ws_)
          client_ws_->make_ping(payload.first(std::min<std::size_t>(payload.size(), 125)));
        break;
      case client_close:
        if (!client_ws_) break;
        client_ws_->close(payload.empty() ? 1000
                                          : static_cast<std::uint16_t>(
                                                4000 + std::to_integer<int>(payload[0]) % 100),
                          "bye");
        break;
      case close_notify:
        client_.shutdown();
        transport_ended_ = true;
        break;
      case server_ping:
        if (server_ws_)
          server_ws_->make_ping(payload.first(std::min<std::size_t>(payload.size(), 125)));
        break;
      case set_split:
        split_ = 1 + (payload.empty() ? 0 : std::to_integer<std::size_t>(payload[0]) * 13);
        break;
      case flip_bit:
        flip_next_ = true;
        break;
      case transport_eof:
        server_.on_transport_eof();
        transport_ended_ = true;
        break;
      case op_count:
        break;
    }
    settle();
  }

 private:
  static ns::http_limits limits(unsigned flags) {
    ns::http_limits l;
    if (flags & 1) {
      l.max_request_line = 64;
      l.max_header_bytes = 512;
      l.max_header_count = 8;
      l.max_body_bytes = 1024;
      l.max_buffered_body = 128;
    }
    return l;
  }

  void client_write(std::span<const std::byte> plain) {
    if (plain.empty() || client_.peer_closed() || transport_ended_) return;
    const ns::tls::write_result w = client_.write(plain);
    if (w.st != ns::tls::status::ok) return;
    NS_CHECK(w.bytes == plain.size());
    append(client_sent_, plain);
  }

  // Client ciphertext → server, in pieces of split_ bytes, decrypting as it goes.
  void pump_to_server() {
    bytes wire;
    while (client_.pending_ciphertext() != 0) {
      const auto v = client_.peek_ciphertext();
      append(wire, v);
      client_.consume_ciphertext(v.size());
    }
    if (flip_next_ && !wire.empty()) {
      wire[wire.size() / 2] ^= std::byte{0x20};
      flip_next_ = false;
      tampered_ = true;
    }
    const unsigned mode = (flags_ >> 2) & 3;
    std::size_t piece_no = 0;
    for (std::size_t pos = 0; pos < wire.size(); pos += split_, ++piece_no) {
      const std::span<const std::byte> piece(wire.data() + pos,
                                             std::min(split_, wire.size() - pos));
      std::byte out[700];
      ns::tls::read_result r;
      if (mode == 1 || (mode == 2 && (piece_no & 1))) {
        r = server_.read(piece, out);
      } else {
        server_.feed(piece);
        r = server_.read(out);
      }
      while (r.st == ns::tls::status::ok) {
        NS_CHECK(r.bytes > 0 && r.bytes <= sizeof out);
        server_plain(std::span<const std::byte>(out, r.bytes));
        r = server_.read(out);
      }
      if (terminal(r.st)) server_done_ = true;
    }
    if (!server_.handshake_done()) return;
    // Decrypted bytes are always a prefix of what the client sent (AEAD), and all of it when
    // nothing interfered.
    NS_CHECK(server_rx_.size() <= client_sent_.size());
    NS_CHECK(std::equal(server_rx_.begin(), server_rx_.end(), client_sent_.begin()));
    if (!tampered_ && !transport_ended_ && !server_done_)
      NS_CHECK(server_rx_.size() == client_sent_.size());
  }

  // Server ciphertext → client, decrypting and feeding the client's ws connection.
  void pump_to_client() {
    while (server_.pending_ciphertext() != 0) {
      const auto v = server_.peek_ciphertext();
      client_.feed(v);
      server_.consume_ciphertext(v.size());
    }
    std::byte out[900];
    for (;;) {
      const ns::tls::read_result r = client_.read(out);
      if (r.st != ns::tls::status::ok) break;
      append(client_rx_, std::span<const std::byte>(out, r.bytes));
    }
    NS_CHECK(client_rx_.size() <= server_sent_.size());
    NS_CHECK(std::equal(client_rx_.begin(), client_rx_.end(), server_sent_.begin()));
    if (client_ws_) client_ws_input();
  }

  void client_ws_input() {
    std::span<const std::byte> in;
    if (client_rx_.size() > ws_fed_) in = std::span(client_rx_).subspan(ws_fed_);
    while (!in.empty()) {
      const ns::ws::feed_result r = client_ws_->feed(in);
      NS_CHECK(r.consumed <= in.size());
      in = in.subspan(r.consumed);
      ws_fed_ += r.consumed;
      if (r.ev.type == ns::ws::event_type::message) {
        NS_CHECK(!echoed_.empty() && equal(r.ev.data, echoed_.front()));
        echoed_.pop_front();
      } else if (r.ev.type == ns::ws::event_type::failed) {
        abort();  // the server only sends frames its own encoder made
      } else if (r.ev.type == ns::ws::event_type::none && r.consumed == 0) {
        break;
      }
    }
    client_write(client_ws_->pending_output());
    client_ws_->consume_output(client_ws_->pending_output().size());
  }

  void server_write(std::span<const std::byte> plain) {
    if (plain.empty()) return;
    const ns::tls::write_result w = server_.write(plain);
    if (w.st != ns::tls::status::ok) return;
    NS_CHECK(w.bytes == plain.size());
    append(server_sent_, plain);
  }

  void server_plain(std::span<const std::byte> in) {
    append(server_rx_, in);
    if (app_done_) return;
    if (server_ws_) return server_ws_input(in);
    for (int guard = 0; guard < 10000; ++guard) {
      const ns::http::parse_result r = parser_.feed(in);
      NS_CHECK(r.consumed <= in.size());
      in = in.subspan(r.consumed);
      switch (r.status) {
        case ns::http::parse_status::need_more:
          NS_CHECK(in.empty());
          return;
        case ns::http::parse_status::request_ready:
          NS_CHECK(parser_.request().body.size() <= limits(flags_).max_buffered_body);
          server_write(as_bytes("HTTP/1.1 204 No Content\r\n\r\n"));
          break;
        case ns::http::parse_status::body_chunk:
          NS_CHECK(r.body.size() <= limits(flags_).max_body_bytes);
          break;
        case ns::http::parse_status::expect_continue:
        case ns::http::parse_status::headers_ready_streaming:
        case ns::http::parse_status::body_done:
          break;
        case ns::http::parse_status::upgrade:
          return upgrade(in);
        case ns::http::parse_status::error:
          NS_CHECK(parser_.status_code() >= 400);
          if (well_formed_) abort();  // the canned request is valid under every limit
          app_done_ = true;
          return;
      }
    }
  }

  void upgrade(std::span<const std::byte> rest) {
    ns::ws::handshake_options ho;
    const ns::ws::handshake_result h = ns::ws::validate_upgrade(parser_.request(), ho);
    if (!h.ok()) {
      NS_CHECK(!well_formed_);
      server_write(as_bytes(ns::ws::build_reject_response(h)));
      app_done_ = true;
      return;
    }
    if (well_formed_ && upgrade_sent_) NS_CHECK(h.deflate.params.enabled == ((flags_ & 2) != 0));
    server_write(as_bytes(ns::ws::build_accept_response(h)));
    ws_fed_ = server_sent_.size();  // the first ws byte of the server→client stream
    ns::ws::connection_options so;
    so.deflate = h.deflate.params;
    so.compression.threshold = 8;
    server_ws_ = std::make_unique<ns::ws::connection>(so);
    ns::ws::connection_options co = so;
    co.client_role = true;
    client_ws_ = std::make_unique<ns::ws::connection>(co);
    server_ws_input(rest);
  }

  void server_ws_input(std::span<const std::byte> in) {
    for (;;) {
      const ns::ws::feed_result r = server_ws_->feed(in);
      NS_CHECK(r.consumed <= in.size());
      in = in.subspan(r.consumed);
      const ns::ws::event& ev = r.ev;
      if (ev.type == ns::ws::event_type::message) {
        if (well_formed_) {
          NS_CHECK(!expected_at_server_.empty() && equal(ev.data, expected_at_server_.front()));
          expected_at_server_.pop_front();
        }
        const ns::ws::encoded_frame f = server_ws_->encode_message(ev.op, ev.data);
        echoed_.emplace_back(ev.data.begin(), ev.data.end());
        server_write(f.header());
        server_write(f.payload);
      } else if (ev.type == ns::ws::event_type::failed) {
        NS_CHECK(!well_formed_);
      } else if (ev.type == ns::ws::event_type::none && (in.empty() || r.consumed == 0)) {
        break;
      }
    }
    server_write(server_ws_->pending_output());
    server_ws_->consume_output(server_ws_->pending_output().size());
  }

  // Runs both directions until no ciphertext is left in flight.
  void settle() {
    for (int i = 0; i < 16; ++i) {
      if (client_ws_) client_ws_input();  // queued pings/closes of the client
      if (server_ws_ && !app_done_) {
        server_write(server_ws_->pending_output());
        server_ws_->consume_output(server_ws_->pending_output().size());
      }
      if (client_.pending_ciphertext() == 0 && server_.pending_ciphertext() == 0) return;
      pump_to_server();
      pump_to_client();
    }
  }

  unsigned flags_;
  ns::tls::session client_;
  ns::tls::session server_;
  ns::http::request_parser parser_;
  std::size_t split_;
  std::unique_ptr<ns::ws::connection> server_ws_;
  std::unique_ptr<ns::ws::connection> client_ws_;
  bytes client_sent_, server_rx_, server_sent_, client_rx_;
  std::deque<bytes> expected_at_server_, echoed_;
  std::size_t ws_fed_ = 0;  // server→client bytes already given to client_ws_
  bool well_formed_ = true;
  bool upgrade_sent_ = false;
  bool flip_next_ = false;
  bool tampered_ = false;
  bool transport_ended_ = false;
  bool server_done_ = false;
  bool app_done_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // Exact-size heap copy so ASan catches any over-read.
  std::unique_ptr<std::byte[]> buf(new std::byte[size]);
  std::memcpy(buf.get(), data, size);
  const std::span<const std::byte> in(buf.get(), size);

  pipeline p(std::to_integer<unsigned>(in[0]));
  p.handshake();
  std::size_t pos = 1;
  while (pos + 2 <= in.size()) {
    const auto o = static_cast<op>(std::to_integer<unsigned>(in[pos]) % op_count);
    const std::size_t len =
        std::min(std::to_integer<std::size_t>(in[pos + 1]), in.size() - pos - 2);
    p.run(o, in.subspan(pos + 2, len));
    pos += 2 + len;
  }
  return 0;
}
