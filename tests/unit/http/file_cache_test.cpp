// SPDX-License-Identifier: MIT
#include "http/file_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ns::http {
namespace {

struct stat make_stat(std::uint64_t size, std::int64_t mtime_s, std::uint64_t ino = 1) {
  struct stat st {};
  st.st_size = static_cast<off_t>(size);
  st.st_mtim.tv_sec = mtime_s;
  st.st_mtim.tv_nsec = 5;
  st.st_ino = ino;
  st.st_dev = 9;
  return st;
}

TEST(HttpFileCache, HitMissAndMetadata) {
  file_cache c({});
  const auto st = make_stat(5, 784111777);
  EXPECT_EQ(c.lookup("/r/a.css", st), nullptr);
  auto e = c.insert("/r/a.css", st, "hello");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->has_body);
  EXPECT_EQ(e->body, "hello");
  EXPECT_EQ(e->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(e->last_modified_view(), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(e->validators().last_modified, 784111777);
  EXPECT_EQ(e->header_block,
            "Content-Type: text/css; charset=utf-8\r\nETag: " + std::string(e->etag.view()) +
                "\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nAccept-Ranges: bytes\r\n");
  auto h = c.lookup("/r/a.css", st);
  EXPECT_EQ(h, e);
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(c.stats().misses, 1u);
  EXPECT_EQ(c.stats().entries, 1u);
}

// Within the validity window an entry is served without a stat; after it, or when the bytes
// are not cached, the caller must stat again (and a confirming lookup restarts the window).
TEST(HttpFileCache, RecentEntriesAreServedWithoutAStat) {
  file_cache c({});
  const auto st = make_stat(5, 100);
  EXPECT_EQ(c.lookup_recent("/f", 1000, 500), nullptr);  // not cached
  auto e = c.insert("/f", st, "hello", 1000);
  EXPECT_EQ(c.lookup_recent("/f", 1000, 500), e);
  EXPECT_EQ(c.lookup_recent("/f", 1499, 500), e);
  EXPECT_EQ(c.lookup_recent("/f", 1500, 500), nullptr);  // window over
  EXPECT_EQ(c.lookup_recent("/f", 1000, 0), nullptr);    // 0: always stat
  EXPECT_EQ(c.stats().hits, 2u);
  EXPECT_EQ(c.lookup("/f", st, 2000), e);  // confirmed again at 2000
  EXPECT_EQ(c.lookup_recent("/f", 2400, 500), e);
  EXPECT_EQ(c.lookup("/f", make_stat(5, 101), 2600), nullptr);  // changed: dropped
  EXPECT_EQ(c.lookup_recent("/f", 2600, 500), nullptr);
  c.insert("/big", make_stat(5, 100), {}, 3000);  // metadata only: needs an open fd anyway
  EXPECT_EQ(c.lookup_recent("/big", 3000, 500), nullptr);
}

TEST(HttpFileCache, InvalidatedWhenFileChanges) {
  file_cache c({});
  c.insert("/f", make_stat(5, 100), "hello");
  EXPECT_EQ(c.lookup("/f", make_stat(5, 101)), nullptr);  // mtime changed
  EXPECT_EQ(c.stats().invalidations, 1u);
  EXPECT_EQ(c.stats().entries, 0u);
  c.insert("/f", make_stat(5, 100), "hello");
  EXPECT_EQ(c.lookup("/f", make_stat(6, 100)), nullptr);  // size changed
  c.insert("/f", make_stat(5, 100), "hello");
  EXPECT_EQ(c.lookup("/f", make_stat(5, 100, 2)), nullptr);  // replaced (new inode)
  EXPECT_EQ(c.stats().invalidations, 3u);
  EXPECT_EQ(c.stats().bytes, 0u);
}

TEST(HttpFileCache, EvictsLeastRecentlyUsedWithinBudget) {
  file_cache::options o;
  o.max_bytes = 3 * (sizeof(cached_file) + 400);
  file_cache c(o);
  const std::string data(100, 'x');
  auto st = make_stat(100, 1);
  c.insert("/a", st, data);
  c.insert("/b", st, data);
  c.insert("/c", st, data);
  ASSERT_EQ(c.stats().entries, 3u);
  ASSERT_TRUE(c.lookup("/a", st));  // a is now most recent; b is the LRU
  c.insert("/d", st, data);
  EXPECT_LE(c.stats().bytes, o.max_bytes);
  EXPECT_GE(c.stats().evictions, 1u);
  EXPECT_EQ(c.lookup("/b", st), nullptr);
  EXPECT_TRUE(c.lookup("/a", st));
  EXPECT_TRUE(c.lookup("/d", st));
}

TEST(HttpFileCache, EntryInUseSurvivesEviction) {
  file_cache::options o;
  o.max_bytes = sizeof(cached_file) + 600;
  file_cache c(o);
  auto st = make_stat(100, 1);
  auto held = c.insert("/a", st, std::string(100, 'a'));
  c.insert("/b", st, std::string(100, 'b'));  // evicts /a
  EXPECT_EQ(c.lookup("/a", st), nullptr);
  EXPECT_EQ(c.stats().evictions, 1u);
  EXPECT_EQ(held->body, std::string(100, 'a'));  // still valid (ASan would flag otherwise)
  EXPECT_EQ(held.use_count(), 1);
  c.erase("/b");
  EXPECT_EQ(c.stats().entries, 0u);
}

TEST(HttpFileCache, LargeFilesKeepMetadataOnly) {
  file_cache::options o;
  o.max_file_bytes = 10;
  file_cache c(o);
  auto e = c.insert("/big.bin", make_stat(11, 1), std::string(11, 'z'));
  EXPECT_FALSE(e->has_body);
  EXPECT_TRUE(e->body.empty());
  EXPECT_TRUE(c.lookup("/big.bin", make_stat(11, 1)));
  // Bytes not matching the stat size are not trusted.
  EXPECT_FALSE(c.insert("/s", make_stat(5, 1), "abc")->has_body);
  EXPECT_TRUE(c.insert("/empty", make_stat(0, 1), "")->has_body);
  // Entries larger than the whole budget are returned but not cached.
  file_cache tiny({.max_bytes = 10, .max_file_bytes = 1024});
  auto t = tiny.insert("/x", make_stat(3, 1), "abc");
  ASSERT_TRUE(t);
  EXPECT_EQ(tiny.stats().entries, 0u);
}

}  // namespace
}  // namespace ns::http
