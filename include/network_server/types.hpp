// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Basic vocabulary types shared by the whole public API.

#include <cstdint>

namespace ns {

/// Handle for one connection or file descriptor owned by a `network_server`.
///
/// The low 32 bits name a slot, the high 32 bits the slot's generation. A handle whose
/// connection has closed never reaches a newer connection that reuses the slot: every method
/// called with it returns `-EBADF` and calls nothing.
using client_num_t = std::uint64_t;

/// A value no live handle ever has.
inline constexpr client_num_t invalid_client = ~client_num_t{0};

}  // namespace ns
