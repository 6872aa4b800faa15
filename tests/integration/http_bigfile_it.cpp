// SPDX-License-Identifier: MIT
// A huge sparse file through ns_serve over TLS, in full and by ranges, while the server's RSS is
// sampled: http_send_file reads it with io_uring chunk by chunk, paced by the connection's
// output queue, so memory stays bounded whatever the file size.
//
// The file is 1 GiB (about 15 s in the ASan dev build); NS_QUICK_TESTS=1 makes it 128 MiB.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "http_it_util.hpp"
#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

constexpr long rss_growth_bound_kib = 32 * 1024;  // the bound this test asserts

std::uint64_t file_size() {
  const char* env = std::getenv("NS_QUICK_TESTS");
  return (env != nullptr && std::string(env) == "1") ? (128ull << 20) : (1ull << 30);
}

// 16-byte markers at three offsets; every other byte of the sparse file is zero.
struct marker {
  std::uint64_t at;
  char text[17];
};

// Streams `curl <args>` output through @p check(offset, bytes, n); returns bytes read.
template <class F>
std::uint64_t curl_stream(const std::string& args, F&& check) {
  const std::string cmd = "curl --insecure --silent --show-error " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  static char buf[1 << 20];
  std::uint64_t total = 0;
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    check(total, buf, n);
    total += n;
  }
  ::pclose(p);
  return total;
}

class RssSampler {
 public:
  explicit RssSampler(pid_t pid)
      : pid_(pid), thread_([this] {
          while (!stop_) {
            const long v = rss_kib(pid_);
            if (v > max_) max_ = v;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }) {}
  ~RssSampler() { finish(); }
  long finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return max_;
  }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> max_{0};
  std::thread thread_;
};

TEST(HttpBigFile, SparseFileInFullAndByRangesWithBoundedServerRss) {
  ensure_binary_dir();
  temp_dir dir;
  const std::string& d = dir.path();
  tls::write_pem_files(tls::make_self_signed(), d + "/server.crt", d + "/server.key");
  dir.write("www/warm.txt", "warm");
  const std::uint64_t size = file_size();
  const std::string path = d + "/www/huge.bin";
  const marker marks[] = {
      {0, "first-16-bytes.."}, {size / 2, "middle-marker..."}, {size - 16, "the-very-end...."}};
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);  // sparse: holes read as zeros
    for (const marker& m : marks) {
      ASSERT_EQ(::pwrite(fd, m.text, 16, static_cast<off_t>(m.at)), 16);
    }
    ::close(fd);
  }
  // ASan keeps freed memory in a quarantine (256 MiB by default) before reusing it, which
  // would show up as RSS although the server does not hold it; the child gets a small one so
  // its RSS reflects live memory. Ignored by non-ASan builds.
  const char* asan_env = std::getenv("ASAN_OPTIONS");
  const std::string saved_asan = asan_env != nullptr ? asan_env : "";
  ::setenv("ASAN_OPTIONS",
           (saved_asan + (saved_asan.empty() ? "" : ":") + "quarantine_size_mb=8").c_str(), 1);
  served server = start_ns_serve({"--root", d + "/www", "--cert", d + "/server.crt", "--key",
                                  d + "/server.key", "--threads", "1", "--log-level", "warn"});
  if (asan_env != nullptr) {
    ::setenv("ASAN_OPTIONS", saved_asan.c_str(), 1);
  } else {
    ::unsetenv("ASAN_OPTIONS");
  }
  ASSERT_NE(server.port, 0) << server.process->stderr_text();
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port) + "/huge.bin";

  // Warm up (TLS context, first connection, allocator pools), then take the baseline.
  ASSERT_EQ(https_get(server.port, "/warm.txt").body, "warm");
  const long baseline = rss_kib(server.process->pid());
  ASSERT_GT(baseline, 0);

  RssSampler sampler(server.process->pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t nonzero = 0;
  std::uint64_t marker_bytes_ok = 0;
  const std::uint64_t got = curl_stream(url, [&](std::uint64_t off, const char* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (b[i] == 0) continue;
      ++nonzero;
      const std::uint64_t at = off + i;
      for (const marker& m : marks) {
        if (at >= m.at && at < m.at + 16 && m.text[at - m.at] == b[i]) ++marker_bytes_ok;
      }
    }
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(got, size);
  EXPECT_EQ(marker_bytes_ok, 48u);
  EXPECT_EQ(nonzero, 48u);  // every other byte was a hole

  // Ranges: one across the middle marker, a suffix, a large slice, and several at once.
  std::string mid;
  curl_stream(
      "-r " + std::to_string(size / 2 - 8) + "-" + std::to_string(size / 2 + 23) + " " + url,
      [&](std::uint64_t, const char* b, std::size_t n) { mid.append(b, n); });
  EXPECT_EQ(mid, std::string(8, '\0') + "middle-marker..." + std::string(8, '\0'));
  std::string tail;
  curl_stream("-r -16 " + url,
              [&](std::uint64_t, const char* b, std::size_t n) { tail.append(b, n); });
  EXPECT_EQ(tail, "the-very-end....");
  const std::uint64_t slice =
      curl_stream("-r " + std::to_string(size / 4) + "-" +
                      std::to_string(size / 4 + (32u << 20) - 1) + " " + url,
                  [](std::uint64_t, const char*, std::size_t) {});
  EXPECT_EQ(slice, 32u << 20);

  tls_client c;
  ASSERT_TRUE(c.connect(server.port));
  ASSERT_TRUE(c.write("GET /huge.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-15," +
                      std::to_string(size / 2) + "-" + std::to_string(size / 2 + 15) +
                      ",-16\r\n\r\n"));
  auto multi = c.read_response();
  ASSERT_EQ(multi.status, 206);
  const std::string ct = multi.headers["content-type"];
  const auto parts = split_byteranges(multi.body, ct.substr(ct.find('=') + 1));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].data, "first-16-bytes..");
  EXPECT_EQ(parts[1].data, "middle-marker...");
  EXPECT_EQ(parts[2].data, "the-very-end....");

  const long peak = sampler.finish();
  const long growth = peak - baseline;
  std::printf(
      "[ info ] %llu MiB over TLS in %.1f s (%.0f MiB/s); server RSS baseline %ld KiB, "
      "peak %ld KiB, growth %ld KiB (bound %ld KiB)\n",
      static_cast<unsigned long long>(size >> 20), seconds,
      static_cast<double>(size >> 20) / seconds, baseline, peak, growth, rss_growth_bound_kib);
  EXPECT_LT(growth, rss_growth_bound_kib);
  EXPECT_EQ(server.process->stop(SIGTERM, std::chrono::seconds(10)), 0)
      << server.process->stderr_text();
}

}  // namespace
}  // namespace ns::test
