// SPDX-License-Identifier: MIT
// A record layer's state out of one process and into another (a live connection moving on an
// upgrade, issue 20 §2). Only whole-record boundaries move: a KeyUpdate half-received or a
// layer that has closed stays where it is (the connection drains instead). A KeyUpdate the
// peer asked for and we have not sent yet moves as a flag: the next write sends it. The secrets
// are traffic_secret's: wiped when moved from and when destroyed.
#include <utility>

#include "tls/record_layer.hpp"

namespace ns::tls {

namespace {

// The one place a secret is copied on purpose: the state leaves for another process.
void copy_secret(const traffic_secret& from, traffic_secret& to) noexcept {
  to.bytes = from.bytes;
  to.size = from.size;
}

}  // namespace

record_layer::record_layer(record_state&& st, std::uint64_t key_update_after)
    : read_(st.cipher, std::move(st.read), false),
      write_(st.cipher, std::move(st.write), true),
      key_update_after_(key_update_after) {
  read_.set_sequence(st.read_seq);
  write_.set_sequence(st.write_seq);
  owe_update_ = st.owe_update;
}

bool record_layer::export_state(record_state& out) const noexcept {
  if (closed_ || hs_len_ != 0 || *reason_ != '\0') return false;
  out.cipher = write_.cipher_suite();
  copy_secret(read_.secret(), out.read);
  copy_secret(write_.secret(), out.write);
  out.read_seq = read_.sequence();
  out.write_seq = write_.sequence();
  out.owe_update = owe_update_;  // answered by the next write, wherever it happens
  return true;
}

}  // namespace ns::tls
