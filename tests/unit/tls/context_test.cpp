// SPDX-License-Identifier: MIT
#include "tls/context.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pump.hpp"
#include "support/small_rsa_cert.hpp"
#include "test_certs.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

std::shared_ptr<const context> sni_ctx() {
  const auto& k = pki();
  return context::server_from_pem({k.chain.leaf, k.rsa_leaf, k.a_leaf, k.wild_leaf});
}

/// Handshakes with @p name (and signature algorithms limited by @p sigalgs if not empty) and
/// returns the CN of the certificate the server presented.
std::string served_cn(const std::shared_ptr<const context>& ctx, const std::string& name,
                      const char* sigalgs = nullptr) {
  session server(ctx);
  client_options o;
  o.verify_peer = false;
  auto cctx = context::client(o);
  session client(cctx, {name, {}, nullptr});
  if (sigalgs != nullptr) SSL_set1_sigalgs_list(client.native_handle(), sigalgs);
  mem_pipe p{client, server};
  if (!p.pump()) return "handshake failed: " + server.last_error();
  X509* peer = SSL_get0_peer_certificate(client.native_handle());
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  const int type = EVP_PKEY_get_base_id(X509_get0_pubkey(peer));
  return std::string(cn) + (type == EVP_PKEY_RSA ? "/rsa" : "/ec");
}

}  // namespace

TEST(TlsContext, GroupsByNameSet) {
  auto ctx = sni_ctx();
  EXPECT_EQ(ctx->group_count(), 3U);  // localhost (EC+RSA), a.example.com, *.wild.example
  EXPECT_EQ(ctx->group_for("localhost"), 0U);
  EXPECT_EQ(ctx->group_for("A.Example.COM."), 1U);
  EXPECT_EQ(ctx->group_for("x.wild.example"), 2U);
  EXPECT_EQ(ctx->group_for("x.y.wild.example"), 0U);  // wildcard covers one label only
  EXPECT_EQ(ctx->group_for("wild.example"), 0U);
  EXPECT_EQ(ctx->group_for("unknown.test"), 0U);
}

TEST(TlsContext, SniSelectsCertificate) {
  auto ctx = sni_ctx();
  EXPECT_EQ(served_cn(ctx, "a.example.com"), "a.example.com/ec");
  EXPECT_EQ(served_cn(ctx, "foo.wild.example"), "wild/ec");
  EXPECT_EQ(served_cn(ctx, "unknown.test"), "localhost/ec");  // default = first pair
  EXPECT_EQ(served_cn(ctx, ""), "localhost/ec");              // no SNI at all
}

TEST(TlsContext, EcdsaAndRsaSideBySide) {
  auto ctx = sni_ctx();
  EXPECT_EQ(served_cn(ctx, "localhost", "ECDSA+SHA256"), "localhost/ec");
  EXPECT_EQ(served_cn(ctx, "localhost", "RSA-PSS+SHA256:RSA+SHA256"), "localhost/rsa");
}

TEST(TlsContext, RejectsEmptyConfig) {
  EXPECT_THROW(context::server_from_pem({}), std::runtime_error);
  EXPECT_THROW(context::server(ns::tls_config{}), std::runtime_error);
}

TEST(TlsContext, RejectsMismatchedKey) {
  const auto& k = pki();
  pem_pair wrong{k.chain.leaf.cert_pem, k.a_leaf.key_pem};
  try {
    context::server_from_pem({wrong});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
}

namespace {
// The message from a refused certificate, or "" if it was accepted.
std::string refusal(const pem_pair& pair) {
  try {
    context::server_from_pem({pair});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

// RSA-1024 is below security level 2 (112 bits): OpenSSL refuses it as the certificate
// (use_certificate) and as a chain certificate (add1_chain_cert). The one-line message says
// which, and OpenSSL's error queue is left empty for the next call on this thread.
TEST(TlsContext, RefusesAnRsa1024CertificateAndSaysWhy) {
  const auto weak = ns::test::make_small_rsa_cert("weak.example");
  const std::string e = refusal({weak.cert_pem, weak.key_pem});
  EXPECT_NE(e.find("cannot use certificate certificate #0: ee key too small"), std::string::npos)
      << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(TlsContext, RefusesAChainWithAnRsa1024CaAndSaysWhy) {
  const auto weak_ca = ns::test::make_small_rsa_cert("weak CA");
  pem_pair pair = make_self_signed();
  pair.cert_pem += weak_ca.cert_pem;
  const std::string e = refusal(pair);
  EXPECT_NE(e.find("cannot add chain of certificate #0: ca key too small"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(TlsContext, RejectsDuplicateNameAndKeyType) {
  const auto& k = pki();
  EXPECT_THROW(context::server_from_pem({k.chain.leaf, k.chain.leaf}), std::runtime_error);
}

TEST(TlsContext, RejectsGarbagePem) {
  EXPECT_THROW(context::server_from_pem({{"not a pem", "nope"}}), std::runtime_error);
}

TEST(TlsContext, MissingFileNamesThePath) {
  ns::tls_config cfg;
  cfg.certificates.push_back({"/nonexistent/cert.pem", "/nonexistent/key.pem"});
  try {
    context::server(cfg);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos);
  }
}

TEST(TlsContext, ClientNeedsCaToVerify) {
  client_options o;
  EXPECT_THROW(context::client(o), std::runtime_error);
  o.cipher_list = "NO-SUCH-CIPHER";
  o.verify_peer = false;
  EXPECT_THROW(context::client(o), std::runtime_error);
}

TEST(TlsContext, ServerSettings) {
  SSL_CTX* c = server_ctx()->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(c), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(c), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_NO_RENEGOTIATION, 0U);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_NO_COMPRESSION, 0U);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_CIPHER_SERVER_PREFERENCE, 0U);
  EXPECT_NE(SSL_CTX_get_mode(c) & SSL_MODE_RELEASE_BUFFERS, 0U);
  EXPECT_EQ(SSL_CTX_get_num_tickets(c), 1U);
  EXPECT_GE(SSL_CTX_get_security_level(c), 2);
}
