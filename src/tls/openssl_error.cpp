// SPDX-License-Identifier: MIT
// One-line rendering of OpenSSL's per-thread error queue. OpenSSL reports failures by pushing
// entries onto a thread-local queue; every entry is popped here so nothing leaks into the next
// connection served by the same thread.
#include <openssl/err.h>

#include "tls/openssl_ptr.hpp"

namespace ns::tls::detail {

std::string drain_errors(const char* what) {
  std::string line = what;
  bool first = true;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    line += first ? ": " : "; ";
    first = false;
    if (reason != nullptr) {
      line += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      line += buf;
    }
  }
  return line;
}

}  // namespace ns::tls::detail
