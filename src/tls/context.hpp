// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `ns::tls::context`: an immutable, thread-shareable OpenSSL SSL_CTX set configured for this
/// server (TLS 1.2/1.3 only, ECDHE+AEAD, ALPN http/1.1, SNI over several certificate chains,
/// rotating session tickets). Build it once at setup, share it by `std::shared_ptr` with every
/// thread; each `tls::session` keeps the context it was created from alive.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <network_server/config.hpp>

#include "tls/self_signed.hpp"
#include "tls/ticket_keys.hpp"

typedef struct ssl_ctx_st SSL_CTX;  // NOLINT: matches OpenSSL's own forward declaration
typedef struct ssl_st SSL;          // NOLINT

namespace ns::tls {

/// Options of a client context (tests, the fuzz pipeline, outbound connections).
struct client_options {
  std::string ca_pem;        ///< trusted roots (PEM, may hold several); used when verifying
  bool verify_peer = true;   ///< verify chain + host name (the session's SNI name)
  int min_version = 0;       ///< OpenSSL protocol constant (e.g. TLS1_2_VERSION); 0 = default
  int max_version = 0;       ///< 0 = highest supported
  std::string cipher_list;   ///< TLS ≤ 1.2 cipher list; empty = OpenSSL default
  std::string ciphersuites;  ///< TLS 1.3 suites; empty = OpenSSL default
};

/// One SSL_CTX family: the default certificate group plus one SSL_CTX per further group of
/// certificates (pairs whose SAN name sets are equal share a group, so an ECDSA and an RSA
/// chain for the same names sit side by side and OpenSSL picks by the client's signature
/// algorithms). Immutable after construction, so concurrent use from several threads is safe
/// (SSL_CTX's own session cache is internally locked; the ticket key ring is locked).
class context {
 public:
  /// Server context from certificate/key files (`cfg.certificates[0]` is the default for
  /// unknown or missing SNI names). @p keys: ticket key ring shared among contexts; null makes
  /// a new one rotating every `cfg.ticket_key_rotation`. Throws `std::runtime_error` with a
  /// one-line message naming the file and OpenSSL's reason. Setup-time only.
  static std::shared_ptr<const context> server(const tls_config& cfg,
                                               std::shared_ptr<ticket_keys> keys = nullptr);

  /// Server context from in-memory PEM pairs (first = default). Throws like `server`.
  /// @p own_record_layer: as `tls_config::own_record_layer`.
  static std::shared_ptr<const context> server_from_pem(const std::vector<pem_pair>& certs,
                                                        std::shared_ptr<ticket_keys> keys = nullptr,
                                                        bool own_record_layer = true);

  /// Client context. Throws `std::runtime_error` on bad options.
  static std::shared_ptr<const context> client(const client_options& opts = {});

  ~context();
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  bool is_server() const { return server_; }
  /// The SSL_CTX new sessions are created from (the default certificate group).
  SSL_CTX* native_handle() const { return groups_.front().ctx; }
  /// The shared ticket key ring (null for a client context).
  const std::shared_ptr<ticket_keys>& keys() const { return keys_; }
  /// Forwards to `ticket_keys::rotate_if_due`; call from a timer with the loop's time.
  bool rotate_ticket_keys(std::chrono::steady_clock::time_point now) const;

  /// Number of SNI groups (1 when every certificate covers the same names).
  std::size_t group_count() const { return groups_.size(); }
  /// Index of the group serving @p server_name (exact SAN, then `*.` wildcard for one label,
  /// case-insensitive; 0 = default for unknown names). Exposed for tests and diagnostics.
  std::size_t group_for(std::string_view server_name) const;

 private:
  struct group {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // SAN DNS names (or CN), lower case
    std::vector<int> key_types;      // EVP_PKEY base ids loaded into ctx
  };
  struct tag {};

 public:
  /// Use the factories; public only for std::make_shared.
  context(tag, bool server, std::shared_ptr<ticket_keys> keys, bool own_record_layer = false);

 private:
  void add_pem(const std::string& cert_pem, const std::string& key_pem, const std::string& label);
  SSL_CTX* new_server_ctx();
  void index_names();

  static int on_servername(SSL* s, int* alert, void* arg);

  bool server_;
  bool own_record_layer_;  // server sessions hand TLS 1.3 records over (key log set)
  bool http2_ = false;     // ALPN may choose "h2" (set by server() before any SSL_CTX exists)
  std::shared_ptr<ticket_keys> keys_;
  std::vector<group> groups_;
  std::unordered_map<std::string, std::size_t> exact_;     // "a.example.com" → group
  std::unordered_map<std::string, std::size_t> wildcard_;  // ".example.com" → group
};

}  // namespace ns::tls
