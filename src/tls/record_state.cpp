// SPDX-License-Identifier: MIT
// A record layer's state out of one process and into another (a live connection moving on an
// upgrade, issue 20 §2). Only whole-record boundaries move: a KeyUpdate half-received or a
// layer that has closed stays where it is (the connection drains instead). A KeyUpdate the
// peer asked for and we have not sent yet moves as a flag: the next write sends it.
#include <openssl/crypto.h>

#include <utility>

#include "tls/record_layer.hpp"

namespace ns::tls {

namespace {

void wipe(traffic_secret& s) noexcept {
  OPENSSL_cleanse(s.bytes.data(), s.bytes.size());
  s.size = 0;
}

}  // namespace

record_state::record_state(record_state&& o) noexcept {
  *this = std::move(o);
}

record_state& record_state::operator=(record_state&& o) noexcept {
  if (this == &o) return *this;
  cipher = o.cipher;
  read = o.read;
  write = o.write;
  read_seq = o.read_seq;
  write_seq = o.write_seq;
  owe_update = o.owe_update;
  wipe(o.read);
  wipe(o.write);
  return *this;
}

record_state::~record_state() {
  wipe(read);
  wipe(write);
}

record_layer::record_layer(const record_state& st, std::uint64_t key_update_after)
    : read_(st.cipher, st.read, false),
      write_(st.cipher, st.write, true),
      key_update_after_(key_update_after) {
  read_.set_sequence(st.read_seq);
  write_.set_sequence(st.write_seq);
  owe_update_ = st.owe_update;
}

bool record_layer::export_state(record_state& out) const noexcept {
  if (closed_ || hs_len_ != 0 || *reason_ != '\0') return false;
  out.cipher = write_.cipher_suite();
  out.read = read_.secret();
  out.write = write_.secret();
  out.read_seq = read_.sequence();
  out.write_seq = write_.sequence();
  out.owe_update = owe_update_;  // answered by the next write, wherever it happens
  return true;
}

}  // namespace ns::tls
