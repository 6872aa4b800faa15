// SPDX-License-Identifier: MIT
// The hot path must not allocate once warmed up (DESIGN.md). This binary replaces the global
// operator new with a counting one, then runs warmed-up parsers and builders.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "http/file_cache.hpp"
#include "http/http_date.hpp"
#include "http/multipart.hpp"
#include "http/range.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"

namespace {
std::atomic<long> g_allocs{0};
}  // namespace

// GCC sees malloc in the replaced operator new and free in the replaced delete once both are
// inlined; the pairing is exactly what the standard allows for replacements.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace ns::http {
namespace {

long allocs() {
  return g_allocs.load(std::memory_order_relaxed);
}

TEST(HttpNoAlloc, RequestParserSteadyState) {
  const std::string in =
      "GET /index.html HTTP/1.1\r\nHost: h\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
      "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  request_parser p({});
  auto run_all = [&] {
    std::string_view rest = in;
    int ready = 0;
    while (!rest.empty()) {
      auto r = p.feed(rest);
      rest.remove_prefix(r.consumed);
      if (r.status == parse_status::request_ready) ++ready;
      if (r.status == parse_status::error) return -1;
    }
    return ready;
  };
  ASSERT_EQ(run_all(), 3);  // warm-up
  const long before = allocs();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(run_all(), 3);
  EXPECT_EQ(allocs() - before, 0);
}

TEST(HttpNoAlloc, ResponseAndCacheHit) {
  std::string out;
  out.reserve(1024);
  http_date date;
  file_cache cache({});
  struct stat st {};
  st.st_size = 5;
  cache.insert("/r/a.html", st, "hello");
  const long before = allocs();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    auto f = cache.lookup("/r/a.html", st);
    ASSERT_TRUE(f);
    auto rs = parse_range("bytes=0-1", f->version.size);
    ASSERT_EQ(rs.count, 1u);
    response_writer(out)
        .start(206, date.get(1000 + i))
        .content_length(rs.ranges[0].length())
        .keep_alive(true)
        .end();
    out.append(f->header_block);
  }
  EXPECT_EQ(allocs() - before, 0);
}

TEST(HttpNoAlloc, MultipartParser) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n--b--";
  const long before = allocs();
  for (int i = 0; i < 10; ++i) {
    std::string_view in = body;
    multipart_parser mp("b");
    const long inner = allocs();
    for (;;) {
      auto r = mp.feed(in);
      in.remove_prefix(r.consumed);
      if (r.status == multipart_status::done || r.status == multipart_status::error) break;
      if (r.status == multipart_status::need_more) break;
    }
    EXPECT_TRUE(mp.done());
    EXPECT_EQ(allocs() - inner, 0);  // only the constructor allocates
  }
  EXPECT_GT(allocs() - before, 0);  // the counter does count
}

}  // namespace
}  // namespace ns::http
