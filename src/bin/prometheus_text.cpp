// SPDX-License-Identifier: MIT
#include "bin/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace ns::serve::prom {
namespace {

// Escapes for label values (quote too) and HELP text (not the quote).
void escaped(std::string& out, std::string_view s, bool quote) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void integer(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

const char* type_name(metric_type t) {
  switch (t) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void text_writer::family(std::string_view name, metric_type type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void text_writer::labels(std::span<const label> ls, const label* extra) {
  if (ls.empty() && extra == nullptr) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.name;
    out_ += "=\"";
    escaped(out_, l.value, true);
    out_ += '"';
  };
  for (const label& l : ls) one(l);
  if (extra != nullptr) one(*extra);
  out_ += '}';
}

void text_writer::number(double v) {
  if (std::isnan(v)) {
    out_ += "NaN";
  } else if (std::isinf(v)) {
    out_ += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
    out_.append(buf, r.ptr);
  }
}

void text_writer::sample(std::string_view name, std::span<const label> ls, std::uint64_t value) {
  out_ += name;
  labels(ls, nullptr);
  out_ += ' ';
  integer(out_, value);
  out_ += '\n';
}

void text_writer::sample(std::string_view name, std::span<const label> ls, double value) {
  out_ += name;
  labels(ls, nullptr);
  out_ += ' ';
  number(value);
  out_ += '\n';
}

void text_writer::histogram(std::string_view name, std::span<const label> ls,
                            const ns::histogram& h) {
  const double per_base = h.layout().per_base_unit;
  std::string le;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= h.bounds(); ++i) {
    cumulative += h.bucket(i);
    le.clear();
    if (i == h.bounds()) {
      le = "+Inf";
    } else {
      // Fixed notation ("0.0001", not "1e-04"): what the Go and Python clients write, so a
      // bucket keeps its label whichever program exported it.
      char buf[64];
      const auto r =
          std::to_chars(buf, buf + sizeof buf, static_cast<double>(h.layout().bounds[i]) / per_base,
                        std::chars_format::fixed);
      le.assign(buf, r.ptr);
    }
    const label bound{"le", le};
    out_ += name;
    out_ += "_bucket";
    labels(ls, &bound);
    out_ += ' ';
    integer(out_, cumulative);
    out_ += '\n';
  }
  out_ += name;
  out_ += "_sum";
  labels(ls, nullptr);
  out_ += ' ';
  number(static_cast<double>(h.sum()) / per_base);
  out_ += '\n';
  out_ += name;
  out_ += "_count";
  labels(ls, nullptr);
  out_ += ' ';
  integer(out_, h.count());
  out_ += '\n';
}

}  // namespace ns::serve::prom
