// API tokens: what issue_token stores, what check_token accepts, and that
// every wrong token gets the same answer.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "engine/audit.h"
#include "engine/tokens.h"
#include "storage/sqlite_store.h"
#include "tests/temp_dir.h"

using namespace plaint;
using engine::errc;

namespace {

constexpr engine::timestamp now = 1'795'420'800;  // 2026-11-23T08:00:00Z

struct token_desk {
  testing::temp_dir dir;
  std::unique_ptr<storage::sqlite_store> store;

  token_desk() {
    auto s = storage::sqlite_store::open(dir.file("tokens.db"));
    REQUIRE(s.ok());
    store = std::move(*s);
    REQUIRE(store->migrate().ok());
  }

  // Issues and stores a token; returns what issue_token gave.
  engine::issued_token issue(const std::string& name, const std::string& role = "agent") {
    auto t = engine::issue_token(name, role, now);
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    auto tx = store->begin();
    REQUIRE(tx.ok());
    REQUIRE((*tx)->put_token(t->record).ok());
    REQUIRE((*tx)->commit().ok());
    return *t;
  }

  void revoke(const std::string& which) {
    auto tx = store->begin();
    REQUIRE(tx.ok());
    REQUIRE((*tx)->revoke_tokens(which, now + 60).ok());
    REQUIRE((*tx)->commit().ok());
  }

  // "" when the token is refused as not valid, else "name/role" or the error.
  std::string check(std::string_view presented) {
    auto id = engine::check_token(*store, presented);
    if (id.ok()) return id->name + "/" + id->role;
    if (id.error().code == errc::not_found && id.error().message == "the token is not valid") return "";
    return "unexpected error: " + id.error().message;
  }
};

}  // namespace

TEST_CASE("an issued token reads plt_<id>_<secret> and checks as its name and role") {
  token_desk d;
  const auto t = d.issue("李娜", "supervisor");
  CHECK(std::regex_match(t.text, std::regex("plt_[0-9a-f]{16}_[0-9a-f]{64}")));
  CHECK(t.text.substr(4, 16) == t.record.id);
  CHECK(t.record.name == "李娜");
  CHECK(t.record.role == "supervisor");
  CHECK(t.record.created_at == now);
  CHECK_FALSE(t.record.revoked_at.has_value());
  CHECK(d.check(t.text) == "李娜/supervisor");
  CHECK(d.check(t.text) == "李娜/supervisor");  // checking changes nothing
}

TEST_CASE("the stored record holds a salted hash of the secret, never the secret") {
  token_desk d;
  const auto t = d.issue("ann");
  const std::string secret = t.text.substr(4 + 16 + 1);
  auto stored = d.store->find_token(t.record.id);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  const engine::api_token& r = **stored;
  CHECK(r.salt.size() == 32);
  CHECK(r.hash == engine::sha256_hex(r.salt + secret));
  CHECK(r.hash != engine::sha256_hex(secret));
  for (const std::string& field : {r.id, r.name, r.role, r.salt, r.hash}) {
    CHECK(field.find(secret) == std::string::npos);
    CHECK(field.find(t.text) == std::string::npos);
  }
}

TEST_CASE("every token gets its own id, secret and salt") {
  token_desk d;
  std::set<std::string> ids, texts, salts, hashes;
  for (int i = 0; i < 20; ++i) {
    const auto t = d.issue("ann");  // the same name every time
    ids.insert(t.record.id);
    texts.insert(t.text);
    salts.insert(t.record.salt);
    hashes.insert(t.record.hash);
  }
  CHECK(ids.size() == 20);
  CHECK(texts.size() == 20);
  CHECK(salts.size() == 20);
  CHECK(hashes.size() == 20);
}

TEST_CASE("a wrong, unknown or malformed token is not valid, and says only that") {
  token_desk d;
  const auto t = d.issue("ann", "admin");
  const std::string id = t.record.id;
  const std::string secret = t.text.substr(4 + 16 + 1);

  SUBCASE("wrong secret") {
    std::string wrong = t.text;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    CHECK(d.check(wrong) == "");
    CHECK(d.check("plt_" + id + "_" + std::string(64, '0')) == "");
  }
  SUBCASE("unknown id with a right-looking secret") {
    CHECK(d.check("plt_" + std::string(16, '0') + "_" + secret) == "");
  }
  SUBCASE("another token's secret") {
    const auto other = d.issue("bob");
    CHECK(d.check("plt_" + id + "_" + other.text.substr(21)) == "");
  }
  SUBCASE("malformed") {
    const std::vector<std::string> malformed = {
             std::string(),
             std::string("Bearer ") + t.text,
             std::string("garbage"),
             t.text + " ",
             " " + t.text,
             t.text + "0",
             t.text.substr(0, t.text.size() - 1),
             "PLT_" + id + "_" + secret,
             "plt_" + id + "-" + secret,
             "plt_" + id + "_" + secret.substr(0, 63) + "G",
             "plt_" + std::string(16, 'A') + "_" + secret,
             "plt_" + id + "_" + secret.substr(0, 32),
             "plt__" + secret,
             "plt_' OR 1=1 --_" + secret,
             "plt_" + id.substr(0, 15) + "'_" + secret,
             "plt_%_%",
             "plt_" + id + "_" + secret + "; DROP TABLE tokens; --",
             std::string(1 << 20, 'a'),
             "plt_" + id + "_" + std::string(1 << 20, 'f'),
             "plt_" + id + "_\xff\xfe" + secret.substr(2),
             "plt_\xc3\x28" + id.substr(2) + "_" + secret,
             std::string("plt_") + std::string(1, '\0') + id.substr(1) + "_" + secret,
         };
    for (const std::string& bad : malformed) CHECK_MESSAGE(d.check(bad) == "", bad.substr(0, 120));
  }
  CHECK(d.check(t.text) == "ann/admin");
}

TEST_CASE("a revoked token is not valid, revoked by name or by id, others stay valid") {
  token_desk d;
  const auto ann = d.issue("ann", "admin");
  const auto ann2 = d.issue("ann", "agent");
  const auto bob = d.issue("bob");
  SUBCASE("by name") {
    d.revoke("ann");
    CHECK(d.check(ann.text) == "");
    CHECK(d.check(ann2.text) == "");
  }
  SUBCASE("by id") {
    d.revoke(ann.record.id);
    CHECK(d.check(ann.text) == "");
    CHECK(d.check(ann2.text) == "ann/agent");
  }
  CHECK(d.check(bob.text) == "bob/agent");
}

TEST_CASE("issue_token refuses an empty or oversized name and an unknown role") {
  auto refused = [](std::string_view name, std::string_view role) {
    auto t = engine::issue_token(name, role, now);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == errc::invalid);
    return t.error().message;
  };
  CHECK(refused("", "agent") == "token name is required");
  CHECK(refused(std::string(201, 'a'), "agent") == "token name is 201 bytes long; the limit is 200 bytes");
  CHECK(refused("bad\xff", "agent") == "token name is not valid UTF-8 text");
  CHECK(refused("ann", "") == "role is required");
  CHECK(refused("ann", "root") == "role 'root' is not one of: agent, supervisor, admin");
  CHECK(refused("ann", "Admin") == "role 'Admin' is not one of: agent, supervisor, admin");
  CHECK(engine::issue_token(std::string(200, 'a'), "admin", now).ok());
}

TEST_CASE("roles are ordered agent < supervisor < admin") {
  using engine::role_at_least;
  CHECK(engine::is_role("agent"));
  CHECK(engine::is_role("supervisor"));
  CHECK(engine::is_role("admin"));
  CHECK_FALSE(engine::is_role(""));
  CHECK_FALSE(engine::is_role("root"));
  CHECK(role_at_least("agent", "agent"));
  CHECK_FALSE(role_at_least("agent", "supervisor"));
  CHECK_FALSE(role_at_least("agent", "admin"));
  CHECK(role_at_least("supervisor", "agent"));
  CHECK(role_at_least("supervisor", "supervisor"));
  CHECK_FALSE(role_at_least("supervisor", "admin"));
  CHECK(role_at_least("admin", "agent"));
  CHECK(role_at_least("admin", "supervisor"));
  CHECK(role_at_least("admin", "admin"));
  CHECK_FALSE(role_at_least("root", "agent"));
  CHECK_FALSE(role_at_least("admin", "root"));
  CHECK_FALSE(role_at_least("", ""));
}

TEST_CASE("check_token passes storage errors through rather than calling them invalid tokens") {
  testing::temp_dir dir;
  auto s = storage::sqlite_store::open(dir.file("blank.db"));
  REQUIRE(s.ok());
  auto id = engine::check_token(**s, "plt_" + std::string(16, '0') + "_" + std::string(64, '0'));
  REQUIRE_FALSE(id.ok());
  CHECK(id.error().code == errc::invalid);
  CHECK(id.error().message == "database " + dir.file("blank.db") + " is not initialised; run plaint init");
}
