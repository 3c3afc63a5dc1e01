// Schema 3 of the SQLite store: API tokens, idempotency responses, and the
// migration that brings a version 2 file up to them.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "storage/sqlite_schema.h"
#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;
using engine::errc;

namespace {

engine::api_token sample_token(std::string id, std::string name, std::string role = "agent",
                               engine::timestamp created_at = 1'700'000'000) {
  engine::api_token t;
  t.id = std::move(id);
  t.name = std::move(name);
  t.role = std::move(role);
  t.salt = std::string(32, 'a');
  t.hash = std::string(64, 'b');
  t.created_at = created_at;
  return t;
}

std::string fields(const engine::api_token& t) {
  return engine::json{{"id", t.id},
                      {"name", t.name},
                      {"role", t.role},
                      {"salt", t.salt},
                      {"hash", t.hash},
                      {"created_at", t.created_at},
                      {"revoked_at", t.revoked_at ? engine::json(*t.revoked_at) : engine::json()}}
      .dump();
}

std::string fields(const std::vector<engine::api_token>& ts) {
  std::string out;
  for (const auto& t : ts) out += fields(t) + "\n";
  return out;
}

void put_tokens(engine::store& s, const std::vector<engine::api_token>& tokens) {
  auto tx = begin(s);
  for (const auto& t : tokens) require_ok(tx->put_token(t));
  require_ok(tx->commit());
}

// Which tokens are live, "ann-1 bob-1", in list order.
std::string live_ids(engine::store& s) {
  auto all = s.list_tokens();
  require_ok(all);
  std::string ids;
  for (const auto& t : *all)
    if (!t.revoked_at) ids += (ids.empty() ? "" : " ") + t.id;
  return ids;
}

}  // namespace

TEST_CASE("tokens round-trip every field, and list_tokens lists them oldest first") {
  store_fixture f;
  auto later = sample_token("00000000000000b1", "李娜", "admin", 1'700'000'900);
  later.revoked_at = 1'700'001'000;
  const auto earlier = sample_token("00000000000000f2", "bob", "supervisor", 1'700'000'100);
  put_tokens(*f.store, {later, earlier});
  f.reopen();

  auto got = f.store->find_token("00000000000000b1");
  require_ok(got);
  REQUIRE(got->has_value());
  CHECK(fields(**got) == fields(later));
  auto all = f.store->list_tokens();
  require_ok(all);
  CHECK(fields(*all) == fields(std::vector<engine::api_token>{earlier, later}));

  auto missing = f.store->find_token("ffffffffffffffff");
  require_ok(missing);
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("token reads on an un-migrated database say it is not initialised") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  auto store = open_store(path);
  const std::string expected = fmt::format("database {} is not initialised; run plaint init", path);
  CHECK(store->find_token("0123456789abcdef").error().message == expected);
  CHECK(store->list_tokens().error().message == expected);
  CHECK(store->list_tokens().error().code == errc::invalid);
}

TEST_CASE("an idempotency record keeps its response, and a put with the same key replaces it") {
  store_fixture f;
  add(*f.store, {sample_customer()}, {sample_ticket(), sample_ticket()});
  engine::idempotency_record r;
  r.key = "evt-1";
  r.scope = "event";
  r.fingerprint = "sha256:abc";
  r.ticket = 1;
  r.created_at = 1'700'000'500;
  r.response = R"({"id":1,"state":"triage","note":"客户来电"})";
  {
    auto tx = begin(*f.store);
    require_ok(tx->put_idempotency(r));
    require_ok(tx->commit());
  }
  f.reopen();
  auto check_stored = [&](const engine::idempotency_record& want) {
    auto tx = begin(*f.store);
    auto got = tx->find_idempotency(want.key);
    require_ok(got);
    REQUIRE(got->has_value());
    CHECK((*got)->scope == want.scope);
    CHECK((*got)->fingerprint == want.fingerprint);
    CHECK((*got)->ticket == want.ticket);
    CHECK((*got)->created_at == want.created_at);
    CHECK((*got)->response == want.response);
  };
  check_stored(r);

  r.ticket = 2;
  r.response = R"({"id":2})";
  {
    auto tx = begin(*f.store);
    require_ok(tx->put_idempotency(r));
    require_ok(tx->commit());
  }
  check_stored(r);

  engine::idempotency_record open_key = r;
  open_key.key = "open-1";
  open_key.scope = "open";
  open_key.response.clear();
  {
    auto tx = begin(*f.store);
    require_ok(tx->put_idempotency(open_key));
    require_ok(tx->commit());
  }
  check_stored(open_key);
}

TEST_CASE("migrate brings a version 2 file to the current version, keeping its rows, and is idempotent") {
  temp_dir dir;
  const std::string path = dir.file("plaint.db");
  {
    // A version 2 file: today's schema with version 3's additions taken out.
    auto store = open_store(path);
    require_ok(store->migrate());
    add(*store, {sample_customer()}, {sample_ticket()});
    raw_db raw(path);
    REQUIRE(raw.exec(std::string(undo_schema_15) + undo_schema_13 + undo_schema_12 + undo_schema_11 + undo_schema_10 + undo_schema_9 + undo_schema_7 + undo_schema_6 + undo_schema_5 + undo_schema_4 +
                     "DROP TABLE tokens; ALTER TABLE idempotency DROP COLUMN response; PRAGMA user_version = 2;") == "");
    REQUIRE(raw.exec("INSERT INTO idempotency (key, scope, fingerprint, ticket, created_at) "
                     "VALUES ('old-key', 'open', 'sha256:old', 1, 1700000300)") == "");
  }
  auto store = open_store(path);
  auto refused = store->list_tokens();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::invalid);
  CHECK(refused.error().message ==
        fmt::format("database {} is at schema 2 but this build needs schema {}; run plaint init to upgrade it", path,
                    storage::current_schema));

  require_ok(store->migrate());
  require_ok(store->migrate());
  raw_db raw(path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('tokens', 'tokens_name')") == 2);

  {
    auto tx = begin(*store);
    auto old = tx->find_idempotency("old-key");
    require_ok(old);
    REQUIRE(old->has_value());
    CHECK((*old)->fingerprint == "sha256:old");
    CHECK((*old)->response == "");
  }
  CHECK(store->get_ticket(1)->subject == "Kettle leaks");
  put_tokens(*store, {sample_token("0123456789abcdef", "ann")});
  CHECK(live_ids(*store) == "0123456789abcdef");
}

TEST_CASE("a fresh file migrates straight to the current version") {
  store_fixture f;
  raw_db raw(f.path);
  CHECK(raw.integer("PRAGMA user_version") == storage::current_schema);
  CHECK(raw.integer("SELECT count(*) FROM pragma_table_info('idempotency') WHERE name = 'response'") == 1);
  CHECK(raw.integer("SELECT count(*) FROM pragma_table_info('tokens')") == 7);
}
