// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's settings: command-line flags and the --config file (same names, same checks).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <network_server/config.hpp>
#include <network_server/log.hpp>

#include "bin/access_log.hpp"

namespace ns::serve {

struct options {
  server_config server;
  std::string root = "examples/public";
  unsigned threads = 0;  ///< 0: one per core
  log_level level = log_level::info;
  std::string dev_cert_dir = "certs/dev";
  std::string config_file;   ///< --config, empty if none
  std::string access_log;    ///< --access-log: a file, "-" for stdout, empty for none
  access_log_format access_format = access_log_format::combined;  ///< --access-log-format
  std::string status_path;   ///< --status-path: URL path of the JSON counters, empty for none
  std::string redis_url;     ///< --redis: topics across instances through this Redis, empty: local
  std::string metrics_path;  ///< --metrics-path: Prometheus text, empty for none
  std::vector<std::string> metrics_from;  ///< --metrics-from: allowed networks, empty: any
  std::string metrics_bind;        ///< --metrics-listen's address; empty: on the site's listener
  std::uint16_t metrics_port = 0;  ///< --metrics-listen's port
  bool help = false;
  bool check_config = false;   ///< --check-config: load and check everything, bind nothing, exit
  std::string upgrade_binary;  ///< --upgrade-binary; empty: what /proc/self/exe was at start
  std::chrono::milliseconds upgrade_timeout{10'000};  ///< --upgrade-timeout
  std::chrono::milliseconds drain_timeout{30'000};    ///< --drain-timeout: WebSockets' grace
};

/// Certificates gathered from one source (file or command line); flags replace the file's.
struct cert_list {
  std::vector<std::string> certs;
  std::vector<std::string> keys;
};

/// Applies one setting named @p name ("port", "cert", … — a flag without its leading "--";
/// '_' and '-' are the same) to @p out. @p value is empty for switches (plain, help), which
/// also accept "true"/"false" in a file. Returns false and sets @p error (without the
/// setting's origin) on an unknown name or a bad value.
bool apply_setting(std::string_view name, std::string_view value, options& out, cert_list& certs,
                   std::string& error);

/// True if the setting @p name takes a value (false for switches such as --plain).
bool setting_takes_value(std::string_view name);

/// True if @p name is a setting (flag without "--", '_' or '-').
bool known_setting(std::string_view name);

/// Parses argv: first the --config file if one is given, then the flags, which override it.
/// On a usage error returns false and sets @p error to one line (a file error names
/// FILE:LINE).
bool parse_options(int argc, char** argv, options& out, std::string& error);

/// The --help text: every flag and its default.
std::string usage();

}  // namespace ns::serve
