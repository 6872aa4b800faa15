// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Internal: `std::unique_ptr` aliases that free OpenSSL objects (RAII for every SSL handle),
/// and the one-line rendering of OpenSSL's per-thread error queue.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace ns::tls::detail {

template <auto Free>
struct free_fn {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using bio_ptr = std::unique_ptr<BIO, free_fn<BIO_free_all>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, free_fn<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, free_fn<X509_free>>;
using ssl_ptr = std::unique_ptr<SSL, free_fn<SSL_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, free_fn<SSL_CTX_free>>;
using ssl_session_ptr = std::unique_ptr<SSL_SESSION, free_fn<SSL_SESSION_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, free_fn<GENERAL_NAMES_free>>;

/// Drains OpenSSL's per-thread error queue into one line ("what: reason; reason").
/// Draining matters as much as the text: a stale entry left in the queue would be reported
/// by the next, unrelated SSL_* call on this thread (another connection).
std::string drain_errors(const char* what);

}  // namespace ns::tls::detail
