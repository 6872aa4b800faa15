// SPDX-License-Identifier: MIT
// The socket-free pieces of http_send_file: the segment list a planned response becomes, and the
// server-wide file service (document root, 404 page, read buffer pool).
#include "server/server_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <system_error>

#include "http/request_parser.hpp"
#include "http/static_files.hpp"
#include "support/process.hpp"

namespace ns::server {
namespace {

// Concatenates what the segments describe, taking file slices from @p file.
std::string render(const file_transfer& t, const std::string& file) {
  std::string out;
  for (const file_segment& s : t.segs) {
    const std::string& src = s.literal ? t.literal : file;
    out.append(src, static_cast<std::size_t>(s.off), static_cast<std::size_t>(s.len));
  }
  return out;
}

struct planned {
  std::shared_ptr<const http::cached_file> entry;
  http::static_plan plan;
  std::string head;
};

planned plan_for(const std::string& path, const std::string& request_text) {
  static http::file_cache cache({1 << 20, 1 << 16});
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  planned p;
  p.entry = cache.insert(path, st);
  http::request_parser parser(ns::http_limits{});
  const auto r = parser.feed(request_text);
  EXPECT_EQ(r.status, http::parse_status::request_ready);
  p.plan = http::plan_static_response(parser.request(), *p.entry, "Thu, 01 Jan 1970 00:00:00 GMT",
                                      true, 42, p.head);
  return p;
}

class ServerFile : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 1000; ++i) file_ += static_cast<char>('a' + i % 26);
    path_ = dir_.write("f.txt", file_);
  }
  ns::test::temp_dir dir_;
  std::string file_, path_;
};

TEST_F(ServerFile, FullResponseIsHeadThenWholeFile) {
  auto p = plan_for(path_, "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  file_transfer t;
  build_segments(t, p.head, p.plan, p.entry->content_type, file_.size());
  ASSERT_EQ(t.segs.size(), 2u);
  EXPECT_EQ(render(t, file_), p.head + file_);
  EXPECT_EQ(t.remaining(), p.head.size() + file_.size());
}

TEST_F(ServerFile, SingleRangeIsOneSlice) {
  auto p = plan_for(path_, "GET /f.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\n");
  ASSERT_EQ(p.plan.status, 206);
  file_transfer t;
  build_segments(t, p.head, p.plan, p.entry->content_type, file_.size());
  EXPECT_EQ(render(t, file_), p.head + file_.substr(990));
}

TEST_F(ServerFile, MultipartRangesMatchTheAnnouncedLength) {
  auto p = plan_for(path_, "GET /f.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4,500-509,-3\r\n\r\n");
  ASSERT_EQ(p.plan.status, 206);
  ASSERT_TRUE(p.plan.multipart);
  file_transfer t;
  build_segments(t, p.head, p.plan, p.entry->content_type, file_.size());
  const std::string all = render(t, file_);
  const std::string body = all.substr(p.head.size());
  // Content-Length in the head must equal the bytes the segments produce.
  const auto cl = p.head.find("Content-Length: ");
  ASSERT_NE(cl, std::string::npos);
  EXPECT_EQ(std::stoull(p.head.substr(cl + 16)), body.size());
  EXPECT_NE(body.find("Content-Range: bytes 0-4/1000\r\n\r\nabcde\r\n"), std::string::npos);
  EXPECT_NE(body.find("Content-Range: bytes 500-509/1000\r\n\r\n" + file_.substr(500, 10)),
            std::string::npos);
  EXPECT_NE(body.find("Content-Range: bytes 997-999/1000\r\n\r\n" + file_.substr(997)),
            std::string::npos);
  const std::string end = "--" + std::string(p.plan.boundary_view()) + "--\r\n";
  EXPECT_EQ(body.substr(body.size() - end.size()), end);
}

TEST_F(ServerFile, HeadAndNotModifiedHaveNoBodySegments) {
  auto head = plan_for(path_, "HEAD /f.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  file_transfer t;
  build_segments(t, head.head, head.plan, head.entry->content_type, file_.size());
  ASSERT_EQ(t.segs.size(), 1u);
  EXPECT_TRUE(t.segs[0].literal);
  const std::string etag(head.entry->etag.view());
  auto nm =
      plan_for(path_, "GET /f.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n");
  EXPECT_EQ(nm.plan.status, 304);
  build_segments(t, nm.head, nm.plan, nm.entry->content_type, file_.size());
  EXPECT_EQ(render(t, file_), nm.head);
}

TEST_F(ServerFile, EmptyFileHasNoZeroLengthSlice) {
  const std::string empty = dir_.write("empty.txt", "");
  auto p = plan_for(empty, "GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  file_transfer t;
  build_segments(t, p.head, p.plan, p.entry->content_type, 0);
  ASSERT_EQ(t.segs.size(), 1u);  // a zero-length read would look like end of file
}

TEST_F(ServerFile, ServiceLoadsTheNotFoundPageAndRoot) {
  static_files_config cfg;
  cfg.document_root = dir_.path();
  cfg.not_found_page = dir_.write("404.html", "<p>gone</p>");
  file_service fs(cfg);
  ASSERT_NE(fs.root(), nullptr);
  EXPECT_EQ(fs.not_found_body(), "<p>gone</p>");
  EXPECT_EQ(fs.not_found_type(), "text/html; charset=utf-8");
  ASSERT_NE(fs.cache(), nullptr);
  fs.root()->resolve("/f.txt", fs.resolved);
  EXPECT_EQ(fs.resolved.status, 200);
}

TEST_F(ServerFile, ServiceWithoutCacheOrRoot) {
  static_files_config cfg;
  cfg.cache_bytes = 0;
  file_service fs(cfg);
  EXPECT_EQ(fs.root(), nullptr);
  EXPECT_EQ(fs.cache(), nullptr);
  EXPECT_NE(fs.not_found_body().find("404"), std::string_view::npos);
  EXPECT_EQ(fs.stats().hits, 0u);
}

TEST_F(ServerFile, ServiceRefusesMissingRootAndPageAtSetup) {
  static_files_config cfg;
  cfg.document_root = dir_.path() + "/nope";
  EXPECT_THROW(file_service{cfg}, std::system_error);
  static_files_config cfg2;
  cfg2.not_found_page = dir_.path() + "/missing.html";
  EXPECT_THROW(file_service{cfg2}, std::system_error);
}

TEST_F(ServerFile, BufferPoolReusesBuffers) {
  static_files_config cfg;
  cfg.read_chunk_bytes = 4096;
  file_service fs(cfg);
  read_buffer a = fs.take_buffer();
  std::byte* raw = a.get();
  fs.give_back(std::move(a));
  read_buffer b = fs.take_buffer();
  EXPECT_EQ(b.get(), raw);
  EXPECT_EQ(b.size, 4096u);
  fs.give_back({});  // harmless
}

TEST_F(ServerFile, LargeBuffersStayWithinTheLoopsBudget) {
  static_files_config cfg;
  cfg.read_chunk_bytes = 4096;
  cfg.large_read_chunk_bytes = 64 * 1024;
  cfg.large_read_budget_bytes = 160 * 1024;  // room for two
  file_service fs(cfg);
  read_buffer a = fs.take_large_buffer();
  read_buffer b = fs.take_large_buffer();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a.size, 64u * 1024);
  EXPECT_FALSE(fs.take_large_buffer());  // a third would exceed the budget
  EXPECT_EQ(fs.large_buffers_out(), 2u);
  std::byte* raw = a.get();
  fs.give_back(std::move(a));  // back to the large pool, not the small one
  EXPECT_EQ(fs.large_buffers_out(), 1u);
  EXPECT_EQ(fs.take_buffer().size, 4096u);
  read_buffer c = fs.take_large_buffer();
  EXPECT_EQ(c.get(), raw);
  fs.give_back(std::move(b));
  fs.give_back(std::move(c));
  EXPECT_EQ(fs.large_buffers_out(), 0u);
  // Pooled, then freed once a period passed without a large read.
  EXPECT_EQ(fs.release_unused_large_pool(), 0u);  // taken during this period
  EXPECT_EQ(fs.release_unused_large_pool(), 2u * 64 * 1024);
  EXPECT_EQ(fs.release_unused_large_pool(), 0u);
}

TEST_F(ServerFile, LargeReadsAreOffWhenNotLargerThanTheChunk) {
  static_files_config cfg;
  cfg.read_chunk_bytes = 64 * 1024;
  cfg.large_read_chunk_bytes = 64 * 1024;
  EXPECT_FALSE(file_service(cfg).take_large_buffer());
  cfg.large_read_chunk_bytes = 0;
  EXPECT_FALSE(file_service(cfg).take_large_buffer());
}

TEST_F(ServerFile, SeedsDifferPerResponse) {
  file_service fs(static_files_config{});
  EXPECT_NE(fs.next_seed(), fs.next_seed());
}

}  // namespace
}  // namespace ns::server
