// SPDX-License-Identifier: MIT
#include "load.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ns::bench {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

double client_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Compressible text (a chat-like word salad) or random bytes; the first 8 bytes carry the
// sequence number so a stale or misrouted echo never verifies.
std::vector<std::byte> make_payload(std::size_t size, bool text, std::uint32_t seed) {
  static constexpr const char* words[] = {"the",   "server", "message", "hello", "quick",
                                          "brown", "socket", "stream",  "frame", "json",
                                          "user",  "alice",  "bob",     "data",  "\"id\":"};
  std::vector<std::byte> out(size);
  std::uint32_t x = seed | 1u;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  std::size_t i = 0;
  while (i < size) {
    if (!text) {
      out[i++] = static_cast<std::byte>(next() & 0xff);
      continue;
    }
    const char* w = words[next() % std::size(words)];
    for (; *w != '\0' && i < size; ++w) out[i++] = static_cast<std::byte>(*w);
    if (i < size) out[i++] = std::byte{' '};
  }
  return out;
}

void stamp(std::vector<std::byte>& msg, std::uint32_t seq) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 8 && i < msg.size(); ++i) {
    msg[i] = static_cast<std::byte>(hex[(seq >> (28 - 4 * i)) & 15]);
  }
}

struct stats {
  std::vector<std::uint32_t> lat_us;
  std::uint64_t ops = 0;
  std::uint64_t bytes = 0;
  std::uint64_t errors = 0;
  std::string first_error;
};

// The measurement harness every mode shares: an epoll loop over owned clients.
class runner : public client_handler {
 public:
  runner(const load_options& o, SSL_CTX* ctx) : o_(o), ctx_(ctx), epfd_(epoll_create1(0)) {
    msg_op_ = o.text ? ws::opcode::text : ws::opcode::binary;
  }
  ~runner() override { ::close(epfd_); }

  int run();

  void on_open(client& c) override;
  void on_message(client& c, const ws::event& ev) override;
  void on_closed(client& c) override;

 private:
  client& open_one(std::size_t slot, const client_config& cfg);
  void loop_until(auto&& done, std::uint64_t deadline_ns);
  void send_next(client& c);
  void error(client& c, const std::string& why);
  void print(double secs, const proc_sample& s0, const proc_sample& s1, double c0, double c1);
  std::size_t count_ready() const;
  bool all_agreed() const { return opened_ > 0 && agreed_ == opened_; }
  // What the exit status and the report judge a run by: a run that lost connections or made
  // no operation measured something other than the scenario, so it must not read as a figure.
  bool valid(std::size_t ready) const {
    return st_.errors == 0 && (!o_.deflate || all_agreed()) && (o_.mode == "idle" || st_.ops > 0) &&
           (o_.mode == "storm" || ready == slots_.size());
  }

  const load_options& o_;
  SSL_CTX* ctx_;
  int epfd_;
  ws::opcode msg_op_;
  std::vector<std::unique_ptr<client>> slots_;
  std::vector<std::unique_ptr<client>> graveyard_;  // freed after the epoll batch
  client_config chat_cfg_;
  bool measuring_ = false;
  bool stopping_ = false;
  std::uint64_t end_ns_ = 0;
  std::size_t opened_ = 0;
  std::size_t agreed_ = 0;   // opened connections that agreed permessage-deflate
  std::size_t pending_ = 0;  // connections still being set up
  // broadcast
  std::vector<std::byte> bmsg_;
  std::uint32_t bseq_ = 0;
  std::size_t bgot_ = 0;
  std::uint64_t bsent_ = 0;
  stats st_;
};

client& runner::open_one(std::size_t slot, const client_config& cfg) {
  auto c = std::make_unique<client>(ctx_, cfg, *this, epfd_, 0x9E3779B9u + slot * 7919u);
  c->user = slot;
  c->started_ns = now_ns();
  client& ref = *c;
  if (slots_[slot] != nullptr) graveyard_.push_back(std::move(slots_[slot]));
  slots_[slot] = std::move(c);
  ++pending_;
  ref.start();
  return ref;
}

void runner::loop_until(auto&& done, std::uint64_t deadline_ns) {
  std::array<epoll_event, 256> evs{};
  while (!done() && g_stop == 0 && (deadline_ns == 0 || now_ns() < deadline_ns)) {
    const int n = epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), 20);
    for (int i = 0; i < n; ++i)
      static_cast<client*>(evs[static_cast<std::size_t>(i)].data.ptr)->drive();
    graveyard_.clear();
  }
}

void runner::error(client& c, const std::string& why) {
  if (st_.errors++ == 0) st_.first_error = why;
  c.abort();
}

void runner::send_next(client& c) {
  if (stopping_) return;
  ++c.seq;
  stamp(c.expect, c.seq);
  c.sent_ns = now_ns();
  c.send_message(msg_op_, c.expect, true);
}

void runner::on_open(client& c) {
  c.opened = true;
  --pending_;
  ++opened_;
  if (c.deflate_agreed()) ++agreed_;
  if (o_.mode == "storm") {
    if (measuring_) {
      ++st_.ops;
      st_.lat_us.push_back(static_cast<std::uint32_t>((now_ns() - c.started_ns) / 1000));
    }
    c.start_close();
    return;
  }
  if (o_.mode == "broadcast") return;
  if (o_.mode == "idle" && o_.client.http_only) return;
  c.expect = make_payload(o_.size, o_.text, static_cast<std::uint32_t>(c.user) + 17);
  if (o_.mode == "echo" && measuring_) send_next(c);
  if (o_.mode == "idle") send_next(c);  // one exchange, so lazily made state exists
}

void runner::on_message(client& c, const ws::event& ev) {
  if (o_.mode == "broadcast") {
    if (ev.op != msg_op_ ||
        !std::equal(ev.data.begin(), ev.data.end(), bmsg_.begin(), bmsg_.end())) {
      return error(c, "broadcast message differs from the one sent");
    }
    if (measuring_) ++st_.ops, st_.bytes += ev.data.size();
    if (++bgot_ == slots_.size()) {  // every receiver and the sender itself
      st_.lat_us.push_back(static_cast<std::uint32_t>((now_ns() - bsent_) / 1000));
      bgot_ = 0;
      if (!stopping_) {
        stamp(bmsg_, ++bseq_);
        bsent_ = now_ns();
        slots_[0]->send_message(msg_op_, bmsg_, true);
      }
    }
    return;
  }
  if (ev.op != msg_op_ ||
      !std::equal(ev.data.begin(), ev.data.end(), c.expect.begin(), c.expect.end())) {
    return error(c, "echo differs from the message sent");
  }
  if (o_.mode == "idle") {
    c.seq = 0xffffffff;  // marks the exchange done
    return;
  }
  if (measuring_) {
    ++st_.ops;
    st_.bytes += ev.data.size();
    st_.lat_us.push_back(static_cast<std::uint32_t>((now_ns() - c.sent_ns) / 1000));
  }
  send_next(c);
}

void runner::on_closed(client& c) {
  if (!c.opened) --pending_;
  if (c.state() == phase::failed && !stopping_) {
    if (st_.errors++ == 0) st_.first_error = c.failure();
  }
  // A storm keeps its slots busy; give up reopening if connecting keeps failing.
  if (o_.mode == "storm" && !stopping_ && st_.errors < 100) open_one(c.user, o_.client);
}

int runner::run() {
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const std::size_t n = static_cast<std::size_t>(o_.conns) + (o_.mode == "broadcast" ? 1 : 0);
  const bool storm = o_.mode == "storm";
  slots_.resize(n);
  const proc_sample base = sample_proc(o_.server_pid);
  // Set-up: open every connection, at most `parallel` handshakes at a time.
  std::size_t next = 0;
  const std::uint64_t setup_deadline = now_ns() + 120'000'000'000ull;
  if (!storm) {
    while (opened_ + st_.errors < n && now_ns() < setup_deadline && g_stop == 0) {
      while (next < n && pending_ < static_cast<std::size_t>(o_.parallel))
        open_one(next++, o_.client);
      loop_until(
          [&] {
            return (next < n && pending_ < static_cast<std::size_t>(o_.parallel) / 2) ||
                   opened_ + st_.errors >= n;
          },
          now_ns() + 50'000'000);
    }
    if (opened_ < n) {
      std::printf("{\"mode\":\"%s\",\"error\":\"only %zu of %zu connections opened: %s\"}\n",
                  o_.mode.c_str(), opened_, n, st_.first_error.c_str());
      return 1;
    }
  }
  if (o_.mode == "idle") {
    // Finish the one echo each WSS connection does, then let the server settle.
    loop_until(
        [&] {
          return o_.client.http_only || std::all_of(slots_.begin(), slots_.end(),
                                                    [](auto& c) { return c->seq == 0xffffffff; });
        },
        now_ns() + 30'000'000'000ull);
    loop_until([] { return false; }, now_ns() + 1'000'000'000ull);
    const proc_sample after = sample_proc(o_.server_pid);
    const std::size_t ready = count_ready();
    char per[32] = "null";  // no figure without a server to sample
    if (base.rss_kb != 0 && after.rss_kb != 0) {
      std::snprintf(per, sizeof per, "%.0f",
                    (static_cast<double>(after.rss_kb) - base.rss_kb) * 1024.0 / n);
    }
    char line[512];
    std::snprintf(line, sizeof line,
                  "{\"label\":\"%s\",\"mode\":\"idle\",\"http\":%s,\"deflate\":%s,\"conns\":%zu,"
                  "\"conns_wanted\":%zu,\"conns_open\":%zu,\"deflate_agreed\":%s,"
                  "\"rss_before_kb\":%llu,\"rss_after_kb\":%llu,\"rss_per_conn_bytes\":%s,"
                  "\"errors\":%llu}",
                  o_.label.c_str(), o_.client.http_only ? "true" : "false",
                  o_.deflate ? "true" : "false", n, n, ready, all_agreed() ? "true" : "false",
                  static_cast<unsigned long long>(base.rss_kb),
                  static_cast<unsigned long long>(after.rss_kb), per,
                  static_cast<unsigned long long>(st_.errors));
    if (!o_.ready_file.empty()) std::ofstream(o_.ready_file) << line << "\n";
    loop_until([] { return false; },
               o_.hold > 0 ? now_ns() + static_cast<std::uint64_t>(o_.hold * 1e9) : 0);
    std::printf("%s\n", line);
    return valid(ready) ? 0 : 1;
  }
  // Measured phase.
  measuring_ = true;
  const proc_sample s0 = sample_proc(o_.server_pid);
  const double c0 = client_cpu_s();
  const std::uint64_t t0 = now_ns();
  end_ns_ = t0 + static_cast<std::uint64_t>(o_.duration * 1e9);
  if (storm) {
    for (std::size_t i = 0; i < n; ++i) open_one(i, o_.client);
  } else if (o_.mode == "broadcast") {
    bmsg_ = make_payload(o_.size, o_.text, 42);
    stamp(bmsg_, bseq_);
    bsent_ = now_ns();
    slots_[0]->send_message(msg_op_, bmsg_, true);
  } else {
    for (auto& c : slots_) send_next(*c);
  }
  loop_until([] { return false; }, end_ns_);
  const std::uint64_t t1 = now_ns();
  const proc_sample s1 = sample_proc(o_.server_pid);
  const double c1 = client_cpu_s();
  stopping_ = true;
  measuring_ = false;
  print(static_cast<double>(t1 - t0) / 1e9, s0, s1, c0, c1);
  return valid(count_ready()) ? 0 : 1;
}

// Connections still doing what the scenario measures: open, and in idle WSS mode past their
// one echo (a connection the server closed, even cleanly, no longer costs it memory or work).
std::size_t runner::count_ready() const {
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [&](const auto& c) {
    return c != nullptr && c->state() == phase::open &&
           (o_.mode != "idle" || o_.client.http_only || c->seq == 0xffffffff);
  }));
}

void runner::print(double secs, const proc_sample& s0, const proc_sample& s1, double c0,
                   double c1) {
  std::sort(st_.lat_us.begin(), st_.lat_us.end());
  auto pct = [&](double p) -> double {
    if (st_.lat_us.empty()) return 0;
    return st_
        .lat_us[std::min(st_.lat_us.size() - 1, static_cast<std::size_t>(p * st_.lat_us.size()))];
  };
  const double server_cpu = s1.cpu_s - s0.cpu_s;
  const double ops = static_cast<double>(st_.ops);
  std::string err = st_.first_error;
  std::replace(err.begin(), err.end(), '"', '\'');
  char per_op[32] = "null";  // zero operations have no cost per operation, not a cost of 0
  if (st_.ops > 0 && o_.server_pid != 0) {
    std::snprintf(per_op, sizeof per_op, "%.3f", server_cpu * 1e6 / ops);
  }
  std::printf(
      "{\"label\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"size\":%zu,\"text\":%s,\"deflate\":%s,"
      "\"deflate_agreed\":%s,\"conns_wanted\":%zu,\"conns_open\":%zu,\"seconds\":%.3f,"
      "\"ops\":%llu,\"rate\":%.1f,\"mb_per_s\":%.2f,\"p50_us\":%.0f,\"p99_us\":%.0f,"
      "\"server_cpu_s\":%.3f,\"server_us_per_op\":%s,\"server_cpu_pct\":%.1f,"
      "\"client_cpu_pct\":%.1f,\"errors\":%llu,\"first_error\":\"%s\"}\n",
      o_.label.c_str(), o_.mode.c_str(), o_.conns, o_.size, o_.text ? "true" : "false",
      o_.deflate ? "true" : "false", all_agreed() ? "true" : "false", slots_.size(), count_ready(),
      secs, static_cast<unsigned long long>(st_.ops), ops / secs,
      static_cast<double>(st_.bytes) / secs / 1e6, pct(0.50), pct(0.99), server_cpu, per_op,
      100.0 * server_cpu / secs, 100.0 * (c1 - c0) / secs,
      static_cast<unsigned long long>(st_.errors), err.c_str());
  std::fflush(stdout);
}

}  // namespace

proc_sample sample_proc(int pid) {
  proc_sample s;
  if (pid == 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  if (paren == std::string::npos) return s;
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  // Fields after the command: state(3) ... utime(14) stime(15); rest starts at field 3.
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoull(line.substr(6));
  }
  return s;
}

int run_load(const load_options& opts, SSL_CTX* ctx) {
  runner r(opts, ctx);
  return r.run();
}

}  // namespace ns::bench
