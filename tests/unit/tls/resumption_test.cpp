// SPDX-License-Identifier: MIT
// Session resumption with tickets from the shared, rotating key ring.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>

#include "pump.hpp"
#include "test_certs.hpp"
#include "tls/ticket_keys.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

struct outcome {
  bool ok = false;
  bool resumed = false;
  saved_session next;
};

outcome connect(const std::shared_ptr<const context>& sctx,
                const std::shared_ptr<const context>& cctx, saved_session resume) {
  session server(sctx);
  session client(cctx, {"localhost", {}, std::move(resume)});
  mem_pipe p{client, server};
  outcome o;
  o.ok = p.pump();
  o.resumed = client.resumed() && server.resumed();
  o.next = client.saved();
  return o;
}

class TlsResumption : public ::testing::TestWithParam<int> {};

}  // namespace

TEST_P(TlsResumption, ResumesWithTicket) {
  auto sctx = context::server_from_pem({pki().chain.leaf});
  auto cctx = client_ctx(GetParam());
  outcome first = connect(sctx, cctx, nullptr);
  ASSERT_TRUE(first.ok);
  EXPECT_FALSE(first.resumed);
  ASSERT_NE(first.next, nullptr);
  outcome second = connect(sctx, cctx, first.next);
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.resumed);
}

// TLS 1.3 clients use a ticket once (RFC 8446 C.4): each resumption must bring a fresh ticket,
// or every other connection of a returning client is a full handshake (wrk with
// Connection: close resumed only half of its connections before this held).
TEST(TlsResumption13, EachResumptionIssuesAFreshTicket) {
  auto sctx = context::server_from_pem({pki().chain.leaf});
  auto cctx = client_ctx();
  outcome o = connect(sctx, cctx, nullptr);
  ASSERT_NE(o.next, nullptr);
  for (int i = 0; i < 3; ++i) {
    const saved_session used = o.next;
    o = connect(sctx, cctx, used);
    EXPECT_TRUE(o.resumed) << i;
    ASSERT_NE(o.next, nullptr);
    std::size_t a = 0, b = 0;
    const unsigned char *ta = nullptr, *tb = nullptr;
    SSL_SESSION_get0_ticket(used.get(), &ta, &a);
    SSL_SESSION_get0_ticket(o.next.get(), &tb, &b);
    ASSERT_GT(b, 0u);
    EXPECT_FALSE(a == b && std::equal(ta, ta + a, tb)) << "no new ticket on resumption " << i;
  }
}

TEST_P(TlsResumption, TicketFromAnotherContextSharingKeysResumes) {
  auto keys = std::make_shared<ticket_keys>(std::chrono::seconds{60});
  auto a = context::server_from_pem({pki().chain.leaf}, keys);
  auto b = context::server_from_pem({pki().chain.leaf}, keys);  // e.g. another thread
  auto cctx = client_ctx(GetParam());
  outcome first = connect(a, cctx, nullptr);
  ASSERT_NE(first.next, nullptr);
  EXPECT_TRUE(connect(b, cctx, first.next).resumed);
}

TEST_P(TlsResumption, RotationOnceStillAcceptsTwiceRejects) {
  auto keys = std::make_shared<ticket_keys>(std::chrono::seconds{60});
  auto sctx = context::server_from_pem({pki().chain.leaf}, keys);
  auto cctx = client_ctx(GetParam());
  outcome first = connect(sctx, cctx, nullptr);
  ASSERT_NE(first.next, nullptr);

  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
  EXPECT_FALSE(sctx->rotate_ticket_keys(t0));                             // records start
  EXPECT_FALSE(sctx->rotate_ticket_keys(t0 + std::chrono::seconds{59}));  // not due yet
  EXPECT_TRUE(sctx->rotate_ticket_keys(t0 + std::chrono::seconds{60}));
  outcome after_one = connect(sctx, cctx, first.next);
  EXPECT_TRUE(after_one.resumed);  // previous key still decrypts (and the ticket is renewed)

  EXPECT_TRUE(sctx->rotate_ticket_keys(t0 + std::chrono::seconds{120}));
  outcome after_two = connect(sctx, cctx, first.next);
  ASSERT_TRUE(after_two.ok);
  EXPECT_FALSE(after_two.resumed);  // key gone: full handshake
  // The renewed ticket from after_one was issued under the key that is now "previous".
  EXPECT_TRUE(connect(sctx, cctx, after_one.next).resumed);
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsResumption, ::testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const auto& p) {
                           return p.param == TLS1_3_VERSION ? "Tls13" : "Tls12";
                         });

TEST(TlsTicketKeys, FindsCurrentAndPrevious) {
  ticket_keys k(std::chrono::seconds{10});
  const auto first = k.current();
  EXPECT_TRUE(k.find(first.name.data()).is_current);
  k.rotate();
  const auto r = k.find(first.name.data());
  EXPECT_TRUE(r.found);
  EXPECT_FALSE(r.is_current);
  EXPECT_NE(k.current().name, first.name);
  k.rotate();
  EXPECT_FALSE(k.find(first.name.data()).found);
}
