// The SLA commands as a user runs them: policy, tick, escalations.
#include <doctest/doctest.h>

#include <fstream>
#include <memory>

#include "tests/cli/cli_fixture.h"

using plaint::testing::cli_desk;

namespace {
const std::string business_hours = std::string(PLAINT_SOURCE_DIR) + "/examples/policy-business-hours.toml";
}

TEST_CASE("tick fires what is due, says so, and fires nothing twice") {
  cli_desk d;
  const auto id = d.open("slow answer");  // gold, P3: first response 6h, warning at 80 %
  d.fire_ok(id, {"assign", "--set", "owner=bob"});
  auto quiet = d.plaint({"tick"});
  CHECK(quiet.code == 0);
  CHECK(quiet.out == "no timer was due\n");
  d.now = "2026-11-23T14:00:00Z";
  auto r = d.plaint({"tick"});
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "ticket 1: first-response target 2026-11-23T14:00:00Z is at risk; notified owner:bob\n"
        "ticket 1: first-response target 2026-11-23T14:00:00Z breached; escalated to level 2; notified owner:bob, team_lead\n");
  CHECK(d.plaint({"tick"}).out == "no timer was due\n");
  auto t = d.show(id);
  CHECK(t["level"] == 2);
  CHECK(t["sla"]["breached"] == true);
  CHECK(t["history"].back()["event"] == "escalate");
  CHECK(t["history"].back()["actor"] == "system");
  CHECK(t["notifications"].size() == 3);
}

TEST_CASE("tick --json lists every fired timer") {
  cli_desk d;
  d.open();
  d.now = "2026-12-31T00:00:00Z";
  auto r = d.plaint({"--json", "tick"});
  REQUIRE(r.code == 0);
  auto fired = r.json();
  REQUIRE(fired.size() == 4);
  CHECK(fired[0]["timer"]["kind"] == "first_response_warn");
  CHECK(fired[1]["event"] == "escalate");
  CHECK(fired[3]["level"] == 3);
  CHECK(fired[3]["timer"]["status"] == "fired");
}

TEST_CASE("the escalation board shows escalated, breached and at-risk tickets, oldest first") {
  cli_desk d;
  const auto old_one = d.open("oldest");
  d.now = "2026-11-23T12:00:00Z";
  const auto risky = d.open("at risk soon", "wang");  // platinum P3: 4h first response, warning at 3h12m
  d.now = "2026-11-23T13:00:00Z";
  const auto calm = d.open("calm");
  d.fire_ok(calm, {"escalate", "--set", "reason=VIP"});
  d.now = "2026-11-23T15:30:00Z";
  auto r = d.plaint({"--json", "escalations"});
  REQUIRE(r.code == 0);
  auto board = r.json();
  REQUIRE(board.size() == 3);
  CHECK(board[0]["id"].get<int>() == std::stoi(old_one));
  CHECK(board[0]["reason"] == "first response overdue");
  CHECK(board[0]["overdue_seconds"] == 5400);
  CHECK(board[1]["id"].get<int>() == std::stoi(risky));
  CHECK(board[1]["reason"] == "first response at risk");
  CHECK(board[2]["reason"] == "escalated");
  d.now = "2026-11-23T17:00:00Z";
  auto text = d.plaint({"escalations"});
  CHECK(text.out.find("first response overdue") != std::string::npos);
}

TEST_CASE("a business-hours policy makes a Friday-evening complaint due on Monday") {
  cli_desk d;
  auto load = d.plaint({"policy", "load", business_hours});
  REQUIRE_MESSAGE(load.code == 0, load.err);
  REQUIRE(d.plaint({"customer", "add", "--id", "ben", "--name", "Ben"}).code == 0);
  d.now = "2026-11-27T17:55:00+01:00";  // Friday, Berlin
  const auto id = d.open("Friday evening", "ben", {"--priority", "P2"});
  auto t = d.show(id);
  CHECK(t["sla"]["first_response_due"] == "2026-11-30T12:00:00Z");  // Monday 13:00 Berlin
  auto shown = d.plaint({"policy", "show"});
  CHECK(shown.out.find("Europe/Berlin") != std::string::npos);
}

TEST_CASE("loading a policy recomputes the open tickets' due times") {
  cli_desk d;
  REQUIRE(d.plaint({"customer", "add", "--id", "ben", "--name", "Ben"}).code == 0);
  d.now = "2026-11-23T06:00:00Z";  // 07:00 in Berlin, before the desk opens
  const auto id = d.open("before the policy", "ben", {"--priority", "P2"});
  CHECK(d.show(id)["sla"]["first_response_due"] == "2026-11-23T10:00:00Z");
  auto load = d.plaint({"policy", "load", business_hours});
  REQUIRE(load.code == 0);
  CHECK(load.out == "policy " + business_hours + " is in force; due times recomputed on 1 open tickets\n");
  // The desk opens at 09:00 Berlin (08:00Z): 4 working hours from then.
  CHECK(d.show(id)["sla"]["first_response_due"] == "2026-11-23T12:00:00Z");
  CHECK(d.show(id)["history"].back()["event"] == "sla_recomputed");
}

TEST_CASE("an invalid policy is refused naming the line, and the old one stays in force") {
  cli_desk d;
  const std::string bad = d.dir.file("bad.toml");
  std::ifstream in(business_hours);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto pos = text.find("time_zone = \"Europe/Berlin\"");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 27, "time_zone = \"Mars/Olympus\"");
  std::ofstream(bad) << text;
  auto r = d.plaint({"policy", "load", bad});
  CHECK(r.code == 2);
  CHECK(r.err.find("line 14: time zone 'Mars/Olympus' is unknown") != std::string::npos);
  auto shown = d.plaint({"--json", "policy", "show"});
  CHECK(shown.json()["name"] == "built-in policy.toml");
  CHECK(d.plaint({"policy", "load", d.dir.file("missing.toml")}).code == 2);
}

TEST_CASE("init can put a policy in force") {
  cli_desk d;
  const std::string db = d.dir.file("second.db");
  auto r = plaint::testing::run_plaint({"--db", db, "init", "--policy", business_hours});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("policy " + business_hours) != std::string::npos);
  auto shown = plaint::testing::run_plaint({"--db", db, "--json", "policy", "show"});
  CHECK(shown.json()["time_zone"] == "Europe/Berlin");
}

namespace {
// The names of a ticket's history, in order.
std::vector<std::string> event_names(const nlohmann::json& t) {
  std::vector<std::string> out;
  for (const auto& e : t["history"]) out.push_back(e["event"]);
  return out;
}
}  // namespace

TEST_CASE("a late answer first fires the timers that were due, so the breach is escalated whatever the tick cadence") {
  // P1 for a standard customer: first response due 1 h after opening (11:00), warning at 10:48.
  auto late_desk = [](bool tick_in_between) {
    auto d = std::make_unique<cli_desk>();
    REQUIRE(d->plaint({"customer", "add", "--id", "lee", "--name", "Lee"}).code == 0);
    d->now = "2026-11-23T10:00:00Z";
    const auto id = d->open("no power since morning", "lee", {"--priority", "P1"});
    if (tick_in_between) {
      d->now = "2026-11-23T11:30:00Z";
      REQUIRE(d->plaint({"tick"}).code == 0);
    }
    d->now = "2026-11-23T14:00:00Z";
    d->fire_ok(id, {"triage", "--set", "owner=ann"});
    d->now = "2026-11-23T14:01:00Z";
    d->fire_ok(id, {"start"});
    return std::make_pair(std::move(d), id);
  };
  auto [untick, id] = late_desk(false);
  const auto t = untick->show(id);
  CHECK(event_names(t) == std::vector<std::string>{"open", "sla_warning", "escalate", "triage", "start"});
  CHECK(t["level"] == 2);
  CHECK(t["history"][2]["actor"] == "system");
  CHECK(t["history"][2]["payload"]["clock"] == "first_response");
  CHECK(t["history"][2]["at"] == "2026-11-23T14:00:00Z");  // fired when the late event came
  CHECK(t["sla"]["breached"] == true);
  CHECK(t["notifications"].size() == 2);  // nobody owned it yet: the team lead, for each
  CHECK(untick->plaint({"audit", "verify"}).code == 0);

  // The same story with a timely tick: the same events, level and notifications.
  auto [ticked, same] = late_desk(true);
  const auto u = ticked->show(same);
  CHECK(event_names(u) == event_names(t));
  CHECK(u["level"] == t["level"]);
  CHECK(u["notifications"].size() == t["notifications"].size());

  // The board tells an answer that came late from a clock still overdue.
  untick->now = "2026-11-23T14:05:00Z";
  auto board = untick->plaint({"--json", "escalations"});
  REQUIRE(board.code == 0);
  REQUIRE(board.json().size() == 1);
  CHECK(board.json()[0]["reason"] == "first response answered late");
  CHECK(board.json()[0]["overdue_seconds"] == 3 * 3600 + 60);
  const auto second = untick->open("still waiting", "lee", {"--priority", "P1"});
  untick->now = "2026-11-23T15:30:00Z";
  REQUIRE(untick->plaint({"tick"}).code == 0);
  board = untick->plaint({"--json", "escalations"});
  REQUIRE(board.code == 0);
  bool overdue_seen = false;
  for (const auto& row : board.json())
    if (std::to_string(row["id"].get<std::int64_t>()) == second) {
      CHECK(row["reason"] == "first response overdue");
      overdue_seen = true;
    }
  CHECK(overdue_seen);
}

TEST_CASE("an event refused after its ticket's timers fell due writes nothing, the timers included") {
  cli_desk d;
  REQUIRE(d.plaint({"customer", "add", "--id", "lee", "--name", "Lee"}).code == 0);
  d.now = "2026-11-23T10:00:00Z";
  const auto id = d.open("no power", "lee", {"--priority", "P1"});
  d.now = "2026-11-23T14:00:00Z";
  const auto before = d.plaint({"export"}).out;
  auto refused = d.plaint({"event", id, "start"});  // intake does not take `start`
  CHECK(refused.code == 4);
  auto wrong_version = d.plaint({"event", id, "comment", "--note", "x", "--expect-version", "2"});
  CHECK(wrong_version.code == 5);
  CHECK(d.plaint({"export"}).out == before);
  // The version the caller saw is the one before the due timers.
  d.fire_ok(id, {"comment", "--note", "on it", "--expect-version", "1"});
  const auto t = d.show(id);
  CHECK(event_names(t) == std::vector<std::string>{"open", "sla_warning", "escalate", "comment"});
  CHECK(t["version"] == 4);
}
