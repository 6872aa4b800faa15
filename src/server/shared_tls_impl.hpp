// SPDX-License-Identifier: MIT
#pragma once

#include <network_server/tls.hpp>

#include "tls/context.hpp"
#include "tls/context_holder.hpp"
#include "tls/ticket_keys.hpp"

namespace ns {

class shared_tls::impl {
 public:
  explicit impl(std::shared_ptr<const tls::context> ctx) : holder(std::move(ctx)) {}
  tls::context_holder holder;
};

}  // namespace ns
