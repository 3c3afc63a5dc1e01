#include "engine/time_zone.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

namespace plaint::engine {

namespace {

const char* const zoneinfo_dir = "/usr/share/zoneinfo/";
constexpr std::uintmax_t max_tzif_bytes = 1 << 20;
// RFC 8536 keeps offsets within -24:59:59..+25:59:59, so every instant that
// can show a given wall time lies within this distance of it.
constexpr std::int32_t max_offset = 26 * 3600;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int weekday_of(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 4) % 7); }  // 1970-01-01 was a Thursday

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  if (name.find("..") != std::string::npos || name.find("//") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '+' || c == '/';
  });
}

// Big-endian reads over the TZif bytes; any read past the end clears `ok`.
struct byte_reader {
  std::string_view bytes;
  std::size_t pos = 0;
  bool ok = true;

  bool has(std::uint64_t n) {
    if (bytes.size() - pos < n) ok = false;
    return ok;
  }
  std::uint64_t uint(int size) {
    if (!has(static_cast<std::uint64_t>(size))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < size; ++i) v = v << 8 | static_cast<unsigned char>(bytes[pos++]);
    return v;
  }
  std::int64_t sint(int size) {
    const std::uint64_t v = uint(size);
    if (size == 8) return static_cast<std::int64_t>(v);
    return static_cast<std::int64_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(v)));
  }
  void skip(std::uint64_t n) {
    if (has(n)) pos += static_cast<std::size_t>(n);
  }
};

struct tzif_counts {
  std::uint64_t isut, isstd, leap, time, type, chars;
};

bool read_header(byte_reader& r, char& version, tzif_counts& c) {
  if (!r.has(44) || r.bytes.substr(r.pos, 4) != "TZif") return false;
  version = r.bytes[r.pos + 4];
  r.skip(20);
  c = {r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4), r.uint(4)};
  return r.ok && c.type >= 1 && c.type <= 256;
}

std::uint64_t block_size(const tzif_counts& c, int time_size) {
  return c.time * (time_size + 1) + c.type * 6 + c.chars + c.leap * (time_size + 4) + c.isstd + c.isut;
}

// POSIX TZ text: names, [+-]hh[:mm[:ss]] and rule dates.
struct posix_reader {
  std::string_view s;
  std::size_t i = 0;

  bool at(char c) const { return i < s.size() && s[i] == c; }
  bool digit() const { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i;
    return true;
  }
  bool number(int& out, int max) {
    if (!digit()) return false;
    out = 0;
    while (digit()) {
      out = out * 10 + (s[i++] - '0');
      if (out > max) return false;
    }
    return true;
  }
  bool name() {
    if (eat('<')) {
      const std::size_t start = i;
      while (i < s.size() && s[i] != '>') ++i;
      return i - start >= 3 && eat('>');
    }
    const std::size_t start = i;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i;
    return i - start >= 3;
  }
  // Hours up to `max_hours`, optional minutes and seconds, optional sign.
  bool hms(std::int32_t& out, int max_hours) {
    const int sign = eat('-') ? -1 : (eat('+'), 1);
    int h = 0, m = 0, sec = 0;
    if (!number(h, max_hours)) return false;
    if (eat(':') && !number(m, 59)) return false;
    if (eat(':') && !number(sec, 59)) return false;
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
};

}  // namespace

Result<std::shared_ptr<const time_zone>> time_zone::load(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const time_zone>> cache;
  if (!valid_name(name)) return make_error(errc::invalid, "time zone '" + name + "' is not an IANA name");
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
  }
  std::shared_ptr<const time_zone> zone;
  const std::filesystem::path path = zoneinfo_dir + name;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) <= max_tzif_bytes) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = from_tzif(name, bytes);
    if (!parsed) return parsed.error();
    zone = std::make_shared<const time_zone>(std::move(*parsed));
  } else if (name == "UTC") {
    zone = std::make_shared<const time_zone>(utc());
  } else {
    return make_error(errc::invalid, "time zone '" + name + "' is unknown");
  }
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(name, std::move(zone)).first->second;
}

Result<time_zone> time_zone::from_tzif(const std::string& name, std::string_view bytes) {
  const auto malformed = [&] {
    return make_error(errc::invalid, "time zone '" + name + "' is not a well-formed TZif file");
  };
  byte_reader r{bytes};
  char version = 0;
  tzif_counts c{};
  if (!read_header(r, version, c)) return malformed();
  int time_size = 4;
  if (version != '\0') {  // v2+: skip the 32-bit block to the 64-bit header
    r.skip(block_size(c, 4));
    if (!r.ok || !read_header(r, version, c)) return malformed();
    time_size = 8;
  }
  if (c.leap != 0)
    return make_error(errc::invalid, "time zone '" + name + "' counts leap seconds, which plaint does not support");
  if (!r.has(block_size(c, time_size))) return malformed();

  time_zone z;
  z.name_ = name;
  z.transitions_.resize(static_cast<std::size_t>(c.time));
  std::vector<std::uint8_t> index(static_cast<std::size_t>(c.time));
  for (auto& t : z.transitions_) t = r.sint(time_size);
  for (auto& i : index) i = static_cast<std::uint8_t>(r.uint(1));
  std::vector<std::int32_t> offsets(static_cast<std::size_t>(c.type));
  for (auto& o : offsets) {
    o = static_cast<std::int32_t>(r.sint(4));
    r.skip(2);  // isdst, abbreviation index: only offsets matter here
    if (o <= -max_offset || o >= max_offset) return malformed();
  }
  r.skip(c.chars + c.isstd + c.isut);
  for (std::size_t k = 0; k < index.size(); ++k) {
    if (index[k] >= offsets.size() || (k > 0 && z.transitions_[k] <= z.transitions_[k - 1])) return malformed();
    z.offset_after_.push_back(offsets[index[k]]);
  }
  z.initial_offset_ = offsets[0];  // RFC 8536 §3.2: type 0 rules before the first transition

  if (time_size == 8) {
    if (!r.ok || !r.has(2) || bytes[r.pos] != '\n') return malformed();
    const std::size_t end = bytes.find('\n', r.pos + 1);
    if (end == std::string_view::npos) return malformed();
    const std::string_view footer = bytes.substr(r.pos + 1, end - r.pos - 1);
    if (!footer.empty()) {
      z.footer_ = parse_posix(footer);
      if (!z.footer_)
        return make_error(errc::invalid, "time zone '" + name + "' has a malformed rule '" + std::string(footer) + "'");
    }
  }
  if (!r.ok) return malformed();
  return z;
}

Result<time_zone> time_zone::from_posix(const std::string& rule) {
  time_zone z;
  z.name_ = rule;
  z.footer_ = parse_posix(rule);
  if (!z.footer_) return make_error(errc::invalid, "time zone rule '" + rule + "' is not a POSIX TZ string");
  return z;
}

time_zone time_zone::utc() {
  time_zone z;
  z.name_ = "UTC";
  return z;
}

std::optional<time_zone::posix_rule> time_zone::parse_posix(std::string_view text) {
  posix_reader p{text};
  posix_rule r;
  std::int32_t west = 0;
  if (!p.name() || !p.hms(west, 24)) return std::nullopt;
  r.std_offset = -west;  // POSIX counts hours west of Greenwich
  if (p.i == text.size()) return r;
  if (!p.name()) return std::nullopt;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!p.at(',') && p.i < text.size()) {
    if (!p.hms(west, 24)) return std::nullopt;
    r.dst_offset = -west;
  }
  if (p.i == text.size()) p = posix_reader{",M3.2.0,M11.1.0"};  // tzcode's default: US rules
  const auto date = [&p](rule_date& d) {
    if (!p.eat(',')) return false;
    bool ok = false;
    if (p.eat('J')) {
      d.kind = 'J';
      ok = p.number(d.day, 365) && d.day >= 1;
    } else if (p.eat('M')) {
      d.kind = 'M';
      ok = p.number(d.month, 12) && d.month >= 1 && p.eat('.') && p.number(d.week, 5) && d.week >= 1 &&
           p.eat('.') && p.number(d.weekday, 6);
    } else {
      d.kind = 'D';
      ok = p.number(d.day, 365);
    }
    return ok && (!p.eat('/') || p.hms(d.time, 167));  // RFC 8536 v3 extends times to ±167h
  };
  if (!date(r.start) || !date(r.end) || p.i != p.s.size()) return std::nullopt;
  return r;
}

namespace {

std::int64_t rule_day(char kind, int day, int month, int week, int weekday, int year) {
  const std::int64_t jan1 = days_from_civil(year, 1, 1);
  if (kind == 'D') return jan1 + day;
  if (kind == 'J') {
    const bool leap = days_from_civil(year, 3, 1) - days_from_civil(year, 2, 1) == 29;
    return jan1 + day - 1 + (leap && day >= 60 ? 1 : 0);
  }
  const std::int64_t first = days_from_civil(year, static_cast<unsigned>(month), 1);
  const std::int64_t next = month == 12 ? days_from_civil(year + 1, 1, 1)
                                        : days_from_civil(year, static_cast<unsigned>(month + 1), 1);
  std::int64_t d = first + (weekday - weekday_of(first) + 7) % 7 + (week - 1) * 7;
  while (d >= next) d -= 7;  // week 5 means "the last"
  return d;
}

}  // namespace

std::int32_t time_zone::rule_offset_at(const posix_rule& r, timestamp utc) {
  if (!r.has_dst) return r.std_offset;
  const auto start_of = [&r](int y) {
    const auto& d = r.start;
    return rule_day(d.kind, d.day, d.month, d.week, d.weekday, y) * 86400 + d.time - r.std_offset;
  };
  const auto end_of = [&r](int y) {
    const auto& d = r.end;
    return rule_day(d.kind, d.day, d.month, d.week, d.weekday, y) * 86400 + d.time - r.dst_offset;
  };
  int year;
  unsigned month, day;
  civil_from_days(floor_div(utc + r.std_offset, 86400), year, month, day);
  // "DST all year" (e.g. "EST5EDT,0/0,J365/25"): summer time never ends.
  const std::int64_t year_seconds = (days_from_civil(year + 1, 1, 1) - days_from_civil(year, 1, 1)) * 86400;
  if (end_of(year) - start_of(year) >= year_seconds) return r.dst_offset;
  // Rule times may reach into the neighbouring years, so the change in force
  // is the latest one at or before `utc` among three years' changes.
  std::optional<timestamp> latest;
  bool dst = false;
  for (int y = year - 1; y <= year + 1; ++y) {
    for (const bool to_dst : {false, true}) {
      const timestamp at = to_dst ? start_of(y) : end_of(y);
      if (at > utc) continue;
      if (!latest || at > *latest || (at == *latest && to_dst)) {
        latest = at;
        dst = to_dst;
      }
    }
  }
  return dst ? r.dst_offset : r.std_offset;
}

std::int32_t time_zone::utc_offset_at(timestamp utc) const {
  if (transitions_.empty()) return footer_ ? rule_offset_at(*footer_, utc) : initial_offset_;
  if (utc < transitions_.front()) return initial_offset_;
  if (footer_ && utc > transitions_.back()) return rule_offset_at(*footer_, utc);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return offset_after_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

std::optional<std::int32_t> time_zone::offset_throughout(timestamp a, timestamp b) const {
  const std::int32_t first = utc_offset_at(a);
  if (utc_offset_at(b) != first) return std::nullopt;
  // Inside the table, equal offsets at both ends may hide a change and its
  // reversal: the transitions themselves decide. A rule (the footer) changes
  // twice a year at most, never twice within a few days.
  if (!transitions_.empty() && b >= transitions_.front() && a <= transitions_.back()) {
    const auto lo = std::upper_bound(transitions_.begin(), transitions_.end(), a);
    const auto hi = std::upper_bound(transitions_.begin(), transitions_.end(), b);
    if (lo != hi) return std::nullopt;
  }
  return first;
}

timestamp time_zone::to_utc(std::int64_t local) const {
  // The offsets just before and just after any transition near `local`; zones
  // never change twice within a day, so these are the only candidates.
  const timestamp early = local - utc_offset_at(local - max_offset);
  const timestamp late = local - utc_offset_at(local + max_offset);
  const bool early_ok = to_local(early) == local, late_ok = to_local(late) == local;
  if (early_ok && late_ok) return std::min(early, late);
  if (early_ok) return early;
  if (late_ok) return late;
  // A gap: the transition lies in (lo, hi]; find it by bisection.
  timestamp lo = std::min(early, late), hi = std::max(early, late);
  const std::int32_t before = utc_offset_at(lo);
  if (utc_offset_at(hi) == before) return local - before;
  while (hi - lo > 1) {
    const timestamp mid = lo + (hi - lo) / 2;
    if (utc_offset_at(mid) == before)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

}  // namespace plaint::engine
