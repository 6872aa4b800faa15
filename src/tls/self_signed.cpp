// SPDX-License-Identifier: MIT
// Certificate generation with OpenSSL's EVP/X509 API. Each certificate gets a random 127-bit
// serial (RFC 5280 §4.1.2.2: positive, unique per issuer), SAN entries (RFC 6125: clients match
// names against SAN, not CN), SKID/AKID so chain building works, and basicConstraints/keyUsage
// appropriate to CA or leaf.
#include "tls/self_signed.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tls/openssl_ptr.hpp"

namespace ns::tls {
namespace {

using detail::bio_ptr;
using detail::evp_pkey_ptr;
using detail::x509_ptr;

// Coverage: a gcovr branch/region exclusion marker below flags a check of an OpenSSL call
// that fails only when an allocation fails (or the CSPRNG has no entropy source), as each
// marker says: the error path exists, but no test can provoke it.
[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(detail::drain_errors(what));
}

evp_pkey_ptr make_key(key_type type) {
  EVP_PKEY* k = type == key_type::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  // Key generation fails only on allocation or CSPRNG failure. GCOVR_EXCL_BR_START
  if (k == nullptr) fail("tls: key generation failed");
  // GCOVR_EXCL_BR_STOP
  return evp_pkey_ptr{k};
}

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) fail("tls: bad certificate extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  // Appending to the certificate's extension list fails only on allocation failure.
  if (ok != 1) fail("tls: cannot add certificate extension");  // GCOVR_EXCL_BR_LINE
}

std::string san_of(const cert_options& o) {
  std::string san;
  auto add = [&san](const char* kind, const std::string& v) {
    if (!san.empty()) san += ',';
    san += kind;
    san += v;
  };
  if (o.include_localhost) {
    add("DNS:", "localhost");
    add("IP:", "127.0.0.1");
  }
  for (const auto& d : o.dns_names) add("DNS:", d);
  for (const auto& ip : o.ip_addresses) add("IP:", ip);
  return san;
}

/// Builds and signs one certificate. @p issuer / @p issuer_key null → self-signed.
x509_ptr make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                   bool is_ca, const cert_options* leaf) {
  x509_ptr cert{X509_new()};
  if (!cert) fail("tls: X509_new");  // GCOVR_EXCL_BR_LINE: allocation failure only
  X509_set_version(cert.get(), X509_VERSION_3);

  unsigned char serial[16];
  // GCOVR_EXCL_BR_START: the CSPRNG fails only without an entropy source.
  if (RAND_bytes(serial, sizeof serial) != 1) fail("tls: RAND_bytes");
  // GCOVR_EXCL_BR_STOP
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // non-zero, fixed length
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  // GCOVR_EXCL_START: a 16-byte BIGNUM → ASN1_INTEGER fails only on allocation failure.
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    fail("tls: serial number");
  }
  // GCOVR_EXCL_STOP
  BN_free(bn);

  const long nb = leaf != nullptr ? static_cast<long>(leaf->not_before.count()) : -3600L;
  const long na = leaf != nullptr ? static_cast<long>(leaf->not_after.count()) : 10L * 365 * 86400;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), nb);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), na);

  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  // The key is one make_key just generated: encoding it fails only on allocation failure.
  if (X509_set_pubkey(cert.get(), key) != 1) fail("tls: X509_set_pubkey");  // GCOVR_EXCL_BR_LINE

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  add_ext(cert.get(), &ctx, NID_basic_constraints,
          is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_ext(cert.get(), &ctx, NID_key_usage,
          is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (leaf != nullptr) {
    add_ext(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    const std::string san = san_of(*leaf);
    if (!san.empty()) add_ext(cert.get(), &ctx, NID_subject_alt_name, san);
  }
  // An issuer key that cannot sign (X25519 is for key agreement only) fails here.
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    fail("tls: X509_sign");
  }
  return cert;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string cert_pem(X509* c) {
  bio_ptr b{BIO_new(BIO_s_mem())};
  // GCOVR_EXCL_BR_START: writing to a memory BIO fails only on allocation failure.
  if (!b || PEM_write_bio_X509(b.get(), c) != 1) fail("tls: PEM_write_bio_X509");
  // GCOVR_EXCL_BR_STOP
  return bio_text(b.get());
}

std::string key_pem(EVP_PKEY* k) {
  bio_ptr b{BIO_new(BIO_s_mem())};
  // GCOVR_EXCL_START: writing to a memory BIO fails only on allocation failure.
  if (!b || PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("tls: PEM_write_bio_PrivateKey");
  }
  // GCOVR_EXCL_STOP
  return bio_text(b.get());
}

pem_pair make_ca(const std::string& cn, const pem_pair* issuer) {
  evp_pkey_ptr key = make_key(key_type::ecdsa_p256);
  x509_ptr icert;
  evp_pkey_ptr ikey;
  if (issuer != nullptr) {
    bio_ptr cb{BIO_new_mem_buf(issuer->cert_pem.data(), static_cast<int>(issuer->cert_pem.size()))};
    bio_ptr kb{BIO_new_mem_buf(issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size()))};
    icert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    ikey.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!icert || !ikey) fail("tls: cannot parse issuer PEM");
  }
  x509_ptr cert = make_cert(cn, key.get(), icert.get(), ikey.get(), true, nullptr);
  return {cert_pem(cert.get()), key_pem(key.get())};
}

}  // namespace

pem_pair make_self_signed(const cert_options& opts) {
  evp_pkey_ptr key = make_key(opts.key);
  x509_ptr cert = make_cert(opts.common_name, key.get(), nullptr, nullptr, false, &opts);
  return {cert_pem(cert.get()), key_pem(key.get())};
}

pem_pair issue_leaf(const pem_pair& issuer, const cert_options& opts) {
  bio_ptr cb{BIO_new_mem_buf(issuer.cert_pem.data(), static_cast<int>(issuer.cert_pem.size()))};
  bio_ptr kb{BIO_new_mem_buf(issuer.key_pem.data(), static_cast<int>(issuer.key_pem.size()))};
  x509_ptr icert{PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)};
  evp_pkey_ptr ikey{PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr)};
  if (!icert || !ikey) fail("tls: cannot parse issuer PEM");
  evp_pkey_ptr key = make_key(opts.key);
  x509_ptr cert = make_cert(opts.common_name, key.get(), icert.get(), ikey.get(), false, &opts);
  pem_pair out{cert_pem(cert.get()), key_pem(key.get())};
  // A root (self-issued) is the client's trust anchor and is not sent (RFC 8446 §4.4.2).
  const bool issuer_is_root =
      X509_NAME_cmp(X509_get_subject_name(icert.get()), X509_get_issuer_name(icert.get())) == 0;
  if (!issuer_is_root) out.cert_pem += issuer.cert_pem;
  return out;
}

ca_chain make_ca_chain(const cert_options& leaf_opts) {
  ca_chain c;
  c.root = make_ca("ns test root CA", nullptr);
  c.intermediate = make_ca("ns test intermediate CA", &c.root);
  c.leaf = issue_leaf(c.intermediate, leaf_opts);
  return c;
}

namespace {
void write_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("tls: cannot create " + path + ": " + std::strerror(errno));
  // The file may have existed with wider permissions: O_CREAT's mode only applies to new files.
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t off = 0;
  while (ok && off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error("tls: cannot write " + path + ": " + std::strerror(saved));
}
}  // namespace

void write_pem_files(const pem_pair& pair, const std::string& cert_path,
                     const std::string& key_path) {
  write_file(key_path, pair.key_pem, 0600);
  write_file(cert_path, pair.cert_pem, 0644);
}

dev_certificate ensure_dev_certificate(const std::string& dir) {
  dev_certificate d{dir + "/server.pem", dir + "/server.key", false};
  struct stat st {};
  if (::stat(d.cert_file.c_str(), &st) == 0 && ::stat(d.key_file.c_str(), &st) == 0) return d;
  // Create each missing component of the path (like mkdir -p).
  for (std::size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::runtime_error("tls: cannot create " + part + ": " + std::strerror(errno));
    }
  }
  write_pem_files(make_self_signed(), d.cert_file, d.key_file);
  d.created = true;
  return d;
}

}  // namespace ns::tls
