// SPDX-License-Identifier: MIT
#pragma once
// Prometheus' text exposition format, version 0.0.4: numbers in, bytes out (sans-IO: no
// clock, no descriptor). One writer appends families — a `# HELP` and a `# TYPE` line, then
// their samples — to a string; what the numbers are is the caller's business (bin/metrics.cpp).
//
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/ — label values escape
// backslash, double quote and line feed; HELP text escapes backslash and line feed; a
// histogram is cumulative `_bucket` samples with an `le` label ending in "+Inf", then `_sum`
// and `_count`.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <network_server/histogram.hpp>

namespace ns::serve::prom {

/// The Content-Type of what text_writer writes.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type { counter, gauge, histogram };

struct label {
  std::string_view name;   ///< [a-zA-Z_][a-zA-Z0-9_]* (not checked: the caller's constants)
  std::string_view value;  ///< any UTF-8; escaped here
};

class text_writer {
 public:
  explicit text_writer(std::string& out) : out_(out) {}

  /// Starts the family @p name: its HELP and TYPE lines. Each family once per document.
  void family(std::string_view name, metric_type type, std::string_view help);

  /// One sample line `name{labels} value`.
  void sample(std::string_view name, std::span<const label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value) {
    sample(name, std::span(labels.begin(), labels.size()), value);
  }
  /// The same with a floating-point value (shortest text that reads back exactly; +Inf, NaN).
  void sample(std::string_view name, std::span<const label> labels, double value);

  /// The samples of one histogram: `name_bucket` per bound (cumulative, `le` in base units,
  /// after @p labels), `name_bucket{le="+Inf"}`, `name_sum` (in base units) and `name_count`.
  void histogram(std::string_view name, std::span<const label> labels, const ns::histogram& h);
  void histogram(std::string_view name, std::initializer_list<label> labels,
                 const ns::histogram& h) {
    histogram(name, std::span(labels.begin(), labels.size()), h);
  }

 private:
  void labels(std::span<const label> ls, const label* extra);
  void number(double v);
  std::string& out_;
};

}  // namespace ns::serve::prom
