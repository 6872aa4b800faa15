// SPDX-License-Identifier: MIT
#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ns::http {
namespace {

class HttpStaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    struct stat st {};
    st.st_size = 10;
    st.st_mtim.tv_sec = 784111777;
    st.st_ino = 42;
    file_ = cache_.insert("/r/f.txt", st, "0123456789");
  }
  static_plan plan(std::string_view method, std::vector<http_header> headers) {
    req_.method = method;
    req_.headers = std::move(headers);
    out_.clear();
    return plan_static_response(req_, *file_, "D", true, 1, out_);
  }
  file_cache cache_{{}};
  std::shared_ptr<const cached_file> file_;
  http_request req_;
  std::string out_;
};

TEST_F(HttpStaticFiles, FullGetAndHead) {
  auto p = plan("GET", {});
  EXPECT_EQ(p.status, 200);
  EXPECT_TRUE(p.send_body);
  EXPECT_EQ(p.offset, 0u);
  EXPECT_EQ(p.length, 10u);
  EXPECT_EQ(out_.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out_.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_NE(out_.find(file_->header_block), std::string::npos);
  EXPECT_EQ(out_.substr(out_.size() - 4), "\r\n\r\n");
  p = plan("HEAD", {});
  EXPECT_EQ(p.status, 200);
  EXPECT_FALSE(p.send_body);
}

TEST_F(HttpStaticFiles, NotModifiedAndPreconditionFailed) {
  auto p = plan("GET", {{"If-None-Match", file_->etag.view()}});
  EXPECT_EQ(p.status, 304);
  EXPECT_FALSE(p.send_body);
  EXPECT_NE(out_.find("ETag: " + std::string(file_->etag.view())), std::string::npos);
  EXPECT_EQ(out_.find("Content-Length"), std::string::npos);
  p = plan("GET", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_EQ(p.status, 304);
  p = plan("GET", {{"If-Match", "\"nope\""}});
  EXPECT_EQ(p.status, 412);
  p = plan("POST", {});
  EXPECT_EQ(p.status, 405);
  EXPECT_NE(out_.find("Allow: GET, HEAD, OPTIONS\r\n"), std::string::npos);
}

TEST_F(HttpStaticFiles, Ranges) {
  auto p = plan("GET", {{"Range", "bytes=2-4"}});
  EXPECT_EQ(p.status, 206);
  EXPECT_EQ(p.offset, 2u);
  EXPECT_EQ(p.length, 3u);
  EXPECT_NE(out_.find("Content-Range: bytes 2-4/10\r\n"), std::string::npos);
  EXPECT_NE(out_.find("Content-Length: 3\r\n"), std::string::npos);

  p = plan("GET", {{"Range", "bytes=20-"}});
  EXPECT_EQ(p.status, 416);
  EXPECT_NE(out_.find("Content-Range: bytes */10\r\n"), std::string::npos);

  p = plan("GET", {{"Range", "bytes=2-4"}, {"If-Range", "\"stale\""}});
  EXPECT_EQ(p.status, 200);  // If-Range mismatch → whole file
  p = plan("GET", {{"Range", "bytes=2-4"}, {"If-Range", file_->etag.view()}});
  EXPECT_EQ(p.status, 206);
  p = plan("GET", {{"Range", "lines=1-2"}});
  EXPECT_EQ(p.status, 200);
}

TEST_F(HttpStaticFiles, MultipartRangesLengthMatchesBody) {
  // Ranges far apart are not coalesced: use a bigger file.
  struct stat st {};
  st.st_size = 1000;
  auto big = cache_.insert("/r/big.txt", st, std::string(1000, 'z'));
  req_.method = "GET";
  req_.headers = {{"Range", "bytes=0-1,900-901"}};
  out_.clear();
  auto p = plan_static_response(req_, *big, "D", true, 7, out_);
  ASSERT_EQ(p.status, 206);
  ASSERT_TRUE(p.multipart);
  std::string body;
  for (std::size_t i = 0; i < p.ranges.count; ++i) {
    append_part_header(body, p.boundary_view(), big->content_type, p.ranges.ranges[i], 1000);
    body.append(big->body, p.ranges.ranges[i].first, p.ranges.ranges[i].length());
  }
  append_multipart_end(body, p.boundary_view());
  EXPECT_NE(out_.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(out_.find("multipart/byteranges; boundary=" + std::string(p.boundary_view())),
            std::string::npos);
}

}  // namespace
}  // namespace ns::http
