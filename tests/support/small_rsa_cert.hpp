// SPDX-License-Identifier: MIT
#pragma once
// A certificate no server may load: a self-signed one with an RSA-1024 key (80-bit security,
// below OpenSSL security level 2's 112 bits; RFC 9325 §4.5 asks for RSA of 2048 bits or more).
// tls/self_signed cannot make such a key on purpose, so the tests that check the refusal make
// it here, at run time, like every other test key.

#include <string>

namespace ns::test {

struct small_rsa_cert {
  std::string cert_pem;
  std::string key_pem;  ///< PKCS#8
};

/// Makes an RSA-1024 key and a self-signed certificate (SHA-256, CA:TRUE so it can also stand
/// in a chain) named @p common_name. Throws std::runtime_error if OpenSSL fails.
small_rsa_cert make_small_rsa_cert(const std::string& common_name);

}  // namespace ns::test
