// SPDX-License-Identifier: MIT
// ns_serve's command line and --config file: every configuration error is one line on stderr
// and exit status 2; a config file works and flags override it; --access-log writes combined
// log format lines; --status-path answers JSON counters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/site_fixture.hpp"
#include "support/small_rsa_cert.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

struct outcome {
  int status = -1;
  std::string out;
  std::string err;
};

outcome run_ns_serve(std::vector<std::string> args,
                     const std::string& exe = binary_path("src/bin/ns_serve"),
                     std::optional<run_as> user = {}) {
  args.insert(args.begin(), exe);
  child_process p(args, user);
  outcome o;
  o.status = p.wait(std::chrono::seconds(20));
  o.out = p.stdout_text();
  o.err = p.stderr_text();
  return o;
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// A configuration error: exit 2, exactly one line on stderr containing @p needle, no usage dump.
void expect_config_error(const outcome& o, const std::string& needle) {
  EXPECT_EQ(o.status, 2) << o.err;
  EXPECT_EQ(count_lines(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find(needle), std::string::npos) << "stderr: " << o.err;
  EXPECT_EQ(o.err.rfind("ns_serve: ", 0), 0u) << o.err;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class NsServeCli : public ns_serve_site {
 protected:
  void SetUp() override { make_site("<!doctype html><title>cli</title>\n"); }
  // Arguments that would start a working server, before the one under test.
  std::vector<std::string> good(std::vector<std::string> extra) const {
    std::vector<std::string> a{"--port", "0",      "--threads", "1",     "--root",
                               root_,    "--cert", cert_,       "--key", key_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

TEST_F(NsServeCli, HelpDescribesEveryFlagWithDefaults) {
  const outcome o = run_ns_serve({"--help"});
  EXPECT_EQ(o.status, 0);
  for (const char* flag : {"--config",
                           "--check-config",
                           "--bind",
                           "--port",
                           "--root",
                           "--cert",
                           "--key",
                           "--sni",
                           "--threads",
                           "--plain",
                           "--max-connections",
                           "--handshake-timeout",
                           "--header-timeout",
                           "--idle-timeout",
                           "--shutdown-deadline",
                           "--file-cache-mib",
                           "--file-cache-file-kib",
                           "--large-reads-kib",
                           "--memory-trim-interval",
                           "--tls-records",
                           "--proxy-protocol",
                           "--proxy-from",
                           "--ws-deflate",
                           "--ws-ping-interval",
                           "--ws-idle-timeout",
                           "--log-level",
                           "--access-log",
                           "--access-log-format",
                           "--status-path",
                           "--redis",
                           "--upgrade-binary",
                           "--upgrade-timeout",
                           "--drain-timeout",
                           "--help"}) {
    EXPECT_NE(o.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(o.out.find("(default 8443)"), std::string::npos);
  EXPECT_NE(o.out.find("(default 127.0.0.1)"), std::string::npos);
}

TEST_F(NsServeCli, UnknownFlag) {
  expect_config_error(run_ns_serve(good({"--frobnicate"})), "unknown option '--frobnicate'");
  expect_config_error(run_ns_serve(good({"stray"})), "unexpected argument 'stray'");
}

TEST_F(NsServeCli, MissingOrBadValue) {
  expect_config_error(run_ns_serve(good({"--port"})), "--port needs a value");
  expect_config_error(run_ns_serve(good({"--port", "70000"})), "is not a port number");
  expect_config_error(run_ns_serve(good({"--threads", "0"})), "--threads: '0'");
  expect_config_error(run_ns_serve(good({"--log-level", "loud"})), "--log-level: 'loud'");
  expect_config_error(run_ns_serve(good({"--status-path", "status"})), "--status-path");
  expect_config_error(run_ns_serve(good({"--sni", "nocolons"})), "expected NAME:CERT:KEY");
  expect_config_error(run_ns_serve(good({"--redis", "redis://u:hunter2@h:70000"})),
                      "--redis: the port is not a number between 1 and 65535");
  expect_config_error(run_ns_serve(good({"--redis", "localhost:6379"})),
                      "--redis: expected redis://");
  EXPECT_EQ(run_ns_serve(good({"--redis", "redis://u:hunter2@h:70000"})).err.find("hunter2"),
            std::string::npos)
      << "the password is never echoed";
  expect_config_error(run_ns_serve({"--cert", cert_}), "--cert and --key go in pairs");
  expect_config_error(run_ns_serve(good({"--proxy-protocol", "v2"})),
                      "--proxy-protocol needs --proxy-from");
  expect_config_error(run_ns_serve(good({"--proxy-protocol", "v2", "--proxy-from", "10.0.0.1/8"})),
                      "--proxy-from: '10.0.0.1/8' has bits set after its prefix");
}

TEST_F(NsServeCli, MissingFiles) {
  expect_config_error(run_ns_serve(good({"--root", dir_.path() + "/nope"})),
                      "--root " + dir_.path() + "/nope is not a directory");
  expect_config_error(run_ns_serve({"--port", "0", "--root", root_, "--cert",
                                    dir_.path() + "/none.crt", "--key", key_}),
                      "--cert " + dir_.path() + "/none.crt: No such file or directory");
  expect_config_error(run_ns_serve({"--port", "0", "--root", root_, "--cert", cert_, "--key",
                                    dir_.path() + "/none.key"}),
                      "--key " + dir_.path() + "/none.key: No such file or directory");
  expect_config_error(run_ns_serve({"--config", dir_.path() + "/none.conf"}),
                      "--config " + dir_.path() + "/none.conf: No such file or directory");
  expect_config_error(run_ns_serve(good({"--access-log", dir_.path() + "/no/dir/access.log"})),
                      "--access-log " + dir_.path() + "/no/dir/access.log");
}

TEST_F(NsServeCli, UnusableKey) {
  const std::string bad = dir_.write("garbage.key",
                                     "-----BEGIN "
                                     "PRIVATE KEY-----\nnope\n");
  const outcome o = run_ns_serve({"--port", "0", "--root", root_, "--cert", cert_, "--key", bad});
  expect_config_error(o, "garbage.key");
  // A path that exists but is no key file.
  expect_config_error(
      run_ns_serve({"--port", "0", "--root", root_, "--cert", cert_, "--key", root_}),
      "--key " + root_);
  // A key that is readable but belongs to another certificate.
  const std::string other_cert = dir_.path() + "/other.crt";
  const std::string other_key = dir_.path() + "/other.key";
  tls::write_pem_files(tls::make_self_signed(), other_cert, other_key);
  expect_config_error(
      run_ns_serve({"--port", "0", "--root", root_, "--cert", cert_, "--key", other_key}),
      "other.key");
}

// An RSA-1024 certificate is below security level 2: a configuration error that names the
// files and OpenSSL's reason, not a start. Also when the system's openssl.cnf lowers the
// default level to 1 (upstream OpenSSL 3.0's default): the server asks for 2 itself.
TEST_F(NsServeCli, Rsa1024CertificateIsRefused) {
  const small_rsa_cert weak = make_small_rsa_cert("localhost");
  const std::string cert = dir_.path() + "/weak.crt";
  const std::string key = dir_.path() + "/weak.key";
  tls::write_pem_files({weak.cert_pem, weak.key_pem}, cert, key);
  const std::vector<std::string> args{"--port", "0", "--root", root_, "--cert", cert, "--key", key};
  const std::string conf = dir_.write("level1.cnf",
                                      "openssl_conf = openssl_init\n"
                                      "[openssl_init]\nssl_conf = ssl_sect\n"
                                      "[ssl_sect]\nsystem_default = system_default_sect\n"
                                      "[system_default_sect]\nCipherString = DEFAULT@SECLEVEL=1\n");
  std::vector<std::string> with_level1{"OPENSSL_CONF=" + conf, binary_path("src/bin/ns_serve")};
  with_level1.insert(with_level1.end(), args.begin(), args.end());
  for (const outcome& o : {run_ns_serve(args), run_ns_serve(with_level1, "/usr/bin/env")}) {
    expect_config_error(o, "cannot use --cert " + cert + " --key " + key + ": ");
    EXPECT_NE(o.err.find("ee key too small"), std::string::npos) << o.err;
  }
}

// A key file the server's user may not read. Run as root, the test starts ns_serve as nobody
// (uid/gid 65534 on Debian; setuid needs no passwd entry), so the check runs in CI too: root
// itself reads files whatever their mode. The temp dir is opened to that user and ns_serve is
// copied into it, as the build tree's path may not be traversable by nobody (e.g. under /root).
TEST_F(NsServeCli, UnreadableKey) {
  const std::string locked = dir_.path() + "/locked.key";
  std::filesystem::copy_file(key_, locked);
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  std::string exe = binary_path("src/bin/ns_serve");
  std::optional<run_as> user;
  if (::geteuid() == 0) {
    user = run_as{65534, 65534};
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
    const std::string copy = dir_.path() + "/ns_serve";
    std::filesystem::copy_file(exe, copy);
    ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
    exe = copy;
  }
  expect_config_error(
      run_ns_serve({"--port", "0", "--root", root_, "--cert", cert_, "--key", locked}, exe, user),
      "--key " + locked + ": Permission denied");
}

TEST_F(NsServeCli, BusyPort) {
  // A listener without SO_REUSEPORT owns the port: ns_serve's bind must fail.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  const outcome o = run_ns_serve(good({"--port", port}));
  ::close(fd);
  expect_config_error(o, "Address already in use");
}

// A port a listener without SO_REUSEPORT owns (nobody else can bind it); closed by the destructor.
struct busy_port {
  busy_port() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::listen(fd, 1) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = std::to_string(ntohs(addr.sin_port));
    }
  }
  ~busy_port() { ::close(fd); }
  busy_port(const busy_port&) = delete;
  busy_port& operator=(const busy_port&) = delete;
  int fd = -1;
  std::string port;
};

// --check-config loads what a start loads and binds nothing: a busy port is no problem for it
// (a start on that port fails), and the flags may come from a config file too.
TEST_F(NsServeCli, CheckConfigSaysOkAndBindsNothing) {
  const busy_port busy;
  ASSERT_FALSE(busy.port.empty());
  expect_config_error(run_ns_serve(good({"--port", busy.port})), "Address already in use");
  const outcome o = run_ns_serve(good({"--port", busy.port, "--check-config"}));
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "ns_serve: configuration ok\n");
  EXPECT_EQ(o.err, "");
  const std::string conf = dir_.write(
      "ok.conf", "port = " + busy.port + "\nroot = " + root_ + "\ncert = " + cert_ +
                     "\nkey = " + key_ + "\naccess_log = " + dir_.path() + "/access.log\n");
  const outcome f = run_ns_serve({"--config", conf, "--check-config"});
  EXPECT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, "ns_serve: configuration ok\n");
}

// The first problem, in one line, exit 2: the same messages as a start gives.
TEST_F(NsServeCli, CheckConfigReportsTheFirstProblem) {
  const std::string other_cert = dir_.path() + "/other.crt";
  const std::string other_key = dir_.path() + "/other.key";
  tls::write_pem_files(tls::make_self_signed(), other_cert, other_key);
  // Loaded, not only opened: the key belongs to another certificate.
  expect_config_error(run_ns_serve({"--check-config", "--port", "0", "--root", root_, "--cert",
                                    cert_, "--key", other_key}),
                      "cannot use --cert " + cert_ + " --key " + other_key + ": ");
  expect_config_error(run_ns_serve(good({"--check-config", "--root", dir_.path() + "/nope"})),
                      "--root " + dir_.path() + "/nope is not a directory");
  expect_config_error(run_ns_serve(good({"--check-config", "--bind", "localhost"})),
                      "--bind: invalid address 'localhost'");
  expect_config_error(
      run_ns_serve(good({"--check-config", "--access-log", dir_.path() + "/no/dir/a.log"})),
      "--access-log " + dir_.path() + "/no/dir/a.log");
  expect_config_error(run_ns_serve(good({"--check-config", "--threads", "0"})), "--threads: '0'");
  expect_config_error(run_ns_serve(good({"--check-config", "--upgrade-timeout", "0"})),
                      "--upgrade-timeout: '0' is not a number of seconds (1-86400)");
  expect_config_error(run_ns_serve(good({"--check-config", "--drain-timeout", "x"})),
                      "--drain-timeout: 'x' is not a number of seconds (0-86400)");
  const std::string conf = dir_.write("check.conf", "check_config = true\n");
  expect_config_error(run_ns_serve({"--config", conf}),
                      conf + ":1: 'check_config' is not allowed in a config file");
}

TEST_F(NsServeCli, ConfigFileErrorsNameFileAndLine) {
  const std::string unknown = dir_.write("unknown.conf", "# comment\n\nport = 0\nfrob = 1\n");
  expect_config_error(run_ns_serve({"--config", unknown}), unknown + ":4: unknown setting 'frob'");
  const std::string bad = dir_.write("bad.conf", "threads = 1\nport = abc\n");
  expect_config_error(run_ns_serve({"--config", bad}),
                      bad + ":2: --port: 'abc' is not a port number");
  const std::string shape = dir_.write("shape.conf", "port 8443\n");
  expect_config_error(run_ns_serve({"--config", shape}), shape + ":1: expected 'key = value'");
  const std::string sw = dir_.write("switch.conf", "plain = maybe\n");
  expect_config_error(run_ns_serve({"--config", sw}), sw + ":1: plain: expected true or false");
  const std::string empty = dir_.write("empty.conf", "root =\n");
  expect_config_error(run_ns_serve({"--config", empty}), empty + ":1: --root needs a value");
}

// The WebSocket upgrade answer of /ws/echo to a client offering permessage-deflate.
http_response upgrade_offering_deflate(std::uint16_t port) {
  tls_client c;
  if (!c.connect(port)) return {};
  c.write(
      "GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
  return c.read_response();
}

TEST_F(NsServeCli, WsDeflateFlagDecidesWhetherDeflateIsAgreed) {
  for (const bool off : {false, true}) {
    served s = start_ns_serve(off ? good({"--ws-deflate", "off"}) : good({}));
    ASSERT_NE(s.port, 0) << s.process->stderr_text();
    const http_response r = upgrade_offering_deflate(s.port);
    EXPECT_EQ(r.status, 101);
    EXPECT_EQ(r.headers.count("sec-websocket-extensions"), off ? 0u : 1u) << "off=" << off;
    EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0) << s.process->stderr_text();
  }
}

TEST_F(NsServeCli, ConfigFileFlagsOverrideAccessLogAndStatus) {
  const std::string log = dir_.path() + "/access.log";
  // port = 1 in the file is overridden by start_ns_serve's --port 0; log-level too.
  const std::string conf =
      dir_.write("serve.conf", "port = 1\nthreads = 2\nroot = " + root_ + "\ncert = " + cert_ +
                                   "\nkey = " + key_ + "\naccess_log = " + log +
                                   "\nstatus-path = /_status\nlog-level = debug\n");
  served s = start_ns_serve({"--config", conf, "--log-level", "warn"});
  ASSERT_NE(s.port, 0) << s.process->stderr_text();
  EXPECT_NE(s.process->stdout_text().find("with 2 thread(s)"), std::string::npos);
  {
    tls_client c;
    ASSERT_TRUE(c.connect(s.port)) << c.error();
    ASSERT_TRUE(
        c.write("GET /index.html HTTP/1.1\r\nHost: localhost\r\nUser-Agent: cli-test\r\n"
                "Referer: https://x/\"q\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 200);
    ASSERT_TRUE(c.write("GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 404);
    ASSERT_TRUE(c.write("GET /_status HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const http_response r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_NE(r.body.find("\"threads\": 2"), std::string::npos) << r.body;
    // Both earlier requests were counted by the summed counters (the third is in progress).
    EXPECT_NE(r.body.find("\"requests\": 3"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"responses\": 2"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"handshakes\": 1"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"open\": 1"), std::string::npos) << r.body;
  }
  // logrotate: move the file away, SIGHUP, and the next line goes to a new file at the path.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the writer flushes each 200 ms
  ASSERT_EQ(::rename(log.c_str(), (log + ".1").c_str()), 0);
  ASSERT_EQ(::kill(s.process->pid(), SIGHUP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    tls_client c;
    ASSERT_TRUE(c.connect(s.port)) << c.error();
    ASSERT_TRUE(c.write("GET /after-rotation HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 404);
  }
  // A debug log level from the file would have logged per-connection lines; --log-level warn won.
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0) << s.process->stderr_text();
  const std::string rotated = slurp(log);
  EXPECT_EQ(count_lines(rotated), 1u) << rotated;
  EXPECT_NE(rotated.find("\"GET /after-rotation HTTP/1.1\" 404 "), std::string::npos) << rotated;
  const std::string lines = slurp(log + ".1");
  EXPECT_EQ(count_lines(lines), 3u) << lines;
  EXPECT_NE(lines.find("127.0.0.1 - - ["), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"GET /index.html HTTP/1.1\" 200 "), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"https://x/\\x22q\" \"cli-test\"\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"GET /missing HTTP/1.1\" 404 "), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"GET /_status HTTP/1.1\" 200 "), std::string::npos) << lines;
}

}  // namespace
}  // namespace ns::test
