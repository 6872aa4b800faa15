// SPDX-License-Identifier: MIT
#pragma once
// A `kill -USR2` upgrade as the tests see it: the new ns_serve is the old one's child and
// outlives it, so the test process makes itself a child subreaper (it inherits the new process
// when the old one exits) and stops and reaps it by pid, also when a test fails halfway.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/process.hpp"

namespace ns::test {

/// Makes the calling process a child subreaper; call once before the first upgrade.
inline bool become_subreaper() {
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
}

struct successor_guard {
  pid_t pid = -1;
  successor_guard() = default;
  explicit successor_guard(pid_t p) : pid(p) {}
  successor_guard(const successor_guard&) = delete;
  successor_guard& operator=(const successor_guard&) = delete;
  ~successor_guard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  /// SIGTERM, then its exit status (-1 if it did not exit within 10 s).
  int stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
};

/// stderr of @p p once it contains @p needle ("" after @p limit).
inline std::string wait_for_stderr(const child_process& p, const std::string& needle,
                                   std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    std::string err = p.stderr_text();
    if (err.find(needle) != std::string::npos) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

/// The pid the old process names in "SIGUSR2: pid N accepts on the listeners now" (-1: none).
inline pid_t successor_of(const std::string& err) {
  const std::string key = "SIGUSR2: pid ";
  const auto at = err.find(key);
  return at == std::string::npos ? -1
                                 : static_cast<pid_t>(std::atoi(err.c_str() + at + key.size()));
}

}  // namespace ns::test
