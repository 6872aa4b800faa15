// SPDX-License-Identifier: MIT
#include "bin/options.hpp"

#include <charconv>
#include <string_view>
#include <thread>

namespace ns::serve {
namespace {

bool parse_uint(std::string_view text, unsigned long max, unsigned long& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out <= max;
}

}  // namespace

std::string usage() {
  return
      "usage: ns_serve [options]\n"
      "Serves a directory over HTTPS (and WebSockets) from io_uring.\n"
      "\n"
      "  --bind ADDR        address to listen on (default 127.0.0.1)\n"
      "  --port N           TCP port (default 8443)\n"
      "  --root DIR         document root (default examples/public)\n"
      "  --cert FILE        certificate chain, PEM (default: a development certificate made\n"
      "                     on first run under certs/dev/)\n"
      "  --key FILE         private key of --cert, PEM\n"
      "  --threads N        event loops, one per thread (default: number of cores)\n"
      "  --plain            serve plaintext HTTP (only behind a TLS-terminating proxy)\n"
      "  --max-connections N  per thread (default 10000)\n"
      "  --log-level LEVEL  debug, info, warn, error or off (default info)\n"
      "  --help             this text\n";
}

bool parse_options(int argc, char** argv, options& out, std::string& error) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string cert;
  std::string key;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string_view& v) {
      if (i + 1 >= args.size()) {
        error = std::string(a) + " needs a value";
        return false;
      }
      v = args[++i];
      return true;
    };
    std::string_view v;
    unsigned long n = 0;
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (a == "--plain") {
      out.server.plaintext = true;
    } else if (a == "--bind") {
      if (!value(v)) return false;
      out.server.bind_address = std::string(v);
    } else if (a == "--port") {
      if (!value(v)) return false;
      if (!parse_uint(v, 65535, n)) {
        error = "--port: '" + std::string(v) + "' is not a port number (0-65535)";
        return false;
      }
      out.server.port = static_cast<std::uint16_t>(n);
    } else if (a == "--root") {
      if (!value(v)) return false;
      out.root = std::string(v);
    } else if (a == "--cert") {
      if (!value(v)) return false;
      cert = std::string(v);
    } else if (a == "--key") {
      if (!value(v)) return false;
      key = std::string(v);
    } else if (a == "--threads") {
      if (!value(v)) return false;
      if (!parse_uint(v, 256, n) || n == 0) {
        error = "--threads: '" + std::string(v) + "' is not a number between 1 and 256";
        return false;
      }
      out.threads = static_cast<unsigned>(n);
    } else if (a == "--max-connections") {
      if (!value(v)) return false;
      if (!parse_uint(v, 1'000'000, n) || n == 0) {
        error = "--max-connections: '" + std::string(v) + "' is not a number between 1 and 1000000";
        return false;
      }
      out.server.max_connections = static_cast<unsigned>(n);
    } else if (a == "--log-level") {
      if (!value(v)) return false;
      if (!parse_log_level(v, out.level)) {
        error = "--log-level: '" + std::string(v) + "' is not one of debug, info, warn, error, off";
        return false;
      }
    } else {
      error = "unknown option '" + std::string(a) + "' (see --help)";
      return false;
    }
  }
  if (cert.empty() != key.empty()) {
    error = "--cert and --key go together";
    return false;
  }
  if (!cert.empty()) out.server.tls.certificates.push_back({cert, key});
  if (out.threads == 0) out.threads = std::max(1u, std::thread::hardware_concurrency());
  return true;
}

}  // namespace ns::serve
