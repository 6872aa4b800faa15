// SPDX-License-Identifier: MIT
// Calendar arithmetic on the proleptic Gregorian calendar in 400-year eras (146097 days),
// so no libc time zone state (gmtime/timegm take a lock) is touched on the hot path.
#include "http/http_date.hpp"

#include <array>

namespace ns::http {

namespace {

constexpr std::array<std::string_view, 7> k_days = {"Thu", "Fri", "Sat", "Sun",
                                                    "Mon", "Tue", "Wed"};  // 1970-01-01: Thu
constexpr std::array<std::string_view, 12> k_months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 → date. Years start on March 1st inside the computation so the leap
// day is the last day of the (shifted) year.
civil from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

std::int64_t to_days(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// A tiny cursor over the date text.
struct cursor {
  std::string_view s;
  bool lit(std::string_view x) noexcept {
    if (s.substr(0, x.size()) != x) return false;
    s.remove_prefix(x.size());
    return true;
  }
  bool num(unsigned digits, unsigned& out) noexcept {
    if (s.size() < digits) return false;
    out = 0;
    for (unsigned i = 0; i < digits; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    s.remove_prefix(digits);
    return true;
  }
  bool month(unsigned& m) noexcept {
    for (unsigned i = 0; i < 12; ++i) {
      if (lit(k_months[i])) {
        m = i + 1;
        return true;
      }
    }
    return false;
  }
  bool time(unsigned& h, unsigned& mi, unsigned& se) noexcept {
    return num(2, h) && lit(":") && num(2, mi) && lit(":") && num(2, se) && h < 24 && mi < 60 &&
           se < 61;
  }
};

bool valid_day(std::int64_t y, unsigned m, unsigned d) noexcept {
  static constexpr unsigned k_len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= k_len[m - 1] + ((m == 2 && leap) ? 1u : 0u);
}

std::int64_t seconds(std::int64_t y, unsigned m, unsigned d, unsigned h, unsigned mi,
                     unsigned s) noexcept {
  return to_days(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
}

}  // namespace

void format_imf_fixdate(std::int64_t t, char* out) noexcept {
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const auto secs = static_cast<unsigned>(t - days * 86400);
  const civil c = from_days(days);
  const auto wd = static_cast<std::size_t>(((days % 7) + 7) % 7);
  auto y = static_cast<unsigned>(c.year < 0 ? 0 : (c.year > 9999 ? 9999 : c.year));
  const std::string_view dn = k_days[wd];
  const std::string_view mn = k_months[c.month - 1];
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  out[0] = dn[0], out[1] = dn[1], out[2] = dn[2], out[3] = ',', out[4] = ' ';
  put2(out + 5, c.day);
  out[7] = ' ', out[8] = mn[0], out[9] = mn[1], out[10] = mn[2], out[11] = ' ';
  put2(out + 12, y / 100);
  put2(out + 14, y % 100);
  out[16] = ' ';
  put2(out + 17, secs / 3600);
  out[19] = ':';
  put2(out + 20, secs / 60 % 60);
  out[22] = ':';
  put2(out + 23, secs % 60);
  out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept {
  unsigned d = 0, m = 0, y = 0, h = 0, mi = 0, s = 0;
  const auto comma = text.find(',');
  if (comma == 3) {  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    cursor c{text.substr(4)};
    if (c.lit(" ") && c.num(2, d) && c.lit(" ") && c.month(m) && c.lit(" ") && c.num(4, y) &&
        c.lit(" ") && c.time(h, mi, s) && c.lit(" GMT") && c.s.empty() && valid_day(y, m, d)) {
      return seconds(y, m, d, h, mi, s);
    }
    return std::nullopt;
  }
  if (comma != std::string_view::npos) {  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    cursor c{text.substr(comma + 1)};
    if (c.lit(" ") && c.num(2, d) && c.lit("-") && c.month(m) && c.lit("-") && c.num(2, y) &&
        c.lit(" ") && c.time(h, mi, s) && c.lit(" GMT") && c.s.empty()) {
      // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past;
      // without a clock we pin the window to 1970..2069.
      y += y < 70 ? 2000 : 1900;
      if (valid_day(y, m, d)) return seconds(y, m, d, h, mi, s);
    }
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  cursor c{text.size() > 4 ? text.substr(4) : std::string_view{}};
  if (text.size() > 4 && text[3] == ' ' && c.month(m) && c.lit(" ")) {
    if (c.lit(" ")) {
      if (!c.num(1, d)) return std::nullopt;
    } else if (!c.num(2, d)) {
      return std::nullopt;
    }
    if (c.lit(" ") && c.time(h, mi, s) && c.lit(" ") && c.num(4, y) && c.s.empty() &&
        valid_day(y, m, d)) {
      return seconds(y, m, d, h, mi, s);
    }
  }
  return std::nullopt;
}

}  // namespace ns::http
