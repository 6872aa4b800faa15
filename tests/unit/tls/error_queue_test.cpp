// SPDX-License-Identifier: MIT
// detail::drain_errors renders OpenSSL's thread-local error queue as one line and empties it,
// so an error of one connection never shows up in the next one served by the same thread.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <string>

#include "tls/openssl_ptr.hpp"

namespace {

// Reason strings are loaded with libssl; a server has always done that before it can fail.
// This suite may run alone (ctest runs each test in its own process).
class TlsErrorQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(
        OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr),
        1);
  }
};

TEST_F(TlsErrorQueue, EmptyQueueGivesJustTheContext) {
  ERR_clear_error();
  EXPECT_EQ(ns::tls::detail::drain_errors("tls: nothing"), "tls: nothing");
}

TEST_F(TlsErrorQueue, EntriesAreJoinedAndTheQueueIsEmptied) {
  ERR_clear_error();
  ERR_raise(ERR_LIB_SSL, SSL_R_NO_SHARED_CIPHER);
  ERR_raise(ERR_LIB_SSL, SSL_R_UNSUPPORTED_PROTOCOL);
  const std::string line = ns::tls::detail::drain_errors("tls: handshake");
  EXPECT_EQ(line,
            std::string("tls: handshake: ") +
                ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_SHARED_CIPHER)) + "; " +
                ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNSUPPORTED_PROTOCOL)));
  EXPECT_EQ(ERR_peek_error(), 0ul);
}

TEST_F(TlsErrorQueue, EntryWithoutReasonTextIsRenderedByCode) {
  ERR_clear_error();
  // A library number nobody registered strings for: no reason text exists.
  const int lib = ERR_get_next_error_library();
  ERR_raise(lib, 77);
  const unsigned long code = ERR_peek_error();
  ASSERT_NE(code, 0ul);
  ASSERT_EQ(ERR_reason_error_string(code), nullptr);
  char expected[256];
  ERR_error_string_n(code, expected, sizeof expected);
  EXPECT_EQ(ns::tls::detail::drain_errors("ctx"), std::string("ctx: ") + expected);
  EXPECT_EQ(ERR_peek_error(), 0ul);
}

}  // namespace
