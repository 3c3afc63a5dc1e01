// `plaint sla explain` and `plaint policy whatif` as a supervisor runs them.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "tests/cli/cli_fixture.h"

using plaint::testing::cli_desk;

namespace {

const std::string business_hours = std::string(PLAINT_SOURCE_DIR) + "/examples/policy-business-hours.toml";
const std::string default_policy = std::string(PLAINT_SOURCE_DIR) + "/workflows/policy.toml";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A copy of `from` with `what` replaced by `with`, written to `to`.
void write_changed(const std::string& from, const std::string& to, const std::string& what, const std::string& with) {
  std::string text = slurp(from);
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  text.replace(at, what.size(), with);
  std::ofstream(to, std::ios::binary) << text;
}

// A small desk on business hours: a late first response over a weekend, a
// pause, a resolution, and a second ticket answered at once.
void working_week(cli_desk& d) {
  d.now = "2026-03-01T00:00:00Z";
  REQUIRE(d.plaint({"policy", "load", business_hours}).code == 0);
  d.now = "2026-03-06T15:00:00Z";  // Friday 16:00 in Berlin
  const auto a = d.open("boiler broken");
  d.fire_ok(a, {"triage", "--set", "owner=ann", "--set", "priority=P2"});
  d.now = "2026-03-09T10:12:00Z";
  d.fire_ok(a, {"start"});
  d.now = "2026-03-09T11:00:00Z";
  d.fire_ok(a, {"request_info", "--note", "serial number?"});
  d.now = "2026-03-10T09:30:00Z";
  d.fire_ok(a, {"customer_replied", "--note", "here it is"});
  d.now = "2026-03-10T11:00:00Z";
  d.fire_ok(a, {"resolve", "--set", "resolution_code=replaced", "--note", "new boiler"});
  const auto b = d.open("noisy pump", "wang");
  d.fire_ok(b, {"triage", "--set", "owner=bob"});
  d.fire_ok(b, {"start"});
  d.now = "2026-03-12T12:00:00Z";
}

// The figures of the first row of the text output labelled `label`.
std::vector<std::string> figure_row(const std::string& out, const std::string& label) {
  const auto at = out.find("  " + label + " ");
  if (at == std::string::npos) return {};
  std::istringstream line(out.substr(at + label.size() + 2, out.find('\n', at) - at - label.size() - 2));
  std::vector<std::string> words;
  for (std::string w; line >> w;) words.push_back(w);
  return words;
}

}  // namespace

TEST_CASE("sla explain prints a timeline that adds up, and --json carries every segment") {
  cli_desk d;
  working_week(d);
  auto r = d.plaint({"sla", "explain", "1"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  INFO(r.out);
  CHECK(r.out.find("first response: answered late") != std::string::npos);
  CHECK(r.out.find("target 3h 00m from row P2/gold of policy") != std::string::npos);
  CHECK(r.out.find("due 2026-03-09T10:00:00Z = 2026-03-06T15:00:00Z + 3h 00m of working time") != std::string::npos);
  CHECK(r.out.find("weekend") != std::string::npos);
  CHECK(r.out.find("breach fired as event #4") != std::string::npos);
  CHECK(r.out.find("paused in awaiting_customer (request_info #6 by ann; 6h 30m of working time)") !=
        std::string::npos);
  CHECK(r.out.find("resolution (cycle 1): met") != std::string::npos);
  CHECK(r.out.find("follow-up (cycle 1)") != std::string::npos);
  CHECK(r.out.find("check: the replay of the history gives exactly the stored due times and breach flags") !=
        std::string::npos);

  auto j = d.plaint({"--json", "sla", "explain", "1"});
  REQUIRE(j.code == 0);
  const auto x = j.json();
  CHECK(x["check"]["matches"] == true);
  CHECK(x["clocks"][0]["due_at"] == "2026-03-09T10:00:00Z");
  CHECK(x["clocks"][1]["paused_seconds"] == 6 * 3600 + 30 * 60);
  CHECK(x["clocks"][1]["due_at"] == d.show("1")["sla"]["resolution_due"]);
}

TEST_CASE("sla explain of a ticket that does not exist is exit 3, a malformed id is exit 2") {
  cli_desk d;
  auto r = d.plaint({"sla", "explain", "42"});
  CHECK(r.code == 3);
  CHECK(r.err == "plaint: ticket 42 does not exist\n");
  auto j = d.plaint({"--json", "sla", "explain", "42"});
  CHECK(j.code == 3);
  CHECK(j.out.empty());
  CHECK(d.plaint({"sla", "explain", "one"}).code == 2);
  CHECK(d.plaint({"sla", "explain"}).code == 2);
}

TEST_CASE("policy whatif: the policy in force against itself changes nothing, a tighter one, by hand") {
  cli_desk d;
  working_week(d);
  auto same = d.plaint({"--json", "policy", "whatif", business_hours, "--from", "2026-03-01T00:00:00Z", "--to",
                        "2026-04-01T00:00:00Z"});
  REQUIRE_MESSAGE(same.code == 0, same.err);
  const auto s = same.json();
  CHECK(s["tickets"] == 2);
  CHECK(s["changed"]["count"] == 0);
  CHECK(s["overall"]["in_force"] == s["overall"]["proposed"]);
  CHECK(s["overall"]["in_force"]["breaches"]["first_response"] == 1);

  // P2 gold first response 3 h → 6 h: ticket 1's answer after 3 h 12 min is on time.
  const std::string loose = d.dir.file("loose.toml");
  write_changed(business_hours, loose, "[targets.P2.gold]\nfirst_response = \"3h\"",
                "[targets.P2.gold]\nfirst_response = \"6h\"");
  auto r = d.plaint({"policy", "whatif", loose, "--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z",
                     "--by", "tier"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  INFO(r.out);
  CHECK(r.out.find("2 tickets active") != std::string::npos);
  CHECK(r.out.find("people might have acted differently") != std::string::npos);
  CHECK(figure_row(r.out, "first-response breaches") == std::vector<std::string>{"1", "0", "-1"});
  CHECK(figure_row(r.out, "tickets reaching level 2") == std::vector<std::string>{"1", "0", "-1"});
  CHECK(r.out.find("tier gold") != std::string::npos);
  CHECK(r.out.find("tier platinum") != std::string::npos);
  CHECK(r.out.find("tickets whose outcome changes: 1") != std::string::npos);
  CHECK(r.out.find("#1 ") != std::string::npos);
  CHECK(r.out.find("first response breached → on time; level reached 2 → -") != std::string::npos);
}

TEST_CASE("policy whatif writes nothing: the database file is byte-for-byte the same") {
  cli_desk d;
  working_week(d);
  REQUIRE(d.plaint({"tick"}).code == 0);  // leaves the file checkpointed and closed
  const std::string before = slurp(d.db);
  REQUIRE_FALSE(before.empty());
  auto r = d.plaint({"policy", "whatif", default_policy, "--from", "2026-01-01T00:00:00Z", "--to",
                     "2026-12-31T00:00:00Z", "--by", "category"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(slurp(d.db) == before);
  auto explain = d.plaint({"sla", "explain", "1"});
  REQUIRE(explain.code == 0);
  CHECK(slurp(d.db) == before);
}

TEST_CASE("policy whatif refuses a policy with a mistake naming file and line, and bad options, writing nothing") {
  cli_desk d;
  working_week(d);
  const std::string bad = d.dir.file("bad.toml");
  write_changed(business_hours, bad, "time_zone = \"Europe/Berlin\"", "time_zone = \"Mars/Olympus\"");
  auto r = d.plaint({"policy", "whatif", bad});
  CHECK(r.code == 2);
  CHECK(r.err.find("bad.toml line 14: time zone 'Mars/Olympus' is unknown") != std::string::npos);
  CHECK(d.plaint({"policy", "whatif", d.dir.file("missing.toml")}).code == 2);
  auto from = d.plaint({"policy", "whatif", business_hours, "--from", "yesterday"});
  CHECK(from.code == 2);
  CHECK(from.err.find("--from 'yesterday' is not an ISO 8601 time") != std::string::npos);
  auto empty = d.plaint({"policy", "whatif", business_hours, "--from", "2026-03-10T00:00:00Z", "--to",
                         "2026-03-01T00:00:00Z"});
  CHECK(empty.code == 2);
  CHECK(empty.err.find("the period's end must come after its start") != std::string::npos);
  CHECK(d.plaint({"policy", "whatif", business_hours, "--by", "colour"}).code == 2);
  // No example asked for: the figures and the count, no list.
  auto none = d.plaint({"--json", "policy", "whatif", business_hours, "--examples", "0", "--from",
                        "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"});
  REQUIRE_MESSAGE(none.code == 0, none.err);
  CHECK(none.json()["changed"]["tickets"].empty());
  // The policy in force is the one loaded before, untouched.
  CHECK(d.plaint({"--json", "policy", "show"}).json()["name"] == business_hours);
}
