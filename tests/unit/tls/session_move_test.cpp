// SPDX-License-Identifier: MIT
// A handed-over TLS 1.3 server session moved to a fresh session object (what another process
// does on an upgrade, issue 20 §2), against OpenSSL as the client: the client must not notice.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>

#include "pump.hpp"
#include "test_certs.hpp"
#include "tls/moved_session.hpp"
#include "tls/session.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

std::string pattern(std::size_t n, char base = 'a') {
  std::string s(n, 'x');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(base + (i * 7) % 26);
  return s;
}

// The server side of a connection that can be replaced by its moved copy.
struct movable {
  explicit movable(std::shared_ptr<const context> cctx = client_ctx())
      : server(std::make_unique<session>(server_ctx())),
        client(std::move(cctx), client_params{"localhost", {"http/1.1"}, nullptr}),
        p(std::make_unique<mem_pipe>(client, *server)) {
    EXPECT_TRUE(p->pump()) << client.last_error() << " / " << server->last_error();
  }
  // Exports the server session, drops it, and continues with a session built from the export.
  void move() {
    moved_session m;
    ASSERT_TRUE(server->export_moved(m));
    const std::string before_client = p->client_received;
    server = std::make_unique<session>(server_ctx(), std::move(m));
    p = std::make_unique<mem_pipe>(client, *server);
    p->client_received = before_client;
  }
  std::unique_ptr<session> server;
  session client;
  std::unique_ptr<mem_pipe> p;
};

}  // namespace

TEST(TlsSessionMove, EverySuiteContinuesBothWaysAfterKeyUpdates) {
  for (const char* s :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    movable c(client_with_suites(s));
    ASSERT_TRUE(c.server->handed_over()) << s;
    c.p->send(c.client, "before");
    c.p->send(*c.server, "hello");
    // Both directions on a later key: the state that moves is the current secret, not the first.
    ASSERT_EQ(SSL_key_update(c.client.native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
    c.p->send(c.client, "after update");
    EXPECT_EQ(c.p->server_received, "beforeafter update") << s;
    c.move();
    EXPECT_STREQ(c.server->cipher_name(), s);
    EXPECT_STREQ(c.server->version(), "TLSv1.3");
    EXPECT_EQ(c.server->alpn(), "http/1.1");
    EXPECT_EQ(c.server->server_name(), "localhost");
    EXPECT_TRUE(c.server->handshake_done());
    const std::string up = pattern(40000), down = pattern(60000, 'A');
    c.p->send(c.client, up);
    EXPECT_EQ(c.p->server_received, up) << s;
    c.p->send(*c.server, down);
    EXPECT_EQ(c.p->client_received, "hello" + down) << s;
    EXPECT_EQ(c.p->client_status, status::want_more) << c.client.last_error();
    EXPECT_EQ(c.p->server_status, status::want_more) << c.server->last_error();
  }
}

TEST(TlsSessionMove, CiphertextNotYetDecryptedTravelsAndIsReadFirst) {
  movable c;
  c.client.write(bytes("a request split over the move"));
  const auto wire = c.client.peek_ciphertext();
  const std::size_t half = wire.size() / 2;
  c.server->feed(wire.first(half));
  std::string got;
  EXPECT_EQ(read_all(*c.server, got), status::want_more);
  EXPECT_TRUE(got.empty());
  const std::vector<std::byte> rest(wire.begin() + static_cast<std::ptrdiff_t>(half), wire.end());
  c.client.consume_ciphertext(wire.size());
  moved_session m;
  ASSERT_TRUE(c.server->export_moved(m));
  EXPECT_EQ(m.input.size(), half);
  session next(server_ctx(), std::move(m));
  next.feed(rest);
  EXPECT_EQ(read_all(next, got), status::want_more);
  EXPECT_EQ(got, "a request split over the move");
}

TEST(TlsSessionMove, OnlyASessionBetweenRecordsMoves) {
  {  // TLS 1.2: OpenSSL keeps the records; nothing of ours to carry
    session server(server_ctx());
    session client(client_ctx(TLS1_2_VERSION), client_params{"localhost", {}, nullptr});
    mem_pipe p(client, server);
    ASSERT_TRUE(p.pump());
    moved_session m;
    EXPECT_FALSE(server.export_moved(m));
  }
  {  // a handshake in progress
    session server(server_ctx());
    moved_session m;
    EXPECT_FALSE(server.export_moved(m));
  }
  {  // ciphertext of ours not yet sent
    movable c;
    c.server->write(bytes("unsent"));
    moved_session m;
    EXPECT_FALSE(c.server->export_moved(m));
  }
  {  // plaintext decrypted and held back (the caller's buffer was too small)
    movable c;
    c.client.write(bytes(pattern(1000)));
    transfer(c.client, *c.server);
    std::byte small[10];
    ASSERT_EQ(c.server->read(small).st, status::ok);
    moved_session m;
    EXPECT_FALSE(c.server->export_moved(m));
  }
  {  // after our close_notify, and after the peer's
    movable c;
    c.server->shutdown();
    moved_session m;
    EXPECT_FALSE(c.server->export_moved(m));
    movable d;
    d.client.shutdown();
    d.p->pump();
    EXPECT_EQ(d.p->server_status, status::closed);
    EXPECT_FALSE(d.server->export_moved(m));
  }
  {  // a KeyUpdate the peer requested and we have not answered yet moves as owed, and the
     // moved session answers it before its first data
    movable c;
    ASSERT_EQ(SSL_key_update(c.client.native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
    c.client.write(bytes("x"));
    transfer(c.client, *c.server);
    std::string got;
    read_all(*c.server, got);
    EXPECT_EQ(got, "x");
    moved_session m;
    ASSERT_TRUE(c.server->export_moved(m));
    EXPECT_TRUE(m.records.owe_update);
    session next(server_ctx(), std::move(m));
    next.write(bytes("answered"));
    transfer(next, c.client);
    std::string seen;
    EXPECT_EQ(read_all(c.client, seen), status::want_more) << c.client.last_error();
    EXPECT_EQ(seen, "answered");
    // And the other direction goes on under the key the client moved to.
    c.client.write(bytes("on the new keys"));
    transfer(c.client, next);
    got.clear();
    EXPECT_EQ(read_all(next, got), status::want_more) << next.last_error();
    EXPECT_EQ(got, "on the new keys");
  }
}
