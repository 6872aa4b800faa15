// SPDX-License-Identifier: MIT
// document_root confines every file to the root on kernels without openat2 (Linux < 5.6, or a
// seccomp profile that refuses it) by canonicalising the path and checking the prefix: the
// same answers as RESOLVE_BENEATH. The missing syscall is simulated in a child process with a
// seccomp filter that fails openat2 with ENOSYS. Also: non-regular files are never served.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/path.hpp"

namespace ns::http {
namespace {

namespace fs = std::filesystem;

class DocumentRootFallback : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ns_http_noat2_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(base_ / "rootsibling");
    std::ofstream(root_ / "a.txt") << "hello";
    std::ofstream(root_ / "sub" / "index.html") << "sub";
    std::ofstream(base_ / "rootsibling" / "x.txt") << "secret";
    fs::create_symlink("a.txt", root_ / "in_link");
    fs::create_symlink("../rootsibling/x.txt", root_ / "sibling_link");  // shares the prefix
    fs::create_symlink(base_ / "rootsibling", root_ / "dir_out");
    ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_, root_;
};

int status_of(const document_root& d, std::string_view target) {
  resolved_file f;
  d.resolve(target, f);
  return f.status;
}

TEST_F(DocumentRootFallback, FifoInsideTheRootIsNotServed) {
  const document_root d(root_.string());
  resolved_file f;
  d.resolve("/pipe", f);
  EXPECT_EQ(f.status, 404);
  EXPECT_FALSE(f.fd) << "the descriptor of a refused file must not stay open";
}

// Installs a filter that makes openat2 fail with ENOSYS (as on Linux < 5.6). False if the
// environment does not allow seccomp filters.
bool simulate_kernel_without_openat2() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

TEST_F(DocumentRootFallback, WithoutOpenat2TheSameAnswersAreGiven) {
  constexpr int k_no_seccomp = 99;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!simulate_kernel_without_openat2()) std::exit(k_no_seccomp);
    int bad = 0;
    const auto expect = [&bad](int bit, bool ok) {
      if (!ok) bad |= 1 << bit;
    };
    {
      const document_root d(root_.string());
      errno = 0;
      expect(0, ::syscall(SYS_openat2, AT_FDCWD, "/", nullptr, 0) < 0 && errno == ENOSYS);
      expect(1, status_of(d, "/a.txt") == 200);
      expect(2, status_of(d, "/in_link") == 200);
      expect(3, status_of(d, "/sub/") == 200);
      expect(4, status_of(d, "/missing.txt") == 404);
      expect(5, status_of(d, "/sibling_link") == 403);  // /root vs /rootsibling: not beneath
      expect(6, status_of(d, "/dir_out/x.txt") == 403);
      resolved_file f;
      d.resolve("/a.txt", f);
      char buf[8] = {};
      expect(7, f.fd && ::read(f.fd.get(), buf, sizeof buf) == 5 && std::string(buf) == "hello");
      // The root "/" itself: everything is beneath it.
      const document_root slash("/");
      expect(8, status_of(slash, (root_ / "a.txt").string()) == 200);
    }
    std::exit(bad);  // exit(), not _exit(): the child's coverage counters must be written
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws)) << "child crashed, status " << ws;
  if (WEXITSTATUS(ws) == k_no_seccomp) GTEST_SKIP() << "seccomp filters are not permitted here";
  EXPECT_EQ(WEXITSTATUS(ws), 0) << "failed checks (bit mask; see the expect() numbers)";
}

}  // namespace
}  // namespace ns::http
