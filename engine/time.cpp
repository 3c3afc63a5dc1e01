#include "engine/time.h"

#include <chrono>
#include <cstdio>

namespace plaint::engine {

// Howard Hinnant's civil-date algorithms: exact for the whole int64 range we use.
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

std::string format_iso(timestamp t) {
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];
  if (y < 0 || y > 9999) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    return buf;
  }
  // Every answer and every event's hash formats instants: digits by hand,
  // not through printf's format parser.
  auto two = [](char* at, unsigned v) {
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
  };
  const auto year = static_cast<unsigned>(y);
  two(buf, year / 100);
  two(buf + 2, year % 100);
  buf[4] = '-';
  two(buf + 5, m);
  buf[7] = '-';
  two(buf + 8, d);
  buf[10] = 'T';
  two(buf + 11, static_cast<unsigned>(secs / 3600));
  buf[13] = ':';
  two(buf + 14, static_cast<unsigned>(secs / 60 % 60));
  buf[16] = ':';
  two(buf + 17, static_cast<unsigned>(secs % 60));
  buf[19] = 'Z';
  return std::string(buf, 20);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, unsigned m) {
  static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : dim[m - 1];
}

// Parses the offset at s[pos..]: "Z", "+HH", "+HHMM", "+HH:MM"; whole rest.
bool parse_offset(std::string_view s, std::size_t pos, int& offset_seconds) {
  if (pos == s.size()) {
    offset_seconds = 0;
    return true;
  }
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset_seconds = 0;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  const int sign = s[pos] == '-' ? -1 : 1;
  int hh = 0, mm = 0;
  if (!digits(s, pos + 1, 2, hh)) return false;
  std::size_t next = pos + 3;
  if (next < s.size()) {
    if (s[next] == ':') ++next;
    if (!digits(s, next, 2, mm) || next + 2 != s.size()) return false;
  }
  if (hh > 23 || mm > 59) return false;
  offset_seconds = sign * (hh * 3600 + mm * 60);
  return true;
}

}  // namespace

std::optional<timestamp> parse_iso(std::string_view s) {
  int y, mo, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, mo))) return std::nullopt;
  int hh = 0, mi = 0, ss = 0;
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    if (!digits(s, pos + 1, 2, hh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, ss)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
      }
    }
    if (hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  }
  int offset = 0;
  if (!parse_offset(s, pos, offset)) return std::nullopt;
  const timestamp t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      hh * 3600 + mi * 60 + ss - offset;
  if (!in_instant_range(t)) return std::nullopt;
  return t;
}

std::string format_duration(std::int64_t seconds) {
  std::string sign = seconds < 0 ? "-" : "";
  std::int64_t s = seconds < 0 ? -seconds : seconds;
  char buf[48];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  else if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return sign + buf;
}

timestamp system_clock::now() const {
  using namespace std::chrono;
  return duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t system_clock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace plaint::engine
