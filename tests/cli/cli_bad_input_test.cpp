// Bad input gets the right exit code, one clear sentence, and writes nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/cli/cli_fixture.h"
#include "tests/raw_db.h"

using plaint::testing::cli_desk;
using plaint::testing::raw_db;

namespace {

// The whole database as text, to prove a refusal wrote nothing.
std::string dump(const cli_desk& d) {
  auto r = d.plaint({"export"});
  REQUIRE(r.code == 0);
  return r.out;
}

void refused(const cli_desk& d, std::vector<std::string> args, int code, const std::string& message) {
  const auto before = dump(d);
  auto r = d.plaint(args);
  CHECK(r.code == code);
  CHECK(r.out.empty());
  CHECK(r.err == "plaint: " + message + "\n");
  CHECK(dump(d) == before);
}

}  // namespace

TEST_CASE("unknown events and tickets are refused") {
  cli_desk d;
  const auto id = d.open();
  refused(d, {"event", id, "explode"}, 4,
          "the complaint workflow has no event 'explode'; ticket 1 is in intake, which accepts: triage, reject, "
          "comment, assign, escalate, set_priority");
  refused(d, {"event", "4242", "triage", "--set", "owner=x"}, 3, "ticket 4242 does not exist");
  refused(d, {"show", "4242"}, 3, "ticket 4242 does not exist");
  refused(d, {"customer", "show", "ghost"}, 3, "customer 'ghost' does not exist");
}

TEST_CASE("wrong types on the command line are usage errors") {
  cli_desk d;
  const auto id = d.open();
  for (std::vector<std::string> args : {std::vector<std::string>{"show", "abc"},
                                        {"event", id, "comment", "--note", "x", "--expect-version", "two"},
                                        {"list", "--limit", "many"},
                                        {"list", "--level", "7"},
                                        {"event", "1.5", "start"}}) {
    const auto before = dump(d);
    auto r = d.plaint(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("plaint: ", 0) == 0);
    CHECK(dump(d) == before);
  }
  refused(d, {"event", id, "triage", "--set", "owner"}, 2, "--set 'owner' is not of the form key=value");
  refused(d, {"--now", "yesterday", "event", id, "comment", "--note", "x"}, 2,
          "--now 'yesterday' is not an ISO 8601 time such as 2026-11-23T08:00:00Z");
}

TEST_CASE("wrong field values are failed guards") {
  cli_desk d;
  const auto id = d.open();
  refused(d, {"event", id, "triage", "--set", "owner=bob", "--set", "priority=urgent"}, 4,
          "priority 'urgent' is not one of: P1, P2, P3, P4");
  refused(d, {"event", id, "triage", "--set", "owner=bob", "--set", "colour=red"}, 4,
          "event triage takes no field 'colour'; it takes: owner, category, priority");
  d.fire_ok(id, {"triage", "--set", "owner=bob"});
  d.fire_ok(id, {"start"});
  d.fire_ok(id, {"resolve", "--set", "resolution_code=fixed", "--note", "fixed"});
  refused(d, {"event", id, "follow_up_done", "--set", "csat=abc"}, 4, "csat must be a whole number from 1 to 5, not 'abc'");
  refused(d, {"event", id, "follow_up_done", "--set", "csat=9"}, 4, "csat must be a whole number from 1 to 5, not '9'");
}

TEST_CASE("invalid UTF-8 is refused and nothing is written") {
  cli_desk d;
  const auto id = d.open();
  refused(d, {"open", "--customer", "acme", "--subject", "bad \xff\xfe bytes"}, 2, "subject is not valid UTF-8 text");
  refused(d, {"event", id, "comment", "--note", "\xc3\x28"}, 2, "note is not valid UTF-8 text");
  refused(d, {"event", id, "triage", "--set", "owner=\xed\xa0\x80"}, 2, "field owner is not valid UTF-8 text");
  refused(d, {"customer", "add", "--id", "x", "--name", "\xc0\xaf"}, 2, "customer name is not valid UTF-8 text");
}

TEST_CASE("a one-megabyte text is refused and nothing is written") {
  cli_desk d;
  const auto id = d.open();
  const std::string big = d.dir.file("big.txt");
  std::ofstream(big) << std::string(1 << 20, 'a');
  refused(d, {"open", "--customer", "acme", "--subject", "big", "--description-file", big}, 2,
          "description is 1048576 bytes long; the limit is 65536 bytes");
  refused(d, {"open", "--customer", "acme", "--subject", std::string(100000, 'x')}, 2,
          "subject is 100000 bytes long; the limit is 1000 bytes");
  // The same through stdin.
  const auto before = dump(d);
  auto r = d.plaint({"event", id, "comment", "--note-file", "-"}, std::string(1 << 20, 'b'));
  CHECK(r.code == 2);
  CHECK(r.err == "plaint: note is 1048576 bytes long; the limit is 65536 bytes\n");
  CHECK(dump(d) == before);
}

TEST_CASE("SQL metacharacters are stored and searched as plain text") {
  cli_desk d;
  const std::string evil = "Robert'); DROP TABLE tickets; --";
  REQUIRE(d.plaint({"customer", "add", "--id", evil, "--name", "\" OR 1=1 --"}).code == 0);
  const auto id = d.open(evil + " %_* \"quoted\"", evil);
  auto t = d.show(id);
  CHECK(t["subject"] == evil + " %_* \"quoted\"");
  CHECK(t["customer"] == evil);
  d.open("an ordinary complaint");
  for (const std::string& q : {evil, std::string("%"), std::string("_"), std::string("\""), std::string("*"),
                              std::string("OR"), std::string("NEAR("), std::string("' OR '1'='1")}) {
    auto r = d.plaint({"--json", "list", "--search", q});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK_MESSAGE(r.json().size() <= 1, q);
  }
  auto all = d.plaint({"--json", "list"});
  CHECK(all.json().size() == 2);
  CHECK(d.plaint({"--json", "list", "--customer", "' OR 1=1 --"}).json().empty());
  CHECK(d.plaint({"audit", "verify"}).code == 0);
}

TEST_CASE("a database that does not exist is named in the error, and no command but init creates it") {
  cli_desk d;
  const std::string missing = d.dir.file("missing.db");
  for (std::vector<std::string> args : {std::vector<std::string>{"list"}, {"show", "1"}, {"report"}, {"audit", "verify"},
                                        {"customer", "add", "--id", "c", "--name", "C"}, {"serve", "--listen", "127.0.0.1:0"}}) {
    args.insert(args.begin(), {"--db", missing});
    auto r = plaint::testing::run_plaint(args);
    INFO(args[2]);
    CHECK(r.code == 3);
    CHECK(r.err == "plaint: database " + missing + " does not exist; run plaint init to create it\n");
    CHECK_FALSE(std::filesystem::exists(missing));
    CHECK_FALSE(std::filesystem::exists(missing + "-wal"));
  }
  auto r = plaint::testing::run_plaint({"migrate", "--from", missing, "--to", d.dir.file("copy.db")});
  CHECK(r.code == 3);
  CHECK(r.err == "plaint: database " + missing + " does not exist; run plaint init to create it\n");
  CHECK_FALSE(std::filesystem::exists(missing));
  CHECK_FALSE(std::filesystem::exists(d.dir.file("copy.db")));
  CHECK(plaint::testing::run_plaint({"--db", missing, "init"}).code == 0);
  CHECK(plaint::testing::run_plaint({"--db", missing, "list"}).code == 0);
}

TEST_CASE("a database that was never initialised is named in the error") {
  cli_desk d;
  const std::string empty = d.dir.file("empty.db");
  std::ofstream{empty};  // an empty file: SQLite's idea of a new database
  auto r = plaint::testing::run_plaint({"--db", empty, "list"});
  CHECK(r.code == 2);
  CHECK(r.err == "plaint: database " + empty + " is not initialised; run plaint init\n");
}

TEST_CASE("a write kept waiting past --busy-timeout by another process fails with exit 1 and writes nothing") {
  cli_desk d;
  const auto id = d.open();
  {
    raw_db other(d.db);
    REQUIRE(other.exec("BEGIN IMMEDIATE") == "");
    refused(d, {"--busy-timeout", "100", "event", id, "comment", "--note", "x"}, 1,
            "the database " + d.db +
                " is busy: another writer held it for more than 100 ms (cannot begin a transaction: database is locked)");
    auto r = d.plaint({"--json", "--busy-timeout", "100", "open", "--customer", "acme", "--subject", "s"});
    CHECK(r.code == 1);
    CHECK(r.error_json()["error"]["code"] == "unavailable");
    REQUIRE(other.exec("ROLLBACK") == "");
  }
  d.fire_ok(id, {"comment", "--note", "x"});
  refused(d, {"--busy-timeout", "-1", "list"}, 2, "--busy-timeout: Value -1 not in range 0 to 3600000 (see plaint --help)");
  auto r = d.plaint({"--busy-timeout", "soon", "list"});
  CHECK(r.code == 2);
  CHECK(r.err.rfind("plaint: --busy-timeout", 0) == 0);
}
