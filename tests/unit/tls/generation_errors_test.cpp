// SPDX-License-Identifier: MIT
// Certificate generation and writing fail with one std::runtime_error line that names what
// went wrong (and the path, for I/O), never with a half-written key or a crash.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "tls/self_signed.hpp"

using namespace ns::tls;

namespace {

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char t[] = "/tmp/ns_tls_generr_XXXXXX";
    path = mkdtemp(t);
  }
  ~temp_dir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

TEST(TlsGenerationErrors, MalformedSanIpAddressIsRejected) {
  cert_options o;
  o.ip_addresses = {"not-an-ip"};
  const std::string m = message_of([&] { make_self_signed(o); });
  EXPECT_EQ(m.rfind("tls: bad certificate extension", 0), 0u) << m;
}

TEST(TlsGenerationErrors, ExtraIpAddressesLandInTheSan) {
  cert_options o;
  o.include_localhost = false;
  o.ip_addresses = {"10.0.0.1", "::1"};
  const pem_pair p = make_self_signed(o);
  EXPECT_NE(p.cert_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(p.key_pem.find("PRIVATE KEY-----"), std::string::npos);
}

TEST(TlsGenerationErrors, IssuerThatIsNotPemIsRejected) {
  const pem_pair garbage{"not a certificate", "not a key"};
  const std::string m = message_of([&] { issue_leaf(garbage, cert_options{}); });
  EXPECT_EQ(m.rfind("tls: cannot parse issuer PEM", 0), 0u) << m;
  // A valid certificate with a key that does not parse is just as unusable.
  const pem_pair real = make_self_signed();
  const std::string m2 = message_of([&] { issue_leaf({real.cert_pem, "junk"}, cert_options{}); });
  EXPECT_EQ(m2.rfind("tls: cannot parse issuer PEM", 0), 0u) << m2;
}

TEST(TlsGenerationErrors, IssuerKeyThatCannotSignIsRejected) {
  // X25519 is a key-agreement key: it parses as the issuer's key, but X509_sign cannot use it.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> k(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"), &EVP_PKEY_free);
  ASSERT_NE(k, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), &BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(b.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  const pem_pair issuer{make_self_signed().cert_pem,
                        std::string(data, static_cast<std::size_t>(n))};
  const std::string m = message_of([&] { issue_leaf(issuer, cert_options{}); });
  EXPECT_EQ(m.rfind("tls: X509_sign: ", 0), 0u) << m;
  EXPECT_EQ(ERR_peek_error(), 0UL) << "the error queue is drained into the message";
}

TEST(TlsGenerationErrors, SelfSignedIssuerIsNotAppendedToTheChain) {
  const pem_pair root = make_self_signed();
  const pem_pair leaf = issue_leaf(root, cert_options{});
  const auto count = [](const std::string& s) {
    std::size_t n = 0;
    for (auto p = s.find("BEGIN CERTIFICATE"); p != std::string::npos;
         p = s.find("BEGIN CERTIFICATE", p + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count(leaf.cert_pem), 1u) << "a root is the client's anchor, never served";
}

TEST(TlsGenerationErrors, UnwritableDirectoryNamesThePath) {
  temp_dir d;
  const std::string key = d.path + "/missing/k.pem";
  const std::string m =
      message_of([&] { write_pem_files(make_self_signed(), d.path + "/missing/c.pem", key); });
  EXPECT_EQ(m, "tls: cannot create " + key + ": " + std::strerror(ENOENT));
}

TEST(TlsGenerationErrors, ShortWriteIsReportedAndNamesThePath) {
  temp_dir d;
  const std::string cert = d.path + "/c.pem";
  const std::string key = d.path + "/k.pem";
  // A file size limit below the key's size makes write() fail with EFBIG (SIGXFSZ ignored).
  struct sigaction ign {
  }, old_sa{};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ign, &old_sa), 0);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = 16;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  const pem_pair p = make_self_signed();
  const std::string m = message_of([&] { write_pem_files(p, cert, key); });
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  ASSERT_EQ(sigaction(SIGXFSZ, &old_sa, nullptr), 0);
  EXPECT_EQ(m.rfind("tls: cannot write " + key + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(std::strerror(EFBIG)), std::string::npos) << m;
}

TEST(TlsGenerationErrors, ExistingFileWithWideModeIsNarrowedTo0600) {
  temp_dir d;
  const std::string cert = d.path + "/c.pem";
  const std::string key = d.path + "/k.pem";
  std::ofstream(key) << "old";
  ASSERT_EQ(::chmod(key.c_str(), 0666), 0);
  write_pem_files(make_self_signed(), cert, key);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(cert.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(TlsGenerationErrors, DevCertificateDirBelowAFileCannotBeCreated) {
  temp_dir d;
  const std::string file = d.path + "/plain_file";
  std::ofstream(file) << "x";
  const std::string m = message_of([&] { ensure_dev_certificate(file + "/certs"); });
  EXPECT_EQ(m, "tls: cannot create " + file + "/certs: " + std::strerror(ENOTDIR));
}

TEST(TlsGenerationErrors, DevCertificateWithOnlyTheCertPresentIsRegenerated) {
  temp_dir d;
  std::ofstream(d.path + "/server.pem") << "stale";
  const dev_certificate c = ensure_dev_certificate(d.path);
  EXPECT_TRUE(c.created) << "a certificate without its key is useless";
  std::ifstream in(c.cert_file);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "-----BEGIN CERTIFICATE-----");
}

}  // namespace
