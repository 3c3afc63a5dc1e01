// Inputs found by fuzzing the import line reader, the ISO time parser and
// the policy loader (tests/fuzz/regressions/), through the real `plaint`:
// each is a clear refusal, exit 2, with nothing written.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli/cli_fixture.h"
#include "tests/raw_db.h"

using namespace plaint::testing;

namespace {

std::string regression(const std::string& name) { return std::string(PLAINT_SOURCE_DIR) + "/tests/fuzz/regressions/" + name; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Imports `file` into a new database at `db`; checks exit 2 and that the
// database holds nothing afterwards (and still verifies).
std::string refused_import(const std::string& db, const std::string& file) {
  auto r = run_plaint({"--db", db, "import", file});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  auto exported = run_plaint({"--db", db, "export"});
  CHECK(exported.code == 0);
  CHECK(exported.out.empty());
  CHECK(run_plaint({"--db", db, "audit", "verify"}).code == 0);
  return r.err;
}

}  // namespace

TEST_CASE("import refuses the fuzzed files with one sentence naming the line or the check, and writes nothing") {
  temp_dir dir;
  CHECK(refused_import(dir.file("a.db"), regression("type-not-string.jsonl")) ==
        "plaint: line 1 was refused: field type must be customer, customer_change, ticket, event or timer\n");
  CHECK(refused_import(dir.file("b.db"), regression("timer-unknown-ticket-internal.jsonl")) ==
        "plaint: line 1 was refused: timer 2 names ticket 99, which is not in the file\n");
  // An export cut off before its events: it would not pass `audit verify`.
  CHECK(refused_import(dir.file("c.db"), regression("ticket-without-events-verify-broken.jsonl")) ==
        "plaint: the file would not pass audit verify: ticket 1 is at version 5 but the audit log holds 0 of its "
        "events; nothing was imported\n");
}

TEST_CASE("import refuses a line nested deeper than 64 levels before parsing it") {
  temp_dir dir;
  const std::string file = dir.file("deep.jsonl");
  {
    std::ofstream out(file);
    out << R"({"attributes":{},"created_at":"2026-11-23T08:00:00Z","id":"acme","name":"ACME","tier":"gold",)"
        << R"("type":"customer","updated_at":"2026-11-23T08:00:00Z"})" << '\n';
    // 100,000 levels crashed the importer (stack overflow in the parser).
    out << R"({"type":"customer","attributes":{"a":)" << std::string(100000, '[') << std::string(100000, ']')
        << "}}\n";
  }
  CHECK(refused_import(dir.file("deep.db"), file) == "plaint: line 2 is nested deeper than 64 levels\n");
}

TEST_CASE("import refuses values out of range, duplicates and unknown workflows or states") {
  cli_desk d;
  d.fire_ok(d.open(), {"triage", "--set", "owner=bob"});
  auto exported = d.plaint({"export"});
  REQUIRE(exported.code == 0);
  const std::string good = exported.out;
  auto variant = [&](const std::string& from, const std::string& to) {
    const auto at = good.find(from);
    REQUIRE(at != std::string::npos);
    std::string text = good;
    text.replace(at, from.size(), to);
    const std::string file = d.dir.file("variant.jsonl");
    std::ofstream(file) << text;
    temp_dir fresh;
    return refused_import(fresh.file("v.db"), file);
  };
  CHECK(variant(R"("level":1)", R"("level":18446744073709551615)") ==
        "plaint: line 3 was refused: field level must be a whole number from 1 to 3\n");
  CHECK(variant(R"("id":1,"level")", R"("id":0,"level")") ==
        "plaint: line 3 was refused: field id must be a whole number of at least 1\n");
  CHECK(variant(R"("workflow":"complaint")", R"("workflow":"incident")") ==
        "plaint: line 3 was refused: ticket 1 uses workflow 'incident', which is not one of: complaint, "
        "service_request\n");
  CHECK(variant(R"("state":"triage")", R"("state":"limbo")") ==
        "plaint: line 3 was refused: ticket 1 is in state 'limbo', which workflow complaint does not have\n");
  CHECK(variant(R"("tags":[])", R"("tags":[1])") == "plaint: line 3 was refused: field tags must be a list of strings\n");
  // Reports take a ticket without a closing time for an open one.
  CHECK(variant(R"("closed_at":null)", R"("closed_at":"2026-11-24T08:00:00Z")") ==
        "plaint: line 3 was refused: ticket 1 is in state 'triage' but has a closing time\n");
  const auto ticket_line = good.substr(good.find("{\"category\""), good.find('\n', good.find("{\"category\"")) -
                                                                       good.find("{\"category\"") + 1);
  CHECK(variant(ticket_line, ticket_line + ticket_line) == "plaint: line 4 was refused: ticket 1 appears twice\n");
}

TEST_CASE("--now outside years 0000 to 9999 is refused, so no export holds an instant import cannot read") {
  cli_desk d;
  for (const char* name : {"year0_positive_offset.txt", "year9999_negative_offset.txt"}) {
    const std::string now = read(regression(name));
    auto r = run_plaint({"--db", d.db, "--now", now, "customer", "add", "--id", "x", "--name", "X"});
    CHECK(r.code == 2);
    CHECK(r.err == "plaint: --now '" + now + "' is not an ISO 8601 time such as 2026-11-23T08:00:00Z\n");
  }
  CHECK(d.plaint({"--json", "customer", "list"}).out.find("\"x\"") == std::string::npos);
}

TEST_CASE("a due time past year 9999 is refused before anything is written") {
  cli_desk d;
  d.now = "9999-12-31T20:00:00Z";  // gold P4: first response within 18h
  auto opened = d.plaint({"open", "--customer", "acme", "--subject", "too late", "--priority", "P4"});
  CHECK(opened.code == 2);
  CHECK(opened.err ==
        "plaint: the new ticket's first-response warning time would fall after 9999-12-31T23:59:59Z, the last instant "
        "plaint can store\n");
  CHECK(d.plaint({"--json", "list"}).json().empty());

  // Opened in range (gold P1: 45m / 6h), moved out of it by a priority change.
  d.now = "9999-12-31T12:00:00Z";
  const auto id = d.open("just in time", "acme", {"--priority", "P1"});
  d.now = "9999-12-31T12:05:00Z";
  auto moved = d.plaint({"event", id, "set_priority", "--set", "priority=P3"});
  CHECK(moved.code == 2);
  CHECK(moved.err == "plaint: ticket " + id +
                         "'s resolution warning time would fall after 9999-12-31T23:59:59Z, the last instant plaint "
                         "can store\n");
  CHECK(d.show(id)["version"] == 1);
  CHECK(d.plaint({"audit", "verify"}).code == 0);
  auto exported = d.plaint({"export"});
  REQUIRE(exported.code == 0);
  const std::string file = d.dir.file("late.jsonl");
  std::ofstream(file) << exported.out;
  CHECK(run_plaint({"--db", d.dir.file("late.db"), "import", file}).code == 0);
}

TEST_CASE("policies found by fuzzing are refused with file and line, and the policy in force stays") {
  cli_desk d;
  const auto before = d.plaint({"policy", "show"});
  REQUIRE(before.code == 0);
  struct {
    const char* file;
    std::string message;
  } cases[] = {
      {"toml-unreachable-u0496.toml",
       "line 1: a non-ASCII character outside a comment; policy keys and values are ASCII"},
      {"toml-table-backslash.toml", "line 1: a table header must start with a key, such as [calendar]"},
      {"policy-due-year-102759.toml",
       "line 12: targets.P1.resolution \"3650d\" needs more than ten years of the calendar's working time (1m a "
       "week); the longest target it allows is \"8h41m42s\""},
  };
  for (const auto& c : cases) {
    const std::string path = regression(c.file);
    auto r = d.plaint({"policy", "load", path});
    CHECK(r.code == 2);
    CHECK(r.err == "plaint: " + path + " " + c.message + "\n");
  }
  CHECK(d.plaint({"policy", "show"}).out == before.out);
}

TEST_CASE("a stored policy that a stricter build no longer parses can still be replaced") {
  cli_desk d;
  const std::string policy = read(regression("policy-due-year-102759.toml"));
  {
    raw_db raw(d.db);  // as a build without the ten-year limit stored it
    REQUIRE(raw.exec("INSERT OR REPLACE INTO settings (key, value) VALUES ('policy', '" + policy + "'), "
                     "('policy_name', 'far.toml')") == "");
  }
  auto broken = d.plaint({"open", "--customer", "acme", "--subject", "x"});
  CHECK(broken.code == 1);
  CHECK(broken.err.find("the policy stored in the database no longer parses: far.toml line 12:") != std::string::npos);
  CHECK(broken.err.find("put one in force with plaint policy load FILE") != std::string::npos);
  auto loaded = d.plaint({"policy", "load", std::string(PLAINT_SOURCE_DIR) + "/workflows/policy.toml"});
  CHECK_MESSAGE(loaded.code == 0, loaded.err);
  CHECK(d.plaint({"open", "--customer", "acme", "--subject", "x"}).code == 0);
}
