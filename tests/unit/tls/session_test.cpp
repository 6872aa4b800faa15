// SPDX-License-Identifier: MIT
#include "tls/session.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <vector>

#include "pump.hpp"
#include "test_certs.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

client_params localhost(std::vector<std::string> alpn = {}) {
  return {"localhost", std::move(alpn), nullptr};
}

}  // namespace

TEST(TlsSession, Tls13HandshakeAndData) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump()) << client.last_error() << " / " << server.last_error();
  EXPECT_STREQ(client.version(), "TLSv1.3");
  EXPECT_STREQ(server.version(), "TLSv1.3");
  EXPECT_EQ(server.server_name(), "localhost");
  EXPECT_FALSE(server.resumed());
  p.send(client, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(p.server_received, "GET / HTTP/1.1\r\n\r\n");
  p.send(server, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(p.client_received, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(p.server_status, status::want_more);
}

TEST(TlsSession, Tls12HandshakeUsesAeadCipher) {
  session server(server_ctx());
  session client(client_ctx(TLS1_2_VERSION), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump()) << client.last_error() << " / " << server.last_error();
  EXPECT_STREQ(server.version(), "TLSv1.2");
  const std::string cipher = SSL_get_cipher_name(server.native_handle());
  EXPECT_EQ(cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");  // server preference: AES-128-GCM first
  p.send(server, "hello");
  EXPECT_EQ(p.client_received, "hello");
}

TEST(TlsSession, LargeWriteSplitsIntoRecords) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  std::string big(100000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  const write_result w = server.write(bytes(big));
  EXPECT_EQ(w.st, status::ok);
  EXPECT_EQ(w.bytes, big.size());
  EXPECT_GT(server.pending_ciphertext(), big.size());  // record headers + tags
  p.pump();
  EXPECT_EQ(p.client_received, big);
}

namespace {
struct string_sink final : ciphertext_sink {
  std::string buf;
  std::size_t used = 0;
  std::span<std::byte> prepare(std::size_t n) override {
    buf.resize(used + n);
    return {reinterpret_cast<std::byte*>(buf.data()) + used, n};
  }
  void commit(std::size_t n) override {
    used += n;
    buf.resize(used);
  }
};
}  // namespace

// write(plaintext, sink) puts the records into the caller's buffer, not the session's; with
// ciphertext already pending it queues behind it instead, so records never change order.
TEST(TlsSession, WriteIntoSinkAndKeepOrder) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  std::string big(40000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  string_sink sink;
  const write_result w = server.write(bytes(big), sink);
  EXPECT_EQ(w.st, status::ok);
  EXPECT_EQ(w.bytes, big.size());
  EXPECT_EQ(server.pending_ciphertext(), 0u);
  EXPECT_GT(sink.buf.size(), big.size());
  client.feed(bytes(sink.buf));
  read_all(client, p.client_received);
  EXPECT_EQ(p.client_received, big);

  p.client_received.clear();
  ASSERT_EQ(server.write(bytes("first")).st, status::ok);  // pending in the session
  string_sink later;
  ASSERT_EQ(server.write(bytes("second"), later).st, status::ok);
  EXPECT_TRUE(later.buf.empty());
  p.pump();
  EXPECT_EQ(p.client_received, "firstsecond");
}

TEST(TlsSession, RefusesTls11) {
  session server(server_ctx());
  client_options o;
  o.verify_peer = false;
  o.min_version = TLS1_VERSION;
  o.max_version = TLS1_1_VERSION;
  o.cipher_list = "DEFAULT:@SECLEVEL=0";
  session client(context::client(o), localhost());
  mem_pipe p{client, server};
  EXPECT_FALSE(p.pump());
  EXPECT_EQ(p.server_status, status::error);
  EXPECT_EQ(server.last_error_code(), error::handshake_failed);
  EXPECT_NE(server.last_error().find("unsupported protocol"), std::string::npos)
      << server.last_error();
}

TEST(TlsSession, RefusesCbcOnlyClient) {
  session server(server_ctx());
  session client(client_ctx(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384"),
                 localhost());
  mem_pipe p{client, server};
  EXPECT_FALSE(p.pump());
  EXPECT_EQ(p.server_status, status::error);
  EXPECT_NE(server.last_error().find("shared cipher"), std::string::npos) << server.last_error();
  EXPECT_EQ(p.client_status, status::error);  // got the handshake_failure alert
}

TEST(TlsSession, AlpnPicksHttp11AfterH2) {
  session server(server_ctx());
  session client(client_ctx(), localhost({"h2", "http/1.1"}));
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  EXPECT_EQ(server.alpn(), "http/1.1");
  EXPECT_EQ(client.alpn(), "http/1.1");
}

TEST(TlsSession, NoAlpnIsFine) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  EXPECT_TRUE(server.alpn().empty());
}

TEST(TlsSession, AlpnWithoutHttp11IsRejected) {
  session server(server_ctx());
  session client(client_ctx(), localhost({"h2"}));
  mem_pipe p{client, server};
  EXPECT_FALSE(p.pump());
  EXPECT_EQ(p.server_status, status::error);
  EXPECT_NE(client.last_error().find("no application protocol"), std::string::npos)
      << client.last_error();
}

TEST(TlsSession, ServesFullChainVerifiedAgainstRoot) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump()) << client.last_error();
  EXPECT_EQ(SSL_get_verify_result(client.native_handle()), X509_V_OK);
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(client.native_handle());
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sk_X509_num(sent), 2);  // leaf + intermediate, never the root
}

TEST(TlsSession, VerificationFailsForWrongHost) {
  session server(server_ctx());
  session client(client_ctx(), {"other.example", {}, nullptr});
  mem_pipe p{client, server};
  EXPECT_FALSE(p.pump());
  EXPECT_EQ(client.last_error_code(), error::handshake_failed);
  EXPECT_NE(client.last_error().find("certificate verify"), std::string::npos)
      << client.last_error();
}

TEST(TlsSession, CloseNotifyFromClient) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  client.write(bytes("last words"));
  client.shutdown();
  p.pump();
  EXPECT_EQ(p.server_received, "last words");  // data before close_notify is delivered first
  EXPECT_EQ(p.server_status, status::closed);
  EXPECT_TRUE(server.peer_closed());
  EXPECT_EQ(client.write(bytes("more")).st, status::closed);
  EXPECT_EQ(client.last_error_code(), error::write_after_close);
}

TEST(TlsSession, CloseNotifyFromServer) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  server.shutdown();
  EXPECT_GT(server.pending_ciphertext(), 0U);
  p.pump();
  EXPECT_EQ(p.client_status, status::closed);
  EXPECT_TRUE(client.peer_closed());
  EXPECT_EQ(client.read(std::span<std::byte>{}).st, status::closed);  // sticky
}

TEST(TlsSession, EofWithoutCloseNotifyIsTruncated) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  server.on_transport_eof();
  std::byte buf[64];
  const read_result r = server.read(buf);
  EXPECT_EQ(r.st, status::truncated);
  EXPECT_EQ(server.last_error_code(), error::truncated);
}

TEST(TlsSession, EofDuringHandshakeIsTruncated) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  client.handshake();
  const auto hello = client.peek_ciphertext();
  server.feed(hello.first(hello.size() / 2));
  server.on_transport_eof();
  std::byte buf[64];
  EXPECT_EQ(server.read(buf).st, status::truncated);
}

TEST(TlsSession, GarbageIsAnErrorIsolatedToItsSession) {
  session bad(server_ctx());
  session good(server_ctx());
  session client(client_ctx(), localhost());
  // A ClientHello record whose body is one byte long: a decode error.
  const std::string junk("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10);
  bad.feed(bytes(junk));
  std::byte buf[64];
  EXPECT_EQ(bad.read(buf).st, status::error);
  EXPECT_FALSE(bad.last_error().empty());
  EXPECT_EQ(bad.last_error_code(), error::handshake_failed);
  EXPECT_GT(bad.pending_ciphertext(), 0U);  // a fatal alert is queued for the peer
  // The other session on the same thread sees none of it.
  mem_pipe p{client, good};
  ASSERT_TRUE(p.pump());
  EXPECT_TRUE(good.last_error().empty());
  EXPECT_EQ(good.last_error_code(), error::none);
}

TEST(TlsSession, HandshakeFedOneByteAtATime) {
  for (const int max : {0, TLS1_2_VERSION}) {
    session server(server_ctx());
    session client(client_ctx(max), localhost({"http/1.1"}));
    std::string got;
    client.handshake();
    for (int round = 0; round < 16 && !(client.handshake_done() && server.handshake_done());
         ++round) {
      std::byte one[1];
      while (client.take_ciphertext(one) == 1) {
        server.feed(one);
        read_all(server, got);
      }
      while (server.take_ciphertext(one) == 1) {
        client.feed(one);
        read_all(client, got);
      }
    }
    ASSERT_TRUE(server.handshake_done()) << max << ' ' << server.last_error();
    ASSERT_TRUE(client.handshake_done()) << max << ' ' << client.last_error();
    EXPECT_EQ(server.alpn(), "http/1.1");
    // Application data split at every byte as well.
    client.write(bytes("ping"));
    std::byte one[1];
    while (client.take_ciphertext(one) == 1) {
      server.feed(one);
      read_all(server, got);
    }
    EXPECT_EQ(got, "ping");
  }
}

TEST(TlsSession, WriteBeforeHandshakeSaysWantMore) {
  session server(server_ctx());
  const write_result w = server.write(bytes("early"));
  EXPECT_EQ(w.st, status::want_more);
  EXPECT_EQ(w.bytes, 0U);
}

TEST(TlsSession, PlainHttpOnTlsPortIsAnError) {
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_TRUE(looks_like_plain_http(bytes(req)));
  session server(server_ctx());
  server.feed(bytes(req));
  std::byte buf[64];
  EXPECT_EQ(server.read(buf).st, status::error);
  EXPECT_NE(server.last_error().find("http request"), std::string::npos) << server.last_error();
}

TEST(TlsSession, LooksLikePlainHttp) {
  EXPECT_TRUE(looks_like_plain_http(bytes("G")));
  EXPECT_TRUE(looks_like_plain_http(bytes("OPTIONS * HTTP/1.1")));
  EXPECT_FALSE(looks_like_plain_http(bytes("")));
  EXPECT_FALSE(looks_like_plain_http(bytes("\x16\x03\x01")));
  EXPECT_FALSE(looks_like_plain_http(bytes("get / HTTP/1.1")));
  EXPECT_FALSE(looks_like_plain_http(bytes(" GET")));
  EXPECT_FALSE(looks_like_plain_http(bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZ")));
}

TEST(TlsSession, MoveKeepsWorking) {
  session server(server_ctx());
  session client(client_ctx(), localhost());
  session moved(std::move(server));
  mem_pipe p{client, moved};
  ASSERT_TRUE(p.pump());
  p.send(client, "after move");
  EXPECT_EQ(p.server_received, "after move");
}

TEST(TlsSession, ZeroCopyReadHandlesLeftovers) {
  for (const std::size_t chunk : {1UL, 7UL, 100UL, 5000UL, 1UL << 20}) {
    session server(server_ctx());
    session client(client_ctx(), localhost());
    mem_pipe p{client, server};
    ASSERT_TRUE(p.pump());
    std::string text;
    for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i) + "\n";
    ASSERT_EQ(server.write(bytes(text)).st, status::ok);
    const auto view = server.peek_ciphertext();
    const std::vector<std::byte> wire(view.begin(), view.end());
    server.consume_ciphertext(wire.size());
    std::string got;
    std::byte out[333];  // small: forces unconsumed ciphertext to be kept inside
    for (std::size_t off = 0; off < wire.size(); off += chunk) {
      std::vector<std::byte> piece(
          wire.begin() + static_cast<std::ptrdiff_t>(off),
          wire.begin() + static_cast<std::ptrdiff_t>(std::min(wire.size(), off + chunk)));
      read_result r = client.read(piece, out);
      piece.assign(piece.size(), std::byte{0xee});  // the caller's buffer is reused at once
      while (r.st == status::ok) {
        got.append(reinterpret_cast<const char*>(out), r.bytes);
        r = client.read(out);
      }
      ASSERT_EQ(r.st, status::want_more) << chunk << ' ' << client.last_error();
    }
    EXPECT_EQ(got, text) << chunk;
  }
}
