// SPDX-License-Identifier: MIT
// Wiping key material. The observer is an atomic function pointer so that setting it in a test
// races with nothing; unset (always, outside tests) it costs one relaxed load per wipe.
#include "tls/wipe.hpp"

#include <openssl/crypto.h>

#include <atomic>

namespace ns::tls {

namespace {
std::atomic<test_hooks::wipe_observer> observer{nullptr};
}  // namespace

void wipe(void* p, std::size_t n) noexcept {
  const test_hooks::wipe_observer o = observer.load(std::memory_order_acquire);
  if (o != nullptr) o(p, n, false);
  OPENSSL_cleanse(p, n);
  if (o != nullptr) o(p, n, true);
}

test_hooks::wipe_observer test_hooks::set_wipe_observer(wipe_observer o) noexcept {
  return observer.exchange(o, std::memory_order_acq_rel);
}

}  // namespace ns::tls
