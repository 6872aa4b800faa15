// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// In-process certificate generation (OpenSSL EVP/X509 API, no `openssl` CLI).
///
/// ns_serve uses it to make a development certificate on first run; every test suite uses it to
/// make its certificates at run time so that no private key is ever committed. Keys are ECDSA
/// P-256 by default (small, fast handshakes) or RSA-2048. All functions throw
/// `std::runtime_error` with a one-line message on failure: they are setup-time helpers.

#include <chrono>
#include <string>
#include <vector>

namespace ns::tls {

/// Key algorithm of a generated certificate.
enum class key_type { ecdsa_p256, rsa_2048 };

/// A certificate (chain) and its private key, both PEM text.
struct pem_pair {
  std::string cert_pem;  ///< leaf first, then any intermediates
  std::string key_pem;   ///< PKCS#8 private key
};

/// What to put into a generated certificate.
struct cert_options {
  key_type key = key_type::ecdsa_p256;
  std::string common_name = "localhost";
  /// Adds SAN DNS:localhost and IP:127.0.0.1 (what a development server needs).
  bool include_localhost = true;
  std::vector<std::string> dns_names;     ///< extra SAN DNS names (may be `*.example.com`)
  std::vector<std::string> ip_addresses;  ///< extra SAN IP addresses (v4 or v6 text)
  /// Validity window relative to now; a negative `not_after` makes an expired certificate.
  std::chrono::seconds not_before{-3600};
  std::chrono::seconds not_after{std::chrono::hours{24 * 365}};
};

/// A test PKI: root CA, intermediate CA and a leaf issued by the intermediate.
struct ca_chain {
  pem_pair root;          ///< self-signed root (trust anchor for clients)
  pem_pair intermediate;  ///< issued by root
  pem_pair leaf;          ///< issued by intermediate; `cert_pem` = leaf + intermediate
};

/// Makes a key and a self-signed leaf certificate (not a CA) described by @p opts.
pem_pair make_self_signed(const cert_options& opts = {});

/// Makes root → intermediate → leaf; the leaf's `cert_pem` is the full chain a server serves.
ca_chain make_ca_chain(const cert_options& leaf_opts = {});

/// Issues a leaf for @p opts signed by @p issuer (whose cert_pem's first certificate is used);
/// the returned `cert_pem` holds the leaf followed by @p issuer's certificate(s) unless the
/// issuer is self-signed (a root is never part of the served chain).
pem_pair issue_leaf(const pem_pair& issuer, const cert_options& opts);

/// Writes @p pair to @p cert_path (mode 0644) and @p key_path (mode 0600, created with that mode
/// so the key is never world-readable, even briefly). Throws on I/O failure.
void write_pem_files(const pem_pair& pair, const std::string& cert_path,
                     const std::string& key_path);

/// Paths of a development certificate made or found by `ensure_dev_certificate`.
struct dev_certificate {
  std::string cert_file;
  std::string key_file;
  bool created = false;  ///< true when this call generated them
};

/// ns_serve's first-run helper: uses `<dir>/server.pem` + `<dir>/server.key` if both exist
/// (e.g. made by certs/gen.sh, signed by the dev CA), otherwise creates @p dir (mode 0700 if
/// new) and writes a fresh self-signed ECDSA certificate for localhost / 127.0.0.1 there.
/// Throws `std::runtime_error` on I/O failure.
dev_certificate ensure_dev_certificate(const std::string& dir);

}  // namespace ns::tls
