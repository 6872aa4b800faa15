// SPDX-License-Identifier: MIT
// RFC 7692 §7.1: permessage-deflate extension negotiation, including Autobahn 13.x offers.
#include <gtest/gtest.h>

#include "ws/deflate_negotiation.hpp"

namespace ns::ws {
namespace {

TEST(WsDeflateNegotiation, Rfc7692Section7_1PlainOfferAccepted) {
  const auto r = negotiate_deflate("permessage-deflate", {});
  ASSERT_TRUE(r.params.enabled);
  EXPECT_EQ(r.response, "permessage-deflate");
  EXPECT_FALSE(r.params.server_no_context_takeover);
  EXPECT_EQ(r.params.server_max_window_bits, 15);
  EXPECT_EQ(r.params.client_max_window_bits, 15);
}

TEST(WsDeflateNegotiation, NoOfferOrDisabledPolicyMeansNoDeflate) {
  EXPECT_FALSE(negotiate_deflate("", {}).params.enabled);
  EXPECT_FALSE(negotiate_deflate("x-foo; bar=1", {}).params.enabled);
  deflate_policy off;
  off.enabled = false;
  EXPECT_FALSE(negotiate_deflate("permessage-deflate", off).params.enabled);
  EXPECT_TRUE(negotiate_deflate("permessage-deflate", off).response.empty());
}

// The offers Autobahn|Testsuite 13.x clients send (per case: no_context_takeover, window bits),
// and what we must answer.
TEST(WsDeflateNegotiation, Autobahn13xOffers) {
  struct c {
    const char* offer;
    const char* response;
    bool cnct;
    int sbits;
    int cbits;
  };
  const c cases[] = {
      // 13.1: default
      {"permessage-deflate; client_max_window_bits", "permessage-deflate", false, 15, 15},
      // 13.2: client_no_context_takeover
      {"permessage-deflate; client_no_context_takeover; client_max_window_bits",
       "permessage-deflate; client_no_context_takeover", true, 15, 15},
      // 13.3: server window 8 (zlib runs 9; we still announce 8, see deflate_params)
      {"permessage-deflate; client_max_window_bits; server_max_window_bits=8",
       "permessage-deflate; server_max_window_bits=8", false, 8, 15},
      // 13.4: server window 15
      {"permessage-deflate; client_max_window_bits; server_max_window_bits=15",
       "permessage-deflate; server_max_window_bits=15", false, 15, 15},
      // 13.5 / 13.6: both
      {"permessage-deflate; client_no_context_takeover; client_max_window_bits; "
       "server_max_window_bits=8",
       "permessage-deflate; client_no_context_takeover; server_max_window_bits=8", true, 8, 15},
      {"permessage-deflate; client_no_context_takeover; client_max_window_bits; "
       "server_max_window_bits=15",
       "permessage-deflate; client_no_context_takeover; server_max_window_bits=15", true, 15, 15},
      // 13.7: several offers, the first wins
      {"permessage-deflate; client_no_context_takeover; client_max_window_bits; "
       "server_max_window_bits=8, "
       "permessage-deflate; client_no_context_takeover; client_max_window_bits, "
       "permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_no_context_takeover; server_max_window_bits=8", true, 8, 15},
      // client limits its own window
      {"permessage-deflate; client_max_window_bits=10",
       "permessage-deflate; client_max_window_bits=10", false, 15, 10},
      {"permessage-deflate; client_max_window_bits=\"9\"",
       "permessage-deflate; client_max_window_bits=9", false, 15, 9},
      {"permessage-deflate;server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover", false, 15, 15},
  };
  for (const auto& tc : cases) {
    const auto r = negotiate_deflate(tc.offer, {});
    ASSERT_TRUE(r.params.enabled) << tc.offer;
    EXPECT_EQ(r.response, tc.response) << tc.offer;
    EXPECT_EQ(r.params.client_no_context_takeover, tc.cnct) << tc.offer;
    EXPECT_EQ(r.params.server_max_window_bits, tc.sbits) << tc.offer;
    EXPECT_EQ(r.params.client_max_window_bits, tc.cbits) << tc.offer;
  }
}

TEST(WsDeflateNegotiation, Rfc7692Section7_1DeclinesInvalidOffersAndTriesTheNext) {
  const char* invalid[] = {
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=08",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_max_window_bits=1a",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; unknown_param",
      "permessage-deflate; client_no_context_takeover=\"\"",
  };
  for (const char* offer : invalid) {
    EXPECT_FALSE(negotiate_deflate(offer, {}).params.enabled) << offer;
    const std::string two = std::string(offer) + ", permessage-deflate; client_no_context_takeover";
    const auto r = negotiate_deflate(two, {});
    ASSERT_TRUE(r.params.enabled) << two;
    EXPECT_EQ(r.response, "permessage-deflate; client_no_context_takeover") << two;
  }
}

TEST(WsDeflateNegotiation, MalformedHeaderSyntaxStopsTheSearch) {
  EXPECT_FALSE(negotiate_deflate("; permessage-deflate", {}).params.enabled);
  EXPECT_FALSE(
      negotiate_deflate("permessage-deflate; client_max_window_bits=\"9", {}).params.enabled);
  EXPECT_FALSE(negotiate_deflate("permessage-deflate junk", {}).params.enabled);
  EXPECT_TRUE(negotiate_deflate(" , permessage-deflate ,", {}).params.enabled);
}

TEST(WsDeflateNegotiation, SharedCompressorPolicyForcesServerNoContextTakeover) {
  deflate_policy p;
  p.shared_compressor = true;
  const auto r = negotiate_deflate("permessage-deflate", p);
  ASSERT_TRUE(r.params.enabled);
  EXPECT_TRUE(r.params.server_no_context_takeover);
  EXPECT_EQ(r.response, "permessage-deflate; server_no_context_takeover");
}

TEST(WsDeflateNegotiation, PolicyWindowLimits) {
  deflate_policy p;
  p.server_max_window_bits = 10;
  p.client_max_window_bits = 11;
  auto r = negotiate_deflate("permessage-deflate", p);
  EXPECT_EQ(r.response, "permessage-deflate; server_max_window_bits=10");
  r = negotiate_deflate("permessage-deflate; server_max_window_bits=12; client_max_window_bits", p);
  EXPECT_EQ(r.response, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11");
  EXPECT_EQ(r.params.client_max_window_bits, 11);
  r = negotiate_deflate("permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
                        p);
  EXPECT_EQ(r.params.server_max_window_bits, 9);
  EXPECT_EQ(r.params.client_max_window_bits, 9);
}

}  // namespace
}  // namespace ns::ws
