// SPDX-License-Identifier: MIT
// Live connections leaving for another process while the server drains with a connection
// mover (issue 20 §2; include/network_server/handover.hpp).
//
// A connection moves only from a clean point: TLS 1.3 driven by our record layer with nothing
// queued or in flight, and a handler with nothing partly received or owed (movable()). The
// move freezes it first: its multishot recv is cancelled, and until the recv's last completion
// arrives whatever else comes in is held as ciphertext, not decrypted. Then the record layer's
// state, the held ciphertext, the handler's part and the application's blob are encoded and
// offered with the socket. Taken: the descriptor is closed here without a byte to the peer (no
// close_notify, no shutdown: the socket lives on in the other process) and the close callback
// fires as for any close. Not taken: the held bytes are read here and the connection drains.
#include <cerrno>

#include "server/core.hpp"
#include "server/log.hpp"

namespace ns {

bool network_server::impl::can_move(const transport& t) const noexcept {
  return t.counted && t.ready && t.open() && !t.moving && !t.eof && !t.preamble &&
         !t.send_in_flight && !t.recv_paused && t.out.empty() && t.tls && t.tls->handed_over() &&
         t.handler->movable();
}

void network_server::impl::move_ready() {
  std::vector<client_num_t> ready;
  conns_.for_each([&](client_num_t c, transport& t) {
    if (can_move(t)) ready.push_back(c);
  });
  for (client_num_t c : ready) {
    if (mover_failed_) return;
    if (transport* t = conns_.find(c); t != nullptr && can_move(*t)) freeze(*t);
  }
  if (!to_finalize_.empty()) finalize_closed();
}

void network_server::impl::freeze(transport& t) {
  t.moving = true;
  if (!t.recv_armed) {
    finish_move(t);
    return;
  }
  io_uring_sqe* sqe = sqe_for(t, io::op_kind::cancel);
  if (sqe == nullptr) {  // tried again on the next tick
    t.moving = false;
    return;
  }
  io_uring_prep_cancel64(sqe,
                         io::encode({io::op_kind::recv, static_cast<std::uint32_t>(t.handle >> 32),
                                     static_cast<std::uint32_t>(t.handle)}),
                         0);
  ++t.inflight;  // the cancel's own completion
}

void network_server::impl::finish_move(transport& t) {
  if (t.closing) {
    t.moving = false;
    return;
  }
  // Anything may have happened while the recv was being cancelled (a timer, a broadcast to
  // it): it moves only if it is still at a clean point.
  handover::connection_state st;
  bool ok = t.open() && !t.send_in_flight && t.out.empty() && t.handler->movable() &&
            t.tls->export_moved(st.tls) &&
            st.tls.input.size() + t.held_input.size() <= handover::max_input;
  if (ok) {
    st.tls.input.insert(st.tls.input.end(), t.held_input.begin(), t.held_input.end());
    t.handler->describe_move(st);
    st.peer = peer_of(t);
    st.app = app_.connection_moving(t.handle);
    ok = t.open() && st.app.size() <= handover::max_app_blob &&
         st.peer.size() <= handover::max_short_text;
  }
  if (!ok) {  // not now: it stays, and may move on a later tick
    thaw(t, true);
    return;
  }
  std::vector<std::byte> bytes = handover::encode(st);
  const bool taken = mover_->move(t.fd, bytes);
  handover::wipe(bytes);
  if (!taken) {
    ++stats_.moves_refused;
    thaw(t, true);
    give_up_moving();
    return;
  }
  ++stats_.moved_out;
  NS_LOG(log_level::debug, peer_of(t), ": moved to the new process");
  t.held_input.clear();
  t.moved = true;
  t.handler->on_moved();
  close_hard(t);  // at most the recv's cancel in flight: closed in finalize, nothing sent
}

void network_server::impl::thaw(transport& t, bool rearm) {
  t.moving = false;
  if (!t.held_input.empty()) {
    std::vector<std::byte> held;
    held.swap(t.held_input);
    if (t.open()) on_ciphertext(t, held);
  }
  if (rearm && !t.closing) arm_recv(t);
}

void network_server::impl::give_up_moving() {
  if (mover_failed_) return;
  mover_failed_ = true;
  NS_LOG(log_level::warn, "the new process took no more connections; the rest drain here");
  conns_.for_each([](client_num_t, transport& t) {
    if (t.open() && !t.moving) t.handler->drain();
  });
}

}  // namespace ns
