// The SLA commands as a user runs them: policy, tick, escalations.
#include <doctest/doctest.h>

#include <fstream>

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
