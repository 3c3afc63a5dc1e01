// The business calendar: when the service desk works, so that SLA targets
// count service time, not wall time.
//
// A calendar is either 24x7 (every second counts) or a weekly schedule of
// working intervals in one IANA time zone, minus holidays (local dates).
// Daylight-saving changes are handled by converting local wall times through
// the zone's rules: a working day of 09:00-17:00 is 8 hours on the day the
// clocks change, too.
//
// Invariants: `add(t, 0) == t` only when t is inside working time; otherwise
// `add(t, s)` for s ≥ 0 returns an instant inside or at the end of a working
// interval. `between(a, add(a, s)) == s`. Both are pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace plaint::engine {

class time_zone;

// One stretch of wall time as the calendar sees it (`business_calendar::segments`).
struct calendar_segment {
  enum class kind { counted, off_hours, weekend, holiday };
  timestamp from = 0;
  timestamp to = 0;  // [from, to)
  kind what = kind::counted;
  std::string holiday;  // the holiday's name ("" when it has none or `what` is not a holiday)
};
const char* kind_name(calendar_segment::kind k);  // "counted", "off_hours", "weekend", "holiday"

class business_calendar {
 public:
  // Working intervals of one weekday in local minutes since midnight, [start, end).
  using day_hours = std::vector<std::pair<int, int>>;

  // 24x7 in UTC.
  business_calendar();
  ~business_calendar();
  business_calendar(const business_calendar&);
  business_calendar& operator=(const business_calendar&);

  // A weekly schedule. `week[0]` is Sunday … `week[6]` Saturday. `holidays`
  // are local dates "YYYY-MM-DD"; `holiday_names` may name some of them
  // (date → name). Returns `invalid` for an unknown zone, an interval
  // outside 00:00-24:00 or with end ≤ start, overlapping intervals, a
  // malformed holiday, or a week with no working time at all.
  static Result<business_calendar> weekly(const std::string& zone, std::array<day_hours, 7> week,
                                          const std::vector<std::string>& holidays,
                                          const std::map<std::string, std::string>& holiday_names = {});
  // 24x7 in `zone` (the zone only matters for display).
  static Result<business_calendar> always(const std::string& zone);

  bool is_24x7() const { return always_; }
  // Working seconds of one week, holidays and daylight-saving shifts not
  // counted (24x7: 604800); what a policy's targets are measured against.
  std::int64_t weekly_seconds() const;
  const std::string& zone_name() const { return zone_name_; }

  // The instant `seconds` of working time after `start`. Working intervals
  // are half-open, [09:00, 17:00): a target used up exactly at 17:00 is due
  // at 17:00, but `add(t, 0)` for t outside working time (17:00 included) is
  // the start of the next working interval, so that a ticket logged at night
  // is not due at once. 24x7: `start + seconds`. Otherwise a negative
  // `seconds` counts as 0, and if 3660 days in a row bring no working time
  // (holidays covering years) the walk stops and returns the point reached.
  // Cost: one step per local day walked.
  timestamp add(timestamp start, std::int64_t seconds) const;
  // Working seconds in [a, b); 0 when b ≤ a. Cost: one step per local day.
  std::int64_t between(timestamp a, timestamp b) const;
  // Whether `t` lies inside a working interval (24x7: always).
  bool is_working(timestamp t) const;
  // [a, b) cut where the calendar changes its mind: working time
  // (`counted`), the rest of a working day (`off_hours`), a weekday without
  // working hours (`weekend`) and a holiday (`holiday`, named), in order,
  // adjacent segments of one kind merged. Their `counted` seconds add up to
  // between(a, b). 24x7: one counted segment. Cost: one step per local day.
  std::vector<calendar_segment> segments(timestamp a, timestamp b) const;

 private:
  // The working intervals (UTC instants, ascending, non-empty) of one local
  // day, counted in days since 1970-01-01; holidays give none.
  std::vector<std::pair<timestamp, timestamp>> intervals_of_day(std::int64_t local_day) const;
  std::int64_t local_day_of(timestamp t) const;

  bool always_ = true;
  std::string zone_name_ = "UTC";
  std::shared_ptr<const time_zone> zone_;
  std::array<day_hours, 7> week_{};  // each day sorted, non-overlapping
  std::map<std::int64_t, std::string> holidays_;  // local days since 1970-01-01 → name ("" unnamed)
};

}  // namespace plaint::engine
