// SPDX-License-Identifier: MIT
// The handed-over session's less travelled paths against OpenSSL as the client: the client's
// Finished, data and KeyUpdates arriving in one read (through both input paths of fast_read),
// KeyUpdate in every suite, after the idle release, close_notify while our KeyUpdate is owed,
// and the bound on KeyUpdates in a row.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "pump.hpp"
#include "test_certs.hpp"
#include "tls/session.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

constexpr const char* all_suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256"};

// Queues a KeyUpdate on the client and sends it at once (no data after it).
void client_key_update(session& client, int how) {
  ASSERT_EQ(SSL_key_update(client.native_handle(), how), 1);
  ASSERT_EQ(SSL_do_handshake(client.native_handle()), 1);
}

// Everything pending on @p s, taken.
std::vector<std::byte> take_all(session& s) {
  std::vector<std::byte> v(s.peek_ciphertext().begin(), s.peek_ciphertext().end());
  s.consume_ciphertext(v.size());
  return v;
}

struct connected {
  explicit connected(const char* suites = all_suites[0])
      : server(server_ctx()),
        client(client_with_suites(suites), {"localhost", {}, nullptr}),
        p(client, server) {
    EXPECT_TRUE(p.pump()) << client.last_error() << " / " << server.last_error();
    EXPECT_TRUE(server.handed_over());
  }
  session server;
  session client;
  mem_pipe p;
};

}  // namespace

TEST(TlsHandoverPaths, FinishedDataAndKeyUpdatesInOneRead) {
  for (const bool borrowed : {false, true}) {
    session server(server_ctx());
    session client(client_ctx(), {"localhost", {}, nullptr});
    client.handshake();  // ClientHello
    transfer(client, server);
    std::byte out[16];
    ASSERT_EQ(server.read(out).st, status::want_more);  // the server's flight
    transfer(server, client);
    ASSERT_EQ(client.handshake(), status::ok);  // the client's Finished, not yet delivered
    ASSERT_EQ(client.write(bytes("one")).st, status::ok);
    client_key_update(client, SSL_KEY_UPDATE_NOT_REQUESTED);
    client_key_update(client, SSL_KEY_UPDATE_REQUESTED);
    ASSERT_EQ(client.write(bytes("two")).st, status::ok);
    client_key_update(client, SSL_KEY_UPDATE_NOT_REQUESTED);
    ASSERT_EQ(client.write(bytes("three")).st, status::ok);
    const std::vector<std::byte> wire = take_all(client);

    std::string got;
    read_result r{};
    if (borrowed) {
      r = server.read(wire, out);  // io.borrowed: the caller's buffer, read in place
    } else {
      server.feed(wire);  // io.in: copied into the session first
      r = server.read(out);
    }
    ASSERT_EQ(r.st, status::ok) << server.last_error();
    EXPECT_TRUE(server.handed_over()) << (borrowed ? "borrowed" : "in");
    got.append(reinterpret_cast<const char*>(out), r.bytes);
    EXPECT_EQ(read_all(server, got), status::want_more) << server.last_error();
    EXPECT_EQ(got, "onetwothree");
    // The requested update is answered before the reply; the client follows both.
    ASSERT_EQ(server.write(bytes("reply")).st, status::ok);
    transfer(server, client);
    std::string back;
    EXPECT_EQ(read_all(client, back), status::want_more) << client.last_error();
    EXPECT_EQ(back, "reply");
  }
}

TEST(TlsHandoverPaths, KeyUpdatesBothWaysInEverySuite) {
  for (const char* s : all_suites) {
    connected c(s);
    EXPECT_STREQ(c.server.cipher_name(), s);
    for (int round = 0; round < 3; ++round) {
      client_key_update(c.client, SSL_KEY_UPDATE_REQUESTED);
      c.p.send(c.client, "ping");
      EXPECT_EQ(c.p.server_received, "ping") << s << " " << c.server.last_error();
      c.p.server_received.clear();
      c.p.send(c.server, "pong");  // behind our KeyUpdate, under our next key
      EXPECT_EQ(c.p.client_received, "pong") << s << " " << c.client.last_error();
      c.p.client_received.clear();
    }
  }
}

TEST(TlsHandoverPaths, PeerKeyUpdateAfterTheIdleRelease) {
  connected c;
  c.server.release_buffers();  // cipher contexts freed while idle
  client_key_update(c.client, SSL_KEY_UPDATE_REQUESTED);
  transfer(c.client, c.server);
  c.server.release_buffers();  // and again after the update arrived but before it was read
  c.p.send(c.client, "after the update");
  EXPECT_EQ(c.p.server_received, "after the update") << c.server.last_error();
  c.server.release_buffers();
  c.p.send(c.server, "answer");
  EXPECT_EQ(c.p.client_received, "answer") << c.client.last_error();
}

TEST(TlsHandoverPaths, OurCloseNotifyWhileARequestedKeyUpdateIsOwed) {
  connected c;
  client_key_update(c.client, SSL_KEY_UPDATE_REQUESTED);
  c.p.send(c.client, "bye?");
  ASSERT_EQ(c.p.server_received, "bye?");
  c.server.shutdown();  // the owed KeyUpdate is not sent: close_notify is not application data
  c.p.pump();
  EXPECT_EQ(c.p.client_status, status::closed) << c.client.last_error();
  EXPECT_EQ(c.server.write(bytes("late")).st, status::closed);
}

TEST(TlsHandoverPaths, ThirtyTwoKeyUpdatesInARowAndNotThirtyThree) {
  {
    connected c;
    for (int i = 0; i < 32; ++i) client_key_update(c.client, SSL_KEY_UPDATE_NOT_REQUESTED);
    c.p.send(c.client, "still fine");
    EXPECT_EQ(c.p.server_received, "still fine") << c.server.last_error();
    for (int i = 0; i < 32; ++i) client_key_update(c.client, SSL_KEY_UPDATE_NOT_REQUESTED);
    c.p.send(c.client, "again");  // data in between starts the count afresh
    EXPECT_EQ(c.p.server_received, "still fineagain") << c.server.last_error();
  }
  {
    connected c;
    for (int i = 0; i < 33; ++i) client_key_update(c.client, SSL_KEY_UPDATE_NOT_REQUESTED);
    c.p.pump();
    EXPECT_EQ(c.p.server_status, status::error);
    EXPECT_NE(c.server.last_error().find("without application data"), std::string::npos)
        << c.server.last_error();
    EXPECT_EQ(c.p.client_status, status::error);
    EXPECT_NE(c.client.last_error().find("unexpected message"), std::string::npos)
        << c.client.last_error();
  }
}
