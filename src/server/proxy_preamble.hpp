// SPDX-License-Identifier: MIT
#pragma once
// A PROXY listener's settings, checked once at construction: which header version it expects
// and which peers may send one. The reading itself is a pre-TLS stage of the transport
// (proxy_preamble.cpp): the header belongs to the TCP connection, not to what it carries, so
// it is taken off before the TLS session (or a plaintext handler) sees a byte.

#include <memory>

#include <network_server/config.hpp>

#include "proxy/header.hpp"
#include "proxy/networks.hpp"

namespace ns::server {

struct proxy_policy {
  proxy::version_mode mode = proxy::version_mode::any;
  proxy::network_list trusted;
};

/// The policy of @p cfg; null when its mode is off (the accept and recv paths then pay one
/// null check). Throws std::invalid_argument, one line naming the setting, when a trusted
/// entry is not a network or the list is empty.
[[nodiscard]] std::unique_ptr<proxy_policy> make_proxy_policy(const proxy_protocol_config& cfg);

}  // namespace ns::server
