#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "engine/sla.h"
#include "engine/time.h"
#include "workflows/policy.h"
#include "workflows/registry.h"

using namespace plaint;
using workflows::parse_policy;

namespace {

// A complete policy; tests change one line or append tables (from line 26).
const std::string base =
    "warning_threshold = 0.8\n"   // 1
    "\n"                          // 2
    "[calendar]\n"                // 3
    "time_zone = \"UTC\"\n"       // 4
    "mode = \"24x7\"\n"           // 5
    "\n"                          // 6
    "[targets.P1]\n"              // 7
    "first_response = \"1h\"\n"   // 8
    "resolution = \"8h\"\n"       // 9
    "follow_up = \"3d\"\n"        // 10
    "\n"                          // 11
    "[targets.P2]\n"              // 12
    "first_response = \"4h\"\n"   // 13
    "resolution = \"24h\"\n"      // 14
    "follow_up = \"3d\"\n"        // 15
    "\n"                          // 16
    "[targets.P3]\n"              // 17
    "first_response = \"8h\"\n"   // 18
    "resolution = \"72h\"\n"      // 19
    "follow_up = \"3d\"\n"        // 20
    "\n"                          // 21
    "[targets.P4]\n"              // 22
    "first_response = \"24h\"\n"  // 23
    "resolution = \"120h\"\n"     // 24
    "follow_up = \"3d\"\n";       // 25

// `base` with its first line equal to `line` replaced by `by` ("" removes it).
std::string with(const std::string& line, const std::string& by) {
  const std::size_t at = base.find(line + "\n");
  REQUIRE(at != std::string::npos);
  return base.substr(0, at) + by + "\n" + base.substr(at + line.size() + 1);
}

engine::Result<engine::sla_policy> parse(const std::string& text) {
  return parse_policy(text, "policy.toml", workflows::builtin_workflows());
}

engine::sla_policy parsed(const std::string& text) {
  auto p = parse(text);
  INFO((p.ok() ? std::string() : p.error().message));
  REQUIRE(p.ok());
  return std::move(p).value();
}

std::string refusal(const std::string& text) {
  auto p = parse(text);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == engine::errc::invalid);
  return p.error().message;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool same(const engine::escalation_step& a, const engine::escalation_step& b) {
  return a.raise_level == b.raise_level && a.raise_priority == b.raise_priority && a.notify == b.notify;
}

void check_same_targets(const engine::sla_policy& a, const engine::sla_policy& b) {
  CHECK(a.targets.size() == 12);
  for (std::string_view priority : engine::priorities)
    for (std::string_view tier : engine::tiers) {
      const std::string key = std::string(priority) + "/" + std::string(tier);
      INFO(key);
      REQUIRE(a.targets.count(key) == 1);
      REQUIRE(b.targets.count(key) == 1);
      const engine::sla_targets &x = a.targets.find(key)->second, &y = b.targets.find(key)->second;
      CHECK(x.first_response == y.first_response);
      CHECK(x.resolution == y.resolution);
      CHECK(x.follow_up == y.follow_up);
      CHECK(x.warn_ratio == y.warn_ratio);
    }
}

}  // namespace

TEST_CASE("the shipped default policy parses to exactly the built-in defaults") {
  const engine::sla_policy& p = workflows::default_policy();
  const engine::sla_policy d = engine::sla_policy::defaults();
  check_same_targets(p, d);
  CHECK(p.calendar.is_24x7());
  CHECK(p.calendar.zone_name() == "UTC");
  CHECK(p.pause_states == d.pause_states);
  CHECK(p.reopen_window_days == d.reopen_window_days);
  CHECK(same(p.ladder.warning, d.ladder.warning));
  CHECK(same(p.ladder.first_response_breach, d.ladder.first_response_breach));
  CHECK(same(p.ladder.resolution_breach, d.ladder.resolution_breach));
  CHECK(same(p.ladder.second_breach, d.ladder.second_breach));
  CHECK(p.source == workflows::default_policy_text());
  CHECK(p.source == read_file(PLAINT_SOURCE_DIR "/workflows/policy.toml"));
  CHECK_FALSE(p.source_name.empty());
}

TEST_CASE("the business-hours example counts targets in Berlin office hours") {
  const std::string text = read_file(PLAINT_SOURCE_DIR "/examples/policy-business-hours.toml");
  auto r = parse_policy(text, "policy-business-hours.toml", workflows::builtin_workflows());
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  const engine::sla_policy& p = *r;
  CHECK_FALSE(p.calendar.is_24x7());
  CHECK(p.calendar.zone_name() == "Europe/Berlin");
  CHECK(p.source == text);
  CHECK(p.source_name == "policy-business-hours.toml");
  const engine::sla_targets& p2 = p.targets_for("P2", "standard");
  CHECK(p2.first_response == 4 * 3600);
  // Friday 17:55 is after hours: the 4 hours start on Monday at 09:00.
  const auto friday = engine::parse_iso("2026-11-20T17:55:00+01:00");
  const auto monday = engine::parse_iso("2026-11-23T13:00:00+01:00");
  REQUIRE(friday);
  REQUIRE(monday);
  CHECK(p.add(*friday, p2.first_response) == *monday);
  CHECK(p.targets_for("P2", "gold").first_response == 3 * 3600);
  CHECK(p.targets_for("P2", "gold").resolution == 16 * 3600);
  CHECK(p.targets_for("P1", "gold").warn_ratio == 0.5);
  CHECK(p.ladder.second_breach.raise_priority);
}

TEST_CASE("durations are unit strings in the order d h m s or whole seconds") {
  const std::pair<std::string, std::int64_t> cases[] = {
      {"\"90s\"", 90},          {"\"45m\"", 45 * 60},  {"\"4h\"", 4 * 3600},
      {"\"3d\"", 3 * 86400},    {"\"1h30m\"", 5400},   {"\"1d2h3m4s\"", 93784},
      {"5400", 5400},           {"1", 1},              {"\"3650d\"", 3650LL * 86400}};
  for (const auto& [value, seconds] : cases) {
    CAPTURE(value);
    const auto p = parsed(with("first_response = \"4h\"", "first_response = " + value));
    CHECK(p.targets_for("P2", "standard").first_response == seconds);
  }
}

TEST_CASE("malformed, zero, negative and overlong durations are refused with file and line") {
  const std::pair<std::string, std::string> cases[] = {
      {"\"-4h\"", "\"-4h\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"0s\"", "\"0s\" is not a positive duration such as \"4h\" or \"90s\""},
      {"0", "0 is not a positive duration such as \"4h\" or \"90s\""},
      {"-5", "-5 is not a positive duration such as \"4h\" or \"90s\""},
      {"\"4 h\"", "\"4 h\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"4\"", "\"4\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"h\"", "\"h\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"4x\"", "\"4x\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"30m1h\"", "\"30m1h\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"\"", "\"\" is not a positive duration such as \"4h\" or \"90s\""},
      {"\"3651d\"", "\"3651d\" is longer than 3650 days"},
      {"\"99999999999999999999h\"", "\"99999999999999999999h\" is longer than 3650 days"},
      {"1.5", "must be a duration such as \"4h\" or \"90s\", not a float"},
      {"true", "must be a duration such as \"4h\" or \"90s\", not a boolean"}};
  for (const auto& [value, problem] : cases) {
    CAPTURE(value);
    CHECK(refusal(with("resolution = \"24h\"", "resolution = " + value)) ==
          "policy.toml line 14: targets.P2.resolution " + problem);
  }
}

TEST_CASE("gold and platinum override their priority's targets and fall back to it") {
  const auto p = parsed(with("resolution = \"24h\"", "resolution = \"24h\"\nwarning_threshold = 0.9") +
                        "[targets.P2.gold]\nfirst_response = \"3h\"\n"
                        "[targets.P2.platinum]\nfirst_response = 1800\nresolution = \"12h\"\nfollow_up = \"1d\"\n");
  CHECK(p.targets.size() == 12);
  const engine::sla_targets &gold = p.targets.at("P2/gold"), &platinum = p.targets.at("P2/platinum");
  CHECK(gold.first_response == 3 * 3600);
  CHECK(gold.resolution == 24 * 3600);
  CHECK(gold.follow_up == 3 * 86400);
  CHECK(gold.warn_ratio == 0.9);
  CHECK(platinum.first_response == 1800);
  CHECK(platinum.resolution == 12 * 3600);
  CHECK(platinum.follow_up == 86400);
  for (std::string_view tier : {"gold", "platinum"}) {
    const engine::sla_targets& t = p.targets.at("P1/" + std::string(tier));
    CHECK(t.first_response == 3600);
    CHECK(t.resolution == 8 * 3600);
    CHECK(t.follow_up == 3 * 86400);
    CHECK(t.warn_ratio == 0.8);
  }
  CHECK(parsed(with("warning_threshold = 0.8", "warning_threshold = 0.7")).targets.at("P4/gold").warn_ratio == 0.7);
  CHECK(parsed(with("warning_threshold = 0.8", "")).targets.at("P4/platinum").warn_ratio == 0.8);
}

TEST_CASE("a missing target, priority or table is refused naming where it is missing") {
  CHECK(refusal(with("resolution = \"72h\"", "")) == "policy.toml line 17: targets.P3 is missing resolution");
  CHECK(refusal(with("follow_up = \"3d\"", "")) == "policy.toml line 7: targets.P1 is missing follow_up");
  CHECK(refusal(base.substr(0, base.find("[targets.P4]"))) == "policy.toml line 7: targets is missing P4");
  CHECK(refusal(with("[calendar]\ntime_zone = \"UTC\"\nmode = \"24x7\"", "")) ==
        "policy.toml: the policy is missing calendar");
  CHECK(refusal(with("mode = \"24x7\"", "")) == "policy.toml line 3: calendar is missing mode");
}

TEST_CASE("warning thresholds and the reopen window must be in range") {
  CHECK(refusal(with("warning_threshold = 0.8", "warning_threshold = 1.5")) ==
        "policy.toml line 1: warning_threshold 1.5 is not between 0 and 1 (exclusive) such as 0.8");
  CHECK(refusal(with("warning_threshold = 0.8", "warning_threshold = 0")) ==
        "policy.toml line 1: warning_threshold 0 is not between 0 and 1 (exclusive) such as 0.8");
  CHECK(refusal(with("warning_threshold = 0.8", "warning_threshold = \"80%\"")) ==
        "policy.toml line 1: warning_threshold must be a number between 0 and 1 such as 0.8, not a string");
  CHECK(refusal(with("resolution = \"8h\"", "resolution = \"8h\"\nwarning_threshold = 1.0")) ==
        "policy.toml line 10: targets.P1.warning_threshold 1 is not between 0 and 1 (exclusive) such as 0.8");
  CHECK(parsed(with("warning_threshold = 0.8", "reopen_window_days = 30")).reopen_window_days == 30);
  CHECK(parsed(base).reopen_window_days == 14);
  CHECK(refusal(with("warning_threshold = 0.8", "reopen_window_days = 0")) ==
        "policy.toml line 1: reopen_window_days 0 is not a number of days from 1 to 3650");
  CHECK(refusal(with("warning_threshold = 0.8", "reopen_window_days = \"14\"")) ==
        "policy.toml line 1: reopen_window_days must be a whole number of days, not a string");
}

TEST_CASE("a weekly calendar is read from its hours and holidays") {
  const auto p = parsed(with("mode = \"24x7\"", "mode = \"weekly\"\nholidays = [\"2026-11-30\"]") +
                        "[calendar.hours]\nmonday = [\"09:00-12:00\", \"13:00-17:00\"]\nsaturday = []\n");
  CHECK_FALSE(p.calendar.is_24x7());
  const auto monday_9 = engine::parse_iso("2026-11-23T09:00:00Z");
  REQUIRE(monday_9);
  CHECK(p.add(*monday_9, 4 * 3600) == *engine::parse_iso("2026-11-23T14:00:00Z"));
  // Seven hours on Monday; the next Monday is a holiday.
  CHECK(p.add(*monday_9, 8 * 3600) == *engine::parse_iso("2026-12-07T10:00:00Z"));
}

TEST_CASE("an impossible calendar is refused with file and line") {
  const std::string weekly = with("mode = \"24x7\"", "mode = \"weekly\"");
  auto hours = [&](const std::string& monday) { return weekly + "[calendar.hours]\nmonday = " + monday + "\n"; };
  CHECK(refusal(with("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\"")) ==
        "policy.toml line 4: time zone 'Mars/Olympus' is unknown");
  CHECK(refusal(with("mode = \"24x7\"", "mode = \"sometimes\"")) ==
        "policy.toml line 5: calendar.mode \"sometimes\" is neither \"24x7\" nor \"weekly\"");
  CHECK(refusal(weekly) == "policy.toml line 3: calendar is missing hours");
  CHECK(refusal(hours("[]")) == "policy.toml line 26: calendar.hours has no working time on any day");
  CHECK(refusal(weekly + "[calendar.hours]\n") == "policy.toml line 26: calendar.hours has no working time on any day");
  for (const char* bad : {"17:00-09:00", "9:00-17:00", "09:00-25:00", "09:60-17:00", "09:00-09:00", "09:00"}) {
    CAPTURE(bad);
    CHECK(refusal(hours(std::string("[\"") + bad + "\"]")) ==
          std::string("policy.toml line 27: calendar.hours.monday \"") + bad +
              "\" is not an interval such as \"09:00-17:00\"");
  }
  CHECK(parsed(hours("[\"00:00-24:00\"]")).calendar.zone_name() == "UTC");
  CHECK(refusal(hours("[\"09:00-12:00\", \"11:00-13:00\"]")) ==
        "policy.toml line 27: calendar.hours.monday \"11:00-13:00\" overlaps \"09:00-12:00\"");
  CHECK(refusal(hours("\"09:00-17:00\"")) ==
        "policy.toml line 27: calendar.hours.monday must be a list of intervals such as [\"09:00-17:00\"], "
        "not a string");
  CHECK(refusal(with("mode = \"24x7\"", "mode = \"weekly\"\nholidays = [\"2026-02-30\"]") +
                "[calendar.hours]\nmonday = [\"09:00-17:00\"]\n") ==
        "policy.toml line 6: calendar.holidays \"2026-02-30\" is not a date such as \"2026-12-25\"");
  CHECK(refusal(with("mode = \"24x7\"", "mode = \"24x7\"\nholidays = [\"2026-12-25\"]")) ==
        "policy.toml line 6: calendar.holidays needs mode = \"weekly\", not \"24x7\"");
}

TEST_CASE("unknown keys are refused wherever they appear") {
  CHECK(refusal(with("warning_threshold = 0.8", "warning_treshold = 0.8")) ==
        "policy.toml line 1: the policy has unknown key 'warning_treshold'; expected warning_threshold, "
        "reopen_window_days, pause_states, calendar, targets, ladder or notifications");
  CHECK(refusal(with("resolution = \"24h\"", "resolutoin = \"24h\"")) ==
        "policy.toml line 14: targets.P2 has unknown key 'resolutoin'; expected first_response, resolution, "
        "follow_up, warning_threshold, gold or platinum");
  CHECK(refusal(with("time_zone = \"UTC\"", "timezone = \"UTC\"")) ==
        "policy.toml line 4: calendar has unknown key 'timezone'; expected time_zone, mode, hours or holidays");
  CHECK(refusal(base + "[targets.P1.golden]\nfirst_response = \"1h\"\n") ==
        "policy.toml line 26: targets.P1 has unknown key 'golden'; expected first_response, resolution, "
        "follow_up, warning_threshold, gold or platinum");
  CHECK(refusal(base + "[targets.P1.gold]\nwarning_threshold = 0.5\n") ==
        "policy.toml line 27: targets.P1.gold has unknown key 'warning_threshold'; expected first_response, "
        "resolution or follow_up");
  CHECK(refusal(base + "[targets.P5]\nfirst_response = \"1h\"\n") ==
        "policy.toml line 26: targets has unknown key 'P5'; expected P1, P2, P3 or P4");
  CHECK(refusal(base + "[ladder.warnings]\nnotify = []\n") ==
        "policy.toml line 26: ladder has unknown key 'warnings'; expected warning, first_response_breach, "
        "resolution_breach or second_breach");
  CHECK(refusal(base + "[ladder.warning]\nnotfy = []\n") ==
        "policy.toml line 27: ladder.warning has unknown key 'notfy'; expected raise_level, raise_priority or notify");
  CHECK(refusal(with("mode = \"24x7\"", "mode = \"weekly\"") + "[calendar.hours]\nmon = [\"09:00-17:00\"]\n") ==
        "policy.toml line 27: calendar.hours has unknown key 'mon'; expected sunday, monday, tuesday, wednesday, "
        "thursday, friday or saturday");
}

TEST_CASE("invalid TOML is refused with the line of the syntax error") {
  const std::string message = refusal(with("resolution = \"8h\"", "resolution = "));
  CHECK(message.rfind("policy.toml line 9: invalid TOML: ", 0) == 0);
  CHECK(refusal(with("[targets.P2]", "[targets.P2")).rfind("policy.toml line 12: invalid TOML: ", 0) == 0);
  CHECK(refusal(base + "[targets.P1]\n").rfind("policy.toml line 26: invalid TOML: ", 0) == 0);
}

TEST_CASE("the escalation ladder is read and what it leaves out keeps the default") {
  const auto p = parsed(base +
                        "[ladder.warning]\nnotify = []\n"
                        "[ladder.second_breach]\nraise_priority = true\nnotify = [\"supervisor\"]\n");
  const engine::escalation_ladder d;
  CHECK(p.ladder.warning.notify.empty());
  CHECK_FALSE(p.ladder.warning.raise_level);
  CHECK(p.ladder.second_breach.raise_priority);
  CHECK(p.ladder.second_breach.raise_level);
  CHECK(p.ladder.second_breach.notify == std::vector<std::string>{"supervisor"});
  CHECK(same(p.ladder.first_response_breach, d.first_response_breach));
  CHECK(same(p.ladder.resolution_breach, d.resolution_breach));
  const auto q =
      parsed(base + "[ladder.resolution_breach]\nraise_level = false\nnotify = [\"team_lead\", \"owner\"]\n");
  CHECK_FALSE(q.ladder.resolution_breach.raise_level);
  CHECK(q.ladder.resolution_breach.notify == std::vector<std::string>{"team_lead", "owner"});
  CHECK(refusal(base + "[ladder.warning]\nnotify = [\"boss\"]\n") ==
        "policy.toml line 27: ladder.warning.notify 'boss' is not owner, team_lead or supervisor");
  CHECK(refusal(base + "[ladder.warning]\nnotify = [\"owner\", \"owner\"]\n") ==
        "policy.toml line 27: ladder.warning.notify lists 'owner' twice");
  CHECK(refusal(base + "[ladder.warning]\nraise_level = \"yes\"\n") ==
        "policy.toml line 27: ladder.warning.raise_level must be true or false, not a string");
  CHECK(refusal(base + "[ladder]\nwarning = \"owner\"\n") ==
        "policy.toml line 27: ladder.warning must be a table, not a string");
}

TEST_CASE("a pause state must be an open state of some registered workflow") {
  CHECK(parsed(base).pause_states == std::vector<std::string>{"awaiting_customer"});
  auto pausing = [](const std::string& list) {
    return with("warning_threshold = 0.8", "warning_threshold = 0.8\npause_states = " + list);
  };
  CHECK(parsed(pausing("[\"in_progress\"]")).pause_states == std::vector<std::string>{"in_progress"});
  CHECK(parsed(pausing("[\"awaiting_customer\", \"triage\"]")).pause_states ==
        std::vector<std::string>{"awaiting_customer", "triage"});
  CHECK(parsed(pausing("[]")).pause_states.empty());
  CHECK(refusal(pausing("[\"awaiting_custmer\"]")) ==
        "policy.toml line 2: pause_states 'awaiting_custmer' is not a state of any workflow");
  CHECK(refusal(pausing("[\"closed\"]")) ==
        "policy.toml line 2: pause_states 'closed' is a closed state of workflow complaint, not an open state");
  CHECK(refusal(pausing("[\"follow_up\"]")) ==
        "policy.toml line 2: pause_states 'follow_up' is a resolved state of workflow complaint, not an open state");
  CHECK(refusal(pausing("[\"triage\", \"triage\"]")) == "policy.toml line 2: pause_states lists 'triage' twice");
  CHECK(refusal(pausing("\"awaiting_customer\"")) ==
        "policy.toml line 2: pause_states must be a list of state names, not a string");
  CHECK(refusal(pausing("[1]")) == "policy.toml line 2: each of pause_states must be a string, not an integer");
}

TEST_CASE("policy_text gives the source text, or writes out a policy that has none") {
  CHECK(workflows::policy_text(workflows::default_policy()) == workflows::default_policy_text());
  const std::string text = workflows::policy_text(engine::sla_policy::defaults());
  const auto back = parsed(text);
  check_same_targets(back, engine::sla_policy::defaults());
  CHECK(back.calendar.is_24x7());
  CHECK(same(back.ladder.second_breach, engine::escalation_ladder{}.second_breach));
  CHECK(text.find("[targets.P4.platinum]\nfirst_response = \"12h\"\nresolution = \"2d12h\"\nfollow_up = \"3d\"\n") !=
        std::string::npos);
}
