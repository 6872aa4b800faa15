// SPDX-License-Identifier: MIT
#pragma once
// What ns_serve checks and loads before it binds anything: shared by a normal start and by
// --check-config, so that "configuration ok" means the same checks passed that a start runs.

#include <memory>
#include <string>

#include <network_server/tls.hpp>

#include "bin/access_log.hpp"
#include "bin/options.hpp"

namespace ns::serve {

/// Checks the document root, the bind address and the certificate files, makes the
/// development certificate when none is given, and loads the certificates and keys into the
/// TLS context every thread shares (@p tls; left empty with --plain). Binds nothing. On a
/// problem returns false with @p error set to one line naming the flag.
bool prepare(options& opt, std::shared_ptr<shared_tls>& tls, std::string& error);

/// Opens the --access-log target (nullptr when there is none); on failure returns nullptr and
/// sets @p error.
std::unique_ptr<access_log> open_access_log(const options& opt, std::string& error);

}  // namespace ns::serve
