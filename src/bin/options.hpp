// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's command line.

#include <string>
#include <vector>

#include <network_server/config.hpp>
#include <network_server/log.hpp>

namespace ns::serve {

struct options {
  server_config server;
  std::string root = "examples/public";
  unsigned threads = 0;  ///< 0: one per core
  log_level level = log_level::info;
  std::string dev_cert_dir = "certs/dev";
  bool help = false;
};

/// Parses argv. On a usage error returns false and sets @p error to one line.
bool parse_options(int argc, char** argv, options& out, std::string& error);

/// The --help text.
std::string usage();

}  // namespace ns::serve
