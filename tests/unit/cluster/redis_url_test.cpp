// SPDX-License-Identifier: MIT
// cluster::parse_redis_url: redis:// and unix:// URLs, one-line errors that never repeat the URL.
#include "cluster/redis_url.hpp"

#include <gtest/gtest.h>

namespace ns::cluster {
namespace {

redis_endpoint ok(std::string_view url) {
  redis_endpoint e;
  std::string error;
  EXPECT_TRUE(parse_redis_url(url, e, error)) << url << ": " << error;
  return e;
}

std::string fails(std::string_view url) {
  redis_endpoint e;
  e.host = "stale";
  std::string error;
  EXPECT_FALSE(parse_redis_url(url, e, error)) << url;
  EXPECT_TRUE(e.host.empty() && e.password.empty()) << "a refused URL leaves nothing behind";
  EXPECT_EQ(error.find('\n'), std::string::npos);
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(RedisUrl, HostPortAndDatabase) {
  auto e = ok("redis://127.0.0.1:6380/2");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 2u);
  EXPECT_FALSE(e.is_unix());
  EXPECT_TRUE(e.user.empty() && e.password.empty());
  e = ok("redis://cache.internal");
  EXPECT_EQ(e.host, "cache.internal");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.db, 0u);
  EXPECT_EQ(ok("redis://h/").db, 0u);
  EXPECT_EQ(ok("redis://h:1/2147483647").db, 2147483647u);
  EXPECT_EQ(ok("redis://h:65535").port, 65535);
}

TEST(RedisUrl, Ipv6InBrackets) {
  auto e = ok("redis://[::1]:7000/1");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 7000);
  EXPECT_EQ(e.db, 1u);
  EXPECT_EQ(ok("redis://[fe80::1]").port, 6379);
  EXPECT_EQ(e.describe(), "redis://[::1]:7000/1");
}

TEST(RedisUrl, UserAndPasswordPercentDecoded) {
  auto e = ok("redis://alice:s%40cr%3At@h:1");
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.password, "s@cr:t");
  e = ok("redis://:only-password@h");
  EXPECT_EQ(e.user, "");
  EXPECT_EQ(e.password, "only-password");
  e = ok("redis://bare-password@h");  // redis-cli -u reads a userinfo without ':' so
  EXPECT_EQ(e.password, "bare-password");
  e = ok("redis://u:p@ss@h");  // the last '@' ends the userinfo
  EXPECT_EQ(e.password, "p@ss");
  EXPECT_EQ(e.host, "h");
  // The password never appears in the description used for logs.
  EXPECT_EQ(ok("redis://alice:secret@h:1/3").describe(), "redis://alice@h:1/3");
  EXPECT_EQ(ok("redis://:secret@h").describe(), "redis://h:6379");
}

TEST(RedisUrl, UnixSockets) {
  auto e = ok("unix:///run/redis/redis.sock");
  EXPECT_TRUE(e.is_unix());
  EXPECT_EQ(e.unix_path, "/run/redis/redis.sock");
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.db, 0u);
  e = ok("unix://u:pw@/tmp/r.sock?db=4");
  EXPECT_EQ(e.user, "u");
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.unix_path, "/tmp/r.sock");
  EXPECT_EQ(e.db, 4u);
  EXPECT_EQ(e.describe(), "unix://u@/tmp/r.sock?db=4");
  EXPECT_EQ(ok("unix:///" + std::string(106, 's')).unix_path.size(), 107u);
}

TEST(RedisUrl, ErrorsSayWhatIsWrongWithoutTheUrl) {
  EXPECT_NE(fails("localhost:6379").find("expected redis://"), std::string::npos);
  EXPECT_NE(fails("http://h").find("expected redis://"), std::string::npos);
  EXPECT_NE(fails("rediss://h:6379").find("not supported"), std::string::npos);
  EXPECT_NE(fails("redis://").find("no host"), std::string::npos);
  EXPECT_NE(fails("redis://:6379").find("no host"), std::string::npos);
  EXPECT_NE(fails("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(fails("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(fails("redis://h:").find("port"), std::string::npos);
  EXPECT_NE(fails("redis://h:63x").find("port"), std::string::npos);
  EXPECT_NE(fails("redis://h/x").find("database"), std::string::npos);
  EXPECT_NE(fails("redis://h/2147483648").find("database"), std::string::npos);
  EXPECT_NE(fails("redis://h/1/2").find("database"), std::string::npos);
  EXPECT_NE(fails("redis://::1:6379").find("host"), std::string::npos);
  EXPECT_NE(fails("redis://[::1").find("']'"), std::string::npos);
  EXPECT_NE(fails("redis://[::1]x").find("IPv6"), std::string::npos);
  EXPECT_NE(fails("redis://[::1]:").find("port"), std::string::npos);
  EXPECT_NE(fails("redis://h h").find("host"), std::string::npos);
  EXPECT_NE(fails("redis://u:@h").find("password"), std::string::npos);
  EXPECT_NE(fails("unix://").find("socket path"), std::string::npos);
  EXPECT_NE(fails("unix://host/path").find("no host"), std::string::npos);
  EXPECT_NE(fails("unix:///").find("socket path"), std::string::npos);
  EXPECT_NE(fails("unix:///" + std::string(107, 's')).find("107"), std::string::npos);
  EXPECT_NE(fails("unix:///s?db=x").find("db=N"), std::string::npos);
  EXPECT_NE(fails("unix:///s?dbx=1").find("db=N"), std::string::npos);
  for (const char* bad : {"redis://u:SeCrEt%4@h", "redis://u:SeCrEt%zz@h", "redis://u:SeCrEt%@h",
                          "unix://u:SeCrEt%g0@/s"}) {
    const std::string error = fails(bad);
    EXPECT_NE(error.find("%-escape"), std::string::npos) << bad;
    EXPECT_EQ(error.find("SeCrEt"), std::string::npos) << "the password leaked: " << error;
  }
}

}  // namespace
}  // namespace ns::cluster
