// SPDX-License-Identifier: MIT
#include "support/process.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ns::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

}  // namespace

child_process::child_process(std::vector<std::string> argv, std::optional<run_as> user,
                             int inherit_fd) {
  char tmpl[] = "/tmp/ns_child_XXXXXX";
  const char* dir = mkdtemp(tmpl);
  out_path_ = std::string(dir ? dir : "/tmp") + "/stdout";
  err_path_ = std::string(dir ? dir : "/tmp") + "/stderr";
  std::string gcov_prefix;
  if (user && dir != nullptr) {
    const std::string gcov_dir = std::string(dir) + "/gcov";
    if (chmod(dir, 0711) == 0 && mkdir(gcov_dir.c_str(), 0700) == 0 &&
        chown(gcov_dir.c_str(), user->uid, user->gid) == 0) {
      gcov_prefix = "GCOV_PREFIX=" + gcov_dir;
    }
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    // Only stdin/out/err (and the one descriptor handed over) survive into the child: the fd
    // counts tests take are the server's own.
    int first_closed = 3;
    if (inherit_fd >= 0) {
      if (inherit_fd == 3) {
        fcntl(3, F_SETFD, 0);
      } else {
        dup2(inherit_fd, 3);
      }
      first_closed = 4;
    }
    for (int fd = first_closed; fd < 1024; ++fd) close(fd);
    if (user) {
      if (setgroups(0, nullptr) != 0 || setgid(user->gid) != 0 || setuid(user->uid) != 0) {
        dprintf(2, "child_process: cannot become uid %u gid %u: %s\n", unsigned(user->uid),
                unsigned(user->gid), strerror(errno));
        _exit(127);
      }
      if (!gcov_prefix.empty()) putenv(gcov_prefix.data());
    }
    execv(args[0], args.data());
    dprintf(2, "child_process: cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
}

child_process::~child_process() {
  if (pid_ > 0 && status_ == -1) {
    kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(out_path_).parent_path(), ec);
}

std::string child_process::wait_for_output(const std::string& needle,
                                           std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::string text = slurp(out_path_);
    if (text.find(needle) != std::string::npos) return text;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = decode_status(st);
      return "";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (status_ != -1) return status_;
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = decode_status(st);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

int child_process::stop(int sig, std::chrono::milliseconds timeout) {
  if (status_ != -1) return status_;
  kill(pid_, sig);
  return wait(timeout);
}

std::string child_process::stdout_text() const {
  return slurp(out_path_);
}
std::string child_process::stderr_text() const {
  return slurp(err_path_);
}

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  std::uint16_t port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

int open_fd_count(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

int wait_fd_count_at_most(pid_t pid, int target, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  int now = open_fd_count(pid);
  while (now > target && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = open_fd_count(pid);
  }
  return now;
}

int settled_fd_count(pid_t pid) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int last = open_fd_count(pid);
  auto stable_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int now = open_fd_count(pid);
    if (now != last) {
      last = now;
      stable_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - stable_since >= std::chrono::milliseconds(100)) {
      break;
    }
  }
  return last;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string binary_path(const std::string& relative) {
  const char* dir = std::getenv("NS_BINARY_DIR");
  return std::string(dir ? dir : NS_DEFAULT_BINARY_DIR) + "/" + relative;
}

std::string source_path(const std::string& relative) {
  const char* dir = std::getenv("NS_SOURCE_DIR");
  return std::string(dir ? dir : NS_DEFAULT_SOURCE_DIR) + "/" + relative;
}

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/ns_test_XXXXXX";
  const char* d = mkdtemp(tmpl);
  path_ = d ? d : "/tmp";
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const {
  const std::filesystem::path p = std::filesystem::path(path_) / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  return p.string();
}

served start_ns_serve(const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary_path("src/bin/ns_serve"), "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  served s;
  s.process = std::make_unique<child_process>(argv);
  const std::string out = s.process->wait_for_output("/ with ", std::chrono::seconds(20));
  const std::size_t colon = out.find("://");
  if (colon == std::string::npos) return s;
  const std::size_t port_at = out.find(':', colon + 3);
  if (port_at != std::string::npos)
    s.port = static_cast<std::uint16_t>(std::atoi(out.c_str() + port_at + 1));
  return s;
}

}  // namespace ns::test
