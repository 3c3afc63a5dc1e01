// What is the SQLite store's own, against real files: schema and
// migrations, the file and its locks, the triggers behind the audit chain,
// the query plans of the lists. What every back end must do is checked in
// conformance_test.cpp.
#include "storage/sqlite_store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include "engine/audit.h"
#include "storage/pairs.h"
#include "storage/sqlite_queries.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_search.h"
#include "storage/sqlite_statement.h"
#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;
using engine::errc;

namespace {

// Each search text finds exactly these tickets (ids, newest first).
void check_searches(engine::store& s, std::initializer_list<std::pair<const char*, const char*>> cases) {
  for (const auto& [text, ids] : cases) {
    engine::ticket_query q;
    q.search = text;
    INFO(std::string(text));
    CHECK(ids_of(*s.list_tickets(q)) == ids);
  }
}

engine::event_record event_of(engine::ticket_id ticket, std::string name, std::string from, std::string to,
                              std::int64_t version) {
  engine::event_record e;
  e.ticket = ticket;
  e.at = 1'700'000'200 + version;
  e.actor = "alice";
  e.event = std::move(name);
  e.from_state = std::move(from);
  e.to_state = std::move(to);
  e.version = version;
  e.payload = engine::json{{"note", "客户来电 about the kettle"}, {"n", version}};
  return e;
}

std::vector<engine::event_record> all_events(engine::store& s) {
  std::vector<engine::event_record> out;
  require_ok(s.scan_events(0, [&](const engine::event_record& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}

}  // namespace

TEST_CASE("migrate creates the schema, records its version and is idempotent") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto store = open_store(path);
  const std::string version = sqlite3_libversion();
  CHECK(store->describe() == fmt::format("sqlite {}, schema 0, {}", version, path));
  CHECK(store->path() == path);

  require_ok(store->migrate());
  CHECK(store->describe() == fmt::format("sqlite {}, schema {}, {}", version, storage::current_schema, path));
  require_ok(store->migrate());

  store.reset();
  store = open_store(path);
  require_ok(store->migrate());
  CHECK(store->describe() == fmt::format("sqlite {}, schema {}, {}", version, storage::current_schema, path));

  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('customers', 'tickets', 'events', "
                    "'timers', 'search_text', 'idempotency', 'settings', 'customer_changes')") == 8);
  // The full-text indexes are in the search file beside it, made for this desk.
  CHECK(raw.integer("SELECT count(*) FROM main.sqlite_schema WHERE name IN ('search', 'search_pair', 'search_mark')") == 0);
  CHECK(raw.integer("SELECT count(*) FROM s.sqlite_schema WHERE name IN ('search', 'search_pair', 'search_mark')") == 3);
  CHECK(raw.text("SELECT desk FROM s.search_mark") == raw.text("SELECT value FROM settings WHERE key = 'search_index'"));
  CHECK(raw.text("SELECT value FROM settings WHERE key = 'search_index'").size() == 32);
  // The audit log and the customer log refuse UPDATE and DELETE.
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'") == 4);
}

TEST_CASE("every call on an un-migrated database says it is not initialised") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto store = open_store(path);
  const std::string expected = fmt::format("database {} is not initialised; run plaint init", path);
  auto check_refused = [&](const engine::Error& e) {
    CHECK(e.code == errc::invalid);
    CHECK(e.message == expected);
  };
  auto tx = store->begin();
  REQUIRE_FALSE(tx.ok());
  check_refused(tx.error());
  check_refused(store->get_ticket(1).error());
  check_refused(store->get_customer("acme").error());
  check_refused(store->list_customers().error());
  check_refused(store->list_tickets({}).error());
  check_refused(store->ticket_events(1).error());
  check_refused(store->ticket_timers(1).error());
  check_refused(store->get_setting("policy").error());
  check_refused(store->scan_events(0, [](const engine::event_record&) { return true; }).error());
  raw_db raw(path);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema") == 0);
}

TEST_CASE("a store opened before another process migrated the file sees the schema") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto early = open_store(path);
  auto other = open_store(path);
  require_ok(other->migrate());
  CHECK(early->get_ticket(1).error().code == errc::not_found);
}

TEST_CASE("a store that was writing when another process moved the file to another schema stops writing") {
  store_fixture f;
  require_ok(begin(*f.store)->commit());
  raw_db raw(f.path);
  REQUIRE(raw.exec("PRAGMA user_version = " + std::to_string(storage::current_schema + 1)) == "");
  auto refused = f.store->begin();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::internal);
  CHECK(refused.error().message ==
        fmt::format("database {} was changed to schema {} while this process was using it at schema {}; "
                    "restart it with a plaint that matches the file",
                    f.path, storage::current_schema + 1, storage::current_schema));
  // The refusal left no transaction open.
  REQUIRE(raw.exec("PRAGMA user_version = " + std::to_string(storage::current_schema)) == "");
  require_ok(begin(*f.store)->commit());
}

TEST_CASE("a file that is not a SQLite database cannot be opened") {
  temp_dir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << std::string(4096, 'x');
  auto store = storage::sqlite_store::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == errc::internal);
  CHECK(store.error().message == fmt::format("cannot open database {}: file is not a database", path));
}

TEST_CASE("a database in a missing directory cannot be opened") {
  temp_dir dir;
  const std::string path = dir.file("missing/plaint.db");
  auto store = storage::sqlite_store::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == errc::internal);
  CHECK(store.error().message == fmt::format("cannot open database {}: unable to open database file", path));
}

TEST_CASE("migrate refuses a database that holds somebody else's tables") {
  temp_dir dir;
  const std::string path = dir.file("other.db");
  { auto store = open_store(path); }
  {
    raw_db raw(path);
    REQUIRE(raw.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)") == "");
  }
  auto store = open_store(path);
  auto s = store->migrate();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == errc::invalid);
  CHECK(s.error().message == fmt::format("database {} is not a plaint database; refusing to initialise it", path));
  raw_db raw(path);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema") == 1);
}

TEST_CASE("append_event chains seq, prev_hash and hash, within a transaction and across them") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  {
    auto tx = begin(*f.store);
    auto first = append_linked(*tx, event_of(1, "open", "", "intake", 1));
    require_ok(first);
    CHECK(first->seq == 1);
    CHECK(first->prev_hash == engine::genesis_hash);
    require_ok(tx->commit());
  }
  {
    auto tx = begin(*f.store);
    auto second = append_linked(*tx, event_of(2, "open", "", "intake", 1));
    auto third = append_linked(*tx, event_of(1, "triage", "intake", "triage", 2));
    require_ok(second);
    require_ok(third);
    CHECK(second->seq == 2);
    CHECK(third->seq == 3);
    CHECK(third->prev_hash == second->hash);
    require_ok(tx->commit());
  }
  const auto events = all_events(*f.store);
  REQUIRE(events.size() == 3);
  std::string prev = engine::genesis_hash;
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(events[i].prev_hash == prev);
    CHECK(events[i].hash == engine::audit_hash(prev, events[i]));
    prev = events[i].hash;
  }
  CHECK(events[0].from_state.empty());
  CHECK(events[0].payload == event_of(1, "open", "", "intake", 1).payload);

  auto history = f.store->ticket_events(1);
  require_ok(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].event == "open");
  CHECK((*history)[1].event == "triage");
  CHECK((*history)[1].from_state == "intake");
  // The ticket's own chain: ticket 1 is events 1 and 3, ticket 2 is event 2.
  CHECK((*history)[0].ticket_prev == 0);
  CHECK((*history)[1].ticket_prev == 1);
  CHECK(f.store->get_ticket(1)->last_event == 3);
  CHECK(f.store->get_ticket(2)->last_event == 2);
  REQUIRE(f.store->ticket_events(2)->size() == 1);
  CHECK(f.store->ticket_events(2)->front().seq == 2);
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM events WHERE from_state IS NULL") == 2);
}

TEST_CASE("a transaction destroyed without commit leaves nothing behind") {
  store_fixture f;
  {
    auto tx = begin(*f.store);
    require_ok(tx->put_customer(sample_customer()));
    auto id = tx->insert_ticket(sample_ticket());
    require_ok(id);
    require_ok(append_linked(*tx, event_of(*id, "open", "", "intake", 1)));
    require_ok(tx->schedule_timer(*id, "first_response", 1'700'001'000));
    require_ok(tx->index_text(*id, 0, "Kettle leaks"));
    require_ok(tx->put_setting("policy", "x"));
    require_ok(tx->put_idempotency({"key-1", "open", "fp", *id, 1'700'000'000, ""}));
    CHECK(f.store->get_ticket(*id).ok());  // the store reads inside its open transaction
  }
  CHECK(f.store->get_customer("acme").error().code == errc::not_found);
  CHECK(f.store->get_ticket(1).error().code == errc::not_found);
  CHECK(all_events(*f.store).empty());
  CHECK(f.store->get_setting("policy")->has_value() == false);
  raw_db raw(f.path);
  for (const char* table : {"customers", "tickets", "events", "timers", "search_text", "idempotency", "settings"})
    CHECK_MESSAGE(raw.integer(fmt::format("SELECT count(*) FROM {} WHERE {}", table,
                                          table == std::string("settings") ? "key <> 'search_index'" : "1")) == 0,
                  table);

  // The log starts again from seq 1 after the rollback.
  add(*f.store, {sample_customer()}, {sample_ticket()});
  auto tx = begin(*f.store);
  CHECK(append_linked(*tx, event_of(1, "open", "", "intake", 1))->seq == 1);
}

TEST_CASE("a transaction accepts no writes once committed") {
  store_fixture f;
  auto tx = begin(*f.store);
  require_ok(tx->put_customer(sample_customer()));
  require_ok(tx->commit());
  auto s = tx->put_setting("k", "v");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == errc::internal);
  CHECK(s.error().message == fmt::format("the transaction on database {} was already committed", f.path));
}

TEST_CASE("one store object holds one transaction at a time") {
  store_fixture f;
  auto first = begin(*f.store);
  auto second = f.store->begin();
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == errc::internal);
  CHECK(second.error().message ==
        fmt::format("a transaction is already open on database {}; finish it before beginning another", f.path));
  first.reset();
  CHECK(f.store->begin().ok());
}

TEST_CASE("a second writer on the same file gets unavailable once the busy timeout passes") {
  store_fixture f;
  auto other = open_store(f.path);
  other->set_busy_timeout(std::chrono::milliseconds(20));
  auto holding = begin(*f.store);
  auto blocked = other->begin();
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.error().code == errc::unavailable);
  CHECK(blocked.error().message ==
        fmt::format("the database {} is busy: another writer held it for more than 20 ms "
                    "(cannot begin a transaction: database is locked)",
                    f.path));
  // Readers are not blocked by the writer (WAL).
  CHECK(other->list_tickets({}).ok());
  holding.reset();
  CHECK(other->begin().ok());
}

TEST_CASE("committed data survives closing and reopening the file") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket()});
  {
    auto tx = begin(*f.store);
    require_ok(append_linked(*tx, event_of(1, "open", "", "intake", 1)));
    require_ok(tx->schedule_timer(1, "resolution", 1'700'100'000));
    require_ok(tx->put_setting("policy", "格式 = 1"));
    require_ok(tx->commit());
  }
  const std::string ticket_before = fields(*f.store->get_ticket(1));
  const std::string event_hash = all_events(*f.store).at(0).hash;
  f.reopen();
  CHECK(fields(*f.store->get_ticket(1)) == ticket_before);
  CHECK(all_events(*f.store).at(0).hash == event_hash);
  CHECK(f.store->ticket_timers(1)->size() == 1);
  CHECK(**f.store->get_setting("policy") == "格式 = 1");
  auto tx = begin(*f.store);
  CHECK(append_linked(*tx, event_of(1, "triage", "intake", "triage", 2))->prev_hash == event_hash);
}

TEST_CASE("the audit log refuses UPDATE and DELETE") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket()});
  auto tx = begin(*f.store);
  require_ok(append_linked(*tx, event_of(1, "open", "", "intake", 1)));
  require_ok(tx->commit());
  raw_db raw(f.path);
  CHECK(raw.exec("UPDATE events SET actor = 'mallory'") == "the audit log is append-only");
  CHECK(raw.exec("DELETE FROM events") == "the audit log is append-only");
  CHECK(raw.integer("SELECT count(*) FROM events WHERE actor = 'alice'") == 1);
}

TEST_CASE("the chain append_event writes passes verify_audit until a row is tampered with") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  {
    auto tx = begin(*f.store);
    require_ok(append_linked(*tx, event_of(1, "open", "", "intake", 1)));
    require_ok(append_linked(*tx, event_of(2, "open", "", "intake", 1)));
    require_ok(tx->commit());
  }
  auto ok = engine::verify_audit(*f.store);
  require_ok(ok);
  CHECK(ok->ok);
  CHECK(ok->message == "audit chain intact: 2 events over 2 tickets, 1 customer changes over 1 customers");

  raw_db raw(f.path);
  REQUIRE(raw.exec("DROP TRIGGER events_no_update") == "");
  REQUIRE(raw.exec("UPDATE events SET actor = 'mallory' WHERE seq = 2") == "");
  auto broken = engine::verify_audit(*f.store);
  require_ok(broken);
  CHECK_FALSE(broken->ok);
  CHECK(broken->broken_at_seq == 2);
}

TEST_CASE("verify_audit checks each ticket's chain of events, and a damaged link cannot derail the history") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  {
    auto tx = begin(*f.store);
    require_ok(append_linked(*tx, event_of(1, "open", "", "intake", 1)));
    require_ok(append_linked(*tx, event_of(2, "open", "", "intake", 1)));
    require_ok(append_linked(*tx, event_of(1, "triage", "intake", "triage", 2)));
    require_ok(append_linked(*tx, event_of(1, "comment", "triage", "triage", 3)));
    require_ok(tx->commit());
  }
  require_ok(engine::verify_audit(*f.store));
  CHECK(engine::verify_audit(*f.store)->ok);
  raw_db raw(f.path);
  REQUIRE(raw.exec("DROP TRIGGER events_no_update") == "");

  SUBCASE("an event linked to another ticket's event") {
    REQUIRE(raw.exec("UPDATE events SET ticket_prev = 2 WHERE seq = 3") == "");
    auto r = engine::verify_audit(*f.store);
    require_ok(r);
    CHECK_FALSE(r->ok);
    CHECK(r->broken_at_seq == 3);
    CHECK(r->message == "event 3 links to event 2 as ticket 1's previous one, but that is event 1");
    // The walk stays on the ticket: event 2 (ticket 2) is never shown as ticket 1's.
    auto history = f.store->ticket_events(1);
    require_ok(history);
    std::vector<std::int64_t> seqs;
    for (const auto& e : *history) seqs.push_back(e.seq);
    CHECK(seqs == std::vector<std::int64_t>{3, 4});
  }
  SUBCASE("a link that points forward, which would loop") {
    REQUIRE(raw.exec("UPDATE events SET ticket_prev = 4 WHERE seq = 3") == "");
    CHECK_FALSE(engine::verify_audit(*f.store)->ok);
    auto history = f.store->ticket_events(1);
    require_ok(history);
    CHECK(history->size() == 2);
  }
  SUBCASE("a ticket that names the wrong newest event") {
    REQUIRE(raw.exec("UPDATE tickets SET last_event = 3 WHERE id = 1") == "");
    auto r = engine::verify_audit(*f.store);
    require_ok(r);
    CHECK_FALSE(r->ok);
    CHECK(r->message == "ticket 1 names event 3 as its newest, but that is event 4");
  }
}

TEST_CASE("migrating a version 3 file links every ticket's history and drops the per-ticket index") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    add(*store, {sample_customer()}, {sample_ticket(), sample_ticket()});
    auto tx = begin(*store);
    require_ok(append_linked(*tx, event_of(1, "open", "", "intake", 1)));
    require_ok(append_linked(*tx, event_of(2, "open", "", "intake", 1)));
    require_ok(append_linked(*tx, event_of(1, "triage", "intake", "triage", 2)));
    require_ok(tx->commit());
    // Back to version 3: no links, the (ticket, seq) index.
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + undo_schema_12 + undo_schema_11 + undo_schema_10 + undo_schema_9 + undo_schema_7 + undo_schema_6 + undo_schema_5 + undo_schema_4 + "PRAGMA user_version = 3;") == "");
  }
  auto store = open_store(path);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'events_ticket'") == 0);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'events_no_update'") == 1);
  CHECK(raw.integer("SELECT v FROM search_config WHERE k = 'pgsz'") == 1000);
  CHECK(raw.exec("UPDATE events SET actor = 'mallory'") == "the audit log is append-only");
  CHECK(store->get_ticket(1)->last_event == 3);
  CHECK(store->get_ticket(2)->last_event == 2);
  auto history = store->ticket_events(1);
  require_ok(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].seq == 1);
  CHECK((*history)[1].ticket_prev == 1);
  auto report = engine::verify_audit(*store);
  require_ok(report);
  CHECK(report->ok);
}

namespace {

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

TEST_CASE("a list filtered by customer, owner, search, state or level is driven by that index, not a walk of every ticket") {
  store_fixture f;
  raw_db raw(f.path);
  const std::pair<storage::q::id, const char*> expected[] = {
      {storage::q::list_tickets_by_customer, "SEARCH tickets USING INDEX tickets_customer (customer=? AND rowid<?)"},
      {storage::q::list_tickets_by_owner, "SEARCH tickets USING INDEX tickets_owner (owner=? AND rowid<?)"},
      {storage::q::list_tickets_by_state, "SEARCH tickets USING INDEX tickets_state (state=? AND rowid<?)"},
      {storage::q::list_tickets_by_level, "SEARCH tickets USING INDEX tickets_level (level=? AND rowid<?)"},
      {storage::q::ticket_if_listed, "SEARCH tickets USING INTEGER PRIMARY KEY (rowid=?)"},
  };
  for (const auto& [query, steps] : expected) {
    const std::string plan = raw.plan(storage::query_sql[query]);
    INFO(plan);
    CHECK(plan.rfind(steps, 0) == 0);
  }
  // Unfiltered, newest first: the table itself, from the top, no sort.
  const std::string plan = raw.plan(storage::query_sql[storage::q::list_tickets]);
  INFO(plan);
  CHECK(plan.rfind("SEARCH tickets USING INTEGER PRIMARY KEY (rowid<?)", 0) == 0);
  CHECK(plan.find("TEMP B-TREE") == std::string::npos);
  // A search walks its index's matches newest first, with no sort and no
  // list of every match built first.
  for (auto query : {storage::q::search_rows_match, storage::q::search_rows_pair}) {
    const std::string rows = raw.plan(storage::query_sql[query]);
    INFO(rows);
    CHECK(rows.find("VIRTUAL TABLE INDEX") != std::string::npos);
    CHECK(rows.find("TEMP B-TREE") == std::string::npos);
  }
  // The texts waiting for the full-text indexes are read by rowid from the
  // mark on, never by a walk of every text.
  const std::string tail = raw.plan(storage::query_sql[storage::q::search_tail_texts]);
  INFO(tail);
  CHECK(tail.rfind("SEARCH search_text USING INTEGER PRIMARY KEY (rowid>?", 0) == 0);
}

TEST_CASE("a report reads its period's figures from the covering index alone (the earliest periods' spanning tickets "
          "from the table)") {
  store_fixture f;
  raw_db raw(f.path);
  const std::pair<storage::q::id, const char*> expected[] = {
      {storage::q::figures_active_open, "SEARCH tickets USING COVERING INDEX tickets_kpi_closed (closed_at=? AND"},
      {storage::q::figures_active_closed_in, "SEARCH tickets USING COVERING INDEX tickets_kpi_closed (closed_at>? AND"},
      {storage::q::figures_spanning_by_closed, "SEARCH tickets USING COVERING INDEX tickets_kpi_closed (closed_at>?)"},
      {storage::q::figures_spanning_by_created, "SEARCH tickets USING INDEX tickets_opened (created_at<?)"},
  };
  for (const auto& [query, steps] : expected) {
    const std::string plan = raw.plan(storage::query_sql[query]);
    INFO(plan);
    CHECK(plan.rfind(steps, 0) == 0);
  }
}

TEST_CASE("migrating a version 10 file gives the reports their covering index, and the figures do not change") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto figures = [](engine::store& s) {
    std::vector<std::string> out;
    require_ok(s.scan_period_figures(0, engine::max_instant, [&](const engine::ticket_figures& t) {
      out.push_back(fmt::format("{} {} {} {} {}", t.id, t.created_at, t.closed_at.value_or(-1), t.owner, t.category));
      return true;
    }));
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> before;
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    engine::ticket closed = sample_ticket();
    closed.state = "closed";
    closed.closed_at = closed.created_at + 60;
    add(*store, {sample_customer()}, {sample_ticket(), closed, sample_ticket()});
    before = figures(*store);
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + undo_schema_12 + undo_schema_11 + "PRAGMA user_version = 10;") == "");
  }
  auto store = open_store(path);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'tickets_closed'") == 0);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('tickets_kpi_closed', 'tickets_opened')") == 2);
  CHECK(before.size() == 3);
  CHECK(figures(*store) == before);
}

TEST_CASE("a list is driven by customer, then a search, then owner, then state, then level") {
  using storage::list_query_for;
  using storage::search_kind;
  namespace q = storage::q;
  CHECK(storage::search_kind_of("") == search_kind::none);
  CHECK(storage::search_kind_of("kettle") == search_kind::trigram);
  CHECK(storage::search_kind_of("退款了") == search_kind::trigram);
  CHECK(storage::search_kind_of("退款") == search_kind::pair);
  CHECK(storage::search_kind_of("款") == search_kind::pair);
  CHECK(storage::search_kind_of("ok") == search_kind::pair);
  CHECK(storage::search_kind_of("TV") == search_kind::pair);
  CHECK(storage::search_kind_of("退a") == search_kind::pair);
  CHECK(storage::search_kind_of("é1") == search_kind::pair);
  CHECK(storage::search_kind_of("a") == search_kind::pair);  // any one or two characters
  CHECK(storage::search_kind_of("a%") == search_kind::pair);
  CHECK(storage::search_kind_of("x ") == search_kind::pair);
  CHECK(storage::search_kind_of("，款") == search_kind::pair);
  engine::ticket_query all;
  all.customer = "c1";
  all.owner = "ann";
  all.state = "triage";
  all.level = 2;
  all.open_only = true;
  CHECK(list_query_for(all, search_kind::trigram) == q::list_tickets_by_customer);
  CHECK(list_query_for(all, search_kind::pair) == q::list_tickets_by_customer);
  all.customer.reset();
  CHECK(list_query_for(all, search_kind::trigram) == q::ticket_if_listed);  // matches newest first, each checked
  CHECK(list_query_for(all, search_kind::none) == q::list_tickets_by_owner);
  all.owner.reset();
  CHECK(list_query_for(all, search_kind::none) == q::list_tickets_by_state);
  all.state.reset();
  CHECK(list_query_for(all, search_kind::none) == q::list_tickets_by_level);
  all.level.reset();
  CHECK(list_query_for(all, search_kind::none) == q::list_tickets);  // open_only and breached_only on the way
}

TEST_CASE("the pair index holds every character and every pair of neighbouring characters, folded, each once") {
  using storage::pair_term;
  using storage::pair_terms;
  CHECK(pair_terms("OK 退款") == "q20 k o 款 退 q20退 kq20 ok 退款");  // characters, then pairs, by code point
  CHECK(pair_terms("包裹丢失") == "丢 包 失 裹 丢失 包裹 裹丢");
  CHECK(pair_terms("包") == "包");
  CHECK(pair_terms("") == "");
  CHECK(pair_terms("aaaa") == "a aa");  // each once
  CHECK(pair_terms("#9") == "q23 9 q239");
  CHECK(pair_terms("a\tB") == "q09 a b q09b aq09");  // ASCII other than letters and digits: q and two hex digits
  CHECK(pair_terms("x \"'%") == "q20 q22 q25 q27 x q20q22 q22q27 q27q25 xq20");
  CHECK(pair_terms("Éte Жук") == "q20 e t é ж к у q20ж eq20 te ét жу ук");
  CHECK(pair_terms("a×b") == "a b × a× ×b");
  CHECK(pair_terms("ΑΒ") == "α β αβ");  // Greek folded too
  CHECK(pair_terms("\xF0\xA0\x80\x80\xF0\xA0\x80\x81") ==
        "\xF0\xA0\x80\x80 \xF0\xA0\x80\x81 \xF0\xA0\x80\x80\xF0\xA0\x80\x81");  // extension B, four bytes each
  // A query's term is the text's own term for it.
  CHECK(pair_term("OK") == "ok");
  CHECK(pair_term("A") == "a");
  CHECK(pair_term("#9") == "q239");
  CHECK(pair_term("x ") == "xq20");
  CHECK(pair_term("，款") == "，款");
  CHECK(pair_term("Жу") == "жу");
  // No two one- or two-character texts share a term: "q" and two hex
  // digits never reads as letters or digits.
  const std::vector<std::string> chars{"q", "2", "0", "a", "f", "Q", " ", "#", "\x02", "é", "款", "\xF0\xA0\x80\x80"};
  std::map<std::string, std::string> seen;  // term -> folded text
  for (const auto& a : chars) {
    for (const std::string& text : {a, a + "q", a + "2", a + "0", a + "a", a + "f", a + " ", a + "#", a + "\x02",
                                    a + "é", a + "款"}) {
      const std::string term = pair_term(text), folded = storage::fold_case(text);
      auto [at, fresh] = seen.emplace(term, folded);
      INFO(text);
      CHECK((fresh || at->second == folded));
    }
  }
  CHECK(seen.size() == 11 * 11);  // Q is q folded
  // Case folded as the full-text indexes fold it, for the texts still waiting.
  CHECK(storage::fold_case("OK Kettle") == "ok kettle");
  CHECK(storage::fold_case("ÉTÉ ÀÞ ×") == "été àþ ×");
  CHECK(storage::fold_case("ĀĹŸŹ İ") == "āĺÿź İ");
  CHECK(storage::fold_case("ДОСТАВКА Ёж Ѣ Ӂ") == "доставка ёж ѣ ӂ");
  CHECK(storage::fold_case("ΑΒΓ Ά Έ Ό Ώ") == "αβγ ά έ ό ώ");
  CHECK(storage::fold_case("Ạ Ỳ") == "ạ ỳ");
  CHECK(storage::fold_case("包裹 ß") == "包裹 ß");
}

TEST_CASE("migrating a version 9 file lays the search rows out by ticket and indexes their Chinese words") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    engine::ticket cn = sample_ticket("acme", "包裹丢失");
    add(*store, {sample_customer()}, {sample_ticket(), cn, sample_ticket()});
    auto tx = begin(*store);
    require_ok(tx->index_text(1, 2, "要求退款"));
    require_ok(tx->index_text(3, 2, "a note"));
    require_ok(tx->index_text(1, 5, "second note"));
    require_ok(tx->commit());
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + undo_schema_12 + undo_schema_11 + undo_schema_10 + "PRAGMA user_version = 9;") == "");
    REQUIRE(raw.integer("SELECT count(*) FROM search WHERE ticket = 1") == 3);
  }
  auto store = open_store(path);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  // In the order written; a ticket's slots numbered from 0 (the opening text).
  CHECK(raw.text("SELECT group_concat((key >> 32) || ':' || (key & 4294967295), ' ') "
                 "FROM (SELECT key FROM search_text ORDER BY rowid)") == "1:0 2:0 3:0 1:1 3:1 1:2");
  const std::int64_t ticket_1 = std::int64_t{1} << storage::search_slot_bits;
  CHECK(raw.text("SELECT body FROM search_text WHERE key = " + std::to_string(ticket_1 + 2)) == "second note");
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"退款\"'") == 1);
  CHECK(raw.integer("SELECT rowid FROM search_pair WHERE search_pair MATCH '\"丢失\"'") == 2 * ticket_1);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'search_cjk'") == 0);
  CHECK(raw.integer("SELECT rowid FROM search WHERE search MATCH '\"second\"'") == ticket_1 + 2);
  CHECK(raw.integer("SELECT v FROM search_config WHERE k = 'pgsz'") == 1000);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'search_v9'") == 0);
  engine::ticket_query q;
  q.search = "退款";
  CHECK(ids_of(*store->list_tickets(q)) == "1");
  q.search = "note";
  CHECK(ids_of(*store->list_tickets(q)) == "3 1");
  store->set_search_batch(1);
  auto tx = begin(*store);  // a later event's note: its version is its slot
  require_ok(tx->index_text(1, 7, "third"));
  require_ok(tx->commit());
  CHECK(raw.integer("SELECT rowid FROM search WHERE search MATCH '\"third\"'") == ticket_1 + 7);
}

TEST_CASE("migrating a version 12 file indexes the pairs of every text, so two letters are found through an index") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    add(*store, {sample_customer()},
        {sample_ticket("acme", "Booked a visit"), sample_ticket("acme", "包裹丢失"), sample_ticket("acme", "TV dead")});
    auto tx = begin(*store);
    require_ok(tx->index_text(2, 2, "still not ok"));
    require_ok(tx->index_text(1, 3, "- ! -"));  // no letters
    require_ok(tx->commit());
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + "PRAGMA user_version = 12;") == "");
  }
  auto store = open_store(path);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'search_cjk'") == 0);
  CHECK(raw.integer("SELECT count(*) FROM search_text") == 5);
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"ok\"'") == 2);
  const std::string plan = raw.plan(storage::query_sql[storage::q::search_rows_pair]);
  INFO(plan);
  CHECK(plan.find("VIRTUAL TABLE INDEX") != std::string::npos);
  check_searches(*store, {{"ok", "2 1"}, {"OK", "2 1"}, {"tv", "3"}, {"包裹", "2"}, {"丢", "2"}, {"!", "1"},
                          {"visit", "1"}, {"still not", "2"}});
  store->set_search_batch(1);
  auto tx = begin(*store);  // new texts go into the pair index as they are taken in
  require_ok(tx->index_text(3, 4, "Zq"));
  require_ok(tx->commit());
  CHECK(raw.integer("SELECT rowid >> 32 FROM search_pair WHERE search_pair MATCH '\"zQ\"'") == 3);
}

TEST_CASE("migrating a version 13 file builds the search file with every character and pair of every text, once") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  {
    auto store = open_store(path);
    require_ok(store->migrate());
    store->set_search_batch(1);
    add(*store, {sample_customer()}, {sample_ticket("acme", "Lost #9 parcel"), sample_ticket("acme", "a, b")});
    store->set_search_batch(100);
    auto tx = begin(*store);
    require_ok(tx->index_text(2, 2, "waiting #9"));  // after the mark
    require_ok(tx->commit());
    raw_db raw(path);
    REQUIRE(raw.integer("SELECT indexed_to FROM search_mark") == 2);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_14 + "PRAGMA user_version = 13;") == "");
  }
  auto store = open_store(path);
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.text("SELECT sql FROM s.sqlite_schema WHERE name = 'search_pair'").find("'ascii'") != std::string::npos);
  // The search file was the desk's before the rollback to 13; as the
  // desk's id is new, it is emptied and every text taken in again, the
  // waiting one too.
  CHECK(raw.integer("SELECT indexed_to FROM s.search_mark") == 3);
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"q239\"'") == 2);
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"a\"'") == 3);
  CHECK(raw.integer("SELECT count(*) FROM search WHERE search MATCH '\"waiting\"'") == 1);
  check_searches(*store, {{"#9", "2 1"}, {"a", "2 1"}, {"A", "2 1"}, {",", "2"}, {", ", "2"}, {"b", "2"},
                          {" #", "2 1"}, {"ng", "2"}});
  store->set_search_batch(1);
  auto tx = begin(*store);  // the next take-in takes in only what came after
  require_ok(tx->index_text(1, 2, "x"));
  require_ok(tx->commit());
  CHECK(raw.integer("SELECT indexed_to FROM s.search_mark") == 4);
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"q239\"'") == 2);
  check_searches(*store, {{"#9", "2 1"}});
}

TEST_CASE("a text outside the search keys' range is refused with one sentence, and the index is written in key order") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  auto tx = begin(*f.store);
  for (auto [id, slot] : {std::pair<std::int64_t, std::int64_t>{1, storage::search_max_slot + 1}, {1, -1},
                          {storage::search_max_ticket + 1, 0}}) {
    auto refused = tx->index_text(id, slot, "text");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == errc::invalid);
    CHECK(refused.error().message.find("the search index holds ticket ids up to") != std::string::npos);
  }
  // Out of order within one transaction (a batch of events on several
  // tickets), yet one segment: FTS5 gets the rows sorted at commit.
  require_ok(tx->index_text(2, 3, "note on two 退款"));
  require_ok(tx->index_text(1, 3, "note on one"));
  require_ok(tx->index_text(2, storage::search_max_slot, "last slot of two"));
  require_ok(tx->commit());
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM search_text") == 5);
  for (const char* text : {"note on", "退款", "last slot"}) {
    engine::ticket_query q;
    q.search = text;
    INFO(text);
    CHECK(ids_of(*f.store->list_tickets(q)) == (std::string_view(text) == "note on" ? "2 1" : "2"));
  }
}

TEST_CASE("a transaction with more texts than a chunk: every one findable, one chunk taken in at its commit, the rest by "
          "migrate") {
  store_fixture f;
  std::vector<engine::ticket> tickets(50, sample_ticket());
  add(*f.store, {sample_customer()}, tickets);
  auto tx = begin(*f.store);
  auto found_now = [&](int n) {  // the store reads inside its open transaction
    engine::ticket_query q;
    q.search = fmt::format("chunk note {:05}", n);
    return !f.store->list_tickets(q)->tickets.empty();
  };
  auto note = [&](int n) {  // out of key order: ticket 50, 49, … 1, then the next slot
    require_ok(tx->index_text(50 - (n - 1) % 50, 1 + (n - 1) / 50, fmt::format("chunk note {:05}", n)));
  };
  for (int n = 1; n <= 10'000; ++n) note(n);
  CHECK(found_now(1));  // waiting for the index, found in the texts
  CHECK(found_now(4096));
  CHECK(found_now(10'000));
  require_ok(tx->commit());
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM search_text") == 10'050);
  // The commit took one chunk in (more than a search batch waited).
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == storage::search_file::chunk);
  for (int n : {1, 10'000}) CHECK(found_now(n));
  require_ok(f.store->migrate());  // plaint init (and import) take in the rest
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == raw.integer("SELECT max(rowid) FROM search_text"));
  CHECK(raw.integer("SELECT count(*) FROM search WHERE search MATCH '\"chunk note\"'") == 10'000);
  for (int n : {1, 4096, 4097, 8192, 9999, 10'000}) {
    engine::ticket_query q;
    q.search = fmt::format("chunk note {:05}", n);
    INFO(n);
    CHECK(ids_of(*f.store->list_tickets(q)) == std::to_string(50 - (n - 1) % 50));
  }
  engine::ticket_query all;
  all.search = "chunk note";
  all.limit = 1000;
  CHECK(f.store->list_tickets(all)->tickets.size() == 50);
}

TEST_CASE("texts wait for a batch of the search index, are found meanwhile, and are taken in by the commit that "
          "makes one, from every process") {
  store_fixture f;
  f.store->set_search_batch(4);
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "Oven door")});
  raw_db raw(f.path);
  const std::int64_t texts_at_start = raw.integer("SELECT count(*) FROM search_text");
  REQUIRE(texts_at_start == 2);  // the two opening texts wait
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == 0);
  auto note = [&](engine::store& s, std::int64_t ticket, std::int64_t slot, const char* text) {
    auto tx = begin(s);
    require_ok(tx->index_text(ticket, slot, text));
    require_ok(tx->commit());
  };
  auto search = [&](std::string text, std::optional<std::int64_t> cursor = std::nullopt, int limit = 50) {
    engine::ticket_query q;
    q.search = std::move(text);
    q.cursor = cursor;
    q.limit = limit;
    return ids_of(*f.store->list_tickets(q));
  };
  note(*f.store, 1, 2, "rust on the lid");
  CHECK(raw.integer("SELECT count(*) FROM search WHERE search MATCH 'rust'") == 0);  // waiting
  CHECK(search("RUST") == "1");
  CHECK(search("ru") == "1");
  CHECK(search("oven door") == "2");
  // Another process's text waits in the same tail, and its commit makes the batch.
  auto other = open_store(f.path);
  other->set_search_batch(4);
  note(*other, 2, 2, "rust on the hinge 包裹");
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == 4);
  CHECK(raw.integer("SELECT count(*) FROM search WHERE search MATCH 'rust'") == 2);
  CHECK(raw.integer("SELECT count(*) FROM search_pair WHERE search_pair MATCH '\"包裹\"'") == 1);
  // Indexed and waiting texts of one ticket count it once; pages stay in id order.
  note(*f.store, 1, 3, "more rust");
  note(*f.store, 2, 3, "rust again");
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == 4);
  CHECK(search("rust") == "2 1");
  CHECK(search("rust", std::nullopt, 1) == "2");
  CHECK(search("rust", 2, 1) == "1");
  CHECK(search("again") == "2");
  CHECK(search("包裹") == "2");
  engine::ticket_query by_customer;  // driven by the customer's tickets, the waiting texts merged in
  by_customer.customer = "acme";
  by_customer.search = "again";
  CHECK(ids_of(*f.store->list_tickets(by_customer)) == "2");
  by_customer.search = "rust";
  by_customer.limit = 1;
  auto page = f.store->list_tickets(by_customer);
  CHECK(ids_of(*page) == "2");
  by_customer.cursor = page->next_cursor;
  CHECK(ids_of(*f.store->list_tickets(by_customer)) == "1");
  // A rolled-back text is neither found nor counted toward a batch.
  {
    auto tx = begin(*f.store);
    require_ok(tx->index_text(1, 4, "phantom"));
  }
  CHECK(search("phantom").empty());
  note(*f.store, 1, 5, "fourth");
  note(*f.store, 2, 4, "fifth");
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == 8);
  CHECK(search("rust") == "2 1");
  CHECK(search("phantom").empty());
  // Waiting texts are found in any case, as the indexes find them.
  note(*f.store, 2, 9, "Доставка задержана, été");
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == 8);
  CHECK(search("ДОСТАВКА") == "2");
  CHECK(search("ÉTÉ") == "2");
  CHECK(search("ДО") == "2");
  CHECK(search("ete").empty());  // accents are kept
}

TEST_CASE("search text with SQL or FTS syntax is matched literally and harms nothing") {
  std::int64_t batch = 0;
  SUBCASE("texts in the full-text indexes") { batch = 1; }
  SUBCASE("texts waiting for them") { batch = storage::sqlite_store::default_search_batch; }
  store_fixture f;
  f.store->set_search_batch(batch);
  const std::vector<std::string> subjects = {
      "Price is 100% wrong", "under_score name", "He said \"hello\" twice", "plain text here",
      "press the * key",     "back\\slash path", "NEAR(x y) is fts syntax"};
  std::vector<engine::ticket> tickets;
  for (const auto& s : subjects) {
    engine::ticket t = sample_ticket("acme", s);
    t.description = "";
    tickets.push_back(t);
  }
  add(*f.store, {sample_customer()}, tickets);

  for (const std::string needle :
       {"'; DROP TABLE tickets; --", "\"", "\"\"", "%", "_", "*", "OR", "NEAR(", "\\", "%_", "a OR b",
        "\"hello\"", "hello\" OR \"x", "' OR '1'='1", "*)", "-- ", "^", ":", "x y)", "100%"}) {
    CAPTURE(needle);
    std::string expected;
    for (std::size_t i = subjects.size(); i-- > 0;)
      if (ascii_lower(subjects[i] + "\n").find(ascii_lower(needle)) != std::string::npos)
        expected += (expected.empty() ? "" : " ") + std::to_string(i + 1);
    engine::ticket_query q;
    q.search = needle;
    auto page = f.store->list_tickets(q);
    REQUIRE_MESSAGE(page.ok(), (page.ok() ? "" : page.error().message));
    CHECK(ids_of(*page) == expected);
    CHECK(page->tickets.size() < subjects.size());
  }
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM tickets") == 7);
  CHECK(raw.integer("SELECT count(*) FROM search_text") == 7);
  CHECK(raw.integer("SELECT indexed_to FROM search_mark") == (batch == 1 ? 7 : 0));
}


// ---- the search file (schema 15, storage/sqlite_search.h) -----------------

namespace {

void write_text(storage::sqlite_store& s, engine::ticket_id id, std::int64_t slot, const std::string& text) {
  auto tx = begin(s);
  require_ok(tx->index_text(id, slot, text));
  require_ok(tx->commit());
}

std::int64_t indexed_to(const std::string& desk) {
  raw_db raw(desk);
  return raw.integer("SELECT indexed_to FROM s.search_mark");
}

void copy_file(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("the desk's commits never wait for the search file, and a text waiting for it is found meanwhile") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "Toaster")});
  f.store->set_search_batch(1);
  write_text(*f.store, 1, 1, "first note");
  const std::int64_t before = indexed_to(f.path);
  REQUIRE(before == 3);
  {
    // Another indexer holds the search file's write lock.
    raw_db search(f.path + "-search");
    REQUIRE(search.exec("BEGIN IMMEDIATE") == "");
    const auto started = std::chrono::steady_clock::now();
    write_text(*f.store, 2, 1, "parcel arrived 包裹");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
    check_searches(*f.store, {{"arrived", "2"}, {"包裹", "2"}, {"裹", "2"}, {"note", "1"}, {"kettle", "1"}});
    REQUIRE(search.exec("COMMIT") == "");
  }
  CHECK(indexed_to(f.path) == before);  // it waits
  write_text(*f.store, 1, 2, "second note");
  CHECK(indexed_to(f.path) == before + 2);  // both taken in by the next commit
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM s.search WHERE search MATCH '\"arrived\"'") == 1);
  CHECK(raw.integer("SELECT count(*) FROM s.search_pair WHERE search_pair MATCH '\"包裹\"'") == 1);
  check_searches(*f.store, {{"arrived", "2"}, {"note", "1"}, {"包裹", "2"}});
}

TEST_CASE("a search file that is another desk's, or reaches past the desk's texts, is emptied and built again") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "Toaster")});
  f.store->set_search_batch(1);
  write_text(*f.store, 1, 1, "older note");
  REQUIRE(indexed_to(f.path) == 3);
  temp_dir other_dir;
  const std::string older = other_dir.file("older.db"), other = other_dir.file("other.db");
  f.store.reset();
  copy_file(f.path, older);  // this desk as it was, without its search file
  f.reopen();
  f.store->set_search_batch(1);
  write_text(*f.store, 2, 1, "newer note");
  REQUIRE(indexed_to(f.path) == 4);

  SUBCASE("another desk's") {
    {
      auto o = open_store(other);
      require_ok(o->migrate());
      add(*o, {sample_customer()}, {sample_ticket("acme", "Bicycle bell")});
    }
    f.store.reset();
    copy_file(other + "-search", f.path + "-search");
    f.reopen();  // the open finds it stale and empties it
    CHECK(indexed_to(f.path) == 0);
    check_searches(*f.store, {{"bicycle", ""}, {"note", "2 1"}, {"toaster", "2"}});
    require_ok(f.store->migrate());  // plaint init takes every text in again
    CHECK(indexed_to(f.path) == 4);
    check_searches(*f.store, {{"bicycle", ""}, {"note", "2 1"}, {"kettle", "1"}});
  }
  SUBCASE("a copy of the desk that went its own way, with this one's search file beside it") {
    {
      auto o = open_store(older);
      o->set_search_batch(0);
      write_text(*o, 2, 1, "diverged note");  // the rowid "newer note" has here, the same id and length
    }
    f.store.reset();
    copy_file(f.path + "-search", older + "-search");
    auto o = open_store(older);
    CHECK(indexed_to(older) == 0);
    check_searches(*o, {{"newer", ""}, {"diverged", "2"}, {"note", "2 1"}});
  }
  SUBCASE("an older copy of the desk put in its place") {
    f.store.reset();
    copy_file(older, f.path);
    f.reopen();
    CHECK(indexed_to(f.path) == 0);
    check_searches(*f.store, {{"newer", ""}, {"note", "1"}});
    f.store->set_search_batch(1);
    write_text(*f.store, 2, 1, "another note");  // takes the rowid the newer note had
    CHECK(indexed_to(f.path) == 4);
    check_searches(*f.store, {{"newer", ""}, {"another", "2"}, {"note", "2 1"}});
  }
}

TEST_CASE("a search file that is not plaint's is refused with one sentence") {
  store_fixture f;
  f.store.reset();
  for (const char* suffix : {"-search", "-search-wal", "-search-shm"}) std::filesystem::remove(f.path + suffix);
  sqlite3* foreign = nullptr;
  REQUIRE(sqlite3_open((f.path + "-search").c_str(), &foreign) == SQLITE_OK);
  REQUIRE(sqlite3_exec(foreign, "CREATE TABLE mine (a); PRAGMA application_id = 7;", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  sqlite3_close(foreign);
  auto opened = storage::sqlite_store::open(f.path);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == errc::invalid);
  CHECK(opened.error().message == f.path + "-search is not a plaint search index; move it away, and plaint builds "
                                             "the desk's index there again");
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM s.mine") == 0);  // untouched
}

TEST_CASE("a desk without its search file reads every text, creates nothing until a commit takes texts in") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "Toaster 烤面包机")});
  f.store.reset();
  for (const char* suffix : {"-search", "-search-wal", "-search-shm"}) std::filesystem::remove(f.path + suffix);
  f.reopen();
  check_searches(*f.store, {{"kettle", "1"}, {"烤面", "2"}, {"t", "2 1"}, {"zz", ""}});
  CHECK_FALSE(std::filesystem::exists(f.path + "-search"));
  f.store->set_search_batch(1);
  write_text(*f.store, 1, 1, "a note");
  REQUIRE(std::filesystem::exists(f.path + "-search"));
  CHECK(indexed_to(f.path) == 3);
  check_searches(*f.store, {{"kettle", "1"}, {"烤面", "2"}, {"note", "1"}});
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM s.search WHERE search MATCH '\"kettle\"'") == 1);
}

TEST_CASE("a background indexer takes in the texts of commits that leave them waiting") {
  store_fixture f;
  f.store->set_search_batch(0);  // as in plaint serve
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks")});
  for (int i = 1; i <= 50; ++i) write_text(*f.store, 1, i, "note " + std::to_string(i));
  CHECK(indexed_to(f.path) == 0);
  check_searches(*f.store, {{"note 37", "1"}, {"kettle", "1"}});
  std::vector<std::string> errors;
  {
    auto file = storage::search_file::open(f.path, 5000);
    require_ok(file);
    storage::background_indexer indexer(std::move(*file), [&](const engine::Error& e) { errors.push_back(e.message); },
                                        std::chrono::milliseconds(10));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (indexed_to(f.path) < 51 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(indexed_to(f.path) == 51);
    write_text(*f.store, 1, 51, "last note");  // taken in when the indexer stops, if not before
  }
  CHECK(errors.empty());
  CHECK(indexed_to(f.path) == 52);
  raw_db raw(f.path);
  CHECK(raw.integer("SELECT count(*) FROM s.search WHERE search MATCH '\"note\"'") == 51);
  check_searches(*f.store, {{"note 37", "1"}, {"last", "1"}});
}

TEST_CASE("the desk's file names are SQLite URIs, so any path names itself") {
  temp_dir dir;
  for (const char* name : {"odd ?name#1%20.db", "mode=ro&x.db", "数据.db"}) {
    const std::string path = dir.file(name);
    INFO(path);
    {
      auto store = open_store(path);
      require_ok(store->migrate());
      store->set_search_batch(1);
      add(*store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks")});
      check_searches(*store, {{"kettle", "1"}});
    }
    CHECK(std::filesystem::exists(path));
    CHECK(std::filesystem::exists(path + "-search"));
    CHECK(indexed_to(path) == 1);
  }
  CHECK(storage::file_uri("/a b/c?d#e%f") == "file:%2Fa%20b%2Fc%3Fd%23e%25f");
  CHECK(storage::file_uri("x.db", "mode=ro") == "file:x.db?mode=ro");
}

TEST_CASE("a commit that finds more than the backlog waiting for the indexer takes in twice what it wrote") {
  store_fixture f;
  f.store->set_search_batch(0);  // as in plaint serve, here with no indexer running
  f.store->set_search_backlog(5);  // looked at after every text (a quarter rounds to 1)
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks")});
  for (int i = 1; i <= 4; ++i) write_text(*f.store, 1, i, "note " + std::to_string(i));
  CHECK(indexed_to(f.path) == 0);  // 5 wait: not more than the backlog
  write_text(*f.store, 1, 5, "note 5");
  CHECK(indexed_to(f.path) == 2);  // 6 did: twice the commit's one text taken in before it returned
  write_text(*f.store, 1, 6, "note 6");
  CHECK(indexed_to(f.path) == 2);  // 5 wait again
  write_text(*f.store, 1, 7, "note 7");
  CHECK(indexed_to(f.path) == 4);
  check_searches(*f.store, {{"note 7", "1"}, {"note 2", "1"}, {"kettle", "1"}});
}

TEST_CASE("under a flood of one-text commits the backlog stays bounded: a look takes in twice what was written "
          "since the last one") {
  store_fixture f;
  f.store->set_search_batch(0);
  f.store->set_search_backlog(40);  // looked at once per 10 texts
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks")});
  std::int64_t most = 0;
  for (int i = 1; i <= 400; ++i) {
    write_text(*f.store, 1, i, "note " + std::to_string(i));
    most = std::max(most, (i + 1) - indexed_to(f.path));  // texts waiting after this commit
  }
  CHECK(indexed_to(f.path) > 0);
  CHECK(most <= 40 + 10);  // the backlog and one look's worth (it grew without bound before)
  check_searches(*f.store, {{"note 400", "1"}, {"note 1", "1"}});
}

TEST_CASE("a damaged search file is set aside and made again: the desk stays usable, every text found") {
  for (const std::string& damage : {std::string(8192, 'x'), std::string("SQLite format 3") + '\0' + std::string(4000, '\0')}) {
    store_fixture f;
    add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "包裹丢了")});
    require_ok(f.store->migrate());
    f.store.reset();
    std::ofstream(f.path + "-search", std::ios::binary | std::ios::trunc) << damage;
    auto store = storage::sqlite_store::open(f.path);
    require_ok(store);
    check_searches(**store, {{"kettle", "1"}, {"包裹", "2"}});
    CHECK(std::filesystem::exists(f.path + "-search.damaged"));
    require_ok((*store)->migrate());
    CHECK(indexed_to(f.path) == 2);
  }
}

TEST_CASE("a search file of another build's version is made again and every text taken in afresh") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket("acme", "Kettle leaks"), sample_ticket("acme", "Toaster")});
  require_ok(f.store->migrate());
  REQUIRE(indexed_to(f.path) == 2);
  f.store.reset();
  {
    sqlite3* search = nullptr;
    REQUIRE(sqlite3_open((f.path + "-search").c_str(), &search) == SQLITE_OK);
    REQUIRE(sqlite3_exec(search, "DROP TABLE search_mark; PRAGMA user_version = 1;", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(search);
  }
  f.reopen();  // made again, empty
  CHECK(indexed_to(f.path) == 0);
  check_searches(*f.store, {{"kettle", "1"}, {"toaster", "2"}});
  require_ok(f.store->migrate());
  CHECK(indexed_to(f.path) == 2);
  raw_db raw(f.path);
  CHECK(raw.integer("PRAGMA s.user_version") == 2);
  CHECK(raw.integer("SELECT count(*) FROM s.search WHERE search MATCH 'kettle'") == 1);
}
