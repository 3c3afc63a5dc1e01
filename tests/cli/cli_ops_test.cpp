// Operations from the command line (SPEC §13): backup and restore of a
// SQLite file, the audit anchor, --version; and each refusal writes nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/cli/cli_fixture.h"
#include "tests/raw_db.h"

using namespace plaint::testing;

namespace {

const std::regex anchor_shape(R"(\d+:[0-9a-f]{64})");

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("--version names the version, the commit, SQLite and the schema") {
  auto r = run_plaint({"--version"});
  CHECK(r.code == 0);
  CHECK(std::regex_match(r.out, std::regex(R"(plaint \d+\.\d+\.\d+ \(commit (?:[0-9a-f]{12}|unknown)\), SQLite 3\.\d+\.\d+, schema \d+\n)")));
}

TEST_CASE("backup copies the desk, checks the copy and prints its chain head, restore brings it back as it was") {
  cli_desk d;
  const std::string id = d.open("包裹丢失 parcel lost", "wang");
  d.fire_ok(id, {"triage", "--set", "owner=bob"});
  d.fire_ok(id, {"comment", "--note", "客户来电催促"});
  const std::string anchor = trimmed(d.plaint({"audit", "anchor"}).out);
  REQUIRE(std::regex_match(anchor, anchor_shape));
  CHECK(anchor.rfind("3:", 0) == 0);  // open, triage, comment

  const std::string copy = d.dir.file("copy.db");
  auto backup = d.plaint({"--json", "backup", copy});
  REQUIRE_MESSAGE(backup.code == 0, backup.err);
  const auto j = backup.json();
  CHECK(j["integrity"] == "ok");
  CHECK(j["events"] == 3);
  CHECK(j["tickets"] == 1);
  CHECK(j["anchor"] == anchor);
  CHECK(j["head"]["seq"] == 3);
  CHECK(j["bytes"].get<std::int64_t>() == static_cast<std::int64_t>(std::filesystem::file_size(copy)));
  CHECK_FALSE(std::filesystem::exists(copy + ".partial"));

  // The desk goes on; the backup stays as it was, and the live desk still
  // holds exactly the anchored history.
  d.fire_ok(id, {"start"});
  CHECK(d.plaint({"audit", "verify", "--anchor", anchor}).code == 0);

  const std::string restored = d.dir.file("restored.db");
  auto r = run_plaint({"--db", restored, "--json", "restore", copy});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.json()["anchor"] == anchor);
  auto shown = run_plaint({"--db", restored, "--json", "show", id});
  REQUIRE(shown.code == 0);
  CHECK(shown.json()["state"] == "triage");
  CHECK(shown.json()["subject"] == "包裹丢失 parcel lost");
  auto found = run_plaint({"--db", restored, "list", "--search", "催促"});
  CHECK(found.out.find("包裹丢失") != std::string::npos);
  CHECK(trimmed(run_plaint({"--db", restored, "audit", "anchor"}).out) == anchor);
  // The text form names the sizes, the check and the anchor.
  auto text = d.plaint({"backup", d.dir.file("copy2.db")});
  CHECK(text.code == 0);
  CHECK(text.out.find("integrity ok; audit chain intact") != std::string::npos);
  CHECK(text.out.find("anchor 4:") != std::string::npos);
}

TEST_CASE("an anchor proves a later database holds exactly that history, and nothing else does") {
  cli_desk d;
  const std::string id = d.open();
  d.fire_ok(id, {"triage", "--set", "owner=bob"});
  const std::string anchor = trimmed(d.plaint({"audit", "anchor"}).out);
  auto j = d.plaint({"--json", "audit", "anchor"}).json();
  CHECK(j["seq"] == 2);
  CHECK(j["anchor"] == anchor);
  CHECK(j["at"] == "2026-11-23T08:00:00Z");

  // An anchor past the head, or with another hash, is refused: exit 1.
  const std::string other_hash = std::string(anchor.substr(0, 2)) + std::string(64, 'a');
  auto wrong = d.plaint({"audit", "verify", "--anchor", other_hash});
  CHECK(wrong.code == 1);
  CHECK(wrong.err.find("the history differs from the anchor: event 2 has hash") != std::string::npos);
  auto beyond = d.plaint({"audit", "verify", "--anchor", "9:" + anchor.substr(2)});
  CHECK(beyond.code == 1);
  CHECK(beyond.err == "plaint: the audit log does not reach the anchor: it has no event 9\n");
  // Malformed anchors are usage errors.
  const std::string bad_anchors[] = {"2", "x:ab", "2:" + std::string(63, 'a'), "2:" + std::string(64, 'A'),
                                     "-1:" + std::string(64, 'a'), "2:' OR 1=1 --",
                                     "9999999999999999999:" + std::string(64, 'a')};  // past int64
  for (const std::string& bad : bad_anchors) {
    auto r = d.plaint({"audit", "verify", "--anchor", bad});
    CAPTURE(bad);
    CHECK(r.code == 2);
    CHECK(r.err.find("an anchor is SEQ:HASH as printed by plaint audit anchor") != std::string::npos);
  }
  // A rewritten event (the database edited behind plaint's back) fails
  // verify outright, anchor or not.
  {
    raw_db raw(d.db);
    raw.exec("DROP TRIGGER IF EXISTS events_no_update");
    raw.exec("UPDATE events SET actor = 'mallory' WHERE seq = 1");
  }
  CHECK(d.plaint({"audit", "verify", "--anchor", anchor}).code == 1);

  // An empty desk's head is the genesis.
  cli_desk empty;
  CHECK(trimmed(empty.plaint({"audit", "anchor"}).out) == "0:" + std::string(64, '0'));
  CHECK(empty.plaint({"audit", "verify", "--anchor", "0:" + std::string(64, '0')}).code == 0);
  auto not_genesis = empty.plaint({"audit", "verify", "--anchor", "0:" + std::string(64, 'a')});
  CHECK(not_genesis.code == 1);
  CHECK(not_genesis.err.find("not the genesis hash") != std::string::npos);
}

TEST_CASE("backup and restore refuse with one sentence and write nothing") {
  cli_desk d;
  d.open();
  const std::string taken = d.dir.file("taken.db");
  { std::ofstream(taken) << "not a backup"; }
  auto onto = d.plaint({"backup", taken});
  CHECK(onto.code == 2);
  CHECK(onto.err == "plaint: " + taken + " exists; a copy is written to a new file only\n");
  CHECK(std::filesystem::file_size(taken) == 12);

  // Into a folder that is not there: refused, nothing left behind.
  const std::string nowhere = d.dir.file("no/such/folder/copy.db");
  auto lost = d.plaint({"backup", nowhere});
  CHECK(lost.code == 2);
  CHECK(lost.err.find("cannot be opened") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d.dir.file("no")));

  auto pg = d.plaint({"backup", "postgresql://u@127.0.0.1:1/x"});
  CHECK(pg.code == 2);
  CHECK(pg.err.find("back up PostgreSQL with pg_dump") != std::string::npos);

  // Restore onto a live database, from nothing, from garbage.
  auto live = d.plaint({"restore", d.dir.file("none.db")});
  CHECK(live.code == 2);
  CHECK(live.err.find("already holds a database; restore writes a new one only") != std::string::npos);
  const std::string fresh = d.dir.file("fresh.db");
  auto missing = run_plaint({"--db", fresh, "restore", d.dir.file("none.db")});
  CHECK(missing.code == 3);
  CHECK(missing.err == "plaint: there is no backup at " + d.dir.file("none.db") + "\n");
  auto garbage = run_plaint({"--db", fresh, "restore", taken});
  CHECK(garbage.code != 0);
  CHECK_FALSE(std::filesystem::exists(fresh));
  // A copy whose chain is broken is not restored.
  const std::string copy = d.dir.file("copy.db");
  REQUIRE(d.plaint({"backup", copy}).code == 0);
  {
    raw_db raw(copy);
    raw.exec("DROP TRIGGER IF EXISTS events_no_update");
    raw.exec("UPDATE events SET actor = 'mallory' WHERE seq = 1");
  }
  auto broken = run_plaint({"--db", fresh, "restore", copy});
  CHECK(broken.code == 1);
  CHECK(broken.err.find("the audit chain of " + copy + " is broken") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(fresh));
}

TEST_CASE("plaint.conf sets any option, globals at the top and each command's under its name, the command line wins") {
  cli_desk d;
  d.open("first");
  d.open("second");
  const std::string conf = d.dir.file("plaint.conf");
  {
    std::ofstream out(conf);
    out << "db = \"" << d.db << "\"\n[list]\nlimit = 1\n";
  }
  ::setenv("PLAINT_CONFIG", conf.c_str(), 1);
  auto listed = run_plaint({"--json", "list"});  // the database and the limit from the file
  auto wider = run_plaint({"--json", "list", "--limit", "5"});
  const std::string other = d.dir.file("other.db");
  auto elsewhere = run_plaint({"--db", other, "init"});
  {
    std::ofstream out(conf);
    out << "db = \"" << d.db << "\"\ncolour = \"red\"\n";
  }
  auto unknown = run_plaint({"list"});
  ::setenv("PLAINT_CONFIG", d.dir.file("none.conf").c_str(), 1);
  auto named_missing = run_plaint({"--db", d.db, "list"});
  ::unsetenv("PLAINT_CONFIG");
  CHECK(named_missing.code == 2);  // a file named by $PLAINT_CONFIG must exist
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  CHECK(listed.json().size() == 1);
  CHECK(wider.json().size() == 2);
  CHECK(elsewhere.code == 0);
  CHECK(elsewhere.out.find(other) != std::string::npos);
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("colour") != std::string::npos);
  // --config names a file; a missing one is an error.
  auto missing = run_plaint({"--config", d.dir.file("none.conf"), "--db", d.db, "list"});
  CHECK(missing.code == 2);
}
