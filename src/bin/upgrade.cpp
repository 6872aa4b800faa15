// SPDX-License-Identifier: MIT
#include "bin/upgrade.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "bin/handover_channel.hpp"
#include "bin/socket_activation.hpp"
#include "proxy/address.hpp"

extern char** environ;

namespace ns::serve {
namespace {

using clock = std::chrono::steady_clock;

std::chrono::milliseconds left(clock::time_point deadline) {
  const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return std::max(d, std::chrono::milliseconds(0));
}

// Starts @p binary with @p args; @p keep (if >= 0) stays open in the child, @p out_fd (if
// >= 0) becomes its stdout and stderr. Everything is prepared before fork: between fork and
// exec a multithreaded process may only make async-signal-safe calls.
pid_t spawn(const std::string& binary, const std::vector<std::string>& args,
            const std::vector<std::string>& extra_env, int keep, int out_fd) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The child: signals the old process blocks for its sigwait thread are unblocked again.
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  if (keep >= 0) ::fcntl(keep, F_SETFD, 0);
  if (out_fd >= 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
  }
  ::execve(binary.c_str(), argv.data(), envp.data());
  _exit(127);
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// The last non-empty line of @p text (a failing check prints its problem last).
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// BINARY ARGS --check-config, its output captured (bounded), within the timeout.
bool check_new_config(const upgrade_plan& plan, std::string& why) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  std::vector<std::string> args = plan.args;
  args.emplace_back("--check-config");
  const pid_t pid = spawn(plan.binary, args, {}, -1, out[1]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  const auto deadline = clock::now() + plan.timeout;
  std::string text;
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left(deadline).count())) <= 0) {
      ::close(out[0]);
      kill_and_reap(pid);
      why = plan.binary + " --check-config did not finish within " +
            std::to_string(plan.timeout.count() / 1000) + " s";
      return false;
    }
    char buf[1024];
    const ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    if (text.size() < 4096) text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  why = plan.binary + " --check-config failed (" + exit_text(status) + ")";
  if (const std::string line = last_line(text); !line.empty()) why += ": " + line;
  return false;
}

handover::listener_address address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const proxy::endpoint e = proxy::from_sockaddr(ss);
  handover::listener_address a;
  a.family = e.fam == proxy::family::v6 ? 6 : 4;
  a.port = e.port;
  a.ip = e.ip;
  return a;
}

// The new process's side of hand_over once it runs; @p why names what went wrong.
bool exchange(int sock, pid_t child, std::span<const int> listeners,
              std::chrono::milliseconds timeout, std::string& why) {
  const auto deadline = clock::now() + timeout;
  received hello;
  if (!receive_record(sock, left(deadline), hello, why)) return false;
  for (int fd : hello.fds) ::close(fd);
  // The kernel's word, not the record's: a process we did not start cannot pose as it.
  if (hello.rec.type != handover::record_type::hello || hello.pid != child ||
      hello.uid != ::geteuid() || hello.rec.pid != static_cast<std::uint32_t>(child)) {
    why = "the peer is not the process started (pid " + std::to_string(hello.pid) + ", uid " +
          std::to_string(hello.uid) + ")";
    return false;
  }
  handover::record offer;
  offer.type = handover::record_type::listeners;
  for (int fd : listeners) offer.listeners.push_back(address_of(fd));
  if (!send_record(sock, offer, listeners, why)) return false;
  received answer;
  if (!receive_record(sock, left(deadline), answer, why)) return false;
  for (int fd : answer.fds) ::close(fd);
  if (answer.rec.type == handover::record_type::refused) {
    why = "it refused the listeners: " + answer.rec.text;
    return false;
  }
  if (answer.rec.type != handover::record_type::ready || answer.rec.count != listeners.size()) {
    why = "it did not confirm the " + std::to_string(listeners.size()) + " listener(s)";
    return false;
  }
  return true;
}

}  // namespace

bool hand_over(const upgrade_plan& plan, std::span<const int> listeners, pid_t& successor,
               int& channel, std::string& why) {
  if (!check_new_config(plan, why)) return false;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    why = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  // SO_PEERCRED of a socketpair names its creator (us); SO_PASSCRED makes the kernel attach
  // the credentials of the process that actually sends (SCM_CREDENTIALS) to each message.
  const int one = 1;
  ::setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
  const pid_t pid = spawn(plan.binary, plan.args,
                          {std::string(handover_env) + "=" + std::to_string(sv[1])}, sv[1], -1);
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  std::string detail;
  if (exchange(sv[0], pid, listeners, plan.timeout, detail)) {
    successor = pid;
    channel = sv[0];
    return true;
  }
  ::close(sv[0]);
  // A process that closed the channel is exiting: give it a moment to be reaped, for the log.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 50 && !(exited = ::waitpid(pid, &status, WNOHANG) == pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) kill_and_reap(pid);
  if (detail == no_answer) {
    detail = "did not confirm within " + std::to_string(plan.timeout.count() / 1000) + " s";
  }
  why = plan.binary + " (pid " + std::to_string(pid) + ") " +
        (exited ? "exited (" + exit_text(status) + ") before confirming: " : "") + detail;
  return false;
}

bool receive_listeners(const std::string& bind, std::uint16_t port, int& channel,
                       std::vector<int>& fds, std::string& error) {
  channel = -1;
  fds.clear();
  const char* env = std::getenv(handover_env);
  if (env == nullptr) return true;
  const std::string_view text(env);
  int fd = -1;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  ::unsetenv(handover_env);
  if (ec != std::errc() || p != text.data() + text.size() || fd < 3 ||
      ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    error = std::string(handover_env) + ": '" + std::string(text) + "' is not an open descriptor";
    return false;
  }
  channel = fd;
  handover::record hello;
  hello.pid = static_cast<std::uint32_t>(::getpid());
  received offer;
  if (!send_record(channel, hello, {}, error) ||
      !receive_record(channel, std::chrono::seconds(30), offer, error)) {
    error = "hand-over: " + error;
    return false;
  }
  fds = std::move(offer.fds);
  std::string why;
  if (offer.rec.type != handover::record_type::listeners ||
      offer.rec.listeners.size() != fds.size()) {
    why = "expected " + std::to_string(offer.rec.listeners.size()) + " listener(s), got " +
          std::to_string(fds.size()) + " descriptor(s)";
  }
  for (std::size_t i = 0; why.empty() && i < fds.size(); ++i) {
    const std::string what = "handed-over listener " + std::to_string(i);
    if (!listener_matches(fds[i], bind, port, what, why)) break;
    if (!(address_of(fds[i]) == offer.rec.listeners[i])) why = what + ": not the address sent";
  }
  if (why.empty()) return true;
  handover::record refused;
  refused.type = handover::record_type::refused;
  refused.text = why;
  std::string ignored;
  send_record(channel, refused, {}, ignored);
  for (int f : fds) ::close(f);
  fds.clear();
  error = "hand-over: " + why;
  return false;
}

void confirm_ready(int channel, std::size_t count) {
  if (channel < 0) return;
  handover::record ready;
  ready.type = handover::record_type::ready;
  ready.count = static_cast<std::uint16_t>(count);
  std::string ignored;  // an old process that gave up has killed us already
  send_record(channel, ready, {}, ignored);
}

}  // namespace ns::serve
