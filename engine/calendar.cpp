#include "engine/calendar.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "engine/time_zone.h"

namespace plaint::engine {

namespace {

const char* const weekday_names[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// Guards `add` against holiday lists that leave no working day for years.
constexpr int max_idle_days = 3660;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int weekday_of(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 4) % 7); }  // 1970-01-01 was a Thursday

std::string hhmm(int minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%02d:%02d", minutes < 0 ? "-" : "", std::abs(minutes) / 60, std::abs(minutes) % 60);
  return buf;
}

std::string span(std::pair<int, int> hours) { return hhmm(hours.first) + "-" + hhmm(hours.second); }

// Refuses intervals outside the day, empty or reversed ones and overlaps;
// sorts the day's intervals.
Status check_day(int weekday, business_calendar::day_hours& hours) {
  const std::string on = std::string(" on ") + weekday_names[weekday];
  for (const auto& h : hours) {
    if (h.first < 0 || h.second > 24 * 60 || h.first > 24 * 60 || h.second < 0)
      return make_error(errc::invalid, "working hours " + span(h) + on + " are outside 00:00-24:00");
    if (h.second < h.first)
      return make_error(errc::invalid, "working hours " + span(h) + on + " end before they start");
    if (h.second == h.first) return make_error(errc::invalid, "working hours " + span(h) + on + " are empty");
  }
  std::sort(hours.begin(), hours.end());
  for (std::size_t i = 1; i < hours.size(); ++i)
    if (hours[i].first < hours[i - 1].second)
      return make_error(errc::invalid,
                        "working hours " + span(hours[i - 1]) + " and " + span(hours[i]) + on + " overlap");
  return {};
}

// "YYYY-MM-DD" and nothing else, as days since 1970-01-01.
std::optional<std::int64_t> parse_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto t = parse_iso(text);
  if (!t) return std::nullopt;
  return floor_div(*t, 86400);
}

}  // namespace

business_calendar::business_calendar() = default;
business_calendar::~business_calendar() = default;
business_calendar::business_calendar(const business_calendar&) = default;
business_calendar& business_calendar::operator=(const business_calendar&) = default;

Result<business_calendar> business_calendar::always(const std::string& zone) {
  auto z = time_zone::load(zone);
  if (!z) return z.error();
  business_calendar c;
  c.zone_name_ = zone;
  c.zone_ = std::move(*z);
  return c;
}

Result<business_calendar> business_calendar::weekly(const std::string& zone, std::array<day_hours, 7> week,
                                                    const std::vector<std::string>& holidays,
                                                    const std::map<std::string, std::string>& holiday_names) {
  auto c = always(zone);
  if (!c) return c.error();
  bool any = false;
  for (int d = 0; d < 7; ++d) {
    PLAINT_TRY(check_day(d, week[static_cast<std::size_t>(d)]));
    any = any || !week[static_cast<std::size_t>(d)].empty();
  }
  if (!any) return make_error(errc::invalid, "the calendar has no working hours on any day");
  for (const auto& h : holidays) {
    const auto day = parse_date(h);
    if (!day) return make_error(errc::invalid, "holiday '" + h + "' is not a date YYYY-MM-DD");
    auto named = holiday_names.find(h);
    c->holidays_[*day] = named == holiday_names.end() ? std::string() : named->second;
  }
  for (const auto& [date, name] : holiday_names)
    if (std::find(holidays.begin(), holidays.end(), date) == holidays.end())
      return make_error(errc::invalid, "holiday name '" + name + "' is given for " + date + ", which is not a holiday");
  c->always_ = false;
  c->week_ = std::move(week);
  return c;
}

std::int64_t business_calendar::local_day_of(timestamp t) const { return floor_div(zone_->to_local(t), 86400); }

// Each wall time goes through the zone on its own, so a 09:00-17:00 day is
// 8 hours on DST days too, and 00:00-24:00 is as long as the local day.
std::vector<std::pair<timestamp, timestamp>> business_calendar::intervals_of_day(std::int64_t local_day) const {
  std::vector<std::pair<timestamp, timestamp>> out;
  if (holidays_.count(local_day) != 0) return out;
  const std::int64_t midnight = local_day * 86400;
  const auto& hours = week_[static_cast<std::size_t>(weekday_of(local_day))];
  if (hours.empty()) return out;
  // Most days keep one offset from end to end: one lookup converts them all.
  const auto fixed = zone_->offset_throughout(midnight - 2 * 86400, midnight + 3 * 86400);
  for (const auto& [from, to] : hours) {
    const std::int64_t la = midnight + from * 60, lb = midnight + to * 60;
    const timestamp a = fixed ? la - *fixed : zone_->to_utc(la), b = fixed ? lb - *fixed : zone_->to_utc(lb);
    if (a < b) out.emplace_back(a, b);  // an interval inside a spring-forward gap is empty
  }
  return out;
}

timestamp business_calendar::add(timestamp start, std::int64_t seconds) const {
  if (always_) return start + seconds;
  std::int64_t remaining = std::max<std::int64_t>(seconds, 0);
  timestamp reached = start;
  for (std::int64_t day = local_day_of(start), idle = 0; idle < max_idle_days; ++day) {
    ++idle;
    for (const auto& [a, b] : intervals_of_day(day)) {
      if (b <= start) continue;
      idle = 0;
      const timestamp from = std::max(a, start);
      if (remaining <= b - from) return from + remaining;
      remaining -= b - from;
      reached = b;
    }
  }
  return reached;
}

std::int64_t business_calendar::between(timestamp a, timestamp b) const {
  if (b <= a) return 0;
  if (always_) return b - a;
  std::int64_t sum = 0;
  for (std::int64_t day = local_day_of(a), last = local_day_of(b); day <= last; ++day)
    for (const auto& [from, to] : intervals_of_day(day))
      sum += std::max<std::int64_t>(0, std::min(to, b) - std::max(from, a));
  return sum;
}

std::int64_t business_calendar::weekly_seconds() const {
  if (always_) return 7 * 86400;
  std::int64_t minutes = 0;
  for (const auto& day : week_)
    for (const auto& [from, to] : day) minutes += to - from;
  return minutes * 60;
}

const char* kind_name(calendar_segment::kind k) {
  switch (k) {
    case calendar_segment::kind::counted: return "counted";
    case calendar_segment::kind::off_hours: return "off_hours";
    case calendar_segment::kind::weekend: return "weekend";
    case calendar_segment::kind::holiday: return "holiday";
  }
  return "counted";
}

std::vector<calendar_segment> business_calendar::segments(timestamp a, timestamp b) const {
  std::vector<calendar_segment> out;
  auto push = [&](timestamp from, timestamp to, calendar_segment::kind k, const std::string& name) {
    from = std::max(from, a);
    to = std::min(to, b);
    if (to <= from) return;
    if (!out.empty() && out.back().what == k && out.back().holiday == name && out.back().to == from) {
      out.back().to = to;
      return;
    }
    out.push_back({from, to, k, name});
  };
  if (b <= a) return out;
  if (always_) {
    push(a, b, calendar_segment::kind::counted, "");
    return out;
  }
  for (std::int64_t day = local_day_of(a), last = local_day_of(b); day <= last; ++day) {
    const std::int64_t midnight = day * 86400;
    const timestamp day_from = zone_->to_utc(midnight), day_to = zone_->to_utc(midnight + 86400);
    if (auto h = holidays_.find(day); h != holidays_.end()) {
      push(day_from, day_to, calendar_segment::kind::holiday, h->second);
      continue;
    }
    if (week_[static_cast<std::size_t>(weekday_of(day))].empty()) {
      push(day_from, day_to, calendar_segment::kind::weekend, "");
      continue;
    }
    timestamp at = day_from;
    for (const auto& [from, to] : intervals_of_day(day)) {
      push(at, from, calendar_segment::kind::off_hours, "");
      push(from, to, calendar_segment::kind::counted, "");
      at = std::max(at, to);
    }
    push(at, day_to, calendar_segment::kind::off_hours, "");
  }
  return out;
}

bool business_calendar::is_working(timestamp t) const {
  if (always_) return true;
  const auto intervals = intervals_of_day(local_day_of(t));
  return std::any_of(intervals.begin(), intervals.end(), [t](const auto& i) { return i.first <= t && t < i.second; });
}

}  // namespace plaint::engine
