// SPDX-License-Identifier: MIT
#include "http/path.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ns::http {
namespace {

namespace fs = std::filesystem;

// A temporary tree:  base/outside.txt  base/root/{index.html,a.txt,sub/index.html,empty/,…}
class HttpPath : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ns_http_path_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "empty");
    write(base_ / "outside.txt", "secret");
    write(root_ / "index.html", "<h1>root</h1>");
    write(root_ / "a.txt", "hello");
    write(root_ / "a b.txt", "space");
    write(root_ / "sub" / "index.html", "<h1>sub</h1>");
    fs::create_symlink("/etc/passwd", root_ / "abs_out");
    fs::create_symlink("../outside.txt", root_ / "rel_out");
    fs::create_symlink("a.txt", root_ / "in_link");
    fs::create_symlink("..", root_ / "sub" / "up");  // inside: sub/up → root
    fs::create_directory_symlink(base_, root_ / "dir_out");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void write(const fs::path& p, std::string_view s) { std::ofstream(p) << s; }

  resolved_file get(std::string_view target) {
    document_root r(root_.string());
    resolved_file out;
    r.resolve(target, out);
    if (out.status == 200) {
      EXPECT_TRUE(out.fd);
      EXPECT_EQ(out.fs_path.rfind(r.path() + "/", 0), 0u) << out.fs_path;
    } else {
      EXPECT_FALSE(out.fd);
    }
    return out;
  }

  fs::path base_, root_;
};

TEST_F(HttpPath, ServesFilesAndIndexes) {
  auto r = get("/a.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.st.st_size, 5);
  EXPECT_EQ(r.fs_path, fs::canonical(root_).string() + "/a.txt");
  r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.fs_path, fs::canonical(root_).string() + "/index.html");
  r = get("/sub/?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.st.st_size, 12);
  EXPECT_EQ(get("/a%20b.txt").status, 200);
  EXPECT_EQ(get("/sub/../a.txt").fs_path, fs::canonical(root_).string() + "/a.txt");
  EXPECT_EQ(get("/./a.txt").status, 200);
  EXPECT_EQ(get("//a.txt").status, 200);
  EXPECT_EQ(get("/in_link").status, 200);
  EXPECT_EQ(get("/sub/up/a.txt").status, 200);  // symlink that stays inside
  // A last segment ".." names a directory, as "." does: its index, no redirect.
  EXPECT_EQ(get("/sub/x/..").fs_path, fs::canonical(root_).string() + "/sub/index.html");
  EXPECT_EQ(get("/sub/..").fs_path, fs::canonical(root_).string() + "/index.html");
}

TEST_F(HttpPath, AbsoluteForm) {
  EXPECT_EQ(get("http://h/a.txt").status, 200);
  EXPECT_EQ(get("HTTPS://h:443/sub/").status, 200);
  EXPECT_EQ(get("http://h").fs_path, fs::canonical(root_).string() + "/index.html");
  EXPECT_EQ(get("http://h?x").status, 200);
  EXPECT_EQ(get("http://h/../outside.txt").status, 403);
  auto r = get("http://h/sub?q");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, "/sub/?q");
}

// The key a cache is asked with before anything is opened is the name resolve() gives the same
// file, and there is none for targets resolve() would refuse or answer with an index file.
TEST_F(HttpPath, CacheKeyIsTheResolvedNameWithoutOpening) {
  document_root r(root_.string());
  resolved_file out;
  for (std::string_view t : {"/a.txt", "/sub/../a.txt", "//a.txt?x=1", "http://h/a.txt",
                             "/a%20b.txt", "/in_link", "/sub/index.html"}) {
    ASSERT_TRUE(r.cache_key(t, out)) << t;
    const std::string key = out.fs_path;
    r.resolve(t, out);
    EXPECT_EQ(out.status, 200) << t;
    EXPECT_EQ(key, out.fs_path) << t;
  }
  for (std::string_view t : {"/", "/sub/", "/sub/.", "http://h", "/../outside.txt", "/a%2Fb",
                             "/%zz", "a.txt", "/a\\b"}) {
    EXPECT_FALSE(r.cache_key(t, out)) << t;
  }
  // A name that does not exist still has a key (the cache simply has no entry for it).
  EXPECT_TRUE(r.cache_key("/missing", out));
}

TEST_F(HttpPath, DirectoryWithoutSlashRedirects) {
  auto r = get("/sub?q=1");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, "/sub/?q=1");
  EXPECT_EQ(get("/empty/").status, 404);  // no index.html
}

TEST_F(HttpPath, TraversalIsRefused) {
  EXPECT_EQ(get("/../etc/passwd").status, 403);
  EXPECT_EQ(get("/%2e%2e/etc/passwd").status, 403);
  EXPECT_EQ(get("/%2E%2E/outside.txt").status, 403);
  EXPECT_EQ(get("/sub/../../outside.txt").status, 403);
  EXPECT_EQ(get("/..").status, 403);
  EXPECT_EQ(get("/abs_out").status, 403);
  EXPECT_EQ(get("/rel_out").status, 403);
  EXPECT_EQ(get("/dir_out/outside.txt").status, 403);
}

TEST_F(HttpPath, MalformedIsRefused) {
  EXPECT_EQ(get("/a%2Ftxt").status, 404);
  EXPECT_EQ(get("/..%2Foutside.txt").status, 404);
  EXPECT_EQ(get("/a.txt%00.html").status, 400);
  EXPECT_EQ(get("/a%zz").status, 400);
  EXPECT_EQ(get("/a%4").status, 400);
  // The escape is cut by the end of the target, not by a NUL after it: the byte that follows
  // in memory ('1') must not be read as its second digit.
  const std::string longer = "/a.txt%41";
  EXPECT_EQ(get(std::string_view(longer).substr(0, longer.size() - 1)).status, 400);
  EXPECT_EQ(get("/a%").status, 400);
  EXPECT_EQ(get("/..%5c..%5coutside.txt").status, 400);
  EXPECT_EQ(get("/a\\b").status, 400);
  EXPECT_EQ(get("a.txt").status, 400);
  EXPECT_EQ(get("").status, 400);
  EXPECT_EQ(get("ftp://h/a.txt").status, 400);
  EXPECT_EQ(get("/missing").status, 404);
  EXPECT_EQ(get("/a.txt/x").status, 404);
}

TEST_F(HttpPath, ReuseKeepsCapacity) {
  document_root r(root_.string());
  resolved_file out;
  r.resolve("/sub/index.html", out);
  ASSERT_EQ(out.status, 200);
  const char* p = out.fs_path.data();
  for (int i = 0; i < 10; ++i) {
    r.resolve("/a.txt", out);
    ASSERT_EQ(out.status, 200);
    EXPECT_EQ(out.fs_path.data(), p);
  }
  EXPECT_THROW(document_root("/nonexistent/ns/root"), std::system_error);
}

}  // namespace
}  // namespace ns::http
