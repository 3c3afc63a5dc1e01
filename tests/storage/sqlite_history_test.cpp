// Schema 5 in the SQLite store: pages of a ticket's history read from its
// chain, the customer log, and the upgrade that logs existing customers.
#include <doctest/doctest.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "storage/sqlite_schema.h"
#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;

namespace {

engine::event_record comment(engine::ticket_id ticket, std::int64_t version) {
  engine::event_record e;
  e.ticket = ticket;
  e.at = 1'700'000'200 + version;
  e.actor = "alice";
  e.event = version == 1 ? "open" : "comment";
  e.from_state = version == 1 ? "" : "intake";
  e.to_state = "intake";
  e.version = version;
  return e;
}

// "seq seq seq | next" of a page.
std::string shape(const engine::event_page& page) {
  std::string out;
  for (const auto& e : page.events) out += std::to_string(e.seq) + " ";
  return out + "| " + (page.next_cursor ? std::to_string(*page.next_cursor) : "-");
}

}  // namespace

TEST_CASE("ticket_history reads a page of the chain newest first, with a cursor to the older events") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  {
    // Ticket 1 gets seqs 1, 3, 5, 7, 9 and ticket 2 seqs 2, 4, 6, 8: interleaved.
    auto tx = begin(*f.store);
    for (std::int64_t v = 1; v <= 5; ++v) {
      require_ok(append_linked(*tx, comment(1, v)));
      if (v < 5) require_ok(append_linked(*tx, comment(2, v)));
    }
    require_ok(tx->commit());
  }
  auto page = [&](engine::ticket_id id, std::optional<std::int64_t> before, int limit) {
    auto p = f.store->ticket_history(id, before, limit);
    require_ok(p);
    return shape(*p);
  };
  CHECK(page(1, std::nullopt, 2) == "7 9 | 7");
  CHECK(page(1, 7, 2) == "3 5 | 3");
  CHECK(page(1, 3, 2) == "1 | -");
  CHECK(page(1, std::nullopt, 5) == "1 3 5 7 9 | -");
  CHECK(page(1, std::nullopt, 100) == "1 3 5 7 9 | -");
  CHECK(page(2, 8, 10) == "2 4 6 | -");
  CHECK(page(1, 1, 10) == "| -");
  CHECK(page(99, std::nullopt, 10) == "| -");
  CHECK(page(1, std::nullopt, 0) == "9 | 9");  // clamped to 1..1000

  auto foreign = f.store->ticket_history(1, 4, 10);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().code == engine::errc::invalid);
  CHECK(foreign.error().message == "cursor 4 is not an event of ticket 1");

  SUBCASE("a damaged link ends the walk on the ticket, never in another ticket's events") {
    raw_db raw(f.path);
    REQUIRE(raw.exec("DROP TRIGGER events_no_update; UPDATE events SET ticket_prev = 4 WHERE seq = 5") == "");
    CHECK(page(1, std::nullopt, 10) == "5 7 9 | -");
  }
}

TEST_CASE("append_customer_change chains the customer log and its triggers keep it append-only") {
  store_fixture f;
  add(*f.store, {sample_customer("a"), sample_customer("b")}, {});
  {
    auto tx = begin(*f.store);
    engine::customer_change c{0, "a", 1'700'000'500, "sue", {{"tier", {{"from", "standard"}, {"to", "gold"}}}}, {}, {}};
    auto appended = tx->append_customer_change(c);
    require_ok(appended);
    CHECK(appended->seq == 3);
    require_ok(tx->commit());
  }
  std::vector<engine::customer_change> all;
  require_ok(f.store->scan_customer_changes([&](const engine::customer_change& c) { return all.push_back(c), true; }));
  REQUIRE(all.size() == 3);
  CHECK(all[0].prev_hash == engine::genesis_hash);
  CHECK(all[1].prev_hash == all[0].hash);
  CHECK(all[2].prev_hash == all[1].hash);
  CHECK(all[2].hash == engine::customer_change_hash(all[1].hash, all[2]));
  auto history = f.store->customer_history("a", 10);
  require_ok(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].seq == 1);
  CHECK((*history)[1].actor == "sue");
  CHECK(f.store->customer_history("a", 1)->front().seq == 3);
  raw_db raw(f.path);
  CHECK(raw.exec("UPDATE customer_changes SET actor = 'x'") == "the customer log is append-only");
  CHECK(raw.exec("DELETE FROM customer_changes") == "the customer log is append-only");
  CHECK(raw.plan("SELECT seq FROM customer_changes WHERE customer = 'a' ORDER BY seq DESC LIMIT 5")
            .find("customer_changes_customer") != std::string::npos);
}

TEST_CASE("migrating a version 4 file logs each customer once, as found, and the file then verifies") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto gold = sample_customer("gold-co", "Gold Co");
  gold.tier = "gold";
  gold.email = "g@gold.example";
  gold.attributes = engine::json{{"region", "west"}};
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    add(*store, {sample_customer(), gold}, {});
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + undo_schema_12 + undo_schema_11 + undo_schema_10 + undo_schema_9 + undo_schema_7 + undo_schema_6 + undo_schema_5 + "PRAGMA user_version = 4;") == "");
  }
  auto store = open_store(path);
  CHECK(store->customer_history("acme", 10).error().message.find("is at schema 4") != std::string::npos);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'idempotency_created'") == 1);
  auto log = store->customer_history("gold-co", 10);
  require_ok(log);
  REQUIRE(log->size() == 1);
  CHECK(log->front().seq == 2);  // in id order: acme first
  CHECK(log->front().actor == "schema upgrade");
  CHECK(log->front().at == gold.updated_at);
  CHECK(log->front().changes == engine::customer_diff(nullptr, gold));
  auto report = engine::verify_audit(*store);
  require_ok(report);
  CHECK(report->message == "audit chain intact: 0 events over 0 tickets, 2 customer changes over 2 customers");
  require_ok(store->migrate());  // idempotent: no second log entry
  CHECK(raw.integer("SELECT count(*) FROM customer_changes") == 2);
}

