// SPDX-License-Identifier: MIT
// Server and client SSL_CTX construction.
//
// Technique: every certificate group gets its own SSL_CTX with identical settings; the default
// group's SSL_CTX creates every SSL*, and the SNI callback switches a connection to another
// group with SSL_set_SSL_CTX (which swaps only the certificates; the session cache and ticket
// callback stay those of the default context, so resumption works across names). Settings
// follow RFC 9325 (BCP 195): TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers only, no
// compression (CRIME), no renegotiation.
#include "tls/context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tls/callbacks.hpp"
#include "tls/openssl_ptr.hpp"

namespace ns::tls {
namespace {

using detail::bio_ptr;
using detail::x509_ptr;

// TLS 1.2: forward secrecy and AEAD only; AES-128-GCM first (fast with AES-NI, RFC 9325 §4.2).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* tls13_suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* groups_list = "X25519:P-256:P-384";
constexpr unsigned char sid_context[] = {'n', 's', '_', 't', 'l', 's'};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(detail::drain_errors(what.c_str()));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();  // "example.com." is the same name
  return out;
}

std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> names;
  detail::general_names_ptr san{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))};
  if (san) {
    for (int i = 0; i < sk_GENERAL_NAME_num(san.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(san.get(), i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<std::size_t>(ASN1_STRING_length(s))}));
    }
  }
  if (names.empty()) {  // legacy certificate without SAN DNS names: fall back to the CN
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      names.push_back(lower(cn));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("tls: cannot open ") + what + " '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

context::context(tag, bool server, std::shared_ptr<ticket_keys> keys, bool own_record_layer)
    : server_(server), own_record_layer_(own_record_layer), keys_(std::move(keys)) {}

context::~context() {
  for (auto& g : groups_) SSL_CTX_free(g.ctx);
}

SSL_CTX* context::new_server_ctx() {
  detail::ssl_ctx_ptr ctx{SSL_CTX_new(TLS_server_method())};
  // GCOVR_EXCL_START: fixed, valid settings on a new SSL_CTX fail only on allocation failure,
  // or with an OpenSSL lacking these groups or ciphers: not Debian 12's (its providers are
  // default, base and legacy; configured without default, it fails on the key files first).
  if (!ctx) fail("tls: SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(c, tls13_suites) != 1 ||
      SSL_CTX_set1_groups_list(c, groups_list) != 1) {
    fail("tls: cannot apply protocol settings");
  }
  // GCOVR_EXCL_STOP
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE);
  // At least security level 2 (112-bit keys: RSA of 2048 bits or more, RFC 9325 §4.5), whatever
  // the OpenSSL build's default (Debian's is 2, upstream 3.0's is 1); a higher level from the
  // system's openssl.cnf stays.
  SSL_CTX_set_security_level(c, std::max(2, SSL_CTX_get_security_level(c)));
  // RELEASE_BUFFERS: free the 16 KiB+ record buffers while a connection is idle (most are).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(c, sid_context, sizeof sid_context);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(c, 16384);  // bounded: TLS 1.2 clients without ticket support
  // A ticket can only be decrypted for two rotation intervals; make its lifetime hint match.
  const long lifetime = std::max<long>(300, 2 * static_cast<long>(keys_->interval().count()));
  SSL_CTX_set_timeout(c, lifetime);
  SSL_CTX_set_num_tickets(c, 1);  // one TLS 1.3 ticket per handshake (we need no more)
  SSL_CTX_set_tlsext_ticket_key_evp_cb(c, detail::ticket_key_cb);
  // The callback's argument only says whether "h2" may be chosen (non-null: yes).
  SSL_CTX_set_alpn_select_cb(c, detail::select_alpn, http2_ ? this : nullptr);
  // The key log is how the traffic secrets reach tls::session's hand-over; without it the
  // session keeps OpenSSL's record layer (and OpenSSL skips formatting the secrets).
  if (own_record_layer_) SSL_CTX_set_keylog_callback(c, detail::keep_traffic_secret);
  SSL_CTX_set_app_data(c, this);
  return ctx.release();
}

void context::add_pem(const std::string& cert_pem, const std::string& key_pem,
                      const std::string& label) {
  bio_ptr cb{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()))};
  x509_ptr leaf{PEM_read_bio_X509_AUX(cb.get(), nullptr, nullptr, nullptr)};
  if (!leaf) fail("tls: no certificate in " + label);
  std::vector<x509_ptr> chain;
  while (X509* extra = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(extra);
  }
  ERR_clear_error();  // the loop ends on an expected "no start line"
  bio_ptr kb{BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()))};
  detail::evp_pkey_ptr key{PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr)};
  if (!key) fail("tls: no private key in " + label);

  const std::vector<std::string> names = names_of(leaf.get());
  const int type = EVP_PKEY_get_base_id(key.get());
  auto it = std::find_if(groups_.begin(), groups_.end(),
                         [&](const group& g) { return g.names == names; });
  if (it != groups_.end() &&
      std::find(it->key_types.begin(), it->key_types.end(), type) != it->key_types.end()) {
    throw std::runtime_error("tls: " + label +
                             ": a certificate with the same names and key type is already loaded");
  }
  if (it == groups_.end()) {
    groups_.push_back({new_server_ctx(), names, {}});
    it = groups_.end() - 1;
  }
  SSL_CTX* c = it->ctx;
  // use_certificate selects the slot for this key type; chain certs and the key go to it.
  // Both refuse a key below the security level (an RSA-1024 certificate: "ee key too small",
  // an RSA-1024 CA in the chain: "ca key too small").
  if (SSL_CTX_use_certificate(c, leaf.get()) != 1) fail("tls: cannot use certificate " + label);
  for (auto& x : chain) {
    if (SSL_CTX_add1_chain_cert(c, x.get()) != 1) fail("tls: cannot add chain of " + label);
  }
  if (SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    fail("tls: private key does not match certificate " + label);
  }
  it->key_types.push_back(type);
}

void context::index_names() {
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    for (const auto& n : groups_[i].names) {
      if (n.size() > 2 && n[0] == '*' && n[1] == '.') {
        wildcard_.emplace(n.substr(1), i);  // first group naming it wins
      } else {
        exact_.emplace(n, i);
      }
    }
  }
  if (groups_.size() > 1) {
    SSL_CTX_set_tlsext_servername_callback(groups_.front().ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(groups_.front().ctx, this);
  }
}

std::size_t context::group_for(std::string_view server_name) const {
  const std::string n = lower(server_name);
  if (auto it = exact_.find(n); it != exact_.end()) return it->second;
  // RFC 6125 §6.4.3: a wildcard matches exactly one left-most label.
  const auto dot = n.find('.');
  if (dot != std::string::npos && dot > 0) {
    if (auto it = wildcard_.find(n.substr(dot)); it != wildcard_.end()) return it->second;
  }
  return 0;
}

int context::on_servername(SSL* s, int*, void* arg) {
  const auto* self = static_cast<const context*>(arg);
  const char* name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;  // no SNI: default certificate
  const std::size_t g = self->group_for(name);
  // SSL_set_SSL_CTX fails only on allocation failure (it copies the certificate slots).
  if (g != 0 && SSL_set_SSL_CTX(s, self->groups_[g].ctx) == nullptr) {  // GCOVR_EXCL_BR_LINE
    return SSL_TLSEXT_ERR_ALERT_FATAL;                                  // GCOVR_EXCL_LINE
  }
  return g != 0 || self->exact_.count(lower(name)) != 0 ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

std::shared_ptr<const context> context::server_from_pem(const std::vector<pem_pair>& certs,
                                                        std::shared_ptr<ticket_keys> keys,
                                                        bool own_record_layer) {
  if (certs.empty()) throw std::runtime_error("tls: no certificate configured");
  if (!keys) keys = std::make_shared<ticket_keys>();
  auto ctx = std::make_shared<context>(tag{}, true, std::move(keys), own_record_layer);
  ERR_clear_error();
  for (std::size_t i = 0; i < certs.size(); ++i) {
    ctx->add_pem(certs[i].cert_pem, certs[i].key_pem, "certificate #" + std::to_string(i));
  }
  ctx->index_names();
  return ctx;
}

std::shared_ptr<const context> context::server(const tls_config& cfg,
                                               std::shared_ptr<ticket_keys> keys) {
  if (cfg.certificates.empty()) throw std::runtime_error("tls: no certificate configured");
  if (!keys) keys = std::make_shared<ticket_keys>(cfg.ticket_key_rotation);
  auto ctx = std::make_shared<context>(tag{}, true, std::move(keys), cfg.own_record_layer);
  ctx->http2_ = cfg.http2;
  ERR_clear_error();
  for (const auto& c : cfg.certificates) {
    const std::string cert = read_file(c.cert_file, "certificate file");
    const std::string key = read_file(c.key_file, "key file");
    ctx->add_pem(cert, key, "'" + c.cert_file + "'");
  }
  ctx->index_names();
  return ctx;
}

std::shared_ptr<const context> context::client(const client_options& opts) {
  auto ctx = std::make_shared<context>(tag{}, false, nullptr);
  ERR_clear_error();
  detail::ssl_ctx_ptr c{SSL_CTX_new(TLS_client_method())};
  if (!c) fail("tls: SSL_CTX_new");  // GCOVR_EXCL_BR_LINE: allocation failure only
  if ((opts.min_version != 0 && SSL_CTX_set_min_proto_version(c.get(), opts.min_version) != 1) ||
      (opts.max_version != 0 && SSL_CTX_set_max_proto_version(c.get(), opts.max_version) != 1)) {
    fail("tls: bad protocol version");
  }
  if (!opts.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(c.get(), opts.cipher_list.c_str()) != 1) {
    fail("tls: bad cipher list");
  }
  if (!opts.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(c.get(), opts.ciphersuites.c_str()) != 1) {
    fail("tls: bad TLS 1.3 ciphersuites");
  }
  SSL_CTX_set_mode(c.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(c.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  if (opts.verify_peer) {
    SSL_CTX_set_verify(c.get(), SSL_VERIFY_PEER, nullptr);
    bio_ptr b{BIO_new_mem_buf(opts.ca_pem.data(), static_cast<int>(opts.ca_pem.size()))};
    X509_STORE* store = SSL_CTX_get_cert_store(c.get());
    int n = 0;
    while (X509* x = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, x);
      X509_free(x);
      ++n;
    }
    ERR_clear_error();
    if (n == 0) throw std::runtime_error("tls: verify_peer needs at least one CA in ca_pem");
  }
  ctx->groups_.push_back({c.release(), {}, {}});
  return ctx;
}

bool context::rotate_ticket_keys(std::chrono::steady_clock::time_point now) const {
  return keys_ && keys_->rotate_if_due(now);
}

}  // namespace ns::tls
