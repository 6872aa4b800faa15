// SPDX-License-Identifier: MIT
// ns_serve's --metrics-path: a known workload through real TLS clients (HTTPS requests, 404s,
// WSS messages of known sizes), then one scrape parsed by the real Prometheus parser
// (python3-prometheus-client, metrics_parse.py) and checked against the workload: counters
// exactly, histograms cumulative with _count and _sum matching. Also --metrics-from (403 for
// others) and --metrics-listen (its own plaintext listener).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

// The samples the parser read, keyed by name{sorted labels}, and the families' types.
struct parsed {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::string error;

  // The value of @p key, or -1 if absent (every value here is >= 0).
  [[nodiscard]] double at(const std::string& key) const {
    const auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
  // The sum of every sample named @p name (over its label sets: threads, kinds).
  [[nodiscard]] double total(const std::string& name) const {
    double sum = 0;
    for (const auto& [key, v] : samples) {
      if (key.compare(0, name.size() + 1, name + "{") == 0) sum += v;
    }
    return sum;
  }
};

parsed parse_with_prometheus_client(const std::string& text) {
  parsed p;
  temp_dir dir;
  const std::string file = dir.path() + "/metrics.txt";
  std::ofstream(file) << text;
  const std::string cmd = "/usr/bin/python3 " + source_path("tests/integration/metrics_parse.py") +
                          " " + file + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) {
    p.error = "popen failed";
    return p;
  }
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  if (::pclose(f) != 0) {
    p.error = "the parser refused the document: " + out;
    return p;
  }
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("TYPE ")) {
      std::istringstream t(line.substr(5));
      std::string name, type;
      t >> name >> type;
      p.types[name] = type;
      continue;
    }
    const auto space = line.rfind(' ');
    p.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return p;
}

// The buckets of one histogram series (@p name; @p labels: its other labels as the parser
// prints them, e.g. `direction="in"`, or ""), as (le, cumulative count) in numeric le order.
std::vector<std::pair<double, double>> buckets(const parsed& p, const std::string& name,
                                               const std::string& labels) {
  std::vector<std::pair<double, double>> by_le;
  for (const auto& [key, v] : p.samples) {
    if (!key.starts_with(name + "_bucket{")) continue;
    const auto le_at = key.find("le=\"");
    const auto le_end = key.find('"', le_at + 4);
    if (le_at == std::string::npos || le_end == std::string::npos) continue;
    if (!labels.empty() && key.find(labels) == std::string::npos) continue;
    const std::string le = key.substr(le_at + 4, le_end - le_at - 4);
    by_le.emplace_back(le == "+Inf" ? HUGE_VAL : std::stod(le), v);
  }
  std::sort(by_le.begin(), by_le.end());
  return by_le;
}

// Checks one histogram series: buckets non-decreasing (cumulative), +Inf == _count ==
// @p count. Returns its _sum.
double check_histogram(const parsed& p, const std::string& name, const std::string& labels,
                       double count) {
  const auto by_le = buckets(p, name, labels);
  EXPECT_GT(by_le.size(), 1u) << name << "{" << labels << "}";
  double last = 0;
  for (const auto& [le, v] : by_le) {
    EXPECT_GE(v, last) << name << "{" << labels << "} le=" << le << ": not cumulative";
    last = v;
  }
  EXPECT_TRUE(!by_le.empty() && std::isinf(by_le.back().first));
  EXPECT_EQ(last, count) << name << "{" << labels << "} le=+Inf";
  EXPECT_EQ(p.at(name + "_count{" + labels + "}"), count) << name << "{" << labels << "}";
  return p.at(name + "_sum{" + labels + "}");
}

// The cumulative count at le=@p le of a series; -1 if there is no such bucket.
double bucket(const parsed& p, const std::string& name, const std::string& labels, double le) {
  for (const auto& [bound, v] : buckets(p, name, labels)) {
    if (bound == le) return v;
  }
  return -1;
}

TEST(Metrics, KnownWorkloadThroughTheRealParser) {
  temp_dir root;
  root.write("index.html", "hello\n");
  served s = start_ns_serve({"--root", root.path(), "--threads", "2", "--log-level", "warn",
                             "--metrics-path", "/metrics", "--metrics-from", "127.0.0.0/8"});
  ASSERT_NE(s.port, 0) << (s.process ? s.process->stderr_text() : "");

  constexpr int pages = 12, missing = 5;
  for (int i = 0; i < pages; ++i) ASSERT_EQ(https_get(s.port, "/").status, 200);
  for (int i = 0; i < missing; ++i)
    ASSERT_EQ(https_get(s.port, "/nope" + std::to_string(i)).status, 404);

  // WSS echo: each message comes back, so it is counted in and out. No deflate: the sizes
  // below are what the histogram sees either way (it counts payloads before compression).
  const std::size_t sizes[] = {10, 100, 1000, 5000, 40000};
  constexpr int ws_clients = 2;
  double size_sum = 0;  // over all clients
  for (int c = 0; c < ws_clients; ++c) {
    ws_client w;
    ws_client::options o;
    o.path = "/ws/echo";
    ASSERT_TRUE(w.connect(s.port, o) && w.status() == 101) << w.error() << w.head();
    for (std::size_t n : sizes) {
      ASSERT_TRUE(w.send(ws::opcode::binary, make_payload(n, false)));
      const auto e = w.next_message();
      ASSERT_TRUE(e && e->data.size() == n);
      size_sum += static_cast<double>(n);
    }
  }

  const http_response r = https_get(s.port, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const parsed p = parse_with_prometheus_client(r.body);
  ASSERT_TRUE(p.error.empty()) << p.error;

  // Families and their types as the parser read them (counters lose "_total" there).
  EXPECT_EQ(p.types.at("ns_http_requests"), "counter");
  EXPECT_EQ(p.types.at("ns_connections_open"), "gauge");
  EXPECT_EQ(p.types.at("ns_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(p.at("ns_threads{}"), 2);

  // Connections: every https_get, every WebSocket, and the scrape's own; each a handshake.
  const double conns = pages + missing + ws_clients + 1;
  EXPECT_EQ(p.total("ns_connections_accepted_total"), conns);
  EXPECT_EQ(p.total("ns_tls_handshakes_total"), conns);
  // Requests: pages, 404s, upgrades and the scrape; responses: all but the scrape's own,
  // which is written after the counters were read.
  EXPECT_EQ(p.total("ns_http_requests_total"), pages + missing + ws_clients + 1);
  EXPECT_EQ(p.total("ns_http_responses_total"), pages + missing + ws_clients);
  EXPECT_EQ(p.total("ns_websocket_messages_received_total"), ws_clients * std::size(sizes));
  EXPECT_EQ(p.total("ns_websocket_messages_sent_total"), ws_clients * std::size(sizes));
  EXPECT_GE(p.total("ns_connections_open"), 1);             // the scrape's (the others close async)
  EXPECT_GT(p.total("ns_received_bytes_total"), size_sum);  // ciphertext of the messages
  EXPECT_GT(p.total("ns_sent_bytes_total"), size_sum);
  // Two threads, each its own series.
  EXPECT_GE(p.at("ns_http_requests_total{thread=\"0\"}"), 0);
  EXPECT_GE(p.at("ns_http_requests_total{thread=\"1\"}"), 0);
  EXPECT_GE(p.total("ns_file_cache_hits_total") + p.total("ns_file_cache_misses_total"), pages);

  // Request durations by status class: counts exact, sums plausible (above 0, below the
  // time the whole test could take per request).
  const double ok_sum =
      check_histogram(p, "ns_http_request_duration_seconds", "status_class=\"2xx\"", pages);
  EXPECT_GT(ok_sum, 0);
  EXPECT_LT(ok_sum, pages * 1.0);
  const double missing_sum =
      check_histogram(p, "ns_http_request_duration_seconds", "status_class=\"4xx\"", missing);
  EXPECT_GT(missing_sum, 0);
  EXPECT_LT(missing_sum, missing * 1.0);
  check_histogram(p, "ns_http_request_duration_seconds", "status_class=\"1xx\"", ws_clients);
  check_histogram(p, "ns_http_request_duration_seconds", "status_class=\"5xx\"", 0);

  // TLS handshakes: one observation per handshake, each a plausible duration.
  const double hs_sum = check_histogram(p, "ns_tls_handshake_duration_seconds", "", conns);
  EXPECT_GT(hs_sum, 0);
  EXPECT_LT(hs_sum, conns * 2.0);

  // WebSocket message sizes: exact sums and the buckets each size falls in.
  for (const char* dir : {"in", "out"}) {
    const std::string l = std::string("direction=\"") + dir + "\"";
    EXPECT_EQ(
        check_histogram(p, "ns_websocket_message_size_bytes", l, ws_clients * std::size(sizes)),
        size_sum);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 64), ws_clients * 1);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 256), ws_clients * 2);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 1024), ws_clients * 3);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 4096), ws_clients * 3);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 16384), ws_clients * 4);
    EXPECT_EQ(bucket(p, "ns_websocket_message_size_bytes", l, 65536), ws_clients * 5);
  }

  // Queued output: at least one send per response and echoed message, each with bytes.
  const double sends = p.at("ns_queued_output_bytes_count{}");
  EXPECT_GE(sends, pages + missing + ws_clients + ws_clients * std::size(sizes));
  check_histogram(p, "ns_queued_output_bytes", "", sends);
  EXPECT_GE(p.at("ns_queued_output_bytes_sum{}"), size_sum);  // the echoes at least

  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

TEST(Metrics, OthersThanMetricsFromGet403) {
  temp_dir root;
  root.write("index.html", "hello\n");
  served s = start_ns_serve({"--root", root.path(), "--threads", "1", "--log-level", "warn",
                             "--metrics-path", "/metrics", "--metrics-from", "10.0.0.0/8,::1"});
  ASSERT_NE(s.port, 0) << (s.process ? s.process->stderr_text() : "");
  const http_response r = https_get(s.port, "/metrics");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("ns_"), std::string::npos);
  EXPECT_EQ(https_get(s.port, "/").status, 200);  // the site itself is not affected
}

// A plaintext GET on 127.0.0.1:@p port; the whole response (the server closes after it).
std::string plain_get(std::uint16_t port, const std::string& target) {
  const int fd = tcp_connect(port);
  if (fd < 0) return "";
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return "";
  }
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(Metrics, OwnListenerServesOnlyTheMetrics) {
  temp_dir root;
  root.write("index.html", "hello\n");
  const std::uint16_t mport = free_port();
  ASSERT_NE(mport, 0);
  served s = start_ns_serve({"--root", root.path(), "--threads", "2", "--log-level", "warn",
                             "--metrics-listen", "127.0.0.1:" + std::to_string(mport)});
  ASSERT_NE(s.port, 0) << (s.process ? s.process->stderr_text() : "");
  EXPECT_NE(s.process->stdout_text().find("metrics on http://127.0.0.1:" + std::to_string(mport) +
                                          "/metrics"),
            std::string::npos);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(https_get(s.port, "/").status, 200);
  // The site's listener no longer has them: /metrics is just a missing file there.
  EXPECT_EQ(https_get(s.port, "/metrics").status, 404);

  const std::string got = plain_get(mport, "/metrics");
  ASSERT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got.substr(0, 200);
  const parsed p = parse_with_prometheus_client(got.substr(got.find("\r\n\r\n") + 4));
  ASSERT_TRUE(p.error.empty()) << p.error;
  // Only the site's loops are counted: its three pages and its one 404, not the scrape.
  EXPECT_EQ(p.at("ns_threads{}"), 2);
  EXPECT_EQ(p.total("ns_http_requests_total"), 4);
  EXPECT_EQ(p.at("ns_http_request_duration_seconds_count{status_class=\"2xx\"}"), 3);
  EXPECT_TRUE(plain_get(mport, "/other").starts_with("HTTP/1.1 404 "));
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace ns::test
