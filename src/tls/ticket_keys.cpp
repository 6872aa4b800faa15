// SPDX-License-Identifier: MIT
// Ticket key ring. Keys come from RAND_bytes (CSPRNG); a lookup copies the key out under the
// mutex so the OpenSSL ticket callback never holds a lock while it runs crypto.
#include "tls/ticket_keys.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>
#include <utility>

#include "tls/wipe.hpp"

namespace ns::tls {

ticket_keys::ticket_keys(std::chrono::seconds interval)
    : interval_(interval), current_(random_key()) {}

ticket_keys::key& ticket_keys::key::operator=(key&& o) noexcept {
  if (this != &o) {
    name = o.name;
    aes = o.aes;
    hmac = o.hmac;
    o.clear();
  }
  return *this;
}

void ticket_keys::key::clear() noexcept {
  wipe(name.data(), name.size());
  wipe(aes.data(), aes.size());
  wipe(hmac.data(), hmac.size());
}

ticket_keys::key ticket_keys::copy_of(const key& k) {
  key c;
  c.name = k.name;
  c.aes = k.aes;
  c.hmac = k.hmac;
  return c;
}

ticket_keys::key ticket_keys::random_key() {
  key k;
  // GCOVR_EXCL_BR_START: RAND_bytes fails only when the CSPRNG cannot be seeded (no entropy
  // source at all), which a test cannot arrange.
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size())) != 1 ||
      RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size())) != 1) {
    throw std::runtime_error("tls: RAND_bytes failed for session ticket key");  // GCOVR_EXCL_LINE
  }
  // GCOVR_EXCL_BR_STOP
  return k;
}

void ticket_keys::rotate() {
  key fresh = random_key();
  std::lock_guard lock(mutex_);
  previous_ = std::move(current_);  // the old previous key is overwritten, current_ wiped
  current_ = std::move(fresh);
}

bool ticket_keys::rotate_if_due(std::chrono::steady_clock::time_point now) {
  {
    std::lock_guard lock(mutex_);
    if (!last_rotation_) {
      last_rotation_ = now;
      return false;
    }
    if (now - *last_rotation_ < interval_) return false;
    last_rotation_ = now;
  }
  rotate();
  return true;
}

ticket_keys::key ticket_keys::current() const {
  std::lock_guard lock(mutex_);
  return copy_of(current_);
}

ticket_keys::lookup_result ticket_keys::find(const std::uint8_t* name) const {
  std::lock_guard lock(mutex_);
  if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
    return {true, true, copy_of(current_)};
  }
  if (previous_ && std::memcmp(name, previous_->name.data(), previous_->name.size()) == 0) {
    return {true, false, copy_of(*previous_)};
  }
  return {};
}

}  // namespace ns::tls
