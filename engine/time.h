// Wall-clock instants as seconds since the Unix epoch (UTC), ISO 8601 in and
// out, and the injectable clock the engine reads "now" from.
//
// Invariant: every instant in the model and the database is UTC seconds;
// offsets exist only at the edges (parsing `--now`, `--from`, `--to`).
// Every stored instant lies in [min_instant, max_instant], the years 0000 to
// 9999 that ISO 8601 writes with four digits, so that it round-trips through
// format_iso and parse_iso (an export can always be imported again).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plaint::engine {

using timestamp = std::int64_t;

inline constexpr timestamp min_instant = -62167219200;  // 0000-01-01T00:00:00Z
inline constexpr timestamp max_instant = 253402300799;  // 9999-12-31T23:59:59Z

// Whether `t` is an instant plaint may store.
constexpr bool in_instant_range(timestamp t) { return t >= min_instant && t <= max_instant; }

// "2026-11-23T08:00:00Z". Precondition: in_instant_range(t); the sources of
// instants (parse_iso, the clocks, the SLA arithmetic) keep to the range,
// and outside it the text would not parse again.
std::string format_iso(timestamp t);

// Accepts YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]] with `Z`, `±HH:MM`, `±HHMM`
// or `±HH`, and a space instead of `T`; no offset means UTC. Returns nullopt
// for anything else, including impossible dates such as 2026-02-30 and
// instants outside [min_instant, max_instant] once the offset is applied
// (0000-01-01T00:30:00+01:00 is in year -1).
std::optional<timestamp> parse_iso(std::string_view text);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d);

// Human durations: "2h 05m", "3d 4h", "45s"; negative values get a leading '-'.
std::string format_duration(std::int64_t seconds);

class clock {
 public:
  virtual ~clock() = default;
  virtual timestamp now() const = 0;
  // Milliseconds since the epoch, for arming timers precisely.
  virtual std::int64_t now_ms() const { return now() * 1000; }
};

class system_clock final : public clock {
 public:
  timestamp now() const override;
  std::int64_t now_ms() const override;
};

// A clock that stands still until told otherwise: tests and `--now`.
class fixed_clock final : public clock {
 public:
  explicit fixed_clock(timestamp t) : t_(t) {}
  timestamp now() const override { return t_; }
  void set(timestamp t) { t_ = t; }
  void advance(std::int64_t seconds) { t_ += seconds; }

 private:
  timestamp t_;
};

}  // namespace plaint::engine
