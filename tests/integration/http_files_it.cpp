// SPDX-License-Identifier: MIT
// ns_serve --root DIR end to end over TLS: http_send_file's ranges, validators, HEAD, MIME
// types, directory redirects, the 404 page, traversal attempts, pipelining of cached and
// streamed files — with a raw OpenSSL client (exact bytes on the wire) and with curl.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "http_it_util.hpp"
#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

class HttpFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ensure_binary_dir();
    dir_ = new temp_dir();
    const std::string& d = dir_->path();
    std::tie(small_, big_) = write_file_site(*dir_);
    dir_->write("www/sub/index.html", "sub index\n");
    for (const char* name :
         {"a.html", "a.css", "a.js", "a.mjs", "a.json", "a.svg", "a.png", "a.jpg", "a.webp",
          "a.ico", "a.wasm", "a.txt", "a.pdf", "a.woff2", "a.mp4", "a.unknownext", "noext"}) {
      dir_->write(std::string("www/mime/") + name, "x");
    }
    std::filesystem::create_symlink(d + "/secret.txt", d + "/www/link_out");
    std::filesystem::create_symlink("../secret.txt", d + "/www/rel_link_out");
    std::filesystem::create_symlink(d, d + "/www/dirlink");
    std::filesystem::create_symlink("small.bin", d + "/www/link_in");
    server_ =
        new served(start_ns_serve({"--root", d + "/www", "--cert", d + "/server.crt", "--key",
                                   d + "/server.key", "--threads", "1", "--log-level", "warn"}));
  }
  static void TearDownTestSuite() {
    if (server_->process) {
      EXPECT_EQ(server_->process->stop(SIGTERM, std::chrono::seconds(10)), 0)
          << server_->process->stderr_text();
    }
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(server_->port, 0); }

  static http_response get(const std::string& target, const std::string& extra = "",
                           const std::string& method = "GET") {
    tls_client c;
    if (!c.connect(server_->port)) return {};
    c.write(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra +
            "Connection: close\r\n\r\n");
    return c.read_response(method == "HEAD");
  }
  static std::string url(const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(server_->port) + path;
  }

  static temp_dir* dir_;
  static served* server_;
  static std::string small_, big_;
};
temp_dir* HttpFiles::dir_ = nullptr;
served* HttpFiles::server_ = nullptr;
std::string HttpFiles::small_, HttpFiles::big_;

TEST_F(HttpFiles, FullGetCarriesValidatorsAndAcceptRanges) {
  for (const char* path : {"/small.bin", "/big.bin"}) {
    auto r = get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, std::string(path) == "/small.bin" ? small_ : big_);
    EXPECT_EQ(r.headers["accept-ranges"], "bytes");
    ASSERT_GE(r.headers["etag"].size(), 3u);
    EXPECT_EQ(r.headers["etag"].front(), '"');  // strong (no W/)
    EXPECT_EQ(r.headers["last-modified"].size(), 29u);
    EXPECT_EQ(r.headers["content-type"], "application/octet-stream");
  }
}

TEST_F(HttpFiles, EveryRangeForm) {
  auto one = get("/big.bin", "Range: bytes=100-199\r\n");
  ASSERT_EQ(one.status, 206);
  EXPECT_EQ(one.body, big_.substr(100, 100));
  EXPECT_EQ(one.headers["content-range"], "bytes 100-199/" + std::to_string(big_.size()));

  auto open = get("/small.bin", "Range: bytes=4000-\r\n");
  ASSERT_EQ(open.status, 206);
  EXPECT_EQ(open.body, small_.substr(4000));

  auto suffix = get("/big.bin", "Range: bytes=-500\r\n");
  ASSERT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, big_.substr(big_.size() - 500));

  for (const char* path : {"/small.bin", "/big.bin"}) {
    const std::string& file = std::string(path) == "/small.bin" ? small_ : big_;
    auto multi = get(path, "Range: bytes=0-9,1000-1099,-5\r\n");
    ASSERT_EQ(multi.status, 206) << path;
    const std::string ct = multi.headers["content-type"];
    ASSERT_EQ(ct.rfind("multipart/byteranges; boundary=", 0), 0u) << ct;
    const auto parts = split_byteranges(multi.body, ct.substr(ct.find('=') + 1));
    ASSERT_EQ(parts.size(), 3u) << path;
    EXPECT_EQ(parts[0].data, file.substr(0, 10));
    EXPECT_EQ(parts[0].content_range, "bytes 0-9/" + std::to_string(file.size()));
    EXPECT_EQ(parts[1].data, file.substr(1000, 100));
    EXPECT_EQ(parts[2].data, file.substr(file.size() - 5));
    EXPECT_EQ(parts[2].content_type, "application/octet-stream");
  }

  auto bad = get("/small.bin", "Range: bytes=9000-9999\r\n");
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.headers["content-range"], "bytes */5000");

  auto malformed = get("/small.bin", "Range: bytes=abc\r\n");
  EXPECT_EQ(malformed.status, 200);  // ignored (RFC 9110 §14.2)
  EXPECT_EQ(malformed.body, small_);
}

TEST_F(HttpFiles, IfRangeHonoursOnlyTheCurrentValidator) {
  const auto full = get("/big.bin");
  const std::string etag = full.headers.at("etag");
  auto same = get("/big.bin", "Range: bytes=0-9\r\nIf-Range: " + etag + "\r\n");
  EXPECT_EQ(same.status, 206);
  EXPECT_EQ(same.body, big_.substr(0, 10));
  auto stale = get("/big.bin", "Range: bytes=0-9\r\nIf-Range: \"not-the-tag\"\r\n");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body.size(), big_.size());
  auto date =
      get("/big.bin", "Range: bytes=0-9\r\nIf-Range: " + full.headers.at("last-modified") + "\r\n");
  EXPECT_EQ(date.status, 206);
}

TEST_F(HttpFiles, ConditionalGetAndHead) {
  const auto full = get("/small.bin");
  auto nm = get("/small.bin", "If-None-Match: " + full.headers.at("etag") + "\r\n");
  EXPECT_EQ(nm.status, 304);
  EXPECT_TRUE(nm.body.empty());
  EXPECT_EQ(nm.headers["etag"], full.headers.at("etag"));
  auto ims = get("/small.bin", "If-Modified-Since: " + full.headers.at("last-modified") + "\r\n");
  EXPECT_EQ(ims.status, 304);
  auto changed = get("/small.bin", "If-None-Match: \"other\"\r\n");
  EXPECT_EQ(changed.status, 200);
  auto pre = get("/small.bin", "If-Match: \"other\"\r\n");
  EXPECT_EQ(pre.status, 412);

  // HEAD: the same head as GET, no body — checked on the wire, then the connection is reused.
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port));
  ASSERT_TRUE(
      c.write("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /small.bin HTTP/1.1\r\n"
              "Host: x\r\n\r\n"));
  auto head = c.read_response(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(big_.size()));
  EXPECT_EQ(head.headers["etag"], get("/big.bin", "", "HEAD").headers["etag"]);
  auto next = c.read_response();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, small_);  // nothing of big.bin was sent after the HEAD response
}

TEST_F(HttpFiles, MimeTypesByExtension) {
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a.html", "text/html"},
      {"a.css", "text/css"},
      {"a.js", "text/javascript"},
      {"a.mjs", "text/javascript"},
      {"a.json", "application/json"},
      {"a.svg", "image/svg+xml"},
      {"a.png", "image/png"},
      {"a.jpg", "image/jpeg"},
      {"a.webp", "image/webp"},
      {"a.ico", "image/"},
      {"a.wasm", "application/wasm"},
      {"a.txt", "text/plain"},
      {"a.pdf", "application/pdf"},
      {"a.woff2", "font/woff2"},
      {"a.mp4", "video/mp4"},
      {"a.unknownext", "application/octet-stream"},
      {"noext", "application/octet-stream"}};
  for (const auto& [name, type] : want) {
    auto r = get("/mime/" + name);
    ASSERT_EQ(r.status, 200) << name;
    EXPECT_EQ(r.headers["content-type"].rfind(type, 0), 0u)
        << name << ": " << r.headers["content-type"];
  }
}

TEST_F(HttpFiles, DirectoriesRedirectAndServeTheirIndex) {
  auto redirect = get("/sub?x=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.headers["location"], "/sub/?x=1");
  auto index = get("/sub/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "sub index\n");
  EXPECT_EQ(get("/").body, "<!doctype html><title>home</title>\n");
}

TEST_F(HttpFiles, CustomNotFoundPageAndMethods) {
  auto nf = get("/missing.html");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, "<h1>custom not found</h1>\n");
  EXPECT_EQ(nf.headers["content-type"].rfind("text/html", 0), 0u);
  auto post = get("/small.bin", "Content-Length: 2\r\n\r\nhi", "POST");
  EXPECT_EQ(post.status, 405);
  // A method llhttp parses but the server does not implement, and one it does not know.
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port));
  ASSERT_TRUE(c.write("PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 501);
  EXPECT_TRUE(c.wait_closed());
  tls_client d;
  ASSERT_TRUE(d.connect(server_->port));
  ASSERT_TRUE(d.write("BREW / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(d.read_response().status, 501);
}

TEST_F(HttpFiles, TraversalNeverLeavesTheRoot) {
  const std::vector<std::string> attempts = {"/../secret.txt",
                                             "/..%2fsecret.txt",
                                             "/%2e%2e/secret.txt",
                                             "/%2E%2E/secret.txt",
                                             "/sub/../../secret.txt",
                                             "/sub/%2e%2e/%2e%2e/secret.txt",
                                             "/%2fsecret.txt",
                                             "/sub%2f..%2f..%2fsecret.txt",
                                             "/..%5csecret.txt",
                                             "/..\\secret.txt",
                                             "/small.bin%00.txt",
                                             "/%00",
                                             "/link_out",
                                             "/rel_link_out",
                                             "/dirlink/secret.txt",
                                             "/dirlink/www/small.bin",
                                             "//secret.txt",
                                             "/./../secret.txt",
                                             "/%252e%252e/secret.txt",
                                             "http://localhost/../secret.txt"};
  for (const auto& target : attempts) {
    auto r = get(target);
    EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404)
        << target << " → " << r.status;
    EXPECT_EQ(r.body.find("TOPSECRET"), std::string::npos) << target;
  }
  // curl with --path-as-is sends the dots unchanged.
  const std::string out = curl("--path-as-is " + url("/../secret.txt") + " " +
                               url("/sub/../../secret.txt") + " " + url("/%2e%2e/secret.txt"));
  EXPECT_EQ(out.find("TOPSECRET"), std::string::npos);
  // A symlink that stays inside the root is fine.
  EXPECT_EQ(get("/link_in").body, small_);
}

TEST_F(HttpFiles, PipelinedCachedAndStreamedFilesComeBackInOrder) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port));
  std::string burst;
  const std::vector<std::string> order = {"/small.bin", "/big.bin",   "/index.html", "/big.bin",
                                          "/missing",   "/small.bin", "/sub",        "/big.bin"};
  for (const auto& p : order) burst += "GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n";
  burst += "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=5-9,20-29\r\n\r\n";
  ASSERT_TRUE(c.write(burst));
  for (const auto& p : order) {
    auto r = c.read_response();
    ASSERT_TRUE(r.complete) << p;
    if (p == "/small.bin") {
      EXPECT_EQ(r.body, small_);
    }
    if (p == "/big.bin") {
      EXPECT_EQ(r.body, big_);
    }
    if (p == "/index.html") {
      EXPECT_EQ(r.body, "<!doctype html><title>home</title>\n");
    }
    if (p == "/missing") {
      EXPECT_EQ(r.status, 404);
    }
    if (p == "/sub") {
      EXPECT_EQ(r.status, 301);
    }
  }
  auto multi = c.read_response();
  EXPECT_EQ(multi.status, 206);
  // The connection is still usable afterwards.
  ASSERT_TRUE(c.write("GET /small.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, small_);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpFiles, CurlDownloadsRangesAndRevalidates) {
  const std::string path = dir_->path() + "/curl_out.bin";
  EXPECT_EQ(curl("-o " + path + " -w '%{http_code}' " + url("/big.bin")), "200");
  EXPECT_EQ(std::filesystem::file_size(path), big_.size());
  EXPECT_EQ(curl("-r 10-19 " + url("/small.bin")), small_.substr(10, 10));
  EXPECT_EQ(curl("-r -7 " + url("/big.bin")), big_.substr(big_.size() - 7));
  // HTTP/1.1's head as written (curl would pick h2, whose field names are lowercase).
  const std::string head = curl("--http1.1 -I " + url("/small.bin"));
  EXPECT_NE(head.find("Content-Length: 5000"), std::string::npos) << head;
  const auto etag_at = head.find("ETag: ");
  ASSERT_NE(etag_at, std::string::npos);
  const std::string etag = head.substr(etag_at + 6, head.find("\r\n", etag_at) - etag_at - 6);
  EXPECT_EQ(
      curl("-o /dev/null -w '%{http_code}' -H 'If-None-Match: " + etag + "' " + url("/small.bin")),
      "304");
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' -z 'Jan 1 2000' " + url("/small.bin")), "200");
}

}  // namespace
}  // namespace ns::test
