// The business calendar and the time zones under it. Expected offsets were
// read from `TZ=<zone> date` and `zdump -v` (tzdata 2025b) and are written
// out here; nothing shells out.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "engine/calendar.h"
#include "engine/time_zone.h"

using namespace plaint::engine;

namespace {

using hours = business_calendar::day_hours;
constexpr std::int64_t hour = 3600;
const hours nine_to_five = {{9 * 60, 17 * 60}};
const hours all_day = {{0, 24 * 60}};

std::array<hours, 7> weekdays(const hours& h) { return {hours{}, h, h, h, h, h, hours{}}; }
std::array<hours, 7> every_day(const hours& h) { return {h, h, h, h, h, h, h}; }

const time_zone& zone(const std::string& name) {
  auto z = time_zone::load(name);
  REQUIRE_MESSAGE(z.ok(), name);
  return **z;  // the cache keeps it alive
}

timestamp utc(const char* iso) {
  const auto t = parse_iso(iso);
  REQUIRE_MESSAGE(t.has_value(), iso);
  return *t;
}

// A calendar with its zone, spoken to in local wall times "2026-03-27T17:55".
struct desk_hours {
  std::string zone_name;
  business_calendar cal;

  desk_hours(std::string name, std::array<hours, 7> week, std::vector<std::string> holidays = {})
      : zone_name(std::move(name)) {
    auto c = business_calendar::weekly(zone_name, std::move(week), holidays);
    REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().message));
    cal = *c;
  }
  timestamp at(const char* wall) const { return zone(zone_name).to_utc(utc(wall)); }
  std::string wall(timestamp t) const {
    std::string s = format_iso(zone(zone_name).to_local(t));
    s.pop_back();
    if (s.compare(16, 3, ":00") == 0) s.resize(16);
    return s;
  }
  std::string due(const char* logged, std::int64_t seconds) const { return wall(cal.add(at(logged), seconds)); }
  std::int64_t between(const char* a, const char* b) const { return cal.between(at(a), at(b)); }
};

std::string refusal(const std::string& zone_name, std::array<hours, 7> week, std::vector<std::string> holidays = {}) {
  auto c = business_calendar::weekly(zone_name, std::move(week), holidays);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == errc::invalid);
  return c.error().message;
}

}  // namespace

TEST_CASE("a target logged after Friday's hours or at the weekend is due on Monday") {
  const desk_hours berlin("Europe/Berlin", weekdays(nine_to_five));
  CHECK(berlin.due("2026-11-20T17:55", 4 * hour) == "2026-11-23T13:00");
  CHECK(berlin.due("2026-11-20T15:00", 4 * hour) == "2026-11-23T11:00");
  CHECK(berlin.due("2026-11-21T10:00", 4 * hour) == "2026-11-23T13:00");
  CHECK(berlin.due("2026-11-22T23:59", 4 * hour) == "2026-11-23T13:00");
  CHECK(berlin.due("2026-11-23T03:00", 4 * hour) == "2026-11-23T13:00");
  CHECK(berlin.cal.add(berlin.at("2026-11-20T17:55"), 4 * hour) == utc("2026-11-23T12:00:00Z"));
}

TEST_CASE("working time starts at 09:00 and stops at 17:00, both exactly") {
  const desk_hours berlin("Europe/Berlin", weekdays(nine_to_five));
  CHECK(berlin.due("2026-11-23T09:00", 4 * hour) == "2026-11-23T13:00");
  CHECK(berlin.due("2026-11-23T13:00", 4 * hour) == "2026-11-23T17:00");
  CHECK(berlin.due("2026-11-23T16:00", hour + 1) == "2026-11-24T09:00:01");
  CHECK(berlin.due("2026-11-23T17:00", 1) == "2026-11-24T09:00:01");
  SUBCASE("a zero target inside working time is due at once, outside it at the next start") {
    CHECK(berlin.due("2026-11-23T10:30", 0) == "2026-11-23T10:30");
    CHECK(berlin.due("2026-11-23T09:00", 0) == "2026-11-23T09:00");
    CHECK(berlin.due("2026-11-23T08:59:59", 0) == "2026-11-23T09:00");
    CHECK(berlin.due("2026-11-23T17:00", 0) == "2026-11-24T09:00");
    CHECK(berlin.due("2026-11-20T23:00", 0) == "2026-11-23T09:00");
    CHECK(berlin.due("2026-11-20T23:00", -60) == "2026-11-23T09:00");
  }
  CHECK(berlin.cal.is_working(berlin.at("2026-11-23T09:00")));
  CHECK(berlin.cal.is_working(berlin.at("2026-11-23T16:59:59")));
  CHECK_FALSE(berlin.cal.is_working(berlin.at("2026-11-23T17:00")));
  CHECK_FALSE(berlin.cal.is_working(berlin.at("2026-11-23T08:59:59")));
  CHECK_FALSE(berlin.cal.is_working(berlin.at("2026-11-22T12:00")));
  CHECK(berlin.between("2026-11-23T08:00", "2026-11-23T18:00") == 8 * hour);
  CHECK(berlin.between("2026-11-23T16:00", "2026-11-23T10:00") == 0);
}

TEST_CASE("holidays are skipped like weekends") {
  const desk_hours berlin("Europe/Berlin", weekdays(nine_to_five), {"2026-12-25", "2027-01-01"});
  CHECK(berlin.due("2026-12-24T15:00", 4 * hour) == "2026-12-28T11:00");
  CHECK(berlin.due("2026-12-25T10:00", 4 * hour) == "2026-12-28T13:00");
  CHECK(berlin.due("2026-12-31T16:00", 2 * hour) == "2027-01-04T10:00");
  CHECK_FALSE(berlin.cal.is_working(berlin.at("2026-12-25T10:00")));
  CHECK(berlin.between("2026-12-21T00:00", "2026-12-28T00:00") == 4 * 8 * hour);
}

TEST_CASE("a target of several days walks across weeks, breaks and holidays") {
  const desk_hours berlin("Europe/Berlin", weekdays({{9 * 60, 12 * 60}, {13 * 60, 17 * 60}}), {"2026-12-25"});
  CHECK(berlin.due("2026-11-18T10:00", 5 * 7 * hour) == "2026-11-25T10:00");
  CHECK(berlin.due("2026-11-18T11:30", hour) == "2026-11-18T13:30");
  CHECK(berlin.due("2026-11-18T12:15", 0) == "2026-11-18T13:00");
  CHECK(berlin.due("2026-11-18T10:00", 30 * 7 * hour) == "2026-12-31T10:00");
  CHECK(berlin.between("2026-11-18T10:00", "2026-12-31T10:00") == 30 * 7 * hour);
}

TEST_CASE("between undoes add for random starts and targets") {
  std::vector<desk_hours> desks;
  desks.emplace_back("Europe/Berlin", weekdays({{9 * 60, 12 * 60}, {13 * 60, 17 * 60}}),
                     std::vector<std::string>{"2026-03-30", "2026-10-26", "2026-12-25", "2027-01-01"});
  desks.emplace_back("Europe/Berlin", every_day({{0, 30}, {90, 210}}));  // straddles both DST changes
  desks.emplace_back("America/New_York", every_day(all_day));
  desks.emplace_back("Asia/Kolkata", std::array<hours, 7>{hours{}, {{600, 1110}}, {{600, 1110}}, {{600, 1110}},
                                                          {{600, 1110}}, {{600, 1110}}, {{600, 840}}});
  desks.emplace_back("Australia/Lord_Howe", every_day({{105, 135}, {1380, 1440}}));  // a 30-minute DST shift
  std::mt19937_64 rng(20260329);
  const timestamp from = utc("2026-01-01T00:00:00Z"), span = 2 * 366 * 86400;
  for (const auto& d : desks) {
    INFO(d.zone_name);
    int failures = 0;
    for (int i = 0; i < 1500 && failures < 5; ++i) {
      const timestamp a = from + static_cast<timestamp>(rng() % span);
      const std::int64_t s = static_cast<std::int64_t>(i % 4 == 0 ? rng() % 7200 : rng() % (30 * 8 * hour));
      const timestamp due = d.cal.add(a, s);
      const bool ok = d.cal.between(a, due) == s && due >= a && (d.cal.add(a, 0) == a) == d.cal.is_working(a) &&
                      (d.cal.is_working(due) || d.cal.is_working(due - 1));
      if (!ok) {
        ++failures;
        FAIL_CHECK("add(" << format_iso(a) << ", " << s << ") = " << format_iso(due) << ", between gives back "
                          << d.cal.between(a, due));
      }
    }
    CHECK(failures == 0);
  }
}

TEST_CASE("a 00:00-24:00 week counts every second, 23 or 25 hours on DST days") {
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}) {
    INFO(name);
    const desk_hours d(name, every_day(all_day));
    std::mt19937_64 rng(7);
    for (int i = 0; i < 300; ++i) {
      const timestamp a = utc("2026-01-01T00:00:00Z") + static_cast<timestamp>(rng() % (366 * 86400));
      const std::int64_t s = static_cast<std::int64_t>(rng() % (40 * 86400));
      CHECK(d.cal.add(a, s) == a + s);
      CHECK(d.cal.between(a, a + s) == s);
    }
  }
  const desk_hours berlin("Europe/Berlin", every_day(all_day));
  CHECK(berlin.between("2026-03-29T00:00", "2026-03-30T00:00") == 23 * hour);
  CHECK(berlin.between("2026-10-25T00:00", "2026-10-26T00:00") == 25 * hour);
  CHECK(berlin.between("2026-03-28T00:00", "2026-03-29T00:00") == 24 * hour);
  CHECK(berlin.due("2026-03-29T00:00", 3 * hour) == "2026-03-29T04:00");
  CHECK(berlin.cal.add(berlin.at("2026-10-25T00:00"), 3 * hour) == utc("2026-10-25T01:00:00Z"));  // 02:00 CET
  const desk_hours new_york("America/New_York", every_day(all_day));
  CHECK(new_york.between("2026-03-08T00:00", "2026-03-09T00:00") == 23 * hour);
  CHECK(new_york.between("2026-11-01T00:00", "2026-11-02T00:00") == 25 * hour);
}

TEST_CASE("09:00-17:00 is 8 hours on DST days in Berlin and New York") {
  for (const char* name : {"Europe/Berlin", "America/New_York"}) {
    INFO(name);
    const desk_hours d(name, every_day(nine_to_five));
    for (const auto& [day, next] : {std::pair{"2026-03-08T00:00", "2026-03-09T00:00"},
                                    std::pair{"2026-03-29T00:00", "2026-03-30T00:00"},
                                    std::pair{"2026-10-25T00:00", "2026-10-26T00:00"},
                                    std::pair{"2026-11-01T00:00", "2026-11-02T00:00"}}) {
      INFO(day);
      CHECK(d.between(day, next) == 8 * hour);
    }
  }
  const desk_hours berlin("Europe/Berlin", every_day(nine_to_five));
  CHECK(berlin.due("2026-03-28T12:00", 8 * hour) == "2026-03-29T12:00");
  CHECK(berlin.cal.add(berlin.at("2026-03-28T12:00"), 8 * hour) == utc("2026-03-29T10:00:00Z"));
  CHECK(berlin.cal.add(berlin.at("2026-10-24T12:00"), 8 * hour) == utc("2026-10-25T11:00:00Z"));
  const desk_hours new_york("America/New_York", weekdays(nine_to_five));
  CHECK(new_york.due("2026-03-06T15:00", 4 * hour) == "2026-03-09T11:00");
  CHECK(new_york.cal.add(new_york.at("2026-03-06T15:00"), 4 * hour) == utc("2026-03-09T15:00:00Z"));
  CHECK(new_york.due("2026-10-30T17:55", 4 * hour) == "2026-11-02T13:00");
  CHECK(new_york.cal.add(new_york.at("2026-10-30T17:55"), 4 * hour) == utc("2026-11-02T18:00:00Z"));
}

TEST_CASE("on DST days a wall-clock interval lasts as long as the clock takes to cross it") {
  const desk_hours berlin("Europe/Berlin", every_day({{90, 210}}));  // 01:30-03:30
  CHECK(berlin.between("2026-03-29T00:00", "2026-03-29T12:00") == hour);
  CHECK(berlin.between("2026-10-25T00:00", "2026-10-25T12:00") == 3 * hour);
  CHECK(berlin.between("2026-10-24T00:00", "2026-10-24T12:00") == 2 * hour);
}

TEST_CASE("local wall times in a gap move past it, in an overlap take the earlier instant") {
  const auto& berlin = zone("Europe/Berlin");
  CHECK(berlin.to_utc(utc("2026-03-29T02:30:00Z")) == utc("2026-03-29T01:00:00Z"));
  CHECK(berlin.to_utc(utc("2026-03-29T01:59:59Z")) == utc("2026-03-29T00:59:59Z"));
  CHECK(berlin.to_utc(utc("2026-03-29T03:00:00Z")) == utc("2026-03-29T01:00:00Z"));
  CHECK(berlin.to_utc(utc("2026-10-25T02:30:00Z")) == utc("2026-10-25T00:30:00Z"));
  CHECK(berlin.to_utc(utc("2026-10-25T03:00:00Z")) == utc("2026-10-25T02:00:00Z"));
  const auto& new_york = zone("America/New_York");
  CHECK(new_york.to_utc(utc("2026-03-08T02:30:00Z")) == utc("2026-03-08T07:00:00Z"));
  CHECK(new_york.to_utc(utc("2026-11-01T01:30:00Z")) == utc("2026-11-01T05:30:00Z"));
  CHECK(zone("Pacific/Apia").to_utc(utc("2011-12-30T12:00:00Z")) == utc("2011-12-30T10:00:00Z"));  // a lost day
}

TEST_CASE("half-hour and fixed-offset zones: Kolkata and Shanghai") {
  const desk_hours kolkata("Asia/Kolkata", weekdays(nine_to_five));
  CHECK(kolkata.due("2026-11-20T17:55", 4 * hour) == "2026-11-23T13:00");
  CHECK(kolkata.cal.add(kolkata.at("2026-11-20T17:55"), 4 * hour) == utc("2026-11-23T07:30:00Z"));
  const desk_hours shanghai("Asia/Shanghai", weekdays(nine_to_five));
  CHECK(shanghai.due("2026-11-20T15:00", 4 * hour) == "2026-11-23T11:00");
  CHECK(shanghai.cal.add(shanghai.at("2026-11-20T15:00"), 4 * hour) == utc("2026-11-23T03:00:00Z"));
}

TEST_CASE("UTC offsets match what date and zdump print") {
  struct known {
    const char* zone;
    const char* utc;
    std::int32_t offset;
  };
  const known table[] = {
      {"Europe/Berlin", "2026-03-29T00:59:59Z", 3600},     {"Europe/Berlin", "2026-03-29T01:00:00Z", 7200},
      {"Europe/Berlin", "2026-10-25T00:59:59Z", 7200},     {"Europe/Berlin", "2026-10-25T01:00:00Z", 3600},
      {"Europe/Berlin", "1945-06-01T12:00:00Z", 10800},    {"Europe/Berlin", "1900-01-01T00:00:00Z", 3600},
      {"America/New_York", "2026-03-08T06:59:59Z", -18000}, {"America/New_York", "2026-03-08T07:00:00Z", -14400},
      {"America/New_York", "2026-11-01T05:59:59Z", -14400}, {"America/New_York", "2026-11-01T06:00:00Z", -18000},
      {"Asia/Kolkata", "2026-06-01T00:00:00Z", 19800},     {"Asia/Kolkata", "1942-10-01T00:00:00Z", 23400},
      {"Asia/Shanghai", "2026-06-01T00:00:00Z", 28800},    {"Asia/Shanghai", "1988-07-01T00:00:00Z", 32400},
      {"America/St_Johns", "2026-07-01T00:00:00Z", -9000}, {"America/St_Johns", "2026-01-01T00:00:00Z", -12600},
      {"UTC", "2026-07-01T00:00:00Z", 0},
  };
  for (const auto& k : table) {
    INFO(k.zone << " at " << k.utc);
    CHECK(zone(k.zone).utc_offset_at(utc(k.utc)) == k.offset);
  }
}

TEST_CASE("beyond the last transition the footer rule decides, e.g. CEST in July 2090") {
  struct known {
    const char* zone;
    const char* utc;
    std::int32_t offset;
  };
  const known table[] = {
      {"Europe/Berlin", "2090-07-01T12:00:00Z", 7200},        {"Europe/Berlin", "2090-01-15T12:00:00Z", 3600},
      {"Europe/Berlin", "2090-03-26T00:59:59Z", 3600},        {"Europe/Berlin", "2090-03-26T01:00:00Z", 7200},
      {"Europe/Berlin", "2090-10-29T00:59:59Z", 7200},        {"Europe/Berlin", "2090-10-29T01:00:00Z", 3600},
      {"America/New_York", "2090-07-01T12:00:00Z", -14400},   {"Asia/Jerusalem", "2090-03-23T23:59:59Z", 7200},
      {"Asia/Jerusalem", "2090-03-24T00:00:00Z", 10800},      {"Asia/Jerusalem", "2090-10-28T23:00:00Z", 7200},
      {"America/Nuuk", "2090-03-26T00:59:59Z", -7200},        {"America/Nuuk", "2090-03-26T01:00:00Z", -3600},
      {"America/Nuuk", "2090-10-29T00:59:59Z", -3600},        {"America/Nuuk", "2090-10-29T01:00:00Z", -7200},
      {"America/Santiago", "2090-04-02T02:59:59Z", -10800},   {"America/Santiago", "2090-04-02T03:00:00Z", -14400},
      {"America/Santiago", "2090-09-03T03:59:59Z", -14400},   {"America/Santiago", "2090-09-03T04:00:00Z", -10800},
      {"Australia/Lord_Howe", "2090-04-01T14:59:59Z", 39600}, {"Australia/Lord_Howe", "2090-04-01T15:00:00Z", 37800},
      {"Australia/Lord_Howe", "2090-09-30T15:30:00Z", 39600}, {"Asia/Kolkata", "2090-07-01T00:00:00Z", 19800},
  };
  for (const auto& k : table) {
    INFO(k.zone << " at " << k.utc);
    CHECK(zone(k.zone).utc_offset_at(utc(k.utc)) == k.offset);
  }
  const desk_hours berlin("Europe/Berlin", weekdays(nine_to_five));
  CHECK(berlin.cal.add(berlin.at("2090-07-03T09:00"), 4 * hour) == utc("2090-07-03T11:00:00Z"));
}

TEST_CASE("POSIX TZ rules: Julian days, zero-based days, negative and late times") {
  const auto offset = [](const char* rule, const char* at) {
    auto z = time_zone::from_posix(rule);
    REQUIRE_MESSAGE(z.ok(), rule);
    return z->utc_offset_at(utc(at));
  };
  // J60 is 1 March even in leap years; 59 is 29 February in them.
  CHECK(offset("AAA3BBB,J60/2,J300/2", "2024-03-01T04:59:59Z") == -10800);
  CHECK(offset("AAA3BBB,J60/2,J300/2", "2024-03-01T05:00:00Z") == -7200);
  CHECK(offset("AAA3BBB,J60/2,J300/2", "2024-10-27T03:59:59Z") == -7200);
  CHECK(offset("AAA3BBB,J60/2,J300/2", "2024-10-27T04:00:00Z") == -10800);
  CHECK(offset("AAA3BBB,59/2,299/2", "2024-02-29T04:59:59Z") == -10800);
  CHECK(offset("AAA3BBB,59/2,299/2", "2024-02-29T05:00:00Z") == -7200);
  CHECK(offset("AAA3BBB,59/2,299/2", "2024-10-26T04:00:00Z") == -10800);
  CHECK(offset("AAA3BBB,59/2,299/2", "2023-03-01T05:00:00Z") == -7200);
  // -1:00 is 23:00 the day before; 30:00 is 06:00 the day after.
  CHECK(offset("AAA3BBB,M3.5.0/-1,M10.5.0/30", "2024-03-31T01:59:59Z") == -10800);
  CHECK(offset("AAA3BBB,M3.5.0/-1,M10.5.0/30", "2024-03-31T02:00:00Z") == -7200);
  CHECK(offset("AAA3BBB,M3.5.0/-1,M10.5.0/30", "2024-10-28T07:59:59Z") == -7200);
  CHECK(offset("AAA3BBB,M3.5.0/-1,M10.5.0/30", "2024-10-28T08:00:00Z") == -10800);
  // tzfile(5)'s example of daylight saving time all year.
  CHECK(offset("XXX3EDT4,0/0,J365/25", "2024-01-01T00:00:00Z") == -14400);
  CHECK(offset("XXX3EDT4,0/0,J365/25", "2024-07-01T00:00:00Z") == -14400);
  CHECK(offset("<+0530>-5:30", "2024-07-01T00:00:00Z") == 19800);
  CHECK(offset("<-0330>3:30<-0230>,M3.2.0,M11.1.0", "2026-07-01T00:00:00Z") == -9000);
  for (const char* bad : {"", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
                          "CET-25", "CET-1CEST,J0,J300", "CET-1CEST,M3.5.0/168,M10.5.0", "<+05-5", "CET-1junk!"}) {
    auto z = time_zone::from_posix(bad);
    CHECK_MESSAGE(!z.ok(), bad);
    if (!z.ok()) CHECK(z.error().message == "time zone rule '" + std::string(bad) + "' is not a POSIX TZ string");
  }
}

TEST_CASE("a slim TZif file leaves everything after its last transition to the footer") {
  const auto be32 = [](std::uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16 & 255), char(v >> 8 & 255), char(v & 255)};
  };
  const auto header = [&](std::uint32_t times, std::uint32_t types) {
    return std::string("TZif3") + std::string(15, '\0') + be32(0) + be32(0) + be32(0) + be32(times) + be32(types) +
           be32(4);
  };
  std::string v2 = header(2, 2);
  for (const char* t : {"2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"}) v2 += be32(0) + be32(utc(t));
  v2 += std::string{1, 0} + be32(3600) + std::string{0, 0} + be32(7200) + std::string{1, 0} + std::string("CET", 4);
  const std::string bytes = header(0, 1) + be32(3600) + std::string{0, 0} + std::string("CET", 4) + v2 +
                            "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
  auto z = time_zone::from_tzif("Test/Slim", bytes);
  REQUIRE_MESSAGE(z.ok(), (z.ok() ? std::string() : z.error().message));
  CHECK(z->utc_offset_at(utc("2020-07-01T00:00:00Z")) == 3600);  // type 0 before the first transition
  CHECK(z->utc_offset_at(utc("2026-07-01T00:00:00Z")) == 7200);
  CHECK(z->utc_offset_at(utc("2026-12-01T00:00:00Z")) == 3600);
  CHECK(z->utc_offset_at(utc("2027-07-01T00:00:00Z")) == 7200);  // the footer
  CHECK(z->utc_offset_at(utc("2027-12-01T00:00:00Z")) == 3600);
  for (std::size_t cut : {std::size_t{0}, std::size_t{30}, bytes.size() - 40, bytes.size() - 1}) {
    auto broken = time_zone::from_tzif("Test/Slim", bytes.substr(0, cut));
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().message == "time zone 'Test/Slim' is not a well-formed TZif file");
  }
}

TEST_CASE("bad calendars are refused with a sentence naming the bad part") {
  CHECK(refusal("Mars/Olympus", weekdays(nine_to_five)) == "time zone 'Mars/Olympus' is unknown");
  CHECK(refusal("../etc/passwd", weekdays(nine_to_five)) == "time zone '../etc/passwd' is not an IANA name");
  CHECK(refusal("/etc/passwd", weekdays(nine_to_five)) == "time zone '/etc/passwd' is not an IANA name");
  CHECK(refusal("Europe", weekdays(nine_to_five)) == "time zone 'Europe' is unknown");
  CHECK(refusal("leapseconds", weekdays(nine_to_five)) == "time zone 'leapseconds' is not a well-formed TZif file");
  CHECK(refusal("Europe/Berlin", weekdays({{18 * 60, 9 * 60}})) ==
        "working hours 18:00-09:00 on monday end before they start");
  CHECK(refusal("Europe/Berlin", weekdays({{9 * 60, 9 * 60}})) == "working hours 09:00-09:00 on monday are empty");
  CHECK(refusal("Europe/Berlin", weekdays({{23 * 60, 25 * 60}})) ==
        "working hours 23:00-25:00 on monday are outside 00:00-24:00");
  CHECK(refusal("Europe/Berlin", weekdays({{13 * 60, 17 * 60}, {9 * 60, 13 * 60 + 30}})) ==
        "working hours 09:00-13:30 and 13:00-17:00 on monday overlap");
  CHECK(refusal("Europe/Berlin", weekdays(nine_to_five), {"2026-12-25", "2026-02-30"}) ==
        "holiday '2026-02-30' is not a date YYYY-MM-DD");
  CHECK(refusal("Europe/Berlin", weekdays(nine_to_five), {"25.12.2026"}) ==
        "holiday '25.12.2026' is not a date YYYY-MM-DD");
  CHECK(refusal("Europe/Berlin", std::array<hours, 7>{}) == "the calendar has no working hours on any day");
  auto always = business_calendar::always("Mars/Olympus");
  REQUIRE_FALSE(always.ok());
  CHECK(always.error().message == "time zone 'Mars/Olympus' is unknown");
}

TEST_CASE("holidays covering years neither hang add nor stop it early") {
  std::vector<std::string> holidays;
  for (std::int64_t day = days_from_civil(2026, 1, 1); day <= days_from_civil(2036, 12, 31); ++day)
    holidays.push_back(format_iso(day * 86400).substr(0, 10));
  const desk_hours closed("Europe/Berlin", weekdays(nine_to_five), holidays);
  const timestamp start = closed.at("2026-01-05T10:00");
  CHECK(closed.cal.add(start, hour) == start);  // the guard: nothing to count within 3660 days
  holidays.resize(static_cast<std::size_t>(days_from_civil(2031, 1, 1) - days_from_civil(2026, 1, 1)));
  const desk_hours reopened("Europe/Berlin", weekdays(nine_to_five), holidays);
  CHECK(reopened.due("2026-01-05T10:00", hour) == "2031-01-01T10:00");
}

TEST_CASE("a 24x7 calendar counts wall time") {
  const business_calendar plain;
  CHECK(plain.is_24x7());
  CHECK(plain.zone_name() == "UTC");
  auto kolkata = business_calendar::always("Asia/Kolkata");
  REQUIRE(kolkata.ok());
  CHECK(kolkata->zone_name() == "Asia/Kolkata");
  for (const auto& cal : {plain, *kolkata}) {
    const timestamp t = utc("2026-03-29T01:30:00Z");
    CHECK(cal.add(t, 0) == t);
    CHECK(cal.add(t, 4 * hour) == t + 4 * hour);
    CHECK(cal.between(t, t + 25 * hour) == 25 * hour);
    CHECK(cal.between(t + hour, t) == 0);
    CHECK(cal.is_working(t));
  }
}

TEST_CASE("UTC is always there and zones are shared between callers") {
  auto a = time_zone::load("UTC");
  REQUIRE(a.ok());
  CHECK((*a)->utc_offset_at(0) == 0);
  CHECK(time_zone::utc().to_utc(12345) == 12345);
  auto b = time_zone::load("Europe/Berlin"), c = time_zone::load("Europe/Berlin");
  REQUIRE(b.ok());
  CHECK(b->get() == c->get());
  auto right = time_zone::load("right/UTC");
  if (std::ifstream("/usr/share/zoneinfo/right/UTC")) {
    REQUIRE_FALSE(right.ok());
    CHECK(right.error().message == "time zone 'right/UTC' counts leap seconds, which plaint does not support");
  }
}
