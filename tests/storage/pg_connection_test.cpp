// The libpq layer and the schema of the PostgreSQL store against a real
// server (tests/pg_fixture.h): parameters that are never SQL, text and
// bytes that come back as they went, each kind of failure mapped to its
// code, and migrations that run once however many nodes start together.
#include "storage/pg_connection.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>

#include "storage/open_store.h"
#include "storage/pairs.h"
#include "storage/pg_schema.h"
#include "tests/pg_fixture.h"
#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;
using engine::errc;

namespace {

std::unique_ptr<storage::pg::connection> connect(const std::string& url) {
  auto c = storage::pg::connection::open(url);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(*c);
}

// Customer 'acme' and `n` tickets of it, numbered from 1, written as rows.
void add_acme_tickets(storage::pg::connection& c, int n) {
  require_ok(c.run("acme_tickets",
                   "INSERT INTO customers (id, name, created_at, updated_at) VALUES ('acme', 'Acme', 1, 1)",
                   storage::pg::params(), "write a customer"));
  require_ok(c.run("acme_tickets_n",
                   "INSERT INTO tickets (workflow, customer, tier, channel, category, priority, subject, state, "
                   "version, created_at, updated_at) SELECT 'complaint', 'acme', 'standard', 'phone', 'other', "
                   "'P3', 'kettle', 'intake', 1, 1, 1 FROM generate_series(1, $1::int)",
                   storage::pg::params().add(std::int64_t{n}), "write the tickets"));
}

}  // namespace

TEST_CASE("PostgreSQL: parameters round-trip as values, never as SQL, Chinese text and raw bytes included") {
  pg_database db;
  auto c = connect(db.url);
  CHECK(c->server_version() >= 150000);
  CHECK(c->describe().find("postgresql 15.") == 0);
  CHECK(c->describe().find(db.name) != std::string::npos);
  require_ok(c->exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data BYTEA, n BIGINT)", "create t"));
  const std::string hostile = "x'); DROP TABLE t; --";
  const std::string bytes("\0\x01\xff'\\x00\"", 8);
  require_ok(c->run("t_put", "INSERT INTO t (id, name, data, n) VALUES ($1, $2, $3, $4)",
                    storage::pg::params().add(std::int64_t{1}).add("客户来电：冰箱不制冷").add_bytes(bytes).add_null(),
                    "put a row"));
  require_ok(c->run("t_put", "INSERT INTO t (id, name, data, n) VALUES ($1, $2, $3, $4)",
                    storage::pg::params().add(std::int64_t{2}).add(hostile).add_bytes("").add(std::int64_t{-7}),
                    "put a row"));
  auto r = c->run("t_all", "SELECT id, name, data, n FROM t ORDER BY id", storage::pg::params(), "read t");
  require_ok(r);
  REQUIRE(r->rows() == 2);
  CHECK(r->integer(0, 0) == 1);
  CHECK(r->text(0, 1) == "客户来电：冰箱不制冷");
  CHECK(r->bytes(0, 2) == bytes);
  CHECK(r->null(0, 3));
  CHECK(!r->opt_integer(0, 3));
  CHECK(r->text(1, 1) == hostile);
  CHECK(r->integer(1, 3) == -7);
  auto like = c->run("t_like", "SELECT count(*) FROM t WHERE name LIKE '%' || $1 || '%'",
                     storage::pg::params().add("冰箱"), "search t");
  require_ok(like);
  CHECK(like->integer(0, 0) == 1);
}

TEST_CASE("PostgreSQL: a taken key is a conflict, a refused value invalid, a mistake internal") {
  pg_database db;
  auto c = connect(db.url);
  require_ok(c->exec("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT CHECK (n >= 0))", "create t"));
  const std::string put = "INSERT INTO t (id, n) VALUES ($1, $2)";
  require_ok(c->run("put", put, storage::pg::params().add(std::int64_t{1}).add(std::int64_t{1}), "put"));
  auto taken = c->run("put", put, storage::pg::params().add(std::int64_t{1}).add(std::int64_t{2}), "put row 1 again");
  REQUIRE(!taken.ok());
  CHECK(taken.error().code == errc::conflict);
  CHECK(taken.error().message.find("put row 1 again: duplicate key") == 0);
  auto refused = c->run("put", put, storage::pg::params().add(std::int64_t{2}).add(std::int64_t{-1}), "put -1");
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == errc::invalid);
  auto wrong = c->exec("SELECT nothing FROM nowhere", "read nowhere");
  REQUIRE(!wrong.ok());
  CHECK(wrong.error().code == errc::internal);
  CHECK(wrong.error().message.find("read nowhere: relation \"nowhere\" does not exist") == 0);
  // The connection is still good after each failure.
  require_ok(c->exec("SELECT 1", "a probe"));
}

TEST_CASE("PostgreSQL: no server, or a connection lost, is unavailable, reconnecting recovers") {
  auto none = storage::pg::connection::open("postgresql://plaint@127.0.0.1:1/postgres", std::chrono::seconds(2));
  REQUIRE(!none.ok());
  CHECK(none.error().code == errc::unavailable);
  CHECK(none.error().message.find("cannot connect to PostgreSQL: ") == 0);

  pg_database db;
  auto c = connect(db.url);
  auto other = connect(db.url);
  require_ok(other->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid()",
                         "end the other sessions"));
  auto lost = c->exec("SELECT 1", "a probe");
  REQUIRE(!lost.ok());
  CHECK(lost.error().code == errc::unavailable);
  CHECK(!c->ok());
  auto again = c->run("probe", "SELECT $1::bigint", storage::pg::params().add(std::int64_t{5}), "a probe");
  REQUIRE(!again.ok());
  CHECK(again.error().code == errc::unavailable);
  require_ok(c->reconnect());
  auto back = c->run("probe", "SELECT $1::bigint", storage::pg::params().add(std::int64_t{5}), "a probe");
  require_ok(back);
  CHECK(back->integer(0, 0) == 5);
}

TEST_CASE("PostgreSQL: migrate creates the current schema once, even from two nodes at once, and is idempotent") {
  pg_database db;
  auto a = connect(db.url);
  auto b = connect(db.url);
  auto v0 = storage::pg::read_schema_version(*a);
  require_ok(v0);
  CHECK(*v0 == 0);
  engine::Status from_a, from_b;
  std::thread other([&] { from_b = storage::pg::migrate_schema(*b); });
  from_a = storage::pg::migrate_schema(*a);
  other.join();
  require_ok(from_a);
  require_ok(from_b);
  auto v = storage::pg::read_schema_version(*a);
  require_ok(v);
  CHECK(*v == storage::current_schema);
  require_ok(storage::pg::migrate_schema(*a));
  auto tables = a->exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('customers', "
                        "'tickets', 'events', 'timers', 'search', 'idempotency', 'settings', 'notifications', 'tokens', "
                        "'customer_changes', 'people', 'sessions', 'mail_links', 'attachments', 'webhooks', 'outbox')",
                        "count tables");
  require_ok(tables);
  CHECK(tables->integer(0, 0) == 16);
  auto rows = a->exec("SELECT count(*) FROM plaint_schema", "count versions");
  require_ok(rows);
  CHECK(rows->integer(0, 0) == 1);
}

TEST_CASE("PostgreSQL: migrating a schema 15 database gives every text its pairs, as an insert writes them, and "
          "indexes them") {
  pg_database db;
  auto c = connect(db.url);
  require_ok(storage::pg::migrate_schema(*c));
  // Back to schema 15: the search texts without their pairs.
  require_ok(c->exec("DROP INDEX search_pairs; DROP INDEX tickets_opened; ALTER TABLE search DROP COLUMN pairs;"
                     "UPDATE plaint_schema SET version = 15",
                     "undo schema 16"));
  add_acme_tickets(*c, 2);
  // More texts than one batch of the migration (2,000).
  require_ok(c->exec("INSERT INTO search (ticket, body) SELECT 2, 'filler ' || n FROM generate_series(1, 4500) n",
                     "write the texts"));
  const std::string texts[] = {"客户的包裹丢了", "say \"hi\" \\ {back}, O'Brien", "Ünïcode ÇA", ""};
  for (const auto& text : texts)
    require_ok(c->run("put_text", "INSERT INTO search (ticket, body) VALUES (1, $1)", storage::pg::params().add(text),
                      "write a text"));
  require_ok(storage::pg::migrate_schema(*c));
  auto v = storage::pg::read_schema_version(*c);
  require_ok(v);
  CHECK(*v == storage::current_schema);

  // Every text has the pairs an insert of this build writes for it.
  auto rows = c->exec("SELECT body, pairs::text, cardinality(pairs) FROM search ORDER BY id", "read the pairs");
  require_ok(rows);
  REQUIRE(rows->rows() == 4504);
  int differ = 0;
  for (int i = 0; i < rows->rows(); ++i) {
    const std::string body = rows->text(i, 0);
    auto again = c->run("pairs_of", "SELECT $1::text[]::text", storage::pg::params().add(storage::pair_terms_array(body)),
                        "read an array");
    require_ok(again);
    if (again->text(0, 0) != rows->text(i, 1)) ++differ;
    if (body.empty()) CHECK(rows->integer(i, 2) == 0);
  }
  CHECK(differ == 0);
  auto found = [&](const std::string& text) {
    auto r = c->run("find_pair", "SELECT string_agg(DISTINCT ticket::text, ' ') FROM search WHERE pairs @> ARRAY[$1]",
                    storage::pg::params().add(storage::pair_term(text)), "search the pairs");
    require_ok(r);
    return r->text(0, 0);
  };
  CHECK(found("包裹") == "1");
  CHECK(found("丢") == "1");
  CHECK(found("\"") == "1");
  CHECK(found("\\") == "1");
  CHECK(found("{b") == "1");
  CHECK(found("'b") == "1");
  CHECK(found("ÜN") == "1");  // folded as SQLite folds them
  CHECK(found("çA") == "1");
  CHECK(found("ca").empty());
  CHECK(found("r ") == "2");
  CHECK(found("zq").empty());

  auto shape = c->exec("SELECT (SELECT count(*) FROM pg_indexes WHERE indexname IN ('search_pairs', 'tickets_opened')),"
                       " (SELECT count(*) FROM information_schema.columns WHERE table_name = 'search'"
                       "  AND column_name = 'pairs' AND column_default IS NULL)",
                       "read the schema");
  require_ok(shape);
  CHECK(shape->integer(0, 0) == 2);
  CHECK(shape->integer(0, 1) == 1);  // no default: every insert names its pairs
  CHECK_FALSE(c->exec("INSERT INTO search (ticket, body) VALUES (1, 'no pairs')", "write without pairs").ok());
}

TEST_CASE("PostgreSQL: a node whose database was moved to another schema while it ran stops writing") {
  pg_database db;
  auto store = storage::open_store(db.url, std::chrono::milliseconds(5000));
  require_ok(store);
  require_ok((*store)->migrate());
  auto c = connect(db.url);
  require_ok(c->exec("UPDATE plaint_schema SET version = version + 1", "move the schema on"));
  {
    auto tx = (*store)->begin();
    require_ok(tx);
    auto put = (*tx)->put_customer(sample_customer());
    REQUIRE_FALSE(put.ok());
    CHECK(put.error().code == errc::internal);
    CHECK(put.error().message.rfind("database postgresql ", 0) == 0);
    CHECK(put.error().message.find(fmt::format(" was changed to schema {} while this process was using it at schema {}; "
                                               "restart it with a plaint that matches the database",
                                               storage::current_schema + 1, storage::current_schema)) !=
          std::string::npos);
    CHECK_FALSE((*tx)->commit().ok());
  }
  auto none = c->exec("SELECT count(*) FROM customers", "count customers");
  require_ok(none);
  CHECK(none->integer(0, 0) == 0);
  // Back at its schema, the same store writes again.
  require_ok(c->exec("UPDATE plaint_schema SET version = version - 1", "move the schema back"));
  auto tx = (*store)->begin();
  require_ok(tx);
  require_ok((*tx)->put_customer(sample_customer()));
  require_ok((*tx)->commit());
}

TEST_CASE("PostgreSQL: the audit log is append-only and JSON columns take only JSON") {
  pg_database db;
  auto c = connect(db.url);
  require_ok(storage::pg::migrate_schema(*c));
  add_acme_tickets(*c, 1);
  require_ok(c->exec("INSERT INTO events (seq, ticket, at, actor, event, to_state, version, payload, prev_hash, hash) "
                     "VALUES (1, 1, 1, 'ann', 'open', 'intake', 1, '{}', '', 'h')",
                     "write a ticket's event"));
  auto changed = c->exec("UPDATE events SET actor = 'mallory'", "rewrite history");
  REQUIRE(!changed.ok());
  CHECK(changed.error().code == errc::invalid);
  CHECK(changed.error().message.find("the audit log is append-only") != std::string::npos);
  auto removed = c->exec("DELETE FROM events", "erase history");
  REQUIRE(!removed.ok());
  CHECK(removed.error().message.find("the audit log is append-only") != std::string::npos);
  auto bad = c->exec("UPDATE tickets SET tags = 'not json'", "tag a ticket");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == errc::invalid);
}

TEST_CASE("PostgreSQL: a database holding somebody else's tables is refused, and so is a newer schema") {
  pg_database db;
  auto c = connect(db.url);
  require_ok(c->exec("CREATE TABLE invoices (id BIGINT)", "make a stranger's table"));
  auto refused = storage::pg::migrate_schema(*c);
  REQUIRE(!refused.ok());
  CHECK(refused.error().message.find("holds tables that are not plaint's") != std::string::npos);

  pg_database newer;
  auto n = connect(newer.url);
  require_ok(storage::pg::migrate_schema(*n));
  require_ok(n->exec("UPDATE plaint_schema SET version = 99", "pretend a newer plaint"));
  auto old = storage::pg::migrate_schema(*n);
  REQUIRE(!old.ok());
  CHECK(old.error().message.find("is at schema 99, newer than this plaint") != std::string::npos);
}
