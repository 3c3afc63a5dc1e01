#include <doctest/doctest.h>

#include "engine/audit.h"
#include "tests/engine/desk_fixture.h"
#include "tests/raw_db.h"

using plaint::testing::desk;
using plaint::testing::raw_db;
using namespace plaint;

namespace {

// Edits the database file behind the engine's back, as an attacker with
// file access would (the append-only triggers dropped first).
void tamper(const std::string& path, const char* sql) {
  raw_db db(path);
  const std::string script = std::string("PRAGMA foreign_keys=OFF;") +
                             "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;" + sql;
  REQUIRE(db.exec(script) == "");
}

engine::audit_report verify(desk& d) {
  d.reopen();
  auto r = engine::verify_audit(*d.store);
  REQUIRE(r.ok());
  return *r;
}

void seed(desk& d) {
  d.add_customer("c1");
  for (int i = 0; i < 3; ++i) {
    const auto id = d.open();
    REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
    REQUIRE(d.fire(id, "comment", {}, "called the customer").ok());
  }
}

}  // namespace

TEST_CASE("SHA-256 matches the standard test vector") {
  CHECK(engine::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the canonical form of an event is stable and sorted") {
  engine::event_record e;
  e.seq = 1;
  e.ticket = 2;
  e.at = 0;
  e.actor = "ann";
  e.event = "open";
  e.to_state = "intake";
  e.version = 1;
  e.payload = {{"z", 1}, {"a", "退款"}};
  CHECK(engine::canonical_event(e) ==
        R"({"actor":"ann","at":"1970-01-01T00:00:00Z","event":"open","from":null,"payload":{"a":"退款","z":1},"seq":1,"ticket":2,"to":"intake","version":1})");
}

TEST_CASE("the canonical form writes every string exactly as nlohmann's dump does") {
  // Plain ASCII is written directly; the hashes of stored chains depend on
  // both paths giving the same bytes.
  for (std::string s : {std::string("ann"), std::string("a\"b"), std::string("back\\slash"), std::string("tab\there"),
                        std::string("nl\n"), std::string("\x01\x1f"), std::string("del\x7f"), std::string("退款 refund"),
                        std::string("bad \xff utf-8"), std::string(""), std::string(" ~!@#$%^&*()")}) {
    engine::event_record e;
    e.seq = 3;
    e.ticket = 4;
    e.at = 1795420800;
    e.actor = s;
    e.event = s;
    e.from_state = s;
    e.to_state = s;
    e.version = 2;
    e.payload = engine::json::object();
    const engine::json expected{{"actor", s}, {"at", "2026-11-23T08:00:00Z"}, {"event", s},
                                {"from", s.empty() ? engine::json(nullptr) : engine::json(s)},
                                {"payload", engine::json::object()}, {"seq", 3}, {"ticket", 4}, {"to", s}, {"version", 2}};
    CHECK_MESSAGE(engine::canonical_event(e) == expected.dump(-1, ' ', false, engine::json::error_handler_t::replace), s);
  }
}

TEST_CASE("an intact log verifies") {
  desk d;
  seed(d);
  const auto r = verify(d);
  CHECK(r.ok);
  CHECK(r.events == 9);
  CHECK(r.tickets == 3);
}

TEST_CASE("an altered event is detected") {
  desk d;
  seed(d);
  tamper(d.path, "UPDATE events SET actor = 'mallory' WHERE seq = 5;");
  const auto r = verify(d);
  CHECK_FALSE(r.ok);
  CHECK(r.broken_at_seq == 5);
  CHECK(r.message == "event 5 was altered: its content no longer matches its hash");
}

TEST_CASE("an altered payload is detected") {
  desk d;
  seed(d);
  tamper(d.path, "UPDATE events SET payload = '{\"note\":\"nothing happened\"}' WHERE seq = 3;");
  CHECK(verify(d).broken_at_seq == 3);
}

TEST_CASE("a removed event is detected") {
  desk d;
  seed(d);
  tamper(d.path, "DELETE FROM events WHERE seq = 4;");
  const auto r = verify(d);
  CHECK_FALSE(r.ok);
  CHECK(r.message == "the audit log jumps from event 3 to event 5, so events were removed or reordered");
}

TEST_CASE("removing the newest events is detected through the ticket versions") {
  desk d;
  seed(d);
  tamper(d.path, "DELETE FROM events WHERE seq = 9;");
  const auto r = verify(d);
  CHECK_FALSE(r.ok);
  CHECK(r.message == "ticket 3 is at version 3 but the audit log holds 2 of its events");
}

TEST_CASE("reordered events are detected") {
  desk d;
  seed(d);
  tamper(d.path,
         "UPDATE events SET seq = 100 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3;"
         "UPDATE events SET seq = 3 WHERE seq = 100;");
  const auto r = verify(d);
  CHECK_FALSE(r.ok);
  CHECK(r.broken_at_seq == 2);
}

TEST_CASE("a rewritten hash that no longer links is detected") {
  desk d;
  seed(d);
  tamper(d.path, "UPDATE events SET hash = 'deadbeef' WHERE seq = 6;");
  const auto r = verify(d);
  CHECK_FALSE(r.ok);
  CHECK(r.broken_at_seq == 6);
}

TEST_CASE("the audit log refuses updates and deletes through SQL") {
  desk d;
  seed(d);
  {
    raw_db db(d.path);
    CHECK(db.exec("UPDATE events SET actor = 'x' WHERE seq = 1") == "the audit log is append-only");
    CHECK(db.exec("DELETE FROM events WHERE seq = 1") == "the audit log is append-only");
  }
  CHECK(verify(d).ok);
}
