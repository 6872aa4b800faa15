// SPDX-License-Identifier: MIT
#include "bin/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

namespace ns::serve {
namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool load_config_file(const std::string& path, options& out, cert_list& certs, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "--config " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  for (unsigned number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) {
      error = where + "expected 'key = value', got '" + std::string(text) + "'";
      return false;
    }
    const std::string_view key = trim(text.substr(0, eq));
    std::string_view value = trim(text.substr(eq + 1));
    // A value may be quoted to keep leading/trailing blanks or a '#'.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "config" || key == "help" || key == "check-config" || key == "check_config") {
      error = where + "'" + std::string(key) + "' is not allowed in a config file";
      return false;
    }
    if (!setting_takes_value(key) && (value == "false" || value == "no" || value == "0")) {
      continue;  // a switch turned off: the default
    }
    if (!setting_takes_value(key) && value != "true" && value != "yes" && value != "1" &&
        value != "") {
      error =
          where + std::string(key) + ": expected true or false, got '" + std::string(value) + "'";
      return false;
    }
    std::string reason;
    if (!apply_setting(key, setting_takes_value(key) ? value : std::string_view{}, out, certs,
                       reason)) {
      error = where + reason;
      return false;
    }
  }
  return true;
}

}  // namespace ns::serve
