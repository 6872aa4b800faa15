// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Test PKI made once per test process at run time (no key is ever committed): a root, an
/// intermediate, an ECDSA leaf for localhost, an RSA leaf for localhost, and SNI leaves.

#include <openssl/ssl.h>
#include <memory>

#include "tls/context.hpp"
#include "tls/self_signed.hpp"

namespace ns::tls::test {

struct test_pki {
  ca_chain chain;      ///< root → intermediate → ECDSA leaf (localhost, 127.0.0.1)
  pem_pair rsa_leaf;   ///< RSA leaf for the same names, same intermediate
  pem_pair a_leaf;     ///< a.example.com (ECDSA)
  pem_pair wild_leaf;  ///< *.wild.example (ECDSA)
};

inline const test_pki& pki() {
  static const test_pki p = [] {
    test_pki t;
    t.chain = make_ca_chain();
    cert_options rsa;
    rsa.key = key_type::rsa_2048;
    t.rsa_leaf = issue_leaf(t.chain.intermediate, rsa);
    cert_options a;
    a.include_localhost = false;
    a.common_name = "a.example.com";
    a.dns_names = {"a.example.com"};
    t.a_leaf = issue_leaf(t.chain.intermediate, a);
    cert_options w;
    w.include_localhost = false;
    w.common_name = "wild";
    w.dns_names = {"*.wild.example"};
    t.wild_leaf = issue_leaf(t.chain.intermediate, w);
    return t;
  }();
  return p;
}

inline std::shared_ptr<const context> server_ctx() {
  static const auto ctx = context::server_from_pem({pki().chain.leaf});
  return ctx;
}

/// Client context trusting the test root, with optional protocol / cipher limits.
inline std::shared_ptr<const context> client_ctx(int max_version = 0, std::string ciphers = {}) {
  client_options o;
  o.ca_pem = pki().chain.root.cert_pem;
  o.max_version = max_version;
  o.cipher_list = std::move(ciphers);
  return context::client(o);
}

/// Client context trusting the test root that offers only the TLS 1.3 @p suites.
inline std::shared_ptr<const context> client_with_suites(const char* suites) {
  client_options o;
  o.ca_pem = pki().chain.root.cert_pem;
  o.ciphersuites = suites;
  return context::client(o);
}

}  // namespace ns::tls::test
