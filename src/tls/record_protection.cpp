// SPDX-License-Identifier: MIT
// TLS 1.3 record protection. The ciphers and digests are fetched once per process (an implicit
// fetch per connection would look them up by name under a lock every time), and HMAC is
// composed from two digests so that deriving a connection's keys costs no further fetch.
#include "tls/record_protection.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ns::tls {

namespace {

struct algorithms {
  EVP_CIPHER* cipher[3];
  EVP_MD* digest[2];  // SHA-256, SHA-384
};

const algorithms& algs() {
  // Fetched once and never freed (process lifetime), like the BIO method.
  static const algorithms a = [] {
    algorithms r{
        {EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
         EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr),
         EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr)},
        {EVP_MD_fetch(nullptr, "SHA256", nullptr), EVP_MD_fetch(nullptr, "SHA384", nullptr)}};
    return r;
  }();
  return a;
}

const EVP_CIPHER* cipher_of(suite s) noexcept {
  return algs().cipher[static_cast<int>(s)];
}

const EVP_MD* digest_of(suite s) noexcept {
  return algs().digest[s == suite::aes_256_gcm_sha384 ? 1 : 0];
}

std::size_t key_size(suite s) noexcept {
  return s == suite::aes_128_gcm_sha256 ? 16 : 32;
}

// HMAC (RFC 2104) for a key no longer than the block: H((K ^ opad) || H((K ^ ipad) || m)).
bool hmac(const EVP_MD* md, std::span<const std::uint8_t> key, std::span<const std::uint8_t> msg,
          std::uint8_t* out) noexcept {
  const auto block = static_cast<std::size_t>(EVP_MD_get_block_size(md));
  std::uint8_t pad[128];
  if (key.size() > block || block > sizeof pad) return false;
  // One digest context per thread, re-initialised for each hash: a connection's hand-over
  // derives six keys and IVs, and a context per HMAC cost two allocations each.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  EVP_MD_CTX* h = ctx.get();
  if (h == nullptr) return false;  // GCOVR_EXCL_LINE: allocation failure
  std::uint8_t inner[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  auto keyed = [&](std::uint8_t x) {
    std::memset(pad, x, block);
    for (std::size_t i = 0; i < key.size(); ++i) pad[i] ^= key[i];
  };
  keyed(0x36);
  bool ok = EVP_DigestInit_ex(h, md, nullptr) == 1 && EVP_DigestUpdate(h, pad, block) == 1 &&
            EVP_DigestUpdate(h, msg.data(), msg.size()) == 1 &&
            EVP_DigestFinal_ex(h, inner, &n) == 1;
  keyed(0x5c);
  ok = ok && EVP_DigestInit_ex(h, md, nullptr) == 1 && EVP_DigestUpdate(h, pad, block) == 1 &&
       EVP_DigestUpdate(h, inner, n) == 1 && EVP_DigestFinal_ex(h, out, &n) == 1;
  OPENSSL_cleanse(inner, sizeof inner);
  OPENSSL_cleanse(pad, sizeof pad);
  return ok;
}

}  // namespace

std::optional<suite> suite_from_code(std::uint16_t code) noexcept {
  switch (code) {
    case 0x1301:
      return suite::aes_128_gcm_sha256;
    case 0x1302:
      return suite::aes_256_gcm_sha384;
    case 0x1303:
      return suite::chacha20_poly1305_sha256;
    default:
      return std::nullopt;
  }
}

std::size_t secret_size(suite s) noexcept {
  return s == suite::aes_256_gcm_sha384 ? 48 : 32;
}

bool hkdf_expand_label(suite s, std::span<const std::uint8_t> secret, std::string_view label,
                       std::span<std::uint8_t> out) noexcept {
  // HkdfLabel = uint16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255>
  // (empty); HKDF-Expand's first block T(1) = HMAC(secret, HkdfLabel || 0x01).
  constexpr std::string_view prefix = "tls13 ";
  std::uint8_t info[2 + 1 + 255 + 1 + 1];
  if (out.size() > secret_size(s) || prefix.size() + label.size() > 255) return false;
  std::size_t n = 0;
  info[n++] = static_cast<std::uint8_t>(out.size() >> 8);
  info[n++] = static_cast<std::uint8_t>(out.size());
  info[n++] = static_cast<std::uint8_t>(prefix.size() + label.size());
  std::memcpy(info + n, prefix.data(), prefix.size());
  n += prefix.size();
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;  // empty context
  info[n++] = 1;  // block counter
  std::uint8_t t1[EVP_MAX_MD_SIZE];
  if (!hmac(digest_of(s), secret, {info, n}, t1)) return false;
  std::memcpy(out.data(), t1, out.size());
  OPENSSL_cleanse(t1, sizeof t1);
  return true;
}

record_protector::record_protector(suite s, traffic_secret&& secret, bool encrypt)
    : suite_(s), encrypt_(encrypt), secret_(std::move(secret)) {
  // GCOVR_EXCL_START: fails only on allocation failure: the suite's key and IV sizes fit its
  // secret, and its cipher and digest are ones OpenSSL negotiated, so it has them.
  if (!rekey() || !ready()) {
    EVP_CIPHER_CTX_free(ctx_);
    throw std::runtime_error("tls: cannot set up TLS 1.3 record protection");
  }
  // GCOVR_EXCL_STOP
}

record_protector::~record_protector() {
  EVP_CIPHER_CTX_free(ctx_);  // OpenSSL cleanses the key schedule it holds
  wipe(key_.data(), key_.size());
  wipe(iv_.data(), iv_.size());
}  // secret_ wipes itself

bool record_protector::rekey() noexcept {
  const bool ok =
      hkdf_expand_label(suite_, secret_.view(), "key", {key_.data(), key_size(suite_)}) &&
      hkdf_expand_label(suite_, secret_.view(), "iv", iv_);
  seq_ = 0;
  if (!ok || ctx_ == nullptr) return ok;
  return EVP_CipherInit_ex(ctx_, cipher_of(suite_), nullptr, key_.data(), nullptr,
                           encrypt_ ? 1 : 0) == 1;
}

bool record_protector::ready() noexcept {
  if (ctx_ != nullptr) return true;
  ctx_ = EVP_CIPHER_CTX_new();
  if (ctx_ != nullptr && EVP_CipherInit_ex(ctx_, cipher_of(suite_), nullptr, key_.data(), nullptr,
                                           encrypt_ ? 1 : 0) == 1) {
    return true;
  }
  // GCOVR_EXCL_START: allocation failure
  EVP_CIPHER_CTX_free(ctx_);
  ctx_ = nullptr;
  return false;
  // GCOVR_EXCL_STOP
}

void record_protector::release() noexcept {
  EVP_CIPHER_CTX_free(ctx_);
  ctx_ = nullptr;
}

bool record_protector::update() noexcept {
  traffic_secret next;
  next.size = secret_.size;
  if (!hkdf_expand_label(suite_, secret_.view(), "traffic upd", {next.bytes.data(), next.size})) {
    return false;  // GCOVR_EXCL_LINE: allocation failure
  }
  secret_ = std::move(next);  // the old secret is overwritten, `next` wiped
  return rekey();
}

void record_protector::nonce(std::uint8_t (&out)[iv_size]) const noexcept {
  // RFC 8446 §5.3: the 64-bit sequence number, big-endian, left-padded to the IV length and
  // XORed with the IV.
  std::memcpy(out, iv_.data(), iv_size);
  for (int i = 0; i < 8; ++i) out[iv_size - 1 - i] ^= static_cast<std::uint8_t>(seq_ >> (8 * i));
}

bool record_protector::seal(std::span<const std::uint8_t, 5> header,
                            std::span<const std::uint8_t> plaintext, std::uint8_t inner_type,
                            std::span<std::uint8_t> out) noexcept {
  if (out.size() != plaintext.size() + 1 + tag_size || exhausted() || !ready()) return false;
  std::uint8_t iv[iv_size];
  nonce(iv);
  int n = 0;
  const int len = static_cast<int>(plaintext.size());
  const bool ok =
      EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, iv, 1) == 1 &&
      EVP_CipherUpdate(ctx_, nullptr, &n, header.data(), 5) == 1 &&
      (len == 0 || EVP_CipherUpdate(ctx_, out.data(), &n, plaintext.data(), len) == 1) &&
      EVP_CipherUpdate(ctx_, out.data() + len, &n, &inner_type, 1) == 1 &&
      EVP_CipherFinal_ex(ctx_, out.data() + len + 1, &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                          out.data() + len + 1) == 1;
  ++seq_;
  return ok;
}

bool record_protector::open(std::span<const std::uint8_t, 5> header,
                            std::span<const std::uint8_t> ciphertext,
                            std::span<std::uint8_t> out) noexcept {
  if (ciphertext.size() < tag_size || out.size() != ciphertext.size() - tag_size || exhausted() ||
      !ready()) {
    return false;
  }
  std::uint8_t iv[iv_size];
  nonce(iv);
  std::uint8_t tag[tag_size];
  std::memcpy(tag, ciphertext.data() + out.size(), tag_size);
  int n = 0;
  const int len = static_cast<int>(out.size());
  const bool ok =
      EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, iv, 0) == 1 &&
      EVP_CipherUpdate(ctx_, nullptr, &n, header.data(), 5) == 1 &&
      (len == 0 || EVP_CipherUpdate(ctx_, out.data(), &n, ciphertext.data(), len) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag) == 1 &&
      EVP_CipherFinal_ex(ctx_, out.data() + len, &n) == 1;
  ++seq_;
  return ok;
}

bool record_protector::opens(std::span<const std::uint8_t, 5> header,
                             std::span<const std::uint8_t> ciphertext, std::uint64_t seq) noexcept {
  if (ciphertext.size() < tag_size) return false;
  std::array<std::uint8_t, 1024> local;  // a session ticket record fits
  std::vector<std::uint8_t> heap;
  std::span<std::uint8_t> out(local.data(), ciphertext.size() - tag_size);
  if (out.size() > local.size()) {
    heap.resize(out.size());
    out = heap;
  }
  const std::uint64_t kept = seq_;
  seq_ = seq;
  const bool ok = open(header, ciphertext, out);
  seq_ = kept;
  OPENSSL_cleanse(out.data(), out.size());
  return ok;
}

}  // namespace ns::tls
