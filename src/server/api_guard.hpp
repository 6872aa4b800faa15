// SPDX-License-Identifier: MIT
#pragma once
// The one guard every public entry point passes: the handle names a live slot of this
// generation (else -EBADF), the slot is of the API's family (HTTP / WebSocket, raw descriptor,
// eventfd: else -EBADF), it speaks the protocol the call needs (an HTTP call on a WebSocket and
// the reverse: -EINVAL), it is not closing (-EPIPE) and, where a call needs it, its TLS
// handshake is done (-EAGAIN). Errors are returned in this order.

#include <cerrno>
#include <type_traits>

#include "server/core.hpp"
#include "server/handler.hpp"

namespace ns::server {

/// Guard option: the call queues bytes (needs an open transport).
inline constexpr unsigned need_open = 1u;
/// Guard option: the call needs the TLS handshake done.
inline constexpr unsigned need_ready = 2u;

/// Any connection of the HTTP family (HTTP/1.1 or WebSocket), for calls that apply to both.
struct any_http_handler {};

template <class H>
struct guarded {
  transport* t = nullptr;
  H* h = nullptr;
  int err = 0;
  explicit operator bool() const noexcept { return err == 0; }
  H* operator->() const noexcept { return h; }
};

namespace detail {

enum class handle_family : unsigned char { http, raw, event };

constexpr handle_family family_of(handler_kind k) noexcept {
  switch (k) {
    case handler_kind::raw:
      return handle_family::raw;
    case handler_kind::event:
      return handle_family::event;
    default:
      return handle_family::http;
  }
}

}  // namespace detail

template <class H>
guarded<H> guard(core& loop, client_num_t c, unsigned options = 0) {
  transport* t = loop.find(c);
  if (t == nullptr) return {nullptr, nullptr, -EBADF};
  const handler_kind kind = t->handler->kind();
  if constexpr (std::is_same_v<H, any_http_handler>) {
    if (detail::family_of(kind) != detail::handle_family::http) return {nullptr, nullptr, -EBADF};
  } else {
    if (detail::family_of(kind) != detail::family_of(H::static_kind)) {
      return {nullptr, nullptr, -EBADF};
    }
    if (kind != H::static_kind) return {nullptr, nullptr, -EINVAL};
  }
  if ((options & need_open) != 0 && !t->open()) return {nullptr, nullptr, -EPIPE};
  if ((options & need_ready) != 0 && !t->ready) return {nullptr, nullptr, -EAGAIN};
  if constexpr (std::is_same_v<H, any_http_handler>) {
    return {t, nullptr, 0};
  } else {
    return {t, static_cast<H*>(t->handler.get()), 0};
  }
}

}  // namespace ns::server
