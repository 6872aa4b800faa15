// SPDX-License-Identifier: MIT
// wsload --mode fanout: cluster_fanout's subscribers and publishers. Every connection joins one
// room (ns_serve: /ws/chat?room=R, a topic; Socket.IO: the room its handshake names), spread
// round-robin over the instances' ports; the first --publishers connections also publish, at a
// fixed rate each (open loop: a slow server shows as latency and losses, never as a lower
// offered rate). Every message carries its publisher, its sequence number and the send time
// (CLOCK_MONOTONIC of this process, which also receives it), so each delivery is checked for
// content, order and gaps, and timed.
#include "fanout.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sio.hpp"

namespace ns::bench {
namespace {

constexpr std::string_view event_name = "m";
constexpr std::size_t head_len = 27;  // phase, publisher (2 hex), seq (8 hex), time (16 hex)

double client_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void put_hex(std::string& s, std::size_t at, std::uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < digits; ++i) s[at + i] = hex[(v >> (4 * (digits - 1 - i))) & 15];
}

std::optional<std::uint64_t> get_hex(std::string_view s, std::size_t at, int digits) {
  std::uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    const char ch = s[at + i];
    const int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<unsigned>(d);
  }
  return v;
}

// One publisher's messages: the stamped head, then a filler fixed per publisher (checked too,
// so a truncated or mixed-up message never verifies). Printable, no '"' or '\\' (Socket.IO
// carries it as a JSON string).
std::string filler(unsigned pub, std::size_t size) {
  std::string f(size > head_len ? size - head_len : 0, ' ');
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<char>('a' + (pub * 7 + i) % 26);
  return f;
}

struct stamp {
  bool warm;
  unsigned pub;
  std::uint32_t seq;
  std::uint64_t sent_ns;
};

struct member {
  std::vector<std::uint32_t> next;  // per publisher: the measured seq expected next
  std::vector<std::int64_t> warm;   // per publisher: the last warm-up seq seen (-1: none)
  bool joined = false;
};

class fanout : public client_handler {
 public:
  fanout(const load_options& o, SSL_CTX* ctx) : o_(o), ctx_(ctx), epfd_(epoll_create1(0)) {}
  ~fanout() override { ::close(epfd_); }
  int run();

  void on_open(client& c) override;
  void on_message(client& c, const ws::event& ev) override;
  void on_closed(client& c) override;

 private:
  void loop_until(auto&& done, std::uint64_t deadline_ns);
  void error(client& c, const std::string& why);
  void send_text(client& c, std::string_view text);
  void publish(unsigned pub, bool warm);
  void deliver(client& c, std::string_view msg);
  std::optional<stamp> parse(std::string_view msg) const;
  bool warm_done() const;
  std::uint64_t missing() const;  // measured messages sent but not (yet) received
  double cpu_of(const std::vector<int>& pids) const;
  std::size_t open_count() const;
  int finish(double secs, double srv_cpu, double redis_cpu, double cli_cpu, double drain_s);

  const load_options& o_;
  SSL_CTX* ctx_;
  int epfd_;
  std::deque<client_config> cfgs_;  // one per port; clients keep a reference
  std::vector<std::unique_ptr<client>> slots_;
  std::vector<member> members_;
  std::vector<std::string> fillers_;
  std::vector<std::uint32_t> sent_;       // per publisher: measured messages sent
  std::vector<std::uint32_t> warm_sent_;  // per publisher: warm-up messages sent
  std::size_t pending_ = 0, joined_ = 0;
  bool measuring_ = false, stopping_ = false;
  std::vector<std::uint32_t> lat_us_;
  std::uint64_t delivered_ = 0, losses_ = 0, errors_ = 0, late_max_us_ = 0;
  std::string first_error_;
};

void fanout::loop_until(auto&& done, std::uint64_t deadline_ns) {
  std::array<epoll_event, 256> evs{};
  while (!done() && (deadline_ns == 0 || now_ns() < deadline_ns)) {
    const std::uint64_t left = deadline_ns == 0 ? 20'000'000 : deadline_ns - now_ns();
    const int ms = static_cast<int>(std::min<std::uint64_t>(left / 1'000'000, 20));
    const int n = epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), ms);
    for (int i = 0; i < n; ++i)
      static_cast<client*>(evs[static_cast<std::size_t>(i)].data.ptr)->drive();
  }
}

void fanout::error(client& c, const std::string& why) {
  if (errors_++ == 0) first_error_ = why;
  c.abort();
}

void fanout::send_text(client& c, std::string_view text) {
  c.send_message(ws::opcode::text, std::as_bytes(std::span(text.data(), text.size())), false);
}

void fanout::publish(unsigned pub, bool warm) {
  std::string msg(head_len, ' ');
  msg[0] = warm ? 'W' : 'M';
  put_hex(msg, 1, pub, 2);
  put_hex(msg, 3, warm ? warm_sent_[pub]++ : sent_[pub]++, 8);
  put_hex(msg, 11, now_ns(), 16);
  msg += fillers_[pub];
  if (o_.sio) msg = sio::event_packet(event_name, msg);
  send_text(*slots_[pub], msg);
}

std::optional<stamp> fanout::parse(std::string_view msg) const {
  if (msg.size() != std::max(o_.size, head_len) || (msg[0] != 'W' && msg[0] != 'M'))
    return std::nullopt;
  const auto pub = get_hex(msg, 1, 2), seq = get_hex(msg, 3, 8), t = get_hex(msg, 11, 16);
  if (!pub || !seq || !t || *pub >= fillers_.size() || msg.substr(head_len) != fillers_[*pub])
    return std::nullopt;
  return stamp{msg[0] == 'W', static_cast<unsigned>(*pub), static_cast<std::uint32_t>(*seq), *t};
}

void fanout::deliver(client& c, std::string_view msg) {
  const std::uint64_t now = now_ns();
  const auto s = parse(msg);
  if (!s) return error(c, "a message that no publisher sent: " + std::string(msg.substr(0, 40)));
  member& m = members_[c.user];
  if (s->warm) {
    m.warm[s->pub] = s->seq;
    return;
  }
  std::uint32_t& next = m.next[s->pub];
  if (s->seq < next) return error(c, "a message twice or out of publish order");
  losses_ += s->seq - next;  // one publisher's messages arrive in order: a gap is a loss
  next = s->seq + 1;
  ++delivered_;
  lat_us_.push_back(
      static_cast<std::uint32_t>(std::min<std::uint64_t>((now - s->sent_ns) / 1000, 0xffffffffu)));
}

void fanout::on_open(client& c) {
  c.opened = true;
  --pending_;
  if (!o_.sio) members_[c.user].joined = true, ++joined_;  // /ws/chat subscribes at the 101
}

void fanout::on_message(client& c, const ws::event& ev) {
  const std::string_view text(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
  if (ev.op != ws::opcode::text) return error(c, "a binary message");
  if (!o_.sio) return deliver(c, text);
  std::string_view arg;
  switch (sio::classify(text, event_name, arg)) {
    case sio::kind::open:
      return send_text(c, sio::connect_packet);
    case sio::kind::ping:
      return send_text(c, sio::pong_packet);
    case sio::kind::connected:
      if (!members_[c.user].joined) members_[c.user].joined = true, ++joined_;
      return;
    case sio::kind::event:
      return deliver(c, arg);
    case sio::kind::disconnected:
    case sio::kind::connect_error:
    case sio::kind::unknown:
      return error(c, "Socket.IO packet not expected: " + std::string(text.substr(0, 60)));
  }
}

void fanout::on_closed(client& c) {
  if (!c.opened) --pending_;
  if (!stopping_ && errors_++ == 0)
    first_error_ = "connection lost: " + (c.failure().empty() ? "closed" : c.failure());
}

bool fanout::warm_done() const {
  return std::all_of(members_.begin(), members_.end(), [&](const member& m) {
    for (std::size_t p = 0; p < warm_sent_.size(); ++p)
      if (warm_sent_[p] == 0 || m.warm[p] != static_cast<std::int64_t>(warm_sent_[p]) - 1)
        return false;
    return true;
  });
}

std::uint64_t fanout::missing() const {
  std::uint64_t n = 0;
  for (const member& m : members_)
    for (std::size_t p = 0; p < sent_.size(); ++p) n += sent_[p] - m.next[p];
  return n;
}

// Summed CPU seconds; negative (no figure) when a process is gone, whose time is lost with it.
double fanout::cpu_of(const std::vector<int>& pids) const {
  double s = 0;
  for (int pid : pids) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return -1;
    s += sample_proc(pid).cpu_s;
  }
  return s;
}

std::size_t fanout::open_count() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    n += slots_[i]->state() == phase::open && members_[i].joined ? 1 : 0;
  return n;
}

int fanout::run() {
  const std::size_t pubs = static_cast<std::size_t>(o_.publishers);
  const std::size_t n = static_cast<std::size_t>(o_.conns) + pubs;
  std::vector<std::uint16_t> ports = o_.ports;
  if (ports.empty()) ports.push_back(o_.client.port);
  for (std::uint16_t p : ports) {
    cfgs_.push_back(o_.client);
    cfgs_.back().port = p;
  }
  members_.resize(
      n, member{std::vector<std::uint32_t>(pubs, 0), std::vector<std::int64_t>(pubs, -1), false});
  for (std::size_t p = 0; p < pubs; ++p)
    fillers_.push_back(filler(static_cast<unsigned>(p), o_.size));
  sent_.assign(pubs, 0);
  warm_sent_.assign(pubs, 0);
  // Connections i and i + ports.size() go to the same instance: publishers (the first ones)
  // and subscribers are both spread evenly.
  std::size_t next = 0;
  const std::uint64_t setup_deadline = now_ns() + 120'000'000'000ull;
  while (joined_ + errors_ < n && now_ns() < setup_deadline) {
    while (next < n && pending_ < static_cast<std::size_t>(o_.parallel)) {
      slots_.push_back(std::make_unique<client>(ctx_, cfgs_[next % cfgs_.size()], *this, epfd_,
                                                0x9E3779B9u + next * 7919u));
      slots_.back()->user = next++;
      ++pending_;
      slots_.back()->start();
    }
    loop_until([&] { return next < n && pending_ < static_cast<std::size_t>(o_.parallel) / 2; },
               now_ns() + 50'000'000);
  }
  if (joined_ < n) {
    std::printf(
        "{\"mode\":\"fanout\",\"error\":\"only %zu of %zu connections joined the room: %s\"}\n",
        joined_, n, first_error_.c_str());
    return 1;
  }
  // Warm-up: rounds of one message per publisher until every member got the latest round of
  // every publisher, so the instances' subscriptions (to Redis too) are in place and nothing is
  // in flight when the measurement starts.
  const std::uint64_t warm_deadline = now_ns() + 30'000'000'000ull;
  while (!warm_done() && errors_ == 0 && now_ns() < warm_deadline) {
    for (unsigned p = 0; p < pubs; ++p) publish(p, true);
    loop_until([&] { return warm_done() || errors_ > 0; }, now_ns() + 500'000'000);
  }
  if (!warm_done()) {
    std::printf(
        "{\"mode\":\"fanout\",\"error\":\"warm-up messages did not reach every member "
        "within 30 s: %s\"}\n",
        first_error_.c_str());
    return 1;
  }
  // Measured phase: publisher p sends at t0 + (k + p / pubs) / rate, open loop.
  measuring_ = true;
  lat_us_.reserve(static_cast<std::size_t>(o_.rate * o_.duration * pubs) * n + 16);
  const double s0 = cpu_of(o_.server_pids), r0 = cpu_of({o_.redis_pid}), c0 = client_cpu_s();
  const std::uint64_t t0 = now_ns();
  const std::uint64_t period = static_cast<std::uint64_t>(1e9 / o_.rate);
  const std::uint64_t t_end = t0 + static_cast<std::uint64_t>(o_.duration * 1e9);
  auto due = [&](std::size_t p) { return t0 + sent_[p] * period + p * period / pubs; };
  while (now_ns() < t_end && errors_ == 0) {
    std::uint64_t soonest = t_end;
    for (std::size_t p = 0; p < pubs; ++p) {
      const std::uint64_t now = now_ns();
      if (due(p) <= now && due(p) < t_end) {
        late_max_us_ = std::max(late_max_us_, (now - due(p)) / 1000);
        publish(static_cast<unsigned>(p), false);
      }
      soonest = std::min(soonest, due(p));
    }
    loop_until([] { return false; }, std::min(soonest, t_end));
  }
  const std::uint64_t t_sent = now_ns();
  // Drain: every message sent reaches every member, or what has not within 5 s is lost.
  loop_until([&] { return missing() == 0 || errors_ > 0; }, t_sent + 5'000'000'000ull);
  const double drain_s = static_cast<double>(now_ns() - t_sent) / 1e9;
  const double s1 = cpu_of(o_.server_pids), r1 = cpu_of({o_.redis_pid});
  const double srv = s0 < 0 || s1 < 0 ? -1 : s1 - s0, red = r0 < 0 || r1 < 0 ? -1 : r1 - r0;
  const double cli = client_cpu_s() - c0;
  losses_ += missing();
  stopping_ = true;
  return finish(static_cast<double>(t_sent - t0) / 1e9, srv, red, cli, drain_s);
}

int fanout::finish(double secs, double srv, double redis, double cli, double drain_s) {
  std::sort(lat_us_.begin(), lat_us_.end());
  auto pct = [&](double p) -> double {
    if (lat_us_.empty()) return 0;
    return lat_us_[std::min(lat_us_.size() - 1, static_cast<std::size_t>(p * lat_us_.size()))];
  };
  std::uint64_t published = 0;
  for (auto s : sent_) published += s;
  const std::size_t open = open_count();
  const double ops = static_cast<double>(delivered_);
  // Zero deliveries have no cost per delivery: null, never 0 (which would read as free).
  char per_op[32] = "null", per_op_redis[32] = "null";
  if (delivered_ > 0 && !o_.server_pids.empty() && srv >= 0)
    std::snprintf(per_op, sizeof per_op, "%.3f", srv * 1e6 / ops);
  if (delivered_ > 0 && redis >= 0)
    std::snprintf(per_op_redis, sizeof per_op_redis, "%.4f", redis * 1e6 / ops);
  std::string err = first_error_;
  std::replace(err.begin(), err.end(), '"', '\'');
  std::replace(err.begin(), err.end(), '\\', '/');
  std::printf(
      "{\"label\":\"%s\",\"mode\":\"fanout\",\"proto\":\"%s\",\"instances\":%zu,\"conns\":%d,"
      "\"publishers\":%d,\"size\":%zu,\"rate_per_publisher\":%.1f,\"deflate\":false,"
      "\"conns_wanted\":%zu,\"conns_open\":%zu,\"seconds\":%.3f,\"published\":%llu,"
      "\"expected\":%llu,\"ops\":%llu,\"losses\":%llu,\"rate\":%.1f,\"p50_us\":%.0f,"
      "\"p99_us\":%.0f,\"max_us\":%.0f,\"send_late_max_us\":%llu,\"drain_s\":%.3f,"
      "\"server_cpu_s\":%.3f,\"server_us_per_op\":%s,\"server_cpu_pct\":%.1f,"
      "\"redis_cpu_s\":%.3f,\"redis_us_per_op\":%s,\"client_cpu_pct\":%.1f,\"errors\":%llu,"
      "\"first_error\":\"%s\"}\n",
      o_.label.c_str(), o_.sio ? "socket.io" : "ws", cfgs_.size(), o_.conns, o_.publishers,
      std::max(o_.size, head_len), o_.rate, slots_.size(), open, secs,
      static_cast<unsigned long long>(published),
      static_cast<unsigned long long>(published * slots_.size()),
      static_cast<unsigned long long>(delivered_), static_cast<unsigned long long>(losses_),
      ops / secs, pct(0.50), pct(0.99), lat_us_.empty() ? 0.0 : lat_us_.back(),
      static_cast<unsigned long long>(late_max_us_), drain_s, srv, per_op,
      100.0 * srv / (secs + drain_s), redis, per_op_redis, 100.0 * cli / (secs + drain_s),
      static_cast<unsigned long long>(errors_), err.c_str());
  std::fflush(stdout);
  const bool valid = errors_ == 0 && losses_ == 0 && delivered_ > 0 && open == slots_.size();
  return valid ? 0 : 1;
}

}  // namespace

int run_fanout(const load_options& opts, SSL_CTX* ctx) {
  fanout f(opts, ctx);
  return f.run();
}

}  // namespace ns::bench
