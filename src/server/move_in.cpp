// SPDX-License-Identifier: MIT
// Live connections another process moved out, continued here (issue 20 §2; move_out.cpp is
// the other side). The state is decoded on the caller's thread, so a state this version cannot
// read is refused at once and the mover's process keeps (and drains) the connection; the loop
// then gives the descriptor a slot, a TLS session that continues the record layer, and the
// handler it had, and reads the ciphertext that travelled with it before the socket.
#include <unistd.h>

#include <cerrno>

#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/log.hpp"
#include "server/ws_handler.hpp"

namespace ns {

int network_server::impl::adopt_connection(int fd, std::span<const std::byte> state) {
  if (!tls_) return -EPROTO;
  // Not copyable (it holds secrets, wiped when it goes): shared into the posted task.
  auto st = std::make_shared<handover::connection_state>();
  std::string error;
  if (!handover::decode(state, *st, error)) {
    NS_LOG(log_level::warn, "adopt_connection: ", error);
    return -EINVAL;
  }
  return post([this, fd, st] { adopt(fd, *st); });
}

void network_server::impl::adopt(int fd, handover::connection_state& st) {
  if (stopping_) {
    ::close(fd);
    return;
  }
  transport* t = open_slot(fd, true);
  if (t == nullptr) {
    NS_LOG(log_level::warn, "connection limit (", config_.max_connections,
           ") reached; a moved connection is closed");
    ::close(fd);
    return;
  }
  ++stats_.connections_total;
  ++stats_.moved_in;
  const bool carried_input = !st.tls.input.empty();
  t->tls.emplace(tls_->internal().holder.get(), std::move(st.tls));
  t->peer = st.peer;
  t->got_bytes = true;
  t->ready = true;
  server::ws_handler* ws = nullptr;
  if (st.proto == handover::protocol::websocket) {
    auto h = std::make_unique<server::ws_handler>(*this, *t,
                                                  server::websocket_options(*this, st.deflate));
    ws = h.get();
    t->handler = std::move(h);
    ws->start();
  } else {
    t->handler = std::make_unique<server::http1_handler>(*this, *t);
    t->handler->on_ready();
  }
  // Draining itself (upgrades in quick succession): with a mover it moves on from here.
  if (draining_ && !(mover_ && !mover_failed_)) t->handler->drain();
  app_.connection_moved_in(t->handle, ws != nullptr, st.app);
  if (!t->open()) return;
  if (carried_input) on_ciphertext(*t, {});  // what came before the socket's bytes
  arm_recv(*t);
}

}  // namespace ns
