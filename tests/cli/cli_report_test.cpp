// `plaint report` as a supervisor runs it.
#include <doctest/doctest.h>

#include "tests/cli/cli_fixture.h"

using plaint::testing::cli_desk;

namespace {

// acme (gold): one complaint resolved in 2h and scored 2; wang (platinum): two open.
void story(cli_desk& d) {
  const auto id = d.open("late delivery", "acme");
  d.fire_ok(id, {"triage", "--set", "owner=ann", "--set", "category=delivery"});
  d.now = "2026-11-23T09:00:00Z";
  d.fire_ok(id, {"start"});
  d.now = "2026-11-23T10:00:00Z";
  d.fire_ok(id, {"resolve", "--set", "resolution_code=refund", "--set", "root_cause=courier", "--note", "refunded"});
  d.now = "2026-11-23T11:00:00Z";
  d.fire_ok(id, {"follow_up_done", "--set", "csat=2"});
  const auto rude = d.open("rude agent", "wang", {"--category", "service_attitude"});
  d.now = "2026-11-23T12:00:00Z";
  d.fire_ok(rude, {"triage", "--set", "owner=bob"});
  d.open("again", "wang");
  d.now = "2026-11-23T13:00:00Z";
}

}  // namespace

TEST_CASE("report --json gives the last 30 days' KPIs and customers at risk by tier") {
  cli_desk d;
  story(d);
  auto r = d.plaint({"--json", "report"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto k = r.json();
  CHECK(k["from"] == "2026-10-24T13:00:00Z");
  CHECK(k["to"] == "2026-11-23T13:00:00Z");
  const auto& o = k["overall"];
  CHECK(o["opened"] == 3);
  CHECK(o["closed"] == 1);
  CHECK(o["resolved"] == 1);
  CHECK(o["backlog"]["total"] == 2);
  CHECK(o["first_response_seconds"]["p50"] == 3600);
  CHECK(o["resolution_seconds"]["p90"] == 7200);
  CHECK(o["on_time_rate"].get<double>() == doctest::Approx(1.0));
  CHECK(o["success_rate"].get<double>() == doctest::Approx(1.0));
  CHECK(o["csat"]["mean"].get<double>() == doctest::Approx(2.0));
  CHECK(o["top_root_causes"] == nlohmann::json::parse(R"([{"key":"courier","count":1}])"));
  CHECK(k["customers_at_risk"] == nlohmann::json::parse(R"([
    {"customer":"wang","tier":"platinum","complaints":2,"low_csat":0,"breaches":0},
    {"customer":"acme","tier":"gold","complaints":1,"low_csat":1,"breaches":0}])"));
}

TEST_CASE("report --by owner groups the figures, --from takes any offset") {
  cli_desk d;
  story(d);
  auto r = d.plaint({"--json", "report", "--by", "owner", "--from", "2026-11-23T09:30:00+01:00"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto k = r.json();
  CHECK(k["from"] == "2026-11-23T08:30:00Z");
  CHECK(k["by"] == "owner");
  CHECK(k["overall"]["opened"] == 2);
  const auto& g = k["groups"];
  REQUIRE(g.size() == 3);
  CHECK(g[0]["key"] == "(unassigned)");
  CHECK(g[0]["opened"] == 1);
  CHECK(g[1]["key"] == "ann");
  CHECK(g[1]["closed"] == 1);
  CHECK(g[1]["opened"] == 0);
  CHECK(g[2]["key"] == "bob");
  CHECK(g[2]["backlog"]["total"] == 1);
}

TEST_CASE("report prints a readable summary, groups and customers at risk") {
  cli_desk d;
  story(d);
  auto r = d.plaint({"report", "--by", "team", "--to", "2026-11-23T13:00:00Z"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.rfind("KPIs from 2026-10-24T13:00:00Z to 2026-11-23T13:00:00Z\nopened           3\n", 0) == 0);
  CHECK(r.out.find("on time          100.0%\n") != std::string::npos);
  CHECK(r.out.find("\nby team\n") != std::string::npos);
  CHECK(r.out.find("\nL1 ") != std::string::npos);
  CHECK(r.out.find("wang (王芳)") != std::string::npos);
  CHECK(r.out.find("platinum") < r.out.find("acme (ACME Ltd)"));
}

TEST_CASE("report refuses a bad period or grouping with exit 2") {
  cli_desk d;
  auto bad_from = d.plaint({"report", "--from", "yesterday"});
  CHECK(bad_from.code == 2);
  CHECK(bad_from.err == "plaint: --from 'yesterday' is not an ISO 8601 time such as 2026-11-23T08:00:00Z\n");
  CHECK(bad_from.out.empty());
  auto bad_by = d.plaint({"report", "--by", "colour"});
  CHECK(bad_by.code == 2);
  CHECK(bad_by.out.empty());
  auto backwards = d.plaint({"--json", "report", "--from", "2026-11-24", "--to", "2026-11-23"});
  CHECK(backwards.code == 2);
  CHECK(backwards.error_json()["error"]["code"] == "invalid");
  CHECK(backwards.out.empty());
}

TEST_CASE("report --format csv gives a header, the row for all, and a row per group") {
  cli_desk d;
  story(d);
  // An owner a spreadsheet would take for a formula stays text.
  const auto id = d.open("formula", "acme");
  d.fire_ok(id, {"triage", "--set", "owner==cmd|'/c calc'!A1"});
  d.now = "2026-11-23T14:00:00Z";
  auto r = d.plaint({"report", "--by", "owner", "--format", "csv"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  std::vector<std::string> lines;
  for (std::size_t at = 0, end; (end = r.out.find("\r\n", at)) != std::string::npos; at = end + 2)
    lines.push_back(r.out.substr(at, end - at));
  REQUIRE(lines.size() == 6);  // header, all, then by owner: (unassigned), the formula, ann, bob
  CHECK(lines[0].rfind("group,opened,closed,resolved,backlog,first_response_p50,", 0) == 0);
  CHECK_MESSAGE(lines[1].rfind("all,4,1,1,3,3600,3600,7200,7200,1.0000,1.0000,0.0000,", 0) == 0, lines[1]);
  CHECK_MESSAGE(lines[2].rfind("(unassigned),1,0,0,1,", 0) == 0, lines[2]);
  CHECK_MESSAGE(lines[3].rfind("'=cmd|'/c calc'!A1,1,0,0,1,", 0) == 0, lines[3]);
  CHECK(lines[4].rfind("ann,1,1,1,0,", 0) == 0);
  CHECK(lines[5].rfind("bob,1,0,0,1,,", 0) == 0);
  CHECK(d.plaint({"report", "--format", "xml"}).code == 2);
}
