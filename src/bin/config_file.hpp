// SPDX-License-Identifier: MIT
#pragma once
// ns_serve --config FILE: one `key = value` setting per line, the same names as the flags
// without "--" (port = 8443, cert = a.crt, plain = true). '#' starts a comment line; blank
// lines are ignored; `cert`/`key`/`sni` may repeat.

#include <string>

#include "bin/options.hpp"

namespace ns::serve {

/// Reads @p path into @p out. Returns false with a one-line @p error "FILE:LINE: reason" on an
/// unknown key, a bad value or a malformed line ("FILE: reason" if the file cannot be read).
bool load_config_file(const std::string& path, options& out, cert_list& certs, std::string& error);

}  // namespace ns::serve
