// SPDX-License-Identifier: MIT
// shared_tls: one tls::context_holder (certificates, reloadable) and one ticket key ring for all
// the servers of a process.
#include <network_server/tls.hpp>

#include "server/shared_tls_impl.hpp"

namespace ns {

shared_tls::shared_tls(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
shared_tls::~shared_tls() = default;

std::shared_ptr<shared_tls> shared_tls::create(const tls_config& cfg) {
  auto keys = std::make_shared<tls::ticket_keys>(cfg.ticket_key_rotation);
  auto i = std::make_unique<impl>(tls::context::server(cfg, keys));
  return std::shared_ptr<shared_tls>(new shared_tls(std::move(i)));
}

std::string shared_tls::reload(const tls_config& cfg) { return impl_->holder.reload(cfg); }

}  // namespace ns
