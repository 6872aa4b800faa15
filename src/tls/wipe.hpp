// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Wiping key material: `wipe()` zeroes bytes with OPENSSL_cleanse (a store the compiler may
/// not drop as dead, unlike memset before a destructor), and every type that holds a secret
/// calls it from its destructor and when it is moved from. A test-only observer sees each wipe
/// before and after, so a test can prove that a secret it knows was really zeroed on the way
/// out (tests/unit/tls/secret_wipe_test.cpp).

#include <cstddef>

namespace ns::tls {

/// Zeroes @p n bytes at @p p (OPENSSL_cleanse), telling the wipe observer if one is set.
void wipe(void* p, std::size_t n) noexcept;

namespace test_hooks {

/// Called by `wipe()` twice: with @p zeroed false just before the bytes are cleared (they
/// still hold the secret) and with @p zeroed true just after. Runs on the wiping thread.
using wipe_observer = void (*)(const void* p, std::size_t n, bool zeroed);

/// Sets (or with nullptr clears) the process's wipe observer. For tests only: the observer
/// sees secrets; production code never sets one. Returns the previous observer.
wipe_observer set_wipe_observer(wipe_observer o) noexcept;

}  // namespace test_hooks

}  // namespace ns::tls
