// SPDX-License-Identifier: MIT
#include "tls/self_signed.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "test_certs.hpp"

using namespace ns::tls;

namespace {

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

std::vector<x509_ptr> parse_all(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::vector<x509_ptr> out;
  while (X509* x = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr))
    out.emplace_back(x, X509_free);
  ERR_clear_error();
  return out;
}

int key_type_of(const std::string& key_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr);
  const int t = k != nullptr ? EVP_PKEY_get_base_id(k) : 0;
  EVP_PKEY_free(k);
  return t;
}

/// Verifies @p chain_pem (leaf + intermediates) against @p root_pem for host @p host.
int verify(const std::string& chain_pem, const std::string& root_pem, const char* host) {
  auto chain = parse_all(chain_pem);
  auto roots = parse_all(root_pem);
  X509_STORE* store = X509_STORE_new();
  for (auto& r : roots) X509_STORE_add_cert(store, r.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, chain[0].get(), untrusted);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
  const int ok = X509_verify_cert(ctx);
  const int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  return err;
}

}  // namespace

TEST(TlsSelfSigned, EcdsaWithLocalhostSan) {
  cert_options o;
  o.dns_names = {"extra.test"};
  const pem_pair p = make_self_signed(o);
  auto certs = parse_all(p.cert_pem);
  ASSERT_EQ(certs.size(), 1U);
  EXPECT_EQ(key_type_of(p.key_pem), EVP_PKEY_EC);
  X509* c = certs[0].get();
  EXPECT_EQ(X509_check_host(c, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(c, "extra.test", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(c, "other.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(c, "127.0.0.1", 0), 1);
  // Self-signed leaf verifies when trusted directly.
  EXPECT_EQ(verify(p.cert_pem, p.cert_pem, "localhost"), X509_V_OK);
}

TEST(TlsSelfSigned, RsaVariant) {
  cert_options o;
  o.key = key_type::rsa_2048;
  EXPECT_EQ(key_type_of(make_self_signed(o).key_pem), EVP_PKEY_RSA);
}

TEST(TlsSelfSigned, ExpiredCertificateFailsVerification) {
  cert_options o;
  o.not_before = std::chrono::hours{-48};
  o.not_after = std::chrono::hours{-24};
  const pem_pair p = make_self_signed(o);
  EXPECT_EQ(verify(p.cert_pem, p.cert_pem, "localhost"), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(TlsSelfSigned, ChainVerifiesThroughIntermediate) {
  const auto& chain = ns::tls::test::pki().chain;
  EXPECT_EQ(parse_all(chain.leaf.cert_pem).size(), 2U);  // leaf + intermediate
  EXPECT_EQ(verify(chain.leaf.cert_pem, chain.root.cert_pem, "localhost"), X509_V_OK);
  EXPECT_EQ(verify(chain.leaf.cert_pem, chain.root.cert_pem, "evil.test"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  // Without the intermediate the leaf does not chain to the root.
  const std::string leaf_only =
      chain.leaf.cert_pem.substr(0, chain.leaf.cert_pem.find("-----END CERTIFICATE-----") + 26);
  EXPECT_NE(verify(leaf_only, chain.root.cert_pem, "localhost"), X509_V_OK);
  // An unrelated root does not verify it.
  EXPECT_NE(verify(chain.leaf.cert_pem, make_self_signed().cert_pem, "localhost"), X509_V_OK);
}

TEST(TlsSelfSigned, WritesKeyWithMode0600) {
  char dir[] = "/tmp/ns_tls_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string cert = std::string(dir) + "/cert.pem";
  const std::string key = std::string(dir) + "/key.pem";
  const pem_pair p = make_self_signed();
  write_pem_files(p, cert, key);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  std::ifstream in(cert);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), p.cert_pem);
  ::unlink(cert.c_str());
  ::unlink(key.c_str());
  ::rmdir(dir);
  EXPECT_THROW(write_pem_files(p, "/nonexistent/dir/c.pem", "/nonexistent/dir/k.pem"),
               std::runtime_error);
}

TEST(TlsSelfSigned, EnsureDevCertificateCreatesOnceThenReuses) {
  char tmpl[] = "/tmp/ns_tls_dev_XXXXXX";
  const std::string base = mkdtemp(tmpl);
  const std::string dir = base + "/certs/dev";
  const dev_certificate first = ensure_dev_certificate(dir);
  EXPECT_TRUE(first.created);
  struct stat st {};
  ASSERT_EQ(::stat(first.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
  std::ifstream in(first.cert_file);
  std::stringstream before;
  before << in.rdbuf();
  const dev_certificate second = ensure_dev_certificate(dir);
  EXPECT_FALSE(second.created);
  std::ifstream again(second.cert_file);
  std::stringstream after;
  after << again.rdbuf();
  EXPECT_EQ(before.str(), after.str());
  EXPECT_NE(before.str().find("BEGIN CERTIFICATE"), std::string::npos);
  std::system(("rm -rf '" + base + "'").c_str());
}
