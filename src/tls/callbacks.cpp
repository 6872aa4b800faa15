// SPDX-License-Identifier: MIT
// The OpenSSL callbacks installed on every server SSL_CTX: ALPN selection and session-ticket
// encryption with the shared key ring. Both run inside SSL_do_handshake on the loop thread and
// must neither block nor allocate much.
#include "tls/callbacks.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstring>
#include <string_view>
#include <utility>

#include "tls/context.hpp"

namespace ns::tls::detail {

namespace {

// The client's entry for @p name in its list, or nullptr.
const unsigned char* find_protocol(const unsigned char* in, unsigned int inlen,
                                   std::string_view name) {
  // RFC 7301 §3.1: the client list is a sequence of length-prefixed names.
  unsigned int i = 0;
  while (i < inlen) {
    const unsigned int len = in[i];
    if (len == 0 || i + 1 + len > inlen) break;  // malformed: OpenSSL validated, be safe anyway
    if (len == name.size() && std::memcmp(in + i + 1, name.data(), len) == 0) return in + i + 1;
    i += 1 + len;
  }
  return nullptr;
}

}  // namespace

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  // The server's preference decides (RFC 7301 §3.2): "h2" when HTTP/2 is on (@p arg non-null),
  // wherever the client lists it; else "http/1.1" (WebSocket upgrades run over it too).
  for (const std::string_view name : {std::string_view("h2"), std::string_view("http/1.1")}) {
    if (name == "h2" && arg == nullptr) continue;
    if (const unsigned char* p = find_protocol(in, inlen, name)) {
      *out = p;
      *outlen = static_cast<unsigned char>(name.size());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  // RFC 7301 §3.2: no protocol in common → fatal no_application_protocol alert. Clients that
  // send no ALPN extension at all are unaffected (this callback is not called).
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

namespace {

// Fetched once: EVP_aes_256_cbc() is a legacy handle that OpenSSL 3 resolves by name (under a
// lock) on every EncryptInit, i.e. for every ticket issued or accepted.
const EVP_CIPHER* ticket_cipher() {
  static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  return c;
}

}  // namespace

int ticket_verdict(bool current_key, bool tls13) noexcept {
  // 2: accepted, and issue a fresh ticket. Always in TLS 1.3, whose clients use a ticket once
  // (RFC 8446 C.4; OpenSSL's do), so without a new one their next connection would be a full
  // handshake; in TLS 1.2 when the ticket's key is no longer the current one.
  return current_key && !tls13 ? 1 : 2;
}

int ticket_key_cb(SSL* s, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx,
                  EVP_MAC_CTX* hctx, int enc) {
  const auto* ctx = static_cast<const context*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(s)));
  if (ctx == nullptr || !ctx->keys()) return -1;
  ticket_keys::key k;
  int rc = 1;
  if (enc != 0) {
    k = ctx->keys()->current();
    std::memcpy(key_name, k.name.data(), k.name.size());
    // CSPRNG failure (no entropy source) cannot be arranged by a test. GCOVR_EXCL_BR_START
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher())) != 1) return -1;
    // GCOVR_EXCL_BR_STOP
  } else {
    auto found = ctx->keys()->find(key_name);
    if (!found.found) return 0;  // unknown key (rotated out): full handshake
    k = std::move(found.k);
    rc = ticket_verdict(found.is_current, SSL_version(s) == TLS1_3_VERSION);
  }
  // The ticket format is OpenSSL's: AES-256-CBC encrypt-then-HMAC-SHA256 (RFC 5077 §4).
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac.data(), k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  const int ok = enc != 0 ? EVP_EncryptInit_ex(cctx, ticket_cipher(), nullptr, k.aes.data(), iv)
                          : EVP_DecryptInit_ex(cctx, ticket_cipher(), nullptr, k.aes.data(), iv);
  const int mac_ok = EVP_MAC_CTX_set_params(hctx, params);
  // k wipes itself on return.
  // Init with a fixed cipher/digest and 32-byte keys fails only on allocation failure.
  if (ok != 1 || mac_ok != 1) return -1;  // GCOVR_EXCL_BR_LINE
  return rc;
}

}  // namespace ns::tls::detail
