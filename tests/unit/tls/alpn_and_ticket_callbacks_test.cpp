// SPDX-License-Identifier: MIT
// The two OpenSSL callbacks of a server context, called directly with the inputs a handshake
// can hand them: ALPN selection over well-formed and malformed client lists (RFC 7301 §3.1),
// and the session-ticket key callback's encrypt / decrypt-current / decrypt-previous /
// unknown-key answers (RFC 5077 §4: an unknown key means a full handshake, not an error).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "test_certs.hpp"
#include "tls/callbacks.hpp"

using namespace ns::tls;

namespace {

struct alpn_answer {
  int rc;
  std::string chosen;
};

alpn_answer select(const std::vector<unsigned char>& wire, void* arg = nullptr) {
  const unsigned char* out = nullptr;
  unsigned char outlen = 0;
  const int rc = detail::select_alpn(nullptr, &out, &outlen, wire.data(),
                                     static_cast<unsigned>(wire.size()), arg);
  return {rc, rc == SSL_TLSEXT_ERR_OK ? std::string(reinterpret_cast<const char*>(out), outlen)
                                      : std::string()};
}

std::vector<unsigned char> list(std::initializer_list<std::string> names) {
  std::vector<unsigned char> w;
  for (const auto& n : names) {
    w.push_back(static_cast<unsigned char>(n.size()));
    w.insert(w.end(), n.begin(), n.end());
  }
  return w;
}

TEST(TlsAlpnCallback, PicksHttp11WhereverItIsWhenHttp2IsOff) {
  const alpn_answer a = select(list({"h2", "spdy/3", "http/1.1"}));
  EXPECT_EQ(a.rc, SSL_TLSEXT_ERR_OK);
  EXPECT_EQ(a.chosen, "http/1.1");
  EXPECT_EQ(select(list({"http/1.1"})).chosen, "http/1.1");
}

TEST(TlsAlpnCallback, PicksH2FirstWhenHttp2IsOn) {
  int on = 1;  // any non-null argument: HTTP/2 may be chosen
  EXPECT_EQ(select(list({"http/1.1", "h2"}), &on).chosen, "h2");
  EXPECT_EQ(select(list({"h2"}), &on).chosen, "h2");
  EXPECT_EQ(select(list({"http/1.1"}), &on).chosen, "http/1.1");
  EXPECT_EQ(select(list({"h2c", "h3"}), &on).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
  EXPECT_EQ(select(list({"h2"})).rc, SSL_TLSEXT_ERR_ALERT_FATAL);  // off: h2 alone is refused
}

TEST(TlsAlpnCallback, SameLengthOtherNameIsNoMatch) {
  EXPECT_EQ(select(list({"http/1.0", "HTTP/1.1"})).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
  EXPECT_EQ(select(list({"http/1.11"})).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
}

TEST(TlsAlpnCallback, MalformedListsAreRefusedWithoutOverreading) {
  EXPECT_EQ(select({}).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
  // A zero-length name stops the scan even if http/1.1 follows.
  std::vector<unsigned char> zero{0};
  const auto rest = list({"http/1.1"});
  zero.insert(zero.end(), rest.begin(), rest.end());
  EXPECT_EQ(select(zero).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
  // A length running past the end: the bytes present spell "http/1.1" but the entry claims 9.
  std::vector<unsigned char> overrun{9, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  EXPECT_EQ(select(overrun).rc, SSL_TLSEXT_ERR_ALERT_FATAL);
}

struct ssl_deleter {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct cipher_deleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct mac_ctx_deleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

class TlsTicketCallback : public ::testing::Test {
 protected:
  void SetUp() override {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ASSERT_NE(mac, nullptr);
    hctx_.reset(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);
    cctx_.reset(EVP_CIPHER_CTX_new());
    ssl_.reset(SSL_new(ctx_->native_handle()));
    ASSERT_TRUE(ssl_ && cctx_ && hctx_);
  }

  int call(std::array<unsigned char, 16>& name, int enc) {
    std::array<unsigned char, EVP_MAX_IV_LENGTH> iv{};
    cctx_.reset(EVP_CIPHER_CTX_new());
    return detail::ticket_key_cb(ssl_.get(), name.data(), iv.data(), cctx_.get(), hctx_.get(), enc);
  }

  std::shared_ptr<const context> ctx_ = context::server_from_pem({test::pki().chain.leaf});
  std::unique_ptr<SSL, ssl_deleter> ssl_;
  std::unique_ptr<EVP_CIPHER_CTX, cipher_deleter> cctx_;
  std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> hctx_;
};

TEST_F(TlsTicketCallback, EncryptUsesTheCurrentKeyName) {
  std::array<unsigned char, 16> name{};
  ASSERT_EQ(call(name, 1), 1);
  const auto cur = ctx_->keys()->current();
  EXPECT_TRUE(std::equal(name.begin(), name.end(), cur.name.begin()));
  EXPECT_EQ(EVP_CIPHER_CTX_is_encrypting(cctx_.get()), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_get_key_length(cctx_.get()), 32);
  EXPECT_EQ(EVP_MAC_CTX_get_mac_size(hctx_.get()), 32u) << "HMAC-SHA256 keyed for the ticket";
}

TEST_F(TlsTicketCallback, DecryptAnswersCurrentPreviousAndUnknown) {
  std::array<unsigned char, 16> name{};
  ASSERT_EQ(call(name, 1), 1);
  const auto issued = name;
  // A new SSL reports TLS 1.3 (the highest it may negotiate): fresh ticket even for the
  // current key, as TLS 1.3 clients use each ticket once.
  EXPECT_EQ(call(name, 0), 2) << "current key, TLS 1.3: accept and issue a new ticket";
  EXPECT_EQ(EVP_CIPHER_CTX_is_encrypting(cctx_.get()), 0);
  ctx_->keys()->rotate();
  name = issued;
  EXPECT_EQ(call(name, 0), 2) << "previous key: accept and renew the ticket";
  ctx_->keys()->rotate();
  name = issued;
  EXPECT_EQ(call(name, 0), 0) << "rotated out twice: full handshake";
  std::array<unsigned char, 16> never{};
  never.fill(0xA5);
  EXPECT_EQ(call(never, 0), 0);
}

TEST(TlsTicketVerdict, RenewUnlessTls12WithTheCurrentKey) {
  EXPECT_EQ(detail::ticket_verdict(true, false), 1);
  EXPECT_EQ(detail::ticket_verdict(false, false), 2);
  EXPECT_EQ(detail::ticket_verdict(true, true), 2);
  EXPECT_EQ(detail::ticket_verdict(false, true), 2);
}

TEST_F(TlsTicketCallback, ContextWithoutKeyRingFailsTheTicket) {
  // A client context has no ticket keys and no app data: the callback must refuse (-1), not
  // dereference anything.
  client_options o;
  o.verify_peer = false;
  const auto client = context::client(o);
  EXPECT_EQ(client->keys(), nullptr);
  std::unique_ptr<SSL, ssl_deleter> s(SSL_new(client->native_handle()));
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, EVP_MAX_IV_LENGTH> iv{};
  EXPECT_EQ(detail::ticket_key_cb(s.get(), name.data(), iv.data(), cctx_.get(), hctx_.get(), 1),
            -1);
  EXPECT_FALSE(client->rotate_ticket_keys(std::chrono::steady_clock::now()));
}

}  // namespace
