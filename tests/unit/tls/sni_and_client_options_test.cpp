// SPDX-License-Identifier: MIT
// Certificate selection by name when certificates carry no SAN DNS names (RFC 6125 §6.4.4:
// fall back to the CN), name normalisation, the SNI callback's answers for the default
// group, and the client context's option validation.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "pump.hpp"
#include "test_certs.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

pem_pair legacy_leaf(const std::string& cn, std::vector<std::string> ips = {}) {
  cert_options o;
  o.include_localhost = false;
  o.common_name = cn;
  o.ip_addresses = std::move(ips);
  return issue_leaf(pki().chain.intermediate, o);
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

/// Handshakes with SNI @p name; returns the CN of the certificate served ("" on failure).
std::string served_cn(const std::shared_ptr<const context>& ctx, const std::string& name,
                      std::string* server_saw = nullptr) {
  session server(ctx);
  client_options o;
  o.verify_peer = false;
  session client(context::client(o), {name, {}, nullptr});
  mem_pipe p{client, server};
  if (!p.pump()) return "";
  if (server_saw != nullptr) *server_saw = std::string(server.server_name());
  X509* peer = SSL_get0_peer_certificate(client.native_handle());
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  return cn;
}

TEST(TlsSniNames, CertificateWithoutSanIsFoundByItsCommonName) {
  const auto ctx = context::server_from_pem({pki().chain.leaf, legacy_leaf("Legacy.Example")});
  ASSERT_EQ(ctx->group_count(), 2u);
  EXPECT_EQ(ctx->group_for("legacy.example"), 1u);
  EXPECT_EQ(ctx->group_for("LEGACY.EXAMPLE."), 1u) << "case and a trailing dot do not matter";
  EXPECT_EQ(served_cn(ctx, "legacy.example"), "Legacy.Example");
}

TEST(TlsSniNames, CertificateWithOnlyIpSanFallsBackToTheCommonName) {
  const auto ctx =
      context::server_from_pem({pki().chain.leaf, legacy_leaf("ip.example", {"10.1.2.3"})});
  ASSERT_EQ(ctx->group_count(), 2u);
  EXPECT_EQ(ctx->group_for("ip.example"), 1u);
  EXPECT_EQ(ctx->group_for("10.1.2.3"), 0u) << "IP SANs are not SNI host names (RFC 6066 §3)";
}

TEST(TlsSniNames, DegenerateNamesGoToTheDefault) {
  const auto ctx = context::server_from_pem({pki().chain.leaf, pki().wild_leaf});
  EXPECT_EQ(ctx->group_for(""), 0u);
  EXPECT_EQ(ctx->group_for("."), 0u);
  EXPECT_EQ(ctx->group_for(".wild.example"), 0u) << "an empty left-most label matches nothing";
  EXPECT_EQ(ctx->group_for("nodot"), 0u);
  EXPECT_EQ(ctx->group_for("x.wild.example"), 1u);
}

TEST(TlsSniNames, DefaultGroupNameAndUnknownNameBothGetTheDefaultCertificate) {
  const auto ctx = context::server_from_pem({pki().chain.leaf, pki().a_leaf});
  std::string saw;
  EXPECT_EQ(served_cn(ctx, "localhost", &saw), "localhost");
  EXPECT_EQ(saw, "localhost");
  EXPECT_EQ(served_cn(ctx, "nobody.example"), "localhost");
  EXPECT_EQ(served_cn(ctx, "A.EXAMPLE.COM"), "a.example.com");
}

TEST(TlsClientOptions, UnsupportedProtocolVersionsAreRejected) {
  client_options o;
  o.verify_peer = false;
  o.min_version = 0x7777;
  EXPECT_EQ(message_of([&] { context::client(o); }).rfind("tls: bad protocol version", 0), 0u);
  o.min_version = 0;
  o.max_version = 0x7777;
  EXPECT_EQ(message_of([&] { context::client(o); }).rfind("tls: bad protocol version", 0), 0u);
  o.max_version = TLS1_2_VERSION;
  EXPECT_NO_THROW(context::client(o));
}

TEST(TlsClientOptions, Tls13SuitesAreValidatedAndApplied) {
  client_options o;
  o.verify_peer = false;
  o.ciphersuites = "NOT_A_SUITE";
  const std::string m = message_of([&] { context::client(o); });
  EXPECT_EQ(m.rfind("tls: bad TLS 1.3 ciphersuites", 0), 0u) << m;

  o.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  session server(server_ctx());
  session client(context::client(o), {"localhost", {}, nullptr});
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  EXPECT_STREQ(server.cipher_name(), "TLS_CHACHA20_POLY1305_SHA256");
}

}  // namespace
