// SPDX-License-Identifier: MIT
#include "bin/options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <span>
#include <string_view>
#include <thread>

#include "bin/config_file.hpp"
#include "cluster/redis_url.hpp"
#include "proxy/networks.hpp"

namespace ns::serve {
namespace {

bool parse_uint(std::string_view text, unsigned long max, unsigned long& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out <= max;
}

// A quantity in [lo, hi] of @p unit; otherwise @p error says so ("--flag: 'x' is not a number
// of KiB (0-16384)").
bool parse_amount(std::string_view text, unsigned long lo, unsigned long hi, const char* unit,
                  const std::string& flag, unsigned long& out, std::string& error) {
  if (parse_uint(text, hi, out) && out >= lo) return true;
  error = flag + ": '" + std::string(text) + "' is not a number of " + unit + " (" +
          std::to_string(lo) + "-" + std::to_string(hi) + ")";
  return false;
}

// A size in bytes with an optional K, M or G suffix (powers of 1024): "64M", "1G", "65536".
bool parse_size(std::string_view text, std::size_t& out) {
  constexpr std::string_view suffixes = "kmg";
  unsigned shift = 0;
  if (!text.empty()) {
    const std::size_t i = suffixes.find(static_cast<char>(text.back() | 0x20));  // lower case
    if (i != std::string_view::npos) {
      shift = 10 * static_cast<unsigned>(i + 1);
      text.remove_suffix(1);
    }
  }
  unsigned long n = 0;
  if (!parse_uint(text, (1ul << 50) >> shift, n)) return false;
  out = static_cast<std::size_t>(n) << shift;
  return true;
}

// "a, b" of CIDR blocks (proxy/networks.hpp), each checked; @p error: why not.
bool parse_networks(std::string_view text, std::vector<std::string>& out, std::string& error) {
  if (!proxy::split_list(text, out, error)) return false;
  for (const std::string& net : out) {
    if (!proxy::parse_network(net, error)) return false;
  }
  return true;
}

// "127.0.0.1:9100" or "[::1]:9100" into the address text a listener binds and a port.
bool parse_listen_address(std::string_view text, std::string& bind, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  std::array<std::uint8_t, 16> ip{};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!proxy::parse_ipv6(host, std::span<std::uint8_t, 16>(ip))) return false;
  } else if (!proxy::parse_ipv4(host, std::span<std::uint8_t, 4>(ip.data(), 4))) {
    return false;
  }
  if (!proxy::parse_port(text.substr(colon + 1), port) || port == 0) return false;
  bind = std::string(host);
  return true;
}

// "max_connections" and "max-connections" name the same setting.
std::string canonical(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

}  // namespace

std::string usage() {
  return "usage: ns_serve [options]\n"
         "Serves a directory over HTTPS (and WebSockets) from io_uring.\n"
         "\n"
         "  --config FILE      read settings from FILE: one 'key = value' per line, the names of\n"
         "                     these flags without '--' (flags given too override the file)\n"
         "  --bind ADDR        address to listen on (default 127.0.0.1)\n"
         "  --port N           TCP port, 0 for any free one (default 8443)\n"
         "  --root DIR         document root (default examples/public)\n"
         "  --cert FILE        certificate chain, PEM (default: a development certificate made\n"
         "                     on first run under certs/dev/)\n"
         "  --key FILE         private key of --cert, PEM; repeat --cert/--key pairs for SNI\n"
         "                     (each certificate serves the names in its SAN; the first is the\n"
         "                     default for unknown names)\n"
         "  --sni NAME:CERT:KEY  one more certificate pair for SNI (same as --cert CERT --key "
         "KEY)\n"
         "  --threads N        event loops, one per thread (default: number of cores)\n"
         "  --plain            serve plaintext HTTP (only behind a TLS-terminating proxy;\n"
         "                     default off)\n"
         "  --no-h2            offer only HTTP/1.1 in ALPN (default: h2 first, then http/1.1)\n"
         "  --max-connections N  per thread (default 10000)\n"
         "  --max-memory SIZE  cap on what connections hold in the whole process, e.g. 64M or\n"
         "                     1G: above it new connections are closed at accept and idle and\n"
         "                     then the largest slow connections are shed, down to 80 %\n"
         "                     (default: none)\n"
         "  --handshake-timeout S  seconds to finish the TLS handshake (default 10)\n"
         "  --header-timeout S     seconds to receive a request's headers (default 10)\n"
         "  --idle-timeout S       seconds a keep-alive connection may stay idle (default 60)\n"
         "  --shutdown-deadline S  seconds SIGTERM waits for queued responses (default 5)\n"
         "  --file-cache-mib N  memory for cached small files and file metadata, per thread\n"
         "                     (default 64; 0: no cache)\n"
         "  --file-cache-file-kib N  files up to N KiB are kept in memory by that cache\n"
         "                     (default 256, at most 16384); larger ones are read for every\n"
         "                     response. A miss of such a file reads it whole before\n"
         "                     sending it, one copy per connection that misses.\n"
         "  --large-reads-kib N  read a file in chunks of N KiB once its client keeps up\n"
         "                     (default 1024; 0: always 64 KiB)\n"
         "  --memory-trim-interval S  how often freed heap memory may be given back to the\n"
         "                     kernel (default 10; 0: never)\n"
         "  --tls-records WHO  who protects TLS 1.3 records after the handshake: own (the\n"
         "                     server's record layer, the default) or openssl (saves ~6 %\n"
         "                     per new connection; costs long-lived ones)\n"
         "  --proxy-protocol V  expect a PROXY protocol header (HAProxy send-proxy /\n"
         "                     send-proxy-v2) before each connection: off (the default), v1,\n"
         "                     v2 or any; the access log then shows the client it names\n"
         "  --proxy-from CIDR[,CIDR...]  the proxies' networks (e.g. 127.0.0.0/8,10.0.0.0/8);\n"
         "                     required with --proxy-protocol, others are refused at accept\n"
         "  --ws-deflate MODE  permessage-deflate: off, shared (one compressor per thread,\n"
         "                     the default) or dedicated (one per connection)\n"
         "  --ws-ping-interval S  ping a WebSocket client silent for S seconds (default 30;\n"
         "                     0: never)\n"
         "  --ws-idle-timeout S  close a WebSocket connection silent for S seconds (default\n"
         "                     60)\n"
         "  --log-level LEVEL  error log on stderr: debug, info, warn, error or off (default "
         "info)\n"
         "  --access-log FILE  one line per response in the combined log format, appended to\n"
         "                     FILE, or '-' for stdout (default: no access log)\n"
         "  --access-log-format F  combined (the default) or combined-port: each line then\n"
         "                     ends with the client's source port (behind a proxy: the one\n"
         "                     its PROXY header names)\n"
         "  --status-path PATH  answer GET PATH with JSON counters of all threads, e.g.\n"
         "                     /_status (default: off)\n"
         "  --metrics-path PATH  answer GET PATH with the counters and histograms of all\n"
         "                     threads in Prometheus' text format, e.g. /metrics (default: off)\n"
         "  --metrics-from CIDR[,CIDR...]  only these clients may read the metrics (others get\n"
         "                     403); default: anyone who can reach the listener\n"
         "  --metrics-listen ADDR:PORT  serve the metrics on their own plaintext listener (e.g.\n"
         "                     127.0.0.1:9100, [::1]:9100) instead of the site's; the path is\n"
         "                     --metrics-path, /metrics if not given\n"
         "  --redis URL        carry topics (/ws/chat rooms) to every other instance using\n"
         "                     the same Redis: redis://[user:password@]host[:port][/db] or\n"
         "                     unix:///path/redis.sock (default: none, topics stay in this\n"
         "                     process). Delivery between instances is at most once.\n"
         "  --check-config     check the configuration and exit: parses the flags and the\n"
         "                     --config file, loads the certificates and keys, checks the\n"
         "                     document root; binds nothing. Prints 'configuration ok' (exit\n"
         "                     0) or the first problem (exit 2)\n"
         "  --upgrade-binary PATH  the program SIGUSR2 starts to take over the listening\n"
         "                     sockets, with the same arguments (default: the one running,\n"
         "                     as /proc/self/exe named it at start)\n"
         "  --upgrade-timeout S  seconds the new program may take for --check-config and\n"
         "                     again to confirm it accepts (default 10); then the old one\n"
         "                     keeps serving\n"
         "  --drain-timeout S  after handing over, seconds WebSockets stay open before they\n"
         "                     are closed with 1001 (default 30); HTTP responses and\n"
         "                     downloads in flight finish regardless\n"
         "  --help             this text\n"
         "\n"
         "SIGINT/SIGTERM: graceful shutdown; SIGHUP: reload the certificates and reopen the\n"
         "access log file (after logrotate moved it); SIGUSR2: start --upgrade-binary, hand it\n"
         "the listening sockets, drain and exit 0.\n"
         "Exit status: 0 after a clean shutdown, 1 if a loop failed, 2 on a configuration error.\n";
}

bool setting_takes_value(std::string_view name) {
  const std::string n = canonical(name);
  return n != "plain" && n != "no-h2" && n != "help" && n != "check-config";
}

bool known_setting(std::string_view name) {
  static constexpr std::string_view names[] = {"help",
                                               "check-config",
                                               "plain",
                                               "no-h2",
                                               "bind",
                                               "port",
                                               "root",
                                               "cert",
                                               "key",
                                               "sni",
                                               "handshake-timeout",
                                               "header-timeout",
                                               "idle-timeout",
                                               "shutdown-deadline",
                                               "threads",
                                               "max-connections",
                                               "max-memory",
                                               "log-level",
                                               "access-log",
                                               "access-log-format",
                                               "status-path",
                                               "file-cache-mib",
                                               "file-cache-file-kib",
                                               "large-reads-kib",
                                               "memory-trim-interval",
                                               "tls-records",
                                               "proxy-protocol",
                                               "proxy-from",
                                               "ws-deflate",
                                               "ws-ping-interval",
                                               "ws-idle-timeout",
                                               "redis",
                                               "upgrade-binary",
                                               "upgrade-timeout",
                                               "drain-timeout",
                                               "metrics-path",
                                               "metrics-from",
                                               "metrics-listen",
                                               "config"};
  const std::string n = canonical(name);
  return std::find(std::begin(names), std::end(names), n) != std::end(names);
}

bool apply_setting(std::string_view name, std::string_view v, options& out, cert_list& certs,
                   std::string& error) {
  const std::string a = canonical(name);
  const std::string flag = "--" + a;
  if (setting_takes_value(a) && v.empty()) {
    error = flag + " needs a value";
    return false;
  }
  unsigned long n = 0;
  if (a == "help") {
    out.help = true;
  } else if (a == "check-config") {
    out.check_config = true;
  } else if (a == "plain") {
    out.server.plaintext = true;
  } else if (a == "no-h2") {
    out.server.tls.http2 = false;
  } else if (a == "bind") {
    out.server.bind_address = std::string(v);
  } else if (a == "port") {
    if (!parse_uint(v, 65535, n)) {
      error = flag + ": '" + std::string(v) + "' is not a port number (0-65535)";
      return false;
    }
    out.server.port = static_cast<std::uint16_t>(n);
  } else if (a == "root") {
    out.root = std::string(v);
  } else if (a == "cert") {
    certs.certs.emplace_back(v);
  } else if (a == "key") {
    certs.keys.emplace_back(v);
  } else if (a == "sni") {
    // NAME:CERT:KEY — the certificate's own SAN names decide what it serves; NAME documents
    // the intent on the command line.
    const auto c1 = v.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : v.find(':', c1 + 1);
    if (c2 == std::string_view::npos || c1 == 0 || c2 == c1 + 1 || c2 + 1 == v.size()) {
      error = flag + ": expected NAME:CERT:KEY, got '" + std::string(v) + "'";
      return false;
    }
    certs.certs.emplace_back(v.substr(c1 + 1, c2 - c1 - 1));
    certs.keys.emplace_back(v.substr(c2 + 1));
  } else if (a == "handshake-timeout" || a == "header-timeout" || a == "idle-timeout" ||
             a == "shutdown-deadline") {
    if (!parse_amount(v, 1, 86400, "seconds", flag, n, error)) return false;
    const std::chrono::milliseconds ms{static_cast<long long>(n) * 1000};
    if (a == "handshake-timeout") out.server.handshake_timeout = ms;
    if (a == "header-timeout") out.server.header_timeout = ms;
    if (a == "idle-timeout") out.server.idle_timeout = ms;
    if (a == "shutdown-deadline") out.server.shutdown_deadline = ms;
  } else if (a == "memory-trim-interval" || a == "ws-ping-interval") {
    if (!parse_amount(v, 0, 86400, "seconds", flag, n, error)) return false;
    const std::chrono::milliseconds ms{static_cast<long long>(n) * 1000};
    if (a == "memory-trim-interval") out.server.memory_trim_interval = ms;
    if (a == "ws-ping-interval") out.server.websocket.ping_interval = ms;
  } else if (a == "ws-idle-timeout") {
    if (!parse_amount(v, 1, 86400, "seconds", flag, n, error)) return false;
    out.server.websocket.idle_timeout = std::chrono::milliseconds{static_cast<long long>(n) * 1000};
  } else if (a == "tls-records") {
    if (v != "own" && v != "openssl") {
      error = flag + ": '" + std::string(v) + "' is not one of own, openssl";
      return false;
    }
    out.server.tls.own_record_layer = v == "own";
  } else if (a == "proxy-protocol") {
    static constexpr std::pair<std::string_view, proxy_protocol_mode> modes[] = {
        {"off", proxy_protocol_mode::off},
        {"v1", proxy_protocol_mode::v1},
        {"v2", proxy_protocol_mode::v2},
        {"any", proxy_protocol_mode::any}};
    const auto* m = std::find_if(std::begin(modes), std::end(modes),
                                 [&](const auto& e) { return e.first == v; });
    if (m == std::end(modes)) {
      error = flag + ": '" + std::string(v) + "' is not one of off, v1, v2, any";
      return false;
    }
    out.server.proxy_protocol.mode = m->second;
  } else if (a == "proxy-from") {
    std::vector<std::string> nets;
    if (!parse_networks(v, nets, error)) {
      error = flag + ": " + error;
      return false;
    }
    out.server.proxy_protocol.trusted = std::move(nets);
  } else if (a == "ws-deflate") {
    if (v == "off") {
      out.server.websocket.deflate = ws_deflate_mode::off;
    } else if (v == "shared") {
      out.server.websocket.deflate = ws_deflate_mode::shared;
    } else if (v == "dedicated") {
      out.server.websocket.deflate = ws_deflate_mode::dedicated;
    } else {
      error = flag + ": '" + std::string(v) + "' is not one of off, shared, dedicated";
      return false;
    }
  } else if (a == "file-cache-mib") {
    if (!parse_amount(v, 0, 1024 * 1024, "MiB", flag, n, error)) return false;
    out.server.files.cache_bytes = static_cast<std::size_t>(n) << 20;
  } else if (a == "file-cache-file-kib") {
    // Bounded: every connection that misses reads its own copy of the file before sending.
    if (!parse_amount(v, 0, 16 * 1024, "KiB", flag, n, error)) return false;
    out.server.files.cache_max_file_bytes = static_cast<std::size_t>(n) << 10;
  } else if (a == "large-reads-kib") {
    // The loop's budget for large buffers (16 MiB) grows to hold four, so that larger reads
    // do not leave all but a transfer or two on the small ones.
    if (!parse_amount(v, 0, 16 * 1024, "KiB", flag, n, error)) return false;
    out.server.files.large_read_chunk_bytes = static_cast<std::size_t>(n) << 10;
    out.server.files.large_read_budget_bytes = std::max(
        out.server.files.large_read_budget_bytes, 4 * out.server.files.large_read_chunk_bytes);
  } else if (a == "threads") {
    if (!parse_uint(v, 256, n) || n == 0) {
      error = flag + ": '" + std::string(v) + "' is not a number between 1 and 256";
      return false;
    }
    out.threads = static_cast<unsigned>(n);
  } else if (a == "max-connections") {
    if (!parse_uint(v, 1'000'000, n) || n == 0) {
      error = flag + ": '" + std::string(v) + "' is not a number between 1 and 1000000";
      return false;
    }
    out.server.max_connections = static_cast<unsigned>(n);
  } else if (a == "max-memory") {
    // At least 1 MiB: a smaller cap is a missing suffix ("64" for "64M"), not a plan.
    if (!parse_size(v, out.server.max_memory) || out.server.max_memory < (1u << 20)) {
      error = flag + ": '" + std::string(v) + "' is not a size of at least 1M (e.g. 64M, 1G)";
      return false;
    }
  } else if (a == "log-level") {
    if (!parse_log_level(v, out.level)) {
      error = flag + ": '" + std::string(v) + "' is not one of debug, info, warn, error, off";
      return false;
    }
  } else if (a == "access-log") {
    out.access_log = std::string(v);
  } else if (a == "access-log-format") {
    if (v == "combined") {
      out.access_format = access_log_format::combined;
    } else if (v == "combined-port") {
      out.access_format = access_log_format::combined_port;
    } else {
      error = flag + ": '" + std::string(v) + "' is not one of combined, combined-port";
      return false;
    }
  } else if (a == "status-path") {
    if (v.front() != '/' || v.find_first_of("?# ") != std::string_view::npos) {
      error = flag + ": '" + std::string(v) + "' is not a URL path (it starts with '/')";
      return false;
    }
    out.status_path = std::string(v);
  } else if (a == "upgrade-binary") {
    out.upgrade_binary = std::string(v);
  } else if (a == "upgrade-timeout" || a == "drain-timeout") {
    if (!parse_amount(v, a == "upgrade-timeout" ? 1 : 0, 86400, "seconds", flag, n, error)) {
      return false;
    }
    const std::chrono::milliseconds ms{static_cast<long long>(n) * 1000};
    (a == "upgrade-timeout" ? out.upgrade_timeout : out.drain_timeout) = ms;
  } else if (a == "metrics-path") {
    if (v.front() != '/' || v.find_first_of("?# ") != std::string_view::npos) {
      error = flag + ": '" + std::string(v) + "' is not a URL path (it starts with '/')";
      return false;
    }
    out.metrics_path = std::string(v);
  } else if (a == "metrics-from") {
    std::vector<std::string> nets;
    if (!parse_networks(v, nets, error)) {
      error = flag + ": " + error;
      return false;
    }
    out.metrics_from = std::move(nets);
  } else if (a == "metrics-listen") {
    if (!parse_listen_address(v, out.metrics_bind, out.metrics_port)) {
      error = flag + ": '" + std::string(v) +
              "' is not ADDR:PORT (an IPv4 address or [IPv6] and a port 1-65535)";
      return false;
    }
  } else if (a == "redis") {
    cluster::redis_endpoint where;
    std::string reason;
    if (!cluster::parse_redis_url(v, where, reason)) {
      error = flag + ": " + reason;  // not the URL itself: it may hold a password
      return false;
    }
    out.redis_url = std::string(v);
  } else {
    error = "unknown setting '" + std::string(name) + "'";
    return false;
  }
  return true;
}

bool parse_options(int argc, char** argv, options& out, std::string& error) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  // The file first, so that every flag overrides it whatever the order on the command line.
  cert_list file_certs;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--config") continue;
    if (i + 1 >= args.size()) {
      error = "--config needs a value";
      return false;
    }
    if (!out.config_file.empty()) {
      error = "--config given twice";
      return false;
    }
    out.config_file = std::string(args[i + 1]);
    if (!load_config_file(out.config_file, out, file_certs, error)) return false;
  }
  cert_list flag_certs;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-h") {
      out.help = true;
      continue;
    }
    if (a.size() < 3 || !a.starts_with("--")) {
      error = "unexpected argument '" + std::string(a) + "' (see --help)";
      return false;
    }
    const std::string_view name = a.substr(2);
    if (name == "config") {
      ++i;  // read above
      continue;
    }
    if (!known_setting(name)) {
      error = "unknown option '" + std::string(a) + "' (see --help)";
      return false;
    }
    std::string_view v;
    if (setting_takes_value(name)) {
      if (i + 1 >= args.size()) {
        error = std::string(a) + " needs a value";
        return false;
      }
      v = args[++i];
    }
    std::string reason;
    if (!apply_setting(name, v, out, flag_certs, reason)) {
      error = reason.starts_with("unknown setting")
                  ? "unknown option '" + std::string(a) + "' (see --help)"
                  : reason;
      return false;
    }
  }
  const cert_list& certs =
      flag_certs.certs.empty() && flag_certs.keys.empty() ? file_certs : flag_certs;
  if (certs.certs.size() != certs.keys.size()) {
    error = "--cert and --key go in pairs (" + std::to_string(certs.certs.size()) + " --cert, " +
            std::to_string(certs.keys.size()) + " --key)";
    return false;
  }
  for (std::size_t i = 0; i < certs.certs.size(); ++i) {
    out.server.tls.certificates.push_back({certs.certs[i], certs.keys[i]});
  }
  // A PROXY listener trusts only the networks named; naming them without the mode (or the
  // mode without them) is a mistake the server should not guess about.
  const proxy_protocol_config& pp = out.server.proxy_protocol;
  if (pp.mode != proxy_protocol_mode::off && pp.trusted.empty()) {
    error = "--proxy-protocol needs --proxy-from (the proxies' networks, e.g. 127.0.0.0/8)";
    return false;
  }
  if (pp.mode == proxy_protocol_mode::off && !pp.trusted.empty()) {
    error = "--proxy-from needs --proxy-protocol v1, v2 or any";
    return false;
  }
  if (!out.metrics_from.empty() && out.metrics_path.empty() && out.metrics_bind.empty()) {
    error = "--metrics-from needs --metrics-path or --metrics-listen";
    return false;
  }
  if (!out.metrics_bind.empty() && out.metrics_path.empty()) out.metrics_path = "/metrics";
  if (out.threads == 0) out.threads = std::max(1u, std::thread::hardware_concurrency());
  return true;
}

}  // namespace ns::serve
