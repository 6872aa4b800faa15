// SPDX-License-Identifier: MIT
#pragma once
// Test helpers for the HTTP parser: feed a whole input, or the same input split in two at
// every offset, and collect the events (the parsegrind idea).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace ns::http::test {

/// One observed event with the state it carried.
struct event {
  parse_status status;
  std::string body;    // body_chunk piece, or the whole body for request_ready
  std::string target;  // for request_ready / headers_ready_streaming
  http::error err = http::error::none;
};

/// Feed @p pieces one after another with the canonical loop; collect events.
inline std::vector<event> run(request_parser& p, const std::vector<std::string_view>& pieces) {
  std::vector<event> out;
  for (std::string_view in : pieces) {
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = p.feed(in);
      if (r.consumed > in.size()) return {{parse_status::error, "consumed>size", "", {}}};
      in.remove_prefix(r.consumed);
      if (r.status == parse_status::need_more) break;
      event e{r.status, std::string(r.body), std::string(p.request().target), p.error()};
      if (r.status == parse_status::request_ready) e.body = std::string(p.request().body);
      out.push_back(e);
      if (r.status == parse_status::error || r.status == parse_status::upgrade) return out;
      if (guard == 99999) ADD_FAILURE() << "parser makes no progress";
    }
  }
  return out;
}

/// Collapse consecutive body_chunk events into one so split runs compare equal.
inline std::vector<event> merge_chunks(std::vector<event> ev) {
  std::vector<event> out;
  for (auto& e : ev) {
    if (e.status == parse_status::body_chunk && !out.empty() &&
        out.back().status == parse_status::body_chunk) {
      out.back().body += e.body;
    } else if (!(e.status == parse_status::body_chunk && e.body.empty())) {
      out.push_back(e);
    }
  }
  return out;
}

inline bool same(const std::vector<event>& a, const std::vector<event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].status != b[i].status || a[i].body != b[i].body || a[i].target != b[i].target ||
        a[i].err != b[i].err)
      return false;
  }
  return true;
}

inline std::vector<event> whole(std::string_view in, const ns::http_limits& lim = {}) {
  request_parser p(lim);
  return merge_chunks(run(p, {in}));
}

// Every split in two pieces must produce exactly the events of the whole input.
inline void expect_split_invariant(std::string_view in, const ns::http_limits& lim = {}) {
  const auto ref = whole(in, lim);
  for (std::size_t i = 0; i <= in.size(); ++i) {
    request_parser p(lim);
    auto got = merge_chunks(run(p, {in.substr(0, i), in.substr(i)}));
    ASSERT_TRUE(test::same(ref, got)) << "split at " << i;
  }
  // And byte by byte.
  request_parser p(lim);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(in.substr(i, 1));
  ASSERT_TRUE(test::same(ref, merge_chunks(run(p, bytes))));
}

// @p in ends in a refusal answered with @p status, however it is split.
inline void expect_refused(std::string_view name, std::string_view in, int status,
                           const ns::http_limits& lim = {}) {
  const auto ev = whole(in, lim);
  ASSERT_FALSE(ev.empty()) << name;
  EXPECT_EQ(ev.back().status, parse_status::error) << name;
  EXPECT_EQ(status_code(ev.back().err), status) << name << ": " << reason(ev.back().err);
  expect_split_invariant(in, lim);
}

}  // namespace ns::http::test
