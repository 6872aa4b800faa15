// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// TLS state shared by every `network_server` (thread) of one process: the certificates (with
/// SNI), and the session-ticket keys, so a ticket issued by one thread resumes on any other.

#include <memory>
#include <string>

#include <network_server/config.hpp>

namespace ns {

class shared_tls {
 public:
  /// Loads the certificates of @p cfg. Throws `std::runtime_error` with a one-line message
  /// (naming the file and OpenSSL's reason) when they cannot be used.
  static std::shared_ptr<shared_tls> create(const tls_config& cfg);

  /// Re-reads the certificate and key files (e.g. on SIGHUP). New connections use them from
  /// now on; established ones keep theirs. On failure the current certificates stay in service
  /// and the one-line reason is returned; on success the result is empty.
  std::string reload(const tls_config& cfg);

  ~shared_tls();
  shared_tls(const shared_tls&) = delete;
  shared_tls& operator=(const shared_tls&) = delete;

  class impl;
  impl& internal() noexcept { return *impl_; }

 private:
  explicit shared_tls(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace ns
