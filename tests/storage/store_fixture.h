// Helpers for the store tests: a migrated store of each back end (the
// conformance suite), a migrated SQLite store in a fresh temp directory,
// sample rows, and a raw sqlite3 connection to look behind the store's back
// (as an attacker or a second process would).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "engine/customers.h"
#include "engine/model.h"
#include "engine/transfer.h"
#include "engine/store.h"
#include "storage/pg_store.h"
#include "storage/sqlite_store.h"
#include "tests/pg_fixture.h"
#include "tests/raw_db.h"
#include "tests/temp_dir.h"

namespace plaint::testing {

inline std::unique_ptr<storage::sqlite_store> open_store(const std::string& path) {
  auto s = storage::sqlite_store::open(path);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(*s);
}

inline std::unique_ptr<engine::store_transaction> begin(engine::store& s) {
  auto tx = s.begin();
  REQUIRE_MESSAGE(tx.ok(), (tx.ok() ? "" : tx.error().message));
  return std::move(*tx);
}

// Fails the test with the error's message when `r` is not ok.
template <class R>
void require_ok(const R& r) {
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
}

// A migrated store on a fresh file.
struct store_fixture {
  temp_dir dir;
  std::string path = dir.file("plaint.db");
  std::unique_ptr<storage::sqlite_store> store = open_store(path);

  store_fixture() { require_ok(store->migrate()); }

  void reopen() {
    store.reset();
    store = open_store(path);
  }
};

// A migrated, empty database of one back end and a store on it: what the
// conformance suite (conformance_test.cpp) runs each test against.
struct backend_store {
  std::string backend;  // "sqlite", "postgresql"
  std::unique_ptr<engine::store> store;
  virtual ~backend_store() = default;
  // Another store object (connection) on the same database.
  virtual std::unique_ptr<engine::store> open_again() = 0;
  // Closes the store and opens the database again, as a new process would.
  void reopen() {
    store.reset();
    store = open_again();
  }
};

struct sqlite_backend final : backend_store {
  temp_dir dir;
  std::string path = dir.file("plaint.db");
  sqlite_backend() {
    backend = "sqlite";
    store = open_store(path);
    require_ok(store->migrate());
  }
  std::unique_ptr<engine::store> open_again() override { return open_store(path); }
};

inline std::unique_ptr<engine::store> open_pg_store(const std::string& url) {
  auto s = storage::pg_store::open(url);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(*s);
}

struct pg_backend final : backend_store {
  pg_database db;
  pg_backend() {
    backend = "postgresql";
    store = open_pg_store(db.url);
    require_ok(store->migrate());
  }
  ~pg_backend() override { store.reset(); }
  std::unique_ptr<engine::store> open_again() override { return open_pg_store(db.url); }
};

// SQLite's search index takes texts in by batches (sqlite_store::
// set_search_batch), so a test's few texts are all found while waiting;
// `also_one` runs SQLite a second time with every text taken in at once.
enum class search_batches { usual, also_one };

// Runs `test` once per back end, each in a subcase of its name on a fresh
// database.
template <class Test>
void for_each_backend(Test&& test, search_batches batches = search_batches::usual) {
  SUBCASE("sqlite") {
    sqlite_backend b;
    test(static_cast<backend_store&>(b));
  }
  if (batches == search_batches::also_one) {
    SUBCASE("sqlite, each text indexed by its own commit") {
      sqlite_backend b;
      static_cast<storage::sqlite_store&>(*b.store).set_search_batch(1);
      test(static_cast<backend_store&>(b));
    }
  }
  SUBCASE("postgresql") {
    pg_backend b;
    test(static_cast<backend_store&>(b));
  }
}

inline engine::customer sample_customer(std::string id = "acme", std::string name = "Acme Ltd") {
  engine::customer c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.created_at = 1'700'000'000;
  c.updated_at = 1'700'000'000;
  return c;
}

inline engine::ticket sample_ticket(std::string customer = "acme", std::string subject = "Kettle leaks") {
  engine::ticket t;
  t.customer = std::move(customer);
  t.subject = std::move(subject);
  t.description = "It leaks when full.";
  t.state = "intake";
  t.version = 1;
  t.created_at = 1'700'000'100;
  t.updated_at = 1'700'000'100;
  t.resolution_started_at = 1'700'000'100;
  return t;
}

// Adds the customers and tickets in one committed transaction, logging
// each customer and indexing each ticket's subject and description as the
// executor does; returns ids.
inline std::vector<engine::ticket_id> add(engine::store& s, const std::vector<engine::customer>& customers,
                                          const std::vector<engine::ticket>& tickets) {
  auto tx = begin(s);
  for (const auto& c : customers) {
    require_ok(tx->put_customer(c));
    require_ok(tx->append_customer_change({0, c.id, c.updated_at, "fixture", engine::customer_diff(nullptr, c), {}, {}}));
  }
  std::vector<engine::ticket_id> ids;
  for (const auto& t : tickets) {
    auto id = tx->insert_ticket(t);
    require_ok(id);
    require_ok(tx->index_text(*id, 0, t.subject + "\n" + t.description));
    ids.push_back(*id);
  }
  require_ok(tx->commit());
  return ids;
}

// Appends as the executor does: the event links to its ticket's newest
// event, and the ticket row (moved to the event's version and state) to the
// new one.
inline engine::Result<engine::event_record> append_linked(engine::store_transaction& tx, engine::event_record e) {
  auto found = tx.find_ticket(e.ticket);
  PLAINT_TRY(found);
  REQUIRE(found->has_value());
  engine::ticket after = **found;
  auto next = tx.next_event_seq();
  PLAINT_TRY(next);
  e.ticket_prev = after.last_event;
  after.last_event = *next;
  after.version = e.version;
  after.state = e.to_state;
  PLAINT_TRY(tx.update_ticket(after, **found));
  return tx.append_event(std::move(e));
}

// Takes a current file back to schema 4 (before the customer log); the
// caller sets user_version.
inline constexpr const char* undo_schema_5 =
    "DROP TABLE customer_changes; DROP INDEX idempotency_created; ";

// Takes a schema 6 file back to schema 5 (before the directory of people).
inline constexpr const char* undo_schema_6 = "DROP TABLE sessions; DROP TABLE people; ";

// Takes a schema 15 file back to schema 14: the full-text indexes in the
// desk again, every text in the trigram index up to the mark (the last
// text), the pair index left empty (version 15 drops it). The search file
// beside it stays, and is emptied as another desk's when the file is
// migrated again (its id is new).
inline constexpr const char* undo_schema_15 =
    "DELETE FROM settings WHERE key = 'search_index'; "
    "CREATE VIRTUAL TABLE main.search USING fts5 (body, content = '', columnsize = 0, tokenize = 'trigram'); "
    "INSERT INTO main.search (search, rank) VALUES ('pgsz', 1000); "
    "INSERT INTO main.search (rowid, body) SELECT key, body FROM search_text ORDER BY key; "
    "CREATE VIRTUAL TABLE main.search_pair USING fts5 (body, content = '', columnsize = 0, detail = 'none', "
    "tokenize = 'ascii'); "
    "CREATE TABLE main.search_mark (one INTEGER PRIMARY KEY CHECK (one = 1), indexed_to INTEGER NOT NULL); "
    "INSERT INTO main.search_mark (one, indexed_to) VALUES (1, (SELECT coalesce(max(rowid), 0) FROM search_text)); ";
// Takes a schema 14 file back to schema 13 (the pair index of word
// characters, left empty, as version 14 indexes every text again).
inline constexpr const char* undo_schema_14 =
    "DROP TABLE search_pair; "
    "CREATE VIRTUAL TABLE search_pair USING fts5 (body, content = '', columnsize = 0, detail = 'none', "
    "tokenize = 'unicode61 remove_diacritics 0'); ";
// Takes a schema 13 file back to schema 12 (every text in the trigram
// index; the CJK index instead of the pair index, left empty, as version 14
// indexes every text again).
inline constexpr const char* undo_schema_13 =
    "INSERT INTO search (rowid, body) SELECT key, body FROM search_text "
    "WHERE rowid > (SELECT indexed_to FROM search_mark) ORDER BY key; "
    "DROP TABLE search_pair; DROP TABLE search_mark; "
    "CREATE VIRTUAL TABLE search_cjk USING fts5 (body, content = '', columnsize = 0, detail = 'none', "
    "tokenize = 'unicode61'); ";
// Takes a schema 12 file back to schema 11 (no per-channel outbox index).
inline constexpr const char* undo_schema_12 = "DROP INDEX outbox_pending_channel; ";
// Takes a schema 11 file back to schema 10 (the closing-time index without
// the KPI columns).
inline constexpr const char* undo_schema_11 =
    "DROP INDEX tickets_kpi_closed; "
    "CREATE INDEX tickets_closed ON tickets (closed_at, created_at) WHERE closed_at IS NOT NULL; ";
// Takes a schema 10 file back to schema 9 (search rows in insertion order,
// with their ticket as a column; no CJK index).
inline constexpr const char* undo_schema_10 =
    "DROP TABLE search_cjk; DROP TABLE search; "
    "CREATE VIRTUAL TABLE search USING fts5 (ticket UNINDEXED, body, tokenize = 'trigram'); "
    "INSERT INTO search (search, rank) VALUES ('pgsz', 1000); "
    "INSERT INTO search (ticket, body) SELECT key >> 32, body FROM search_text ORDER BY rowid; "
    "DROP TABLE search_text; ";
// Takes a schema 9 file back to schema 8 (before the index of closing times).
inline constexpr const char* undo_schema_9 = "DROP INDEX tickets_closed; DROP INDEX tickets_opened; ";

// Takes a schema 7 file back to schema 6 (before the channels).
inline constexpr const char* undo_schema_7 =
    "DROP TABLE outbox; DROP TABLE webhooks; DROP TABLE attachments; DROP TABLE mail_links; "
    "DROP INDEX customers_email; ALTER TABLE people DROP COLUMN lang; ";

// Takes a schema 4 file back to schema 3 (before the history chain); the
// caller sets user_version.
inline constexpr const char* undo_schema_4 =
    "ALTER TABLE tickets DROP COLUMN last_event; "
    "ALTER TABLE events DROP COLUMN ticket_prev; CREATE INDEX events_ticket ON events (ticket, seq); "
    "DELETE FROM search_config WHERE k = 'pgsz'; ";

// Every field of a ticket as one JSON line: equal strings, equal tickets,
// and a failing CHECK shows both sides in full.
inline std::string fields(const engine::ticket& t) {
  auto j = engine::ticket_record(t);
  j["last_event"] = t.last_event;  // storage's link, not part of the record
  return j.dump();
}

inline std::string fields(const engine::customer& c) { return engine::to_json(c).dump(); }
inline std::string fields(const engine::timer& t) { return engine::to_json(t).dump(); }

// The ids of a page in order, "7 6 5", so that a failing CHECK prints them.
inline std::string ids_of(const engine::ticket_page& page) {
  std::string ids;
  for (const auto& t : page.tickets) ids += (ids.empty() ? "" : " ") + std::to_string(t.id);
  return ids;
}


}  // namespace plaint::testing
