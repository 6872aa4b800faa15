// SPDX-License-Identifier: MIT
// ns_serve's pieces on their own: the combined-log-format line (escaping client-controlled
// fields), the access log's bound (drops instead of blocking), option precedence between the
// config file and flags, the status JSON, and the /ws/chat room → topic mapping.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "bin/access_log.hpp"
#include "bin/options.hpp"
#include "bin/socket_activation.hpp"
#include "bin/status.hpp"
#include "bin/status_memory.hpp"
#include "bin/ws_endpoints.hpp"
#include "support/process.hpp"

namespace ns::serve {
namespace {

http_request sample_request() {
  http_request r;
  r.method = "GET";
  r.target = "/a b\"c";
  r.version_major = 1;
  r.version_minor = 0;
  return r;
}

TEST(AccessLine, CombinedFormatWithEscapes) {
  http_request r = sample_request();
  std::vector<http_header> headers = {{"Referer", "https://x/\n\"evil"}, {"User-Agent", "ua\\1"}};
  r.headers = headers;
  http_response_info info;
  info.status = 404;
  info.bytes = 1234;
  info.peer = "10.1.2.3:5555";
  std::string line;
  format_access_line(line, r, info, 1'000'000'000);  // 2001-09-09T01:46:40Z
  EXPECT_EQ(line,
            "10.1.2.3 - - [09/Sep/2001:01:46:40 +0000] \"GET /a b\\x22c HTTP/1.0\" 404 1234 "
            "\"https://x/\\x0a\\x22evil\" \"ua\\x5c1\"\n");
}

TEST(AccessLine, MissingFieldsAreDashesAndIpv6PeerLosesBrackets) {
  const http_request r = sample_request();
  http_response_info info;
  info.peer = "[::1]:443";
  std::string line;
  format_access_line(line, r, info, 0);
  EXPECT_EQ(line.rfind("::1 - - [01/Jan/1970:00:00:00 +0000] ", 0), 0u) << line;
  EXPECT_NE(line.find("\" - 0 \"-\" \"-\"\n"), std::string::npos) << line;  // status unknown
}

TEST(AccessLine, CombinedPortEndsWithTheClientsSourcePort) {
  const http_request r = sample_request();
  http_response_info info;
  info.status = 101;
  for (const auto& [peer, tail] :
       {std::pair<const char*, std::string>{"127.0.0.2:40123", " 40123\n"},
        {"[fd00::7]:8", " 8\n"},
        {"", " -\n"}}) {
    info.peer = peer;
    std::string line;
    format_access_line(line, r, info, 0, access_log_format::combined_port);
    EXPECT_TRUE(line.ends_with("\"-\" \"-\"" + tail)) << line;
    std::string plain;
    format_access_line(plain, r, info, 0);
    EXPECT_EQ(line, plain.substr(0, plain.size() - 1) + tail);
  }
}

TEST(AccessLog, WritesLinesAndDropsBeyondItsBound) {
  ns::test::temp_dir dir;
  const std::string path = dir.path() + "/a.log";
  http_response_info info;
  info.status = 200;
  info.peer = "127.0.0.1:1";
  {
    access_log log(path);
    for (int i = 0; i < 100; ++i) log.log(sample_request(), info);
    EXPECT_EQ(log.dropped(), 0u);
  }  // the destructor writes what is queued
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 100);
  {
    access_log tiny(path, 10);  // smaller than one line: every line is dropped, none blocks
    for (int i = 0; i < 5; ++i) tiny.log(sample_request(), info);
    EXPECT_EQ(tiny.dropped(), 5u);
  }
  EXPECT_THROW(access_log(dir.path() + "/missing/dir/a.log"), std::runtime_error);
}

TEST(Options, FlagsOverrideTheConfigFileWhateverTheirOrder) {
  ns::test::temp_dir dir;
  const std::string conf =
      dir.write("s.conf",
                "port = 1234\nthreads = 3\ncert = f.crt\nkey = f.key\nplain = false\n"
                "idle_timeout = 7\n");
  const char* argv[] = {"ns_serve", "--port", "99",    "--config", conf.c_str(),
                        "--cert",   "c.crt",  "--key", "c.key"};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(9, const_cast<char**>(argv), o, err)) << err;
  EXPECT_EQ(o.server.port, 99);  // flag, although given before --config
  EXPECT_EQ(o.threads, 3u);      // file
  EXPECT_FALSE(o.server.plaintext);
  EXPECT_EQ(o.server.idle_timeout, std::chrono::seconds(7));
  ASSERT_EQ(o.server.tls.certificates.size(), 1u);  // flags' pairs replace the file's
  EXPECT_EQ(o.server.tls.certificates[0].cert_file, "c.crt");
}

TEST(Options, ConfigFileCertificatesWhenNoFlagsGiveThem) {
  ns::test::temp_dir dir;
  const std::string conf =
      dir.write("s.conf", "cert = a.crt\nkey = a.key\nsni = b.example:b.crt:b.key\n# done\n");
  const char* argv[] = {"ns_serve", "--config", conf.c_str()};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(argv), o, err)) << err;
  ASSERT_EQ(o.server.tls.certificates.size(), 2u);
  EXPECT_EQ(o.server.tls.certificates[1].key_file, "b.key");
}

TEST(Options, TuningFlagsReachTheServerConfig) {
  ns::test::temp_dir dir;
  const std::string conf = dir.write("s.conf", "ws_deflate = dedicated\nws_ping_interval = 0\n");
  const char* argv[] = {"ns_serve",   "--config",
                        conf.c_str(), "--file-cache-mib",
                        "0",          "--large-reads-kib",
                        "8192",       "--memory-trim-interval",
                        "0",          "--ws-idle-timeout",
                        "5",          "--tls-records",
                        "openssl",    "--file-cache-file-kib",
                        "1024"};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(15, const_cast<char**>(argv), o, err)) << err;
  EXPECT_EQ(o.server.files.cache_max_file_bytes, 1u << 20);
  EXPECT_FALSE(o.server.tls.own_record_layer);
  EXPECT_EQ(o.server.files.cache_bytes, 0u);
  EXPECT_EQ(o.server.files.large_read_chunk_bytes, 8u << 20);
  EXPECT_EQ(o.server.files.large_read_budget_bytes, 32u << 20);  // room for four
  EXPECT_EQ(o.server.memory_trim_interval, std::chrono::milliseconds(0));
  EXPECT_EQ(o.server.websocket.deflate, ns::ws_deflate_mode::dedicated);
  EXPECT_EQ(o.server.websocket.ping_interval, std::chrono::milliseconds(0));
  EXPECT_EQ(o.server.websocket.idle_timeout, std::chrono::seconds(5));

  const char* small[] = {"ns_serve", "--large-reads-kib", "0", "--ws-deflate", "off"};
  options d;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(small), d, err)) << err;
  EXPECT_EQ(d.server.files.large_read_chunk_bytes, 0u);  // never switch
  EXPECT_EQ(d.server.files.large_read_budget_bytes, 16u << 20);
  EXPECT_EQ(d.server.websocket.deflate, ns::ws_deflate_mode::off);
  EXPECT_TRUE(d.server.tls.own_record_layer);  // the default
  EXPECT_EQ(d.server.files.cache_max_file_bytes, 256u << 10);
}

TEST(Options, TuningFlagsRejectWhatTheyCannotMean) {
  const std::pair<const char*, const char*> bad[] = {
      {"--ws-deflate", "gzip"},     {"--ws-idle-timeout", "0"},
      {"--ws-ping-interval", "-1"}, {"--large-reads-kib", "65536"},
      {"--file-cache-mib", "lots"}, {"--memory-trim-interval", "86401"},
      {"--tls-records", "kernel"},  {"--file-cache-file-kib", "16385"}};
  for (const auto& [flag, value] : bad) {
    const char* argv[] = {"ns_serve", flag, value};
    options o;
    std::string err;
    EXPECT_FALSE(parse_options(3, const_cast<char**>(argv), o, err)) << flag << " " << value;
    EXPECT_EQ(err.rfind(std::string(flag) + ": '" + value + "'", 0), 0u) << err;
  }
}

TEST(Options, MaxMemoryTakesASizeFromTheFlagOrTheFile) {
  ns::test::temp_dir dir;
  const std::string conf = dir.write("s.conf", "max-memory = 1G\n");
  const char* from_file[] = {"ns_serve", "--config", conf.c_str()};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(from_file), o, err)) << err;
  EXPECT_EQ(o.server.max_memory, std::size_t{1} << 30);
  for (const auto& [text, bytes] : {std::pair<const char*, std::size_t>{"64M", 64u << 20},
                                    {"4096k", 4u << 20},
                                    {"2097152", 2u << 20}}) {
    const char* argv[] = {"ns_serve", "--config", conf.c_str(), "--max-memory", text};
    options f;
    ASSERT_TRUE(parse_options(5, const_cast<char**>(argv), f, err)) << err;
    EXPECT_EQ(f.server.max_memory, bytes) << text;  // the flag wins over the file
  }
  options none;
  const char* plain[] = {"ns_serve"};
  ASSERT_TRUE(parse_options(1, const_cast<char**>(plain), none, err)) << err;
  EXPECT_EQ(none.server.max_memory, 0u);  // no cap by default
  for (const char* bad : {"64", "lots", "64T", "-1M", "M", "100000000000G"}) {
    const char* argv[] = {"ns_serve", "--max-memory", bad};
    options b;
    EXPECT_FALSE(parse_options(3, const_cast<char**>(argv), b, err)) << bad;
    EXPECT_EQ(err.rfind(std::string("--max-memory: '") + bad + "'", 0), 0u) << err;
  }
}

TEST(Options, MetricsFromTheConfigFileAndFlags) {
  ns::test::temp_dir dir;
  const std::string conf =
      dir.write("s.conf", "metrics_path = /m\nmetrics_from = 127.0.0.0/8, ::1\n");
  const char* argv[] = {"ns_serve", "--config", conf.c_str(), "--metrics-listen", "[::1]:9100"};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(argv), o, err)) << err;
  EXPECT_EQ(o.metrics_path, "/m");
  EXPECT_EQ(o.metrics_from, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  EXPECT_EQ(o.metrics_bind, "::1");
  EXPECT_EQ(o.metrics_port, 9100);

  // --metrics-listen alone serves /metrics there.
  const char* listen_only[] = {"ns_serve", "--metrics-listen", "127.0.0.1:9100"};
  options l;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(listen_only), l, err)) << err;
  EXPECT_EQ(l.metrics_path, "/metrics");
  EXPECT_EQ(l.metrics_bind, "127.0.0.1");
}

TEST(Options, MetricsFlagsRejectWhatTheyCannotMean) {
  const std::pair<const char*, const char*> bad[] = {
      {"--metrics-path", "metrics"},          {"--metrics-path", "/m?x"},
      {"--metrics-from", "10.1.0.0/8"},       {"--metrics-from", "a,,b"},
      {"--metrics-listen", "127.0.0.1"},      {"--metrics-listen", "localhost:9100"},
      {"--metrics-listen", "127.0.0.1:0"},    {"--metrics-listen", "::1:9100"},
      {"--metrics-listen", "127.0.0.1:65536"}};
  for (const auto& [flag, value] : bad) {
    const char* argv[] = {"ns_serve", flag, value};
    options o;
    std::string err;
    EXPECT_FALSE(parse_options(3, const_cast<char**>(argv), o, err)) << flag << " " << value;
    EXPECT_EQ(err.rfind(std::string(flag) + ": ", 0), 0u) << err;
  }
  // Networks without anything to serve are a mistake, not a default.
  const char* argv[] = {"ns_serve", "--metrics-from", "127.0.0.1"};
  options o;
  std::string err;
  EXPECT_FALSE(parse_options(3, const_cast<char**>(argv), o, err));
  EXPECT_EQ(err, "--metrics-from needs --metrics-path or --metrics-listen");
}

TEST(Options, ProxyProtocolFlagsAndConfigFileReachTheServerConfig) {
  ns::test::temp_dir dir;
  const std::string conf =
      dir.write("s.conf", "proxy-protocol = v1\nproxy_from = 10.0.0.0/8, ::1\n");
  const char* argv[] = {"ns_serve", "--config", conf.c_str()};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(argv), o, err)) << err;
  EXPECT_EQ(o.server.proxy_protocol.mode, proxy_protocol_mode::v1);
  EXPECT_EQ(o.server.proxy_protocol.trusted, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  // Flags override the file: the list is replaced, not appended to.
  const char* flags[] = {"ns_serve", "--config",     conf.c_str(), "--proxy-protocol",
                         "v2",       "--proxy-from", "127.0.0.0/8"};
  options f;
  ASSERT_TRUE(parse_options(7, const_cast<char**>(flags), f, err)) << err;
  EXPECT_EQ(f.server.proxy_protocol.mode, proxy_protocol_mode::v2);
  EXPECT_EQ(f.server.proxy_protocol.trusted, (std::vector<std::string>{"127.0.0.0/8"}));
  const char* any[] = {"ns_serve", "--proxy-protocol", "any", "--proxy-from", "fd00::/8"};
  options a;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(any), a, err)) << err;
  EXPECT_EQ(a.server.proxy_protocol.mode, proxy_protocol_mode::any);
  options d;
  const char* none[] = {"ns_serve"};
  ASSERT_TRUE(parse_options(1, const_cast<char**>(none), d, err)) << err;
  EXPECT_EQ(d.server.proxy_protocol.mode, proxy_protocol_mode::off);  // the default
  const char* off[] = {"ns_serve", "--config",     conf.c_str(), "--proxy-protocol",
                       "off",      "--proxy-from", "127.0.0.1"};
  options o2;
  EXPECT_FALSE(parse_options(7, const_cast<char**>(off), o2, err));
  EXPECT_EQ(err, "--proxy-from needs --proxy-protocol v1, v2 or any");
}

TEST(Options, AccessLogFormatFromFlagOrFile) {
  ns::test::temp_dir dir;
  const std::string conf = dir.write("s.conf", "access_log_format = combined-port\n");
  const char* file[] = {"ns_serve", "--config", conf.c_str()};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(file), o, err)) << err;
  EXPECT_EQ(o.access_format, access_log_format::combined_port);
  const char* flag[] = {"ns_serve", "--config", conf.c_str(), "--access-log-format", "combined"};
  options f;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(flag), f, err)) << err;
  EXPECT_EQ(f.access_format, access_log_format::combined);
  const char* bad[] = {"ns_serve", "--access-log-format", "json"};
  options b;
  EXPECT_FALSE(parse_options(3, const_cast<char**>(bad), b, err));
  EXPECT_EQ(err, "--access-log-format: 'json' is not one of combined, combined-port");
}

TEST(Options, ProxyProtocolFlagsRejectWhatTheyCannotMean) {
  const std::pair<std::vector<const char*>, std::string> bad[] = {
      {{"--proxy-protocol", "v3", "--proxy-from", "127.0.0.1"},
       "--proxy-protocol: 'v3' is not one of off, v1, v2, any"},
      {{"--proxy-protocol", "v2"},
       "--proxy-protocol needs --proxy-from (the proxies' networks, e.g. 127.0.0.0/8)"},
      {{"--proxy-from", "127.0.0.1"}, "--proxy-from needs --proxy-protocol v1, v2 or any"},
      {{"--proxy-protocol", "v2", "--proxy-from", "10.1.0.0/8"},
       "--proxy-from: '10.1.0.0/8' has bits set after its prefix (did you mean 10.0.0.0/8?)"},
      {{"--proxy-protocol", "v2", "--proxy-from", "10.0.0.0/8,,::1"},
       "--proxy-from: empty entry in '10.0.0.0/8,,::1'"},
      {{"--proxy-protocol", "v2", "--proxy-from", "localhost"},
       "--proxy-from: 'localhost' is not an IPv4 or IPv6 network (ADDRESS or ADDRESS/BITS)"}};
  for (const auto& [args, message] : bad) {
    std::vector<const char*> argv{"ns_serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    options o;
    std::string err;
    EXPECT_FALSE(
        parse_options(static_cast<int>(argv.size()), const_cast<char**>(argv.data()), o, err))
        << message;
    EXPECT_EQ(err, message);
  }
}

TEST(StatusJson, ContainsEveryCounter) {
  server_stats s;
  s.connections_open = 1;
  s.connections_total = 2;
  s.requests = 3;
  s.ws_messages_out = 4;
  s.tls_resumptions = 5;
  s.cache_misses = 6;
  s.errors.timeouts = 7;
  s.connection_bytes = 9;
  s.memory.accounted = {1, 2, 3, 4, 5};
  s.memory.limit = 64;
  s.memory.shed_connections = 6;
  s.memory.refused = 7;
  s.topics.topics = 21;
  s.topics.subscriptions = 22;
  s.topics.published = 23;
  s.topics.delivered = 24;
  s.topics.dropped_slow = 25;
  s.errors.proxy = 9;
  s.moved_out = 31;
  s.moved_in = 32;
  s.moves_refused = 33;
  const std::string j = stats_json(s, 2, 8);
  EXPECT_EQ(j,
            "{\"threads\": 2, \"connections\": {\"open\": 1, \"buffer_bytes\": 9, \"total\": 2}, "
            "\"memory\": {\"limit\": 64, \"over_cap\": false, \"shed_connections\": 6, "
            "\"refused\": 7, \"accounted\": {\"tls\": 1, \"input\": 2, \"output\": 3, "
            "\"websocket\": 4, \"zlib\": 5, \"total\": 15}, \"largest\": []}, "
            "\"requests\": 3, "
            "\"responses\": 0, \"bytes\": {\"in\": 0, \"out\": 0}, \"websocket_messages\": "
            "{\"in\": 0, \"out\": 4}, \"tls\": {\"handshakes\": 0, \"resumptions\": 5}, "
            "\"cache\": {\"hits\": 0, \"misses\": 6}, "
            "\"moved_connections\": {\"out\": 31, \"in\": 32, \"refused\": 33}, "
            "\"errors\": {\"tls_handshake\": 0, "
            "\"tls\": 0, \"tls_truncated\": 0, \"socket\": 0, \"http\": 0, \"timeouts\": 7, "
            "\"websocket\": 0, \"proxy\": 9}, \"topics\": {\"topics\": 21, \"subscriptions\": 22, "
            "\"published\": 23, \"delivered\": 24, \"dropped_slow\": 25}, "
            "\"access_log_dropped\": 8}\n");
}

TEST(StatusJson, LargestConnectionsOfAllThreadsWithTheirKinds) {
  std::vector<connection_memory> all;
  connection_memory a{1, "127.0.0.1:1000", "ws", {100, 0, 5000, 0, 300}};
  connection_memory b{2, "[::1]:2000", "http", {200, 10, 0, 0, 0}};
  connection_memory c{3, "bad\"peer", "http", {1, 0, 0, 0, 0}};
  ns::serve::keep_largest(all, {b, c}, 2);
  ns::serve::keep_largest(all, {a}, 2);  // another thread's: merged, the smallest dropped
  ASSERT_EQ(all.size(), 2u);
  server_stats s;
  s.memory.over_cap = true;
  const std::string j = stats_json(s, 1, 0, nullptr, all);
  EXPECT_NE(j.find("\"over_cap\": true"), std::string::npos) << j;
  EXPECT_NE(
      j.find("\"largest\": [{\"peer\": \"127.0.0.1:1000\", \"kind\": \"ws\", \"tls\": 100, "
             "\"input\": 0, \"output\": 5000, \"websocket\": 0, \"zlib\": 300, \"total\": "
             "5400}, {\"peer\": \"[::1]:2000\", \"kind\": \"http\", \"tls\": 200, \"input\": 10, "
             "\"output\": 0, \"websocket\": 0, \"zlib\": 0, \"total\": 210}]}, "),
      std::string::npos)
      << j;
  EXPECT_EQ(j.find("bad"), std::string::npos);
  // A peer that is not an address is escaped, not trusted.
  const std::string k = stats_json(s, 1, 0, nullptr, std::vector<connection_memory>{c});
  EXPECT_NE(k.find("\"peer\": \"bad\\u0022peer\""), std::string::npos) << k;
  server_stats t;
  ns::serve::add_memory(t.memory, s.memory);
  EXPECT_TRUE(t.memory.over_cap);  // one loop over is the process over
}

TEST(StatusJson, RedisCountersWhenAnEngineRuns) {
  redis_engine_stats r;
  r.connected = true;
  r.channels = 1;
  r.published = 2;
  r.received = 3;
  r.own_echoes = 4;
  r.connects = 5;
  r.subscriber_disconnects = 6;
  r.publisher_disconnects = 7;
  r.dropped = {8, 9, 10, 11, 12, 13};
  const std::string j = stats_json(server_stats{}, 1, 0, &r);
  EXPECT_NE(j.find("\"redis\": {\"connected\": true, \"channels\": 1, \"published\": 2, "
                   "\"received\": 3, \"own_echoes\": 4, \"connects\": 5, "
                   "\"subscriber_disconnects\": 6, \"publisher_disconnects\": 7, \"dropped\": "
                   "{\"malformed\": 8, \"oversized\": 9, \"too_large\": 10, \"queue_full\": 11, "
                   "\"lost_in_flight\": 12, \"refused\": 13}}, \"access_log_dropped\": 0}\n"),
            std::string::npos)
      << j;
  EXPECT_EQ(stats_json(server_stats{}, 1, 0).find("redis"), std::string::npos);
}

TEST(Options, RedisFromTheFileOrTheFlag) {
  ns::test::temp_dir dir;
  const std::string conf = dir.write("s.conf", "redis = unix:///run/redis.sock?db=2\n");
  const char* file_only[] = {"ns_serve", "--config", conf.c_str()};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(3, const_cast<char**>(file_only), o, err)) << err;
  EXPECT_EQ(o.redis_url, "unix:///run/redis.sock?db=2");
  const char* both[] = {"ns_serve", "--config", conf.c_str(), "--redis", "redis://r:6380"};
  options o2;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(both), o2, err)) << err;
  EXPECT_EQ(o2.redis_url, "redis://r:6380");
  const std::string bad = dir.write("bad.conf", "\nredis = redis://:pw@\n");
  const char* bad_file[] = {"ns_serve", "--config", bad.c_str()};
  options o3;
  EXPECT_FALSE(parse_options(3, const_cast<char**>(bad_file), o3, err));
  EXPECT_EQ(err, bad + ":2: --redis: no host (expected redis://host[:port][/db])");
}

TEST(ChatTopic, ARoomIsATopicOfItsOwn) {
  EXPECT_EQ(chat_topic("/ws/chat?room=blue"), "chat/blue");
  EXPECT_EQ(chat_topic("/ws/chat?x=1&room=a.b_c~d-9Z"), "chat/a.b_c~d-9Z");
  EXPECT_EQ(chat_topic("/ws/chat"), "chat/lobby");
  EXPECT_EQ(chat_topic("/ws/chat?room="), "chat/lobby");
  EXPECT_EQ(chat_topic("/ws/chat?room=" + std::string(max_room_name, 'r')),
            "chat/" + std::string(max_room_name, 'r'));
}

TEST(ChatTopic, RefusesNamesThatAreTooLongOrNotUrlSafe) {
  EXPECT_FALSE(chat_topic("/ws/chat?room=" + std::string(max_room_name + 1, 'r')));
  EXPECT_FALSE(chat_topic("/ws/chat?room=a%20b"));  // encoded bytes are not decoded into names
  EXPECT_FALSE(chat_topic("/ws/chat?room=a/b"));
  EXPECT_FALSE(chat_topic("/ws/chat?room=a+b"));
  EXPECT_FALSE(chat_topic(std::string("/ws/chat?room=a\0b", 17)));
}

// The upgrade settings come from the config file too; flags override them.
TEST(Options, UpgradeSettingsFromFileAndFlags) {
  ns::test::temp_dir dir;
  const std::string conf = dir.write(
      "u.conf", "upgrade_binary = /opt/ns_serve\nupgrade-timeout = 3\ndrain_timeout = 0\n");
  const char* argv[] = {"ns_serve", "--config", conf.c_str(), "--upgrade-timeout", "7"};
  options o;
  std::string err;
  ASSERT_TRUE(parse_options(5, const_cast<char**>(argv), o, err)) << err;
  EXPECT_EQ(o.upgrade_binary, "/opt/ns_serve");
  EXPECT_EQ(o.upgrade_timeout, std::chrono::seconds(7));
  EXPECT_EQ(o.drain_timeout, std::chrono::seconds(0));
  options d;
  const char* none[] = {"ns_serve"};
  ASSERT_TRUE(parse_options(1, const_cast<char**>(none), d, err)) << err;
  EXPECT_EQ(d.upgrade_binary, "");
  EXPECT_EQ(d.upgrade_timeout, std::chrono::seconds(10));
  EXPECT_EQ(d.drain_timeout, std::chrono::seconds(30));
}

// sd_listen_fds(3): LISTEN_PID names the process the sockets are for; LISTEN_FDNAMES is
// optional but, when given, names every descriptor.
TEST(SocketActivation, ParsesTheListenVariablesLikeSdListenFds) {
  listen_env env;
  std::string err;
  ASSERT_TRUE(parse_listen_env("42", "2", nullptr, 42, env, err)) << err;
  EXPECT_EQ(env.count, 2);
  EXPECT_TRUE(env.names.empty());
  ASSERT_TRUE(parse_listen_env("42", "2", "https:alt", 42, env, err)) << err;
  EXPECT_EQ(env.names, (std::vector<std::string>{"https", "alt"}));
  ASSERT_TRUE(parse_listen_env("42", "1", "", 42, env, err)) << err;  // one unnamed
  EXPECT_EQ(env.names, (std::vector<std::string>{""}));
  // Not for us: the variables were meant for another process (e.g. our parent).
  ASSERT_TRUE(parse_listen_env("41", "2", nullptr, 42, env, err));
  EXPECT_EQ(env.count, 0);
  ASSERT_TRUE(parse_listen_env(nullptr, "2", nullptr, 42, env, err));
  EXPECT_EQ(env.count, 0);
  ASSERT_TRUE(parse_listen_env("42", nullptr, nullptr, 42, env, err));
  EXPECT_EQ(env.count, 0);
  EXPECT_FALSE(parse_listen_env("x42", "2", nullptr, 42, env, err));
  EXPECT_EQ(err, "LISTEN_PID: 'x42' is not a process id");
  EXPECT_FALSE(parse_listen_env("42", "-1", nullptr, 42, env, err));
  EXPECT_EQ(err, "LISTEN_FDS: '-1' is not a number of descriptors (0-1024)");
  EXPECT_FALSE(parse_listen_env("42", "2x", nullptr, 42, env, err));
  EXPECT_FALSE(parse_listen_env("42", "", nullptr, 42, env, err));
  EXPECT_FALSE(parse_listen_env("42", "2", "a:b:c", 42, env, err));
  EXPECT_EQ(err, "LISTEN_FDNAMES names 3 descriptor(s), LISTEN_FDS says 2");
}

// The variables are gone after reading (a program we start must not take our sockets), also
// when they were not for us.
TEST(SocketActivation, UnsetsTheVariablesAndChecksTheDescriptors) {
  std::vector<int> fds;
  std::string err;
  ::setenv("LISTEN_PID", "1", 1);
  ::setenv("LISTEN_FDS", "1", 1);
  ::setenv("LISTEN_FDNAMES", "x", 1);
  ASSERT_TRUE(take_activated_listeners("127.0.0.1", 0, fds, err)) << err;
  EXPECT_TRUE(fds.empty());
  for (const char* v : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) {
    EXPECT_EQ(std::getenv(v), nullptr) << v;
  }
  // Descriptor 3 is whatever this test process has there (a file, a pipe, the ring…) or
  // nothing: not a listening socket on 127.0.0.1 either way.
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDS", "1", 1);
  EXPECT_FALSE(take_activated_listeners("127.0.0.1", 0, fds, err));
  EXPECT_NE(err.find("inherited descriptor 3"), std::string::npos) << err;
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
}

TEST(SocketActivation, AListenerMustBeOnTheConfiguredAddressAndPort) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::string err;
  EXPECT_FALSE(listener_matches(fd, "127.0.0.1", 0, "fd", err)) << "bound, not listening";
  EXPECT_EQ(err, "fd is not a listening TCP socket");
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::uint16_t port = ntohs(a.sin_port);
  EXPECT_TRUE(listener_matches(fd, "127.0.0.1", port, "fd", err)) << err;
  EXPECT_TRUE(listener_matches(fd, "127.0.0.1", 0, "fd", err)) << err;
  EXPECT_FALSE(listener_matches(fd, "127.0.0.1", static_cast<std::uint16_t>(port + 1), "fd", err));
  EXPECT_EQ(err, "fd listens on 127.0.0.1:" + std::to_string(port) +
                     ", not on --bind 127.0.0.1 --port " + std::to_string(port + 1));
  EXPECT_FALSE(listener_matches(fd, "0.0.0.0", port, "fd", err));
  EXPECT_FALSE(listener_matches(fd, "::1", port, "fd", err));
  ::close(fd);
}

}  // namespace
}  // namespace ns::serve
