// SPDX-License-Identifier: MIT
// Seed generator for fuzz/corpus/tls_session/: captures real ClientHello flights from in-memory
// client sessions (several versions / SNI / ALPN / resumption shapes) plus edge cases, each
// prefixed with the harness's chunk-size byte. Not built by CMake; run by hand when the seeds
// need refreshing:
//   g++ -std=c++20 -I include -I src fuzz/tools/tls_seed_gen.cpp build/tls/src/tls/libns_tls.a \
//       -lssl -lcrypto -o /tmp/tls_seed_gen && /tmp/tls_seed_gen fuzz/corpus/tls_session
#include <openssl/ssl.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tls/context.hpp"
#include "tls/self_signed.hpp"
#include "tls/session.hpp"

using namespace ns::tls;

namespace {

std::vector<std::byte> hello(const client_options& o, const client_params& p) {
  session c(context::client(o), p);
  c.handshake();
  const auto v = c.peek_ciphertext();
  return {v.begin(), v.end()};
}

void put(const std::string& dir, const std::string& name, std::uint8_t chunk,
         const std::vector<std::byte>& body) {
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f.put(static_cast<char>(chunk));
  f.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

std::vector<std::byte> text(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "fuzz/corpus/tls_session";
  client_options any;
  any.verify_peer = false;
  client_options v12 = any;
  v12.max_version = TLS1_2_VERSION;
  const auto h13 = hello(any, {"localhost", {"h2", "http/1.1"}, nullptr});
  put(dir, "hello_tls13_alpn_sni", 0, h13);
  put(dir, "hello_tls13_chunk7", 7, h13);
  put(dir, "hello_tls13_plain", 0, hello(any, {"", {}, nullptr}));
  put(dir, "hello_tls12", 0, hello(v12, {"localhost", {"http/1.1"}, nullptr}));
  put(dir, "hello_tls12_chunk1", 1, hello(v12, {"a.example.com", {}, nullptr}));
  put(dir, "hello_alpn_h2_only", 0, hello(any, {"localhost", {"h2"}, nullptr}));

  // Resumption shape: a real ticket from a full in-memory handshake (PSK + binder extension).
  auto sctx = context::server_from_pem({make_self_signed()});
  session s(sctx);
  session c(context::client(any), {"localhost", {}, nullptr});
  c.handshake();
  std::byte buf[4096];
  for (int i = 0; i < 8; ++i) {
    std::byte t[16384];
    s.feed(std::span(t, c.take_ciphertext(t)));
    (void)s.read(buf);
    c.feed(std::span(t, s.take_ciphertext(t)));
    (void)c.read(buf);
  }
  put(dir, "hello_tls13_resume", 0, hello(any, {"localhost", {}, c.saved()}));

  auto truncated = h13;
  truncated.resize(truncated.size() / 2);
  put(dir, "hello_truncated", 0, truncated);
  // SSLv3 hello: record and client_version 3.0 (must be refused: protocol version).
  auto ssl3 = hello(v12, {"", {}, nullptr});
  ssl3[2] = std::byte{0};   // record version minor
  ssl3[10] = std::byte{0};  // ClientHello.client_version minor
  put(dir, "hello_sslv3", 0, ssl3);
  // SSLv2-compatible hello header (RFC 5246 Appendix E.2).
  put(dir, "hello_sslv2", 0,
      {std::byte{0x80}, std::byte{0x2e}, std::byte{0x01}, std::byte{0x03}, std::byte{0x01},
       std::byte{0x00}, std::byte{0x15}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00},
       std::byte{0x10}});
  put(dir, "plain_http", 0, text("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  put(dir, "alert_close_notify", 0, text(std::string("\x15\x03\x03\x00\x02\x01\x00", 7)));
  put(dir, "ccs_then_appdata", 3,
      text(std::string("\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x05hello", 16)));
  std::puts("seeds written");
  return 0;
}
