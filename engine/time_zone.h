// IANA time zones read from the system tz database, without touching the
// process-wide `TZ` / `localtime` state.
//
// A zone is loaded from `/usr/share/zoneinfo/<name>` (RFC 8536 TZif, v1 to
// v4; the 64-bit section is used from v2 on): its transitions and local time
// types, and the POSIX TZ string of the footer (`CET-1CEST,M3.5.0,M10.5.0/3`),
// which gives the rule for every instant after the last transition. "UTC" is
// built in and always available.
//
// "Local seconds" are a local wall time counted like a timestamp: the days
// since 1970-01-01 of the local date times 86400, plus the seconds since
// local midnight.
//
// Invariants: a `time_zone` is immutable once built, hence thread-safe;
// `to_local(to_utc(l)) == l` for every local time that exists exactly once.
// Leap-second ("right/") zones are refused: every timestamp here is POSIX time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace plaint::engine {

class time_zone {
 public:
  // The zone called `name` ("Europe/Berlin"), shared with every other caller
  // (loaded zones are cached). Returns `invalid` for a name that is not a
  // relative path of letters, digits, '_', '-', '+' and '/' (so "../x" and
  // "/etc/x" are refused), for a zone that is not installed, and for a file
  // that is not a well-formed TZif file.
  static Result<std::shared_ptr<const time_zone>> load(const std::string& name);

  // A zone built from TZif bytes; `name` is used in messages only.
  static Result<time_zone> from_tzif(const std::string& name, std::string_view bytes);

  // A zone that is just a POSIX TZ rule, e.g. "EST5EDT,M3.2.0,M11.1.0". Returns
  // `invalid` if the text is not a POSIX TZ string.
  static Result<time_zone> from_posix(const std::string& rule);

  // Coordinated Universal Time.
  static time_zone utc();

  const std::string& name() const { return name_; }

  // Seconds east of UTC in effect at the instant `utc` (3600 for CET).
  std::int32_t utc_offset_at(timestamp utc) const;

  std::int64_t to_local(timestamp utc) const { return utc + utc_offset_at(utc); }

  // The instant at which the wall clock shows `local_seconds`. A wall time
  // skipped by a forward jump (the gap of spring-forward) maps to the instant
  // just after the gap, i.e. the transition itself: 02:30 on Berlin's
  // spring-forward day gives 03:00 CEST. A wall time that occurs twice (the
  // overlap of fall-back) maps to the earlier instant, the one before the
  // clocks go back: 02:30 on Berlin's fall-back day gives 02:30 CEST.
  timestamp to_utc(std::int64_t local_seconds) const;

  // The offset in effect throughout [a, b] (b - a at most a few days) when
  // the zone does not change it in that span; nullopt when it may. Lets a
  // caller convert many wall times of one day with one lookup.
  std::optional<std::int32_t> offset_throughout(timestamp a, timestamp b) const;

 private:
  // One `std[offset]dst[offset],start[/time],end[/time]` rule; offsets are
  // seconds east of UTC, `time`s seconds after local midnight (may be < 0 or > 24h).
  struct rule_date {
    char kind = 'M';  // 'J': Julian day 1-365 without Feb 29; 'D': day 0-365; 'M': month.week.weekday
    int day = 0, month = 0, week = 0, weekday = 0;
    std::int32_t time = 7200;
  };
  struct posix_rule {
    std::int32_t std_offset = 0;
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    rule_date start, end;
  };

  static std::optional<posix_rule> parse_posix(std::string_view text);
  static std::int32_t rule_offset_at(const posix_rule& r, timestamp utc);

  std::string name_;
  std::vector<timestamp> transitions_;       // ascending
  std::vector<std::int32_t> offset_after_;   // offset in effect from transitions_[i] on
  std::int32_t initial_offset_ = 0;          // before the first transition
  std::optional<posix_rule> footer_;         // after the last transition
};

}  // namespace plaint::engine
