// The SLA replay (SPEC §12): calendar segments, `sla explain` on
// hand-computed cases and on every ticket of a varied desk, and `policy
// whatif` — against itself (zero differences: the replay is exact) and on
// hand-computed cases.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "engine/explain.h"
#include "engine/whatif.h"
#include "tests/engine/desk_fixture.h"
#include "workflows/policy.h"
#include "workflows/policy_history.h"

using plaint::testing::desk;
using namespace plaint;
using engine::json;

namespace {

engine::timestamp at(const char* iso) {
  auto t = engine::parse_iso(iso);
  REQUIRE(t);
  return *t;
}

// Berlin, Monday to Friday 09:00-17:00, two named holidays and one without a name.
const char* const berlin_policy = R"(
[calendar]
time_zone = "Europe/Berlin"
mode = "weekly"
holidays = [{ date = "2026-04-03", name = "Good Friday" }, { date = "2026-04-06", name = "Easter Monday" },
            "2026-05-01", { date = "2026-12-25", name = "Christmas Day" }]
[calendar.hours]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]
[targets.P1]
first_response = "1h"
resolution = "8h"
follow_up = "16h"
[targets.P2]
first_response = "4h"
resolution = "16h"
follow_up = "16h"
[targets.P2.gold]
first_response = "3h"
[targets.P3]
first_response = "8h"
resolution = "24h"
follow_up = "16h"
[targets.P4]
first_response = "16h"
resolution = "40h"
follow_up = "16h"
)";

engine::sla_policy parse(const std::string& text, const std::string& name) {
  auto p = workflows::parse_policy(text, name, workflows::builtin_workflows());
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
  return *p;
}

// Puts `text` in force as `plaint policy load` does: stored with its history,
// then the open tickets recomputed.
void load_policy(desk& d, const std::string& text, const std::string& name) {
  auto tx = d.store->begin();
  REQUIRE(tx.ok());
  REQUIRE(workflows::record_policy(*d.store, **tx, text, name, "lead", d.clock.now()).ok());
  REQUIRE((*tx)->commit().ok());
  REQUIRE(d.ex->apply_policy(parse(text, name), "lead").ok());
}

engine::policy_timeline timeline(desk& d) {
  auto t = workflows::load_policy_timeline(*d.store, workflows::builtin_workflows());
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return *t;
}

json explain(desk& d, engine::ticket_id id) {
  auto events = d.store->ticket_events(id);
  REQUIRE(events.ok());
  return engine::explain_sla(d.get(id), *events, timeline(d), workflows::builtin_workflows(), d.clock.now());
}

void fire_ok(desk& d, engine::ticket_id id, const std::string& event, engine::field_map fields = {},
             const std::string& note = "") {
  auto r = d.fire(id, event, std::move(fields), note);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : event + ": " + r.error().message));
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::vector<std::string> kinds(const json& clock) {
  std::vector<std::string> out;
  for (const auto& s : clock["segments"]) out.push_back(s["kind"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the policy history: a desk from before it reads as one policy since the first event, damage is refused") {
  desk d;
  auto put = [&d](const char* key, const std::string& value) {
    auto tx = d.store->begin();
    REQUIRE(tx.ok());
    REQUIRE((*tx)->put_setting(key, value).ok());
    REQUIRE((*tx)->commit().ok());
  };
  put("policy", berlin_policy);  // as an older plaint stored it: no history row
  put("policy_name", "berlin.toml");
  auto old = timeline(d);
  REQUIRE(old.versions().size() == 1);
  CHECK(old.current().version == 1);
  CHECK(old.current().name == "berlin.toml");
  CHECK(old.current().since_seq == 0);
  d.add_customer("c1");
  d.open();
  load_policy(d, workflows::default_policy_text(), "policy.toml");
  auto now = timeline(d);
  REQUIRE(now.versions().size() == 2);  // the old one kept as version 1
  CHECK(now.versions()[0].name == "berlin.toml");
  CHECK(now.current().version == 2);
  CHECK(now.current().since_seq == 1);
  CHECK(&now.at_seq(1) == &now.versions()[0]);
  CHECK(&now.at_seq(2) == &now.versions()[1]);
  put("policy_history", "{\"not\": \"a list\"}");
  auto bad = workflows::load_policy_timeline(*d.store, workflows::builtin_workflows());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "the stored policy history is not a JSON array");
  put("policy_history", "[{\"version\": 1}]");
  bad = workflows::load_policy_timeline(*d.store, workflows::builtin_workflows());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "the stored policy history has a malformed entry");
}

TEST_CASE("calendar segments: counted, off hours, a named holiday, the weekend, counted adds up to between") {
  const auto p = parse(berlin_policy, "berlin.toml");
  const auto& cal = p.calendar;
  // Thursday 2026-12-24 16:00 CET to Monday 2026-12-28 10:00 CET.
  const auto a = at("2026-12-24T15:00:00Z"), b = at("2026-12-28T09:00:00Z");
  const auto segs = cal.segments(a, b);
  std::vector<std::string> got;
  std::int64_t counted = 0, total = 0;
  for (const auto& s : segs) {
    got.push_back(std::string(engine::kind_name(s.what)) + (s.holiday.empty() ? "" : ":" + s.holiday));
    if (s.what == engine::calendar_segment::kind::counted) counted += s.to - s.from;
    total += s.to - s.from;
  }
  CHECK(got == std::vector<std::string>{"counted", "off_hours", "holiday:Christmas Day", "weekend", "off_hours",
                                        "counted"});
  CHECK(segs[0].to == at("2026-12-24T16:00:00Z"));
  CHECK(segs[2].from == at("2026-12-24T23:00:00Z"));  // local midnight
  CHECK(segs[2].to == at("2026-12-25T23:00:00Z"));
  CHECK(counted == 2 * 3600);
  CHECK(counted == cal.between(a, b));
  CHECK(total == b - a);
  // An unnamed holiday is a holiday all the same.
  const auto may = cal.segments(at("2026-04-30T22:00:00Z"), at("2026-05-01T22:00:00Z"));
  REQUIRE(may.size() == 1);
  CHECK(may[0].what == engine::calendar_segment::kind::holiday);
  CHECK(may[0].holiday.empty());
}

TEST_CASE("calendar segments on the day the clocks go forward: a 23-hour day, working hours intact") {
  auto cal = engine::business_calendar::weekly(
      "Europe/Berlin", {{{{480, 1200}}, {{480, 1200}}, {{480, 1200}}, {{480, 1200}}, {{480, 1200}}, {{480, 1200}}, {{480, 1200}}}},
      {});
  REQUIRE(cal.ok());
  // Sunday 2026-03-29: 00:00 CET is 23:00Z the day before, 24:00 CEST is 22:00Z.
  const auto a = at("2026-03-28T23:00:00Z"), b = at("2026-03-29T22:00:00Z");
  const auto segs = cal->segments(a, b);
  REQUIRE(segs.size() == 3);
  CHECK(segs[0].to - segs[0].from == 7 * 3600);  // 00:00-08:00 lost an hour
  CHECK(segs[1].what == engine::calendar_segment::kind::counted);
  CHECK(segs[1].to - segs[1].from == 12 * 3600);
  CHECK(segs[2].to - segs[2].from == 4 * 3600);
  CHECK(cal->between(a, b) == 12 * 3600);
}

TEST_CASE("sla explain: a weekend, a late first response and a pause, by hand") {
  desk d;
  load_policy(d, berlin_policy, "berlin.toml");
  d.add_customer("acme", "gold");
  d.clock.set(at("2026-03-06T15:00:00Z"));  // Friday 16:00 in Berlin
  const auto id = d.open("acme", "Broken boiler", "P2");
  d.clock.set(at("2026-03-06T15:30:00Z"));
  fire_ok(d, id, "triage", {{"owner", "ann"}});
  d.clock.set(at("2026-03-09T10:12:00Z"));  // Monday 11:12: 1 h on Friday + 2 h 12 min
  fire_ok(d, id, "start");
  d.clock.set(at("2026-03-09T11:00:00Z"));
  fire_ok(d, id, "request_info", {}, "serial number?");
  d.clock.set(at("2026-03-10T09:30:00Z"));  // Tuesday 10:30: paused 5 h Monday + 1 h 30 Tuesday
  fire_ok(d, id, "customer_replied", {}, "here");
  d.clock.set(at("2026-03-10T12:00:00Z"));

  const json x = explain(d, id);
  INFO(x.dump(2));
  CHECK(x["check"]["matches"] == true);
  REQUIRE(x["clocks"].size() == 2);
  const json& fr = x["clocks"][0];
  CHECK(fr["clock"] == "first_response");
  CHECK(fr["row"] == "P2/gold");
  CHECK(fr["target_seconds"] == 3 * 3600);
  CHECK(fr["policy"]["name"] == "berlin.toml");
  CHECK(fr["policy"]["version"] == 1);
  CHECK(fr["started_at"] == "2026-03-06T15:00:00Z");
  // 1 h on Friday, then 2 h from Monday 09:00 CET.
  CHECK(fr["due_at"] == "2026-03-09T10:00:00Z");
  CHECK(fr["adds_up"] == true);
  CHECK(fr["status"] == "answered late");
  CHECK(fr["breached"] == true);
  CHECK(fr["stopped_by"]["event"] == "start");
  CHECK(kinds(fr) == std::vector<std::string>{"counted", "off_hours", "weekend", "off_hours", "counted"});
  CHECK(fr["totals"]["counted"] == 3 * 3600 + 12 * 60);
  CHECK(fr["totals"]["weekend"] == 2 * 86400);
  // Both timers fired when `start` came late, before it, as events 3 and 4.
  CHECK(fr["warning"]["seq"] == 3);
  CHECK(fr["warning"]["due"] == "2026-03-09T09:24:00Z");
  CHECK(fr["breach"]["seq"] == 4);
  CHECK(fr["breach"]["rung"] == "first_response_breach");
  CHECK(fr["breach"]["level"] == 2);
  CHECK(fr["breach"]["notified"] == json::array({"owner:ann", "team_lead"}));

  const json& res = x["clocks"][1];
  CHECK(res["clock"] == "resolution");
  CHECK(res["target_seconds"] == 16 * 3600);
  CHECK(res["paused_seconds"] == 6 * 3600 + 30 * 60);
  CHECK(res["due_at"] == "2026-03-11T13:30:00Z");
  CHECK(res["adds_up"] == true);
  CHECK(res["status"] == "running");
  REQUIRE(res["pauses"].size() == 1);
  CHECK(res["pauses"][0]["state"] == "awaiting_customer");
  CHECK(res["pauses"][0]["paused_by"]["event"] == "request_info");
  CHECK(res["pauses"][0]["resumed_by"]["event"] == "customer_replied");
  CHECK(res["pauses"][0]["working_seconds"] == 6 * 3600 + 30 * 60);
  CHECK(kinds(res) == std::vector<std::string>{"counted", "off_hours", "weekend", "off_hours", "counted", "paused",
                                                "counted", "off_hours", "counted"});
  CHECK(res["segments"][5]["working_seconds"] == 6 * 3600 + 30 * 60);
  CHECK(res["segments"].back()["after_now"] == true);
  CHECK(res["elapsed_seconds"] == 6 * 3600 + 30 * 60);  // 1 h + 3 h + 2 h 30 up to now
  bool resumed = false;
  for (const auto& r : res["recomputes"])
    if (r["event"] == "customer_replied") {
      resumed = true;
      CHECK(r["due_before"] == "2026-03-10T15:00:00Z");
      CHECK(r["due_after"] == "2026-03-11T13:30:00Z");
    }
  CHECK(resumed);
}

TEST_CASE("sla explain: a priority change, a policy change and a reopen each show as a recompute") {
  desk d;
  load_policy(d, berlin_policy, "berlin.toml");
  d.add_customer("c1");
  d.clock.set(at("2026-03-02T08:00:00Z"));  // Monday 09:00 CET
  const auto id = d.open("c1", "slow", "P3");
  fire_ok(d, id, "triage", {{"owner", "ann"}});
  d.clock.advance(3600);
  fire_ok(d, id, "set_priority", {{"priority", "P2"}});
  d.clock.advance(3600);
  load_policy(d, workflows::default_policy_text(), "policy.toml");  // 24x7 from here on
  d.clock.advance(3600);
  fire_ok(d, id, "start");
  fire_ok(d, id, "resolve", {{"resolution_code", "fixed"}}, "done");
  d.clock.advance(86400);
  fire_ok(d, id, "reopen", {}, "again");
  d.clock.advance(600);

  const json x = explain(d, id);
  INFO(x.dump(2));
  CHECK(x["check"]["matches"] == true);
  auto causes_of = [](const json& clock) {
    std::vector<std::string> out;
    for (const auto& r : clock["recomputes"]) out.push_back(r["cause"].get<std::string>());
    return out;
  };
  const json& fr = x["clocks"][0];
  // The new policy leaves the first-response instants where they were
  // (4 h from 09:00 CET is 13:00 CET on both calendars): no recompute.
  CHECK(causes_of(fr) == std::vector<std::string>{"opened", "priority P3 → P2"});
  CHECK(fr["row"] == "P2/standard");
  CHECK(fr["due_at"] == "2026-03-02T12:00:00Z");
  const json& res = x["clocks"][1];
  CHECK(causes_of(res) == std::vector<std::string>{"opened", "priority P3 → P2",
                                                   "policy 'policy.toml' (version 2) put in force"});
  CHECK(res["policy"]["version"] == 2);
  CHECK(res["due_at"] == "2026-03-03T08:00:00Z");  // 24x7 now: P2's 24 h from the opening
  // Two resolution cycles and the follow-up between them.
  std::vector<std::string> clocks;
  for (const auto& c : x["clocks"]) clocks.push_back(c["clock"].get<std::string>() + std::to_string(c["cycle"].get<int>()));
  CHECK(clocks == std::vector<std::string>{"first_response1", "resolution1", "follow_up1", "resolution2"});
  CHECK(x["clocks"][1]["status"] == "met");
  CHECK(x["clocks"][2]["stop_reason"] == "reopened");
  CHECK(x["clocks"][3]["started_by"]["event"] == "reopen");
  CHECK(x["clocks"][3]["recomputes"][0]["cause"] == "reopened: a new resolution cycle");
}

namespace {

// A varied desk: tickets of every priority and tier over six weeks on the
// Berlin calendar (a daylight-saving change, named holidays, weekends),
// worked by a seeded random hand — triage, start, comments, pauses across
// nights and weekends, priority changes, hand-offs, manual escalations,
// resolutions, follow-ups, reopens, rejections — with timers fired now
// on time, now late, now not at all. `policy_change`: a different policy
// comes into force in the middle.
std::vector<engine::ticket_id> varied_desk(desk& d, bool policy_change) {
  load_policy(d, berlin_policy, "berlin.toml");
  const char* tiers[] = {"standard", "gold", "platinum"};
  for (int c = 0; c < 6; ++c) d.add_customer("c" + std::to_string(c), tiers[c % 3]);
  std::mt19937 rng(20261204);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* priorities[] = {"P1", "P2", "P3", "P4"};
  std::vector<engine::ticket_id> ids;
  d.clock.set(at("2026-03-16T07:00:00Z"));
  for (int step = 0; step < 700; ++step) {
    d.clock.advance(600 + pick(4 * 3600));
    if (policy_change && step == 350)  // the same hours, a tighter P2
      load_policy(d, replaced(berlin_policy, "first_response = \"4h\"", "first_response = \"2h\""),
                  "berlin-tight.toml");
    if (pick(5) == 0) {
      auto fired = d.ex->fire_due(d.clock.now());
      REQUIRE(fired.ok());
    }
    if (ids.size() < 40 && (ids.empty() || pick(3) == 0)) {
      ids.push_back(d.open("c" + std::to_string(pick(6)), "case " + std::to_string(step), priorities[pick(4)]));
      continue;
    }
    const auto id = ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
    const auto t = d.get(id);
    std::vector<std::pair<std::string, engine::field_map>> options;
    if (t.state == "intake") {
      options = {{"triage", {{"owner", pick(2) ? "ann" : "bob"}, {"priority", priorities[pick(4)]}}},
                 {"comment", {}}};
      if (pick(10) == 0) options.push_back({"reject", {{"reason", "duplicate"}}});
    } else if (t.state == "triage") {
      options = {{"start", {}}, {"comment", {}}, {"set_priority", {{"priority", priorities[pick(4)]}}}};
    } else if (t.state == "remediation") {
      options = {{"request_info", {}},
                 {"comment", {}},
                 {"assign", {{"owner", t.owner == "ann" ? "bob" : "ann"}}},
                 {"set_priority", {{"priority", priorities[pick(4)]}}},
                 {"escalate", {}},
                 {"resolve", {{"resolution_code", "fixed"}}}};
    } else if (t.state == "awaiting_customer") {
      options = {{"customer_replied", {}}, {"comment", {}}};
    } else if (t.state == "follow_up") {
      options = {{"follow_up_done", {{"csat", std::to_string(1 + pick(5))}}}, {"reopen", {}}};
    } else if (t.state == "closed") {
      options = {{"reopen", {}}};
    }
    auto [event, fields] = options[static_cast<std::size_t>(pick(static_cast<int>(options.size())))];
    if (event == "set_priority" && fields["priority"] == t.priority) continue;
    // Refusals (a guard, the reopen window, the top level) write nothing; fine.
    (void)d.fire(id, event, fields, "note " + std::to_string(step));
  }
  d.clock.advance(3600);
  auto fired = d.ex->fire_due(d.clock.now());
  REQUIRE(fired.ok());
  d.clock.advance(1800);  // some timers due by now are left pending on purpose
  return ids;
}

}  // namespace

TEST_CASE("sla explain adds up to exactly the stored due times and breach flags on every ticket of a varied desk") {
  desk d;
  const auto ids = varied_desk(d, true);
  REQUIRE(timeline(d).versions().size() == 2);  // berlin from the first event on, then berlin-tight
  int paused = 0, reopened = 0, recomputed_by_policy = 0;
  for (const auto id : ids) {
    const json x = explain(d, id);
    INFO("ticket " << id << ": " << x["check"].dump());
    CHECK(x["check"]["matches"] == true);
    const auto stored = d.get(id);
    std::optional<std::string> fr_due, res_due;
    for (const auto& c : x["clocks"]) {
      if (!c["due_at"].is_null()) CHECK(c["adds_up"] == true);
      if (c.contains("warning_reached")) CHECK(c["warning_reached"] == true);
      if (c["clock"] == "first_response") fr_due = c["due_at"].get<std::string>();
      if (c["clock"] == "resolution") res_due = c["due_at"].get<std::string>();
      if (c["clock"] == "resolution" && c["cycle"] == 2) ++reopened;
      if (c.contains("pauses") && !c["pauses"].empty()) ++paused;
      for (const auto& r : c["recomputes"])
        if (r["cause"].get<std::string>().rfind("policy", 0) == 0) ++recomputed_by_policy;
    }
    CHECK(fr_due == engine::format_iso(*stored.first_response_due));
    CHECK(res_due == engine::format_iso(*stored.resolution_due));
    const auto sla = engine::sla_of(stored, d.clock.now());
    CHECK(x["clocks"][0]["breached"] == sla.first_response_breached);
  }
  // The data set is as varied as it claims.
  CHECK(paused > 3);
  CHECK(reopened > 0);
  CHECK(recomputed_by_policy > 0);
}

TEST_CASE("the tickets active in a period are exactly those a KPI report counts, whatever the period") {
  desk d;
  varied_desk(d, true);
  std::vector<engine::ticket> all;
  REQUIRE(d.store->scan_tickets([&](const engine::ticket& t) {
    all.push_back(t);
    return true;
  }).ok());
  const auto first = at("2026-03-16T00:00:00Z");
  for (std::int64_t from = first - 86400; from < d.clock.now() + 86400; from += 5 * 3600 + 1234) {
    for (const std::int64_t length : {std::int64_t{3600}, std::int64_t{86400}, std::int64_t{7 * 86400}}) {
      std::set<engine::ticket_id> want, got;
      for (const auto& t : all)  // the KPI report's definition (engine/kpi.cpp)
        if (t.created_at < from + length && (!t.closed_at || *t.closed_at >= from)) want.insert(t.id);
      REQUIRE(d.store->scan_tickets_active(from, from + length, [&](const engine::ticket& t) {
        CHECK(got.insert(t.id).second);  // each once
        return true;
      }).ok());
      CHECK(got == want);
    }
  }
}

TEST_CASE("policy whatif of the policy in force against itself changes nothing on a varied desk") {
  desk d;
  const auto ids = varied_desk(d, false);
  auto tl = timeline(d);
  engine::whatif_query q;
  q.from = at("2026-03-01T00:00:00Z");
  q.to = at("2026-06-01T00:00:00Z");
  q.now = d.clock.now();
  q.by = "tier";
  auto r = engine::what_if(*d.store, tl, tl.current(), workflows::builtin_workflows(), q);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  INFO((*r)["overall"].dump(2));
  CHECK((*r)["tickets"] == ids.size());
  CHECK((*r)["changed"]["count"] == 0);
  CHECK((*r)["not_replayed"].empty());
  CHECK((*r)["overall"]["in_force"] == (*r)["overall"]["proposed"]);
  for (const auto& g : (*r)["groups"]) CHECK(g["in_force"] == g["proposed"]);
  // The figures are not trivially zero: the desk breached and escalated.
  CHECK((*r)["overall"]["in_force"]["breaches"]["first_response"].get<int>() > 0);
  CHECK((*r)["overall"]["in_force"]["escalations"]["2"].get<int>() > 0);
  CHECK((*r)["overall"]["in_force"]["resolved"].get<int>() > 0);
}

TEST_CASE("policy whatif, by hand: a tighter first-response target and a shorter reopen window") {
  desk d;  // the built-in default: 24x7, P3 first response 8 h, reopen within 14 days
  d.add_customer("c1");
  d.clock.set(at("2026-11-02T08:00:00Z"));
  const auto late = d.open("c1", "answered after 5 h");
  fire_ok(d, late, "triage", {{"owner", "ann"}});
  d.clock.set(at("2026-11-02T13:00:00Z"));
  fire_ok(d, late, "start");
  fire_ok(d, late, "resolve", {{"resolution_code", "fixed"}}, "done");
  d.clock.set(at("2026-11-05T13:00:00Z"));  // three days later
  fire_ok(d, late, "reopen", {}, "it broke again");
  const auto quick = d.open("c1", "answered at once");
  fire_ok(d, quick, "triage", {{"owner", "ann"}});
  fire_ok(d, quick, "start");
  d.clock.set(at("2026-11-06T00:00:00Z"));

  const std::string text =
      replaced(replaced(workflows::default_policy_text(), "[targets.P3]\nfirst_response = \"8h\"",
                        "[targets.P3]\nfirst_response = \"4h\""),
               "reopen_window_days = 14", "reopen_window_days = 1");
  engine::policy_version proposed;
  proposed.name = "tight.toml";
  proposed.policy = std::make_shared<const engine::sla_policy>(parse(text, "tight.toml"));
  engine::whatif_query q;
  q.from = at("2026-11-01T00:00:00Z");
  q.to = at("2026-12-01T00:00:00Z");
  q.now = d.clock.now();
  auto r = engine::what_if(*d.store, timeline(d), proposed, workflows::builtin_workflows(), q);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  const json& x = *r;
  INFO(x.dump(2));
  CHECK(x["tickets"] == 2);
  const json& a = x["overall"]["in_force"];
  const json& b = x["overall"]["proposed"];
  // In force: 5 h < 8 h, on time. Proposed: warning at 3 h 12 min, breach at 4 h.
  CHECK(a["breaches"]["first_response"] == 0);
  CHECK(b["breaches"]["first_response"] == 1);
  CHECK(a["warnings"]["first_response"] == 0);
  CHECK(b["warnings"]["first_response"] == 1);
  CHECK(a["escalations"]["2"] == 0);
  CHECK(b["escalations"]["2"] == 1);
  CHECK(b["notifications"].get<int>() - a["notifications"].get<int>() == 3);  // owner; owner + team lead
  // The reopen after three days is refused under a one-day window.
  CHECK(a["refused_actions"] == 0);
  CHECK(b["refused_actions"] == 1);
  CHECK(x["overall"]["change"]["breaches"]["first_response"] == 1);
  CHECK(x["changed"]["count"] == 1);
  REQUIRE(x["changed"]["tickets"].size() == 1);
  CHECK(x["changed"]["tickets"][0]["ticket"] == late);
  CHECK(x["changed"]["tickets"][0]["summary"] == "first response on time → breached; level reached - → 2");
  CHECK(x["note"].get<std::string>().find("people might have acted differently") != std::string::npos);
}

TEST_CASE("policy whatif refuses an empty period and an unknown grouping") {
  desk d;
  auto tl = timeline(d);
  engine::whatif_query q;
  q.from = q.to = at("2026-11-01T00:00:00Z");
  auto r = engine::what_if(*d.store, tl, tl.current(), workflows::builtin_workflows(), q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == engine::errc::invalid);
  q.to = q.from + 86400;
  q.by = "color";
  r = engine::what_if(*d.store, tl, tl.current(), workflows::builtin_workflows(), q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("color") != std::string::npos);
}
