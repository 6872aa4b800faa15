// SPDX-License-Identifier: MIT
// tls::session's hand-over to record_layer after a TLS 1.3 server handshake, against OpenSSL
// as the client: everything the client's OpenSSL sends must be understood and everything we
// send must be accepted by it (the interoperability proof of record_layer).
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "pump.hpp"
#include "test_certs.hpp"
#include "tls/session.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

client_params localhost() {
  return {"localhost", {}, nullptr};
}

std::string pattern(std::size_t n) {
  std::string s(n, 'x');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

struct connected {
  explicit connected(std::shared_ptr<const context> cctx = client_ctx())
      : server(server_ctx()), client(std::move(cctx), localhost()), p(client, server) {
    EXPECT_TRUE(p.pump()) << client.last_error() << " / " << server.last_error();
  }
  session server;
  session client;
  mem_pipe p;
};

}  // namespace

TEST(TlsHandover, EverySuiteHandsOverAndCarriesDataBothWays) {
  for (const char* s :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    connected c(client_with_suites(s));
    EXPECT_STREQ(c.server.cipher_name(), s);
    EXPECT_TRUE(c.server.handed_over()) << s;
    EXPECT_FALSE(c.client.handed_over());  // the client role stays with OpenSSL
    const std::string up = pattern(50000), down = pattern(70000);
    c.p.send(c.client, up);
    EXPECT_EQ(c.p.server_received, up);
    c.p.send(c.server, down);
    EXPECT_EQ(c.p.client_received, down);
  }
}

TEST(TlsHandover, TheSslObjectIsFreedAndItsFactsKept) {
  session server(server_ctx());
  session client(client_ctx(), {"localhost", {"http/1.1"}, nullptr});
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  ASSERT_TRUE(server.handed_over());
  EXPECT_EQ(server.native_handle(), nullptr);
  EXPECT_TRUE(server.handshake_done());
  EXPECT_EQ(server.handshake(), status::ok);
  EXPECT_EQ(server.alpn(), "http/1.1");
  EXPECT_EQ(server.server_name(), "localhost");
  EXPECT_STREQ(server.version(), "TLSv1.3");
  EXPECT_STREQ(server.cipher_name(), "TLS_AES_128_GCM_SHA256");
  EXPECT_FALSE(server.resumed());
  EXPECT_EQ(server.saved(), nullptr);
  EXPECT_FALSE(server.peer_closed());
  server.release_buffers();  // idle: cipher contexts go, and come back on the next record
  p.send(client, "still here");
  EXPECT_EQ(p.server_received, "still here");
  p.send(server, "me too");
  EXPECT_EQ(p.client_received, "me too");
}

TEST(TlsHandover, Tls12StaysWithOpenSsl) {
  connected c(client_ctx(TLS1_2_VERSION));
  EXPECT_FALSE(c.server.handed_over());
  c.p.send(c.server, "hello");
  EXPECT_EQ(c.p.client_received, "hello");
}

TEST(TlsHandover, OffByConfigurationOpenSslKeepsTheRecords) {
  // tls_config::own_record_layer = false: no key log, no secrets, no hand-over — and the
  // connection works as before on OpenSSL's record layer.
  const auto off = context::server_from_pem({pki().chain.leaf}, nullptr, false);
  session server(off);
  session client(client_ctx(), localhost());
  mem_pipe p(client, server);
  ASSERT_TRUE(p.pump()) << client.last_error() << " / " << server.last_error();
  EXPECT_STREQ(server.version(), "TLSv1.3");
  EXPECT_FALSE(server.handed_over());
  EXPECT_NE(server.native_handle(), nullptr);
  p.send(client, "ping");
  EXPECT_EQ(p.server_received, "ping");
  p.send(server, pattern(40000));
  EXPECT_EQ(p.client_received, pattern(40000));
}

TEST(TlsHandover, ResumedSessionsHandOverToo) {
  saved_session saved;
  {
    connected c;
    c.p.send(c.server, "ticket please");  // the client reads the ticket with this
    saved = c.client.saved();
    ASSERT_NE(saved, nullptr);
  }
  session server(server_ctx());
  session client(client_ctx(), {"localhost", {}, saved});
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  EXPECT_TRUE(server.resumed());
  EXPECT_TRUE(server.handed_over());
  p.send(client, "again");
  EXPECT_EQ(p.server_received, "again");
  p.send(server, "welcome back");
  EXPECT_EQ(p.client_received, "welcome back");
}

TEST(TlsHandover, ClientKeyUpdatesAreFollowedAndAnswered) {
  connected c;
  for (const int how : {SSL_KEY_UPDATE_NOT_REQUESTED, SSL_KEY_UPDATE_REQUESTED}) {
    ASSERT_EQ(SSL_key_update(c.client.native_handle(), how), 1);
    c.p.send(c.client, "after update");  // under the client's next key
    EXPECT_EQ(c.p.server_received, "after update");
    c.p.server_received.clear();
    ASSERT_EQ(c.server.write(bytes("the reply")).st, status::ok);
    // Asked for: our KeyUpdate (a 5-byte handshake message) comes first, then the reply under
    // our next key, which the client must then use to read it.
    const auto out = c.server.peek_ciphertext();
    ASSERT_GE(out.size(), 5u);
    const std::size_t first_len = std::to_integer<std::size_t>(out[4]);
    EXPECT_EQ(first_len == 5 + 1 + 16, how == SSL_KEY_UPDATE_REQUESTED);
    c.p.pump();
    EXPECT_EQ(c.p.client_received, "the reply");
    c.p.client_received.clear();
  }
}

TEST(TlsHandover, CloseNotifyEitherWay) {
  {
    connected c;
    ASSERT_EQ(SSL_shutdown(c.client.native_handle()), 0);
    c.p.pump();
    EXPECT_EQ(c.p.server_status, status::closed);
    EXPECT_TRUE(c.server.peer_closed());
  }
  {
    connected c;
    c.server.shutdown();
    c.p.pump();
    EXPECT_EQ(c.p.client_status, status::closed);
    EXPECT_EQ(c.server.write(bytes("late")).st, status::closed);
  }
}

TEST(TlsHandover, TamperedRecordFailsWithAnAlertTheClientUnderstands) {
  connected c;
  ASSERT_EQ(c.client.write(bytes("hello")).st, status::ok);
  std::vector<std::byte> rec(c.client.peek_ciphertext().begin(), c.client.peek_ciphertext().end());
  c.client.consume_ciphertext(rec.size());
  rec[7] ^= std::byte{1};
  std::byte out[64];
  EXPECT_EQ(c.server.read(rec, out).st, status::error);
  EXPECT_NE(c.server.last_error().find("authentication"), std::string::npos)
      << c.server.last_error();
  EXPECT_EQ(c.server.last_error_code(), error::protocol);
  EXPECT_EQ(ERR_peek_error(), 0u);  // nothing left for the next connection's OpenSSL calls
  ASSERT_GT(c.server.pending_ciphertext(), 0u);  // bad_record_mac
  transfer(c.server, c.client);
  EXPECT_EQ(c.client.read(out).st, status::error);
  EXPECT_NE(c.client.last_error().find("bad record mac"), std::string::npos)
      << c.client.last_error();
  EXPECT_EQ(c.server.read(out).st, status::error);  // sticky
}

TEST(TlsHandover, UnprotectedRecordAfterTheHandshakeIsRejected) {
  connected c;
  const std::uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
  std::byte out[16];
  c.server.feed(std::as_bytes(std::span(ccs)));
  EXPECT_EQ(c.server.read(out).st, status::error);
  EXPECT_NE(c.server.last_error().find("unprotected"), std::string::npos);
}

TEST(TlsHandover, AnyInputSplitAndAnyOutputSizeGiveTheSameBytes) {
  connected c;
  const std::string msg = pattern(40000);
  ASSERT_EQ(c.client.write(bytes(msg)).st, status::ok);
  const std::vector<std::byte> wire(c.client.peek_ciphertext().begin(),
                                    c.client.peek_ciphertext().end());
  std::string got;
  std::byte out[7];  // smaller than any record: the rest of a record waits inside
  std::size_t pos = 0;
  std::size_t step = 1;
  while (pos < wire.size() || got.size() < msg.size()) {
    const std::size_t n = std::min(step, wire.size() - pos);
    read_result r = c.server.read(std::span(wire).subspan(pos, n), out);  // borrowed input
    pos += n;
    step = step * 3 % 1000 + 1;
    while (r.st == status::ok) {
      got.append(reinterpret_cast<const char*>(out), r.bytes);
      r = c.server.read(out);
    }
    ASSERT_EQ(r.st, status::want_more);
  }
  EXPECT_EQ(got, msg);
}

TEST(TlsHandover, EofInsideARecordIsTruncation) {
  connected c;
  ASSERT_EQ(c.client.write(bytes("partial")).st, status::ok);
  const auto wire = c.client.peek_ciphertext();
  c.server.feed(wire.first(wire.size() - 1));
  c.server.on_transport_eof();
  std::byte out[64];
  EXPECT_EQ(c.server.read(out).st, status::truncated);
  EXPECT_EQ(c.server.last_error_code(), error::truncated);
}
