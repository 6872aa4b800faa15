// SPDX-License-Identifier: MIT
#include "bin/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "bin/metrics.hpp"

namespace ns::serve::prom {
namespace {

TEST(PrometheusText, FamilyHasHelpAndTypeThenSamples) {
  std::string out;
  text_writer w(out);
  w.family("ns_x_total", metric_type::counter, "Things.");
  w.sample("ns_x_total", {label{"thread", "0"}}, std::uint64_t{3});
  w.sample("ns_x_total", {label{"thread", "1"}, label{"kind", "tls"}},
           std::numeric_limits<std::uint64_t>::max());
  w.family("ns_up", metric_type::gauge, "Up.");
  w.sample("ns_up", {}, std::uint64_t{1});
  EXPECT_EQ(out,
            "# HELP ns_x_total Things.\n"
            "# TYPE ns_x_total counter\n"
            "ns_x_total{thread=\"0\"} 3\n"
            "ns_x_total{thread=\"1\",kind=\"tls\"} 18446744073709551615\n"
            "# HELP ns_up Up.\n"
            "# TYPE ns_up gauge\n"
            "ns_up 1\n");
}

TEST(PrometheusText, LabelValuesAndHelpAreEscaped) {
  std::string out;
  text_writer w(out);
  w.family("m", metric_type::gauge, "a \\ b\nc \"q\"");
  w.sample("m", {label{"l", "x\\y\"z\nw"}}, std::uint64_t{0});
  EXPECT_EQ(out,
            "# HELP m a \\\\ b\\nc \"q\"\n"  // HELP keeps the quote
            "# TYPE m gauge\n"
            "m{l=\"x\\\\y\\\"z\\nw\"} 0\n");
}

TEST(PrometheusText, FloatingValuesIncludingSpecialOnes) {
  std::string out;
  text_writer w(out);
  const label none[] = {label{"a", "b"}};
  w.sample("f", std::span<const label>(none), 0.25);
  w.sample("f", std::span<const label>{}, std::numeric_limits<double>::infinity());
  w.sample("f", std::span<const label>{}, -std::numeric_limits<double>::infinity());
  w.sample("f", std::span<const label>{}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out, "f{a=\"b\"} 0.25\nf +Inf\nf -Inf\nf NaN\n");
}

TEST(PrometheusText, HistogramIsCumulativeInBaseUnits) {
  static constexpr std::uint64_t bounds[] = {250'000, 1'000'000};  // ns
  static constexpr histogram_layout layout{bounds, 1e9};
  histogram h(layout);
  h.observe(100'000);
  h.observe(250'000);
  h.observe(600'000);
  h.observe(3'000'000'000);
  std::string out;
  text_writer w(out);
  w.histogram("d_seconds", {label{"c", "2xx"}}, h);
  EXPECT_EQ(out,
            "d_seconds_bucket{c=\"2xx\",le=\"0.00025\"} 2\n"
            "d_seconds_bucket{c=\"2xx\",le=\"0.001\"} 3\n"
            "d_seconds_bucket{c=\"2xx\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{c=\"2xx\"} 3.00095\n"
            "d_seconds_count{c=\"2xx\"} 4\n");
}

TEST(PrometheusText, HistogramWithoutLabelsAndSmallBounds) {
  std::string out;
  text_writer w(out);
  histogram h(duration_layout);
  w.histogram("h", {}, h);
  // The smallest duration bound is written plainly, not as 1e-04.
  EXPECT_EQ(out.substr(0, out.find('\n')), "h_bucket{le=\"0.0001\"} 0");
  EXPECT_NE(out.find("h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"), std::string::npos);
}

TEST(MetricsText, PerThreadLabelsAndSummedHistograms) {
  thread_sample a, b;
  a.stats.requests = 5;
  b.stats.requests = 7;
  a.stats.errors.timeouts = 2;
  b.cache.hits = 9;
  a.stats.histograms.request_seconds[2].observe(1'000);
  b.stats.histograms.request_seconds[2].observe(2'000);
  b.stats.histograms.request_seconds[4].observe(3'000);
  const thread_sample both[] = {a, b};
  const std::string t = metrics_text(both, process_sample{});
  EXPECT_NE(t.find("ns_threads 2\n"), std::string::npos);
  EXPECT_NE(t.find("ns_http_requests_total{thread=\"0\"} 5\n"), std::string::npos);
  EXPECT_NE(t.find("ns_http_requests_total{thread=\"1\"} 7\n"), std::string::npos);
  EXPECT_NE(t.find("ns_connection_errors_total{thread=\"0\",kind=\"timeout\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("ns_file_cache_hits_total{thread=\"1\"} 9\n"), std::string::npos);
  EXPECT_NE(t.find("ns_http_request_duration_seconds_count{status_class=\"2xx\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("ns_http_request_duration_seconds_count{status_class=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(t.find("ns_redis_"), std::string::npos);  // no engine, no Redis families
  EXPECT_EQ(t.find("ns_topics "), std::string::npos);
}

// Issue 23 §2: the memory totals by kind and the cap's counters are in the metrics too.
TEST(MetricsText, MemoryByKindAndTheCap) {
  thread_sample a;
  a.stats.memory.accounted = {.tls = 11, .input = 12, .output = 13, .websocket = 14, .zlib = 15};
  a.stats.memory.shed_connections = 4;
  a.stats.memory.refused = 6;
  a.stats.memory.over_cap = true;
  const thread_sample one[] = {a};
  const std::string t = metrics_text(one, process_sample{});
  for (const auto& [kind, n] : {std::pair<const char*, int>{"tls", 11},
                                {"input", 12},
                                {"output", 13},
                                {"websocket", 14},
                                {"zlib", 15}}) {
    const std::string line = std::string("ns_connection_memory_bytes{thread=\"0\",kind=\"") +
                             kind + "\"} " + std::to_string(n) + "\n";
    EXPECT_NE(t.find(line), std::string::npos) << line;
  }
  EXPECT_NE(t.find("ns_memory_shed_connections_total{thread=\"0\"} 4\n"), std::string::npos);
  EXPECT_NE(t.find("ns_memory_refused_total{thread=\"0\"} 6\n"), std::string::npos);
  EXPECT_NE(t.find("ns_memory_over_cap{thread=\"0\"} 1\n"), std::string::npos);
}

TEST(MetricsText, ProcessCountersWhenPresent) {
  process_sample p;
  p.topics = topic_hub_stats{3, 10, 4};
  redis_engine_stats r;
  r.connected = true;
  r.dropped.queue_full = 6;
  p.redis = r;
  p.access_log_dropped = 11;
  const std::string t = metrics_text({}, p);
  EXPECT_NE(t.find("ns_topics 3\n"), std::string::npos);
  EXPECT_NE(t.find("ns_topic_publishes_total 10\n"), std::string::npos);
  EXPECT_NE(t.find("ns_redis_connected 1\n"), std::string::npos);
  EXPECT_NE(t.find("ns_redis_dropped_total{reason=\"queue_full\"} 6\n"), std::string::npos);
  EXPECT_NE(t.find("ns_access_log_dropped_total 11\n"), std::string::npos);
}

}  // namespace
}  // namespace ns::serve::prom
