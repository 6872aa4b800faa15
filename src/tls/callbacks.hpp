// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Internal: OpenSSL callbacks shared by every server SSL_CTX of a `context`.

#include <openssl/ssl.h>

namespace ns::tls::detail {

/// ALPN select callback: picks "h2" (when @p arg is non-null: HTTP/2 on) or else "http/1.1"
/// wherever it is in the client's list; a list without
/// it gets the no_application_protocol alert (RFC 7301 §3.2).
int select_alpn(SSL* s, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg);

/// What the ticket callback answers for a ticket it decrypted: 1 (resume) or 2 (resume and
/// issue a fresh ticket).
int ticket_verdict(bool current_key, bool tls13) noexcept;

/// Session ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb) backed by the context's
/// `ticket_keys` ring; the context is found through SSL_CTX app data.
int ticket_key_cb(SSL* s, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx,
                  EVP_MAC_CTX* hctx, int enc);

/// Key log callback (SSL_CTX_set_keylog_callback): keeps a server session's TLS 1.3
/// application traffic secrets for its hand-over to `record_layer` (session.cpp).
void keep_traffic_secret(const SSL* s, const char* line);

}  // namespace ns::tls::detail
