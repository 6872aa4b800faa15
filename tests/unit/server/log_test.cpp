// SPDX-License-Identifier: MIT
#include "server/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ns {

TEST(ServerLog, LevelFiltersAndSinkReceivesOneLine) {
  std::vector<std::string> lines;
  set_log_sink([&](log_level, std::string_view l) { lines.emplace_back(l); });
  set_log_level(log_level::warn);
  NS_LOG(log_level::info, "dropped ", 1);
  NS_LOG(log_level::error, "kept ", 2, " parts");
  set_log_sink({});
  set_log_level(log_level::info);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "kept 2 parts");
}

TEST(ServerLog, ParsesLevelNames) {
  log_level l = log_level::info;
  EXPECT_TRUE(parse_log_level("debug", l));
  EXPECT_EQ(l, log_level::debug);
  EXPECT_TRUE(parse_log_level("off", l));
  EXPECT_EQ(l, log_level::off);
  EXPECT_FALSE(parse_log_level("loud", l));
}

}  // namespace ns
