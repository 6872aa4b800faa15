// SPDX-License-Identifier: MIT
#pragma once
// What tls::session's files share (session.cpp, session_bio.cpp, session_handover.cpp): the
// buffers behind the session's BIOs and the helpers around every SSL_* call. Not installed.

#include <openssl/bio.h>

#include <cstddef>
#include <span>
#include <vector>

#include "tls/record_protection.hpp"
#include "tls/session.hpp"

namespace ns::tls {

struct detail::session_buffers {
  std::vector<std::byte> in;
  std::size_t in_off = 0;
  std::span<const std::byte> borrowed;  // caller's ciphertext, read after `in`, during one call
  std::vector<std::byte> out;
  std::size_t out_off = 0;
  ciphertext_sink* sink = nullptr;  // during write(plaintext, sink): records go there
  // Handed-over sessions: plaintext of a record that did not fit the caller's buffer.
  std::vector<std::byte> plain;
  std::size_t plain_off = 0;
  // TLS 1.3 application traffic secrets from the key log callback, until the hand-over.
  traffic_secret client_secret;
  traffic_secret server_secret;
};

namespace detail {

/// The BIO type bound to every session: reads from session_buffers::in (then borrowed), writes
/// to session_buffers::out (or the sink of the write in progress). Created once per process.
const BIO_METHOD* bio_method();
/// The SSL ex_data index under which a server session's buffers are found (key log callback).
int secrets_index();
/// Clears the thread's OpenSSL error queue if anything is in it (SSL_get_error reads it).
void clear_stale_errors() noexcept;

}  // namespace detail

}  // namespace ns::tls
