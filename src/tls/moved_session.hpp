// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `ns::tls::moved_session`: a TLS 1.3 server session between two records, as a live
/// connection carries it to another process on an upgrade (issue 20 §2): what
/// `session::export_moved` fills and `session(ctx, moved)` continues. The record layer's secrets
/// are wiped when it goes; the handover codec (handover/connection_state.hpp) carries it.

#include <cstddef>
#include <string>
#include <vector>

#include "tls/record_layer.hpp"

namespace ns::tls {

struct moved_session {
  record_state records;
  /// Ciphertext received and not yet decrypted (a partial record, or records that arrived
  /// while the connection was being frozen): the new process reads it before the socket.
  std::vector<std::byte> input;
  std::string alpn;  ///< negotiated ALPN protocol, empty if none
  std::string sni;   ///< the server name the client asked for, empty if none
  bool resumed = false;
};

}  // namespace ns::tls
