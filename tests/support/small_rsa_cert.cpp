// SPDX-License-Identifier: MIT
#include "support/small_rsa_cert.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace ns::test {
namespace {

template <auto Free>
struct deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("make_small_rsa_cert: ") + what);
}

template <typename T, typename Write>
std::string pem_of(T* object, Write write) {
  std::unique_ptr<BIO, deleter<BIO_free>> b{BIO_new(BIO_s_mem())};
  check(b && write(b.get(), object) == 1, "PEM output");
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

small_rsa_cert make_small_rsa_cert(const std::string& common_name) {
  std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>> key{EVP_RSA_gen(1024)};
  check(key != nullptr, "RSA-1024 key generation");
  std::unique_ptr<X509, deleter<X509_free>> cert{X509_new()};
  check(cert != nullptr, "X509_new");
  X509* c = cert.get();
  check(X509_set_version(c, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(c), 1) == 1,
        "version / serial");
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 86400);
  X509_NAME* name = X509_get_subject_name(c);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1 &&
            X509_set_issuer_name(c, name) == 1 && X509_set_pubkey(c, key.get()) == 1,
        "name / public key");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, c, c, nullptr, nullptr, 0);
  X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "CA:TRUE");
  const bool added = bc != nullptr && X509_add_ext(c, bc, -1) == 1;
  X509_EXTENSION_free(bc);
  check(added, "basicConstraints");
  check(X509_sign(c, key.get(), EVP_sha256()) != 0, "X509_sign");
  return {pem_of(c, [](BIO* b, X509* x) { return PEM_write_bio_X509(b, x); }),
          pem_of(key.get(), [](BIO* b, EVP_PKEY* k) {
            return PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

}  // namespace ns::test
