// Customers through the executor: merged updates, tier permissions decided
// in the transaction, the hash-chained customer log, and idempotency keys
// that expire and are pruned in bounded chunks.
#include <doctest/doctest.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "tests/engine/desk_fixture.h"
#include "tests/raw_db.h"

using namespace plaint;
using plaint::testing::desk;

namespace {

engine::customer_update by(const std::string& actor, const std::string& id) {
  engine::customer_update u;
  u.id = id;
  u.actor = actor;
  return u;
}

std::vector<engine::customer_change> changes_of(desk& d, const std::string& id) {
  auto log = d.store->customer_history(id, 100);
  REQUIRE(log.ok());
  return *log;
}

std::string verify(desk& d) {
  auto r = engine::verify_audit(*d.store);
  REQUIRE(r.ok());
  return r->message;
}

}  // namespace

TEST_CASE("an update writes the fields it carries and keeps the others, logging who changed what") {
  desk d;
  auto create = by("sue", "pt");
  create.name = "Platinum Co";
  create.tier = "platinum";
  create.email = "a@pt.example";
  create.attributes = engine::json{{"region", "east"}, {"vip", true}};
  auto created = d.ex->put_customer(create);
  REQUIRE(created.ok());
  CHECK(created->created);
  REQUIRE(created->change);
  CHECK(created->change->seq == 1);
  CHECK(created->change->changes["tier"] == engine::json{{"from", nullptr}, {"to", "platinum"}});
  CHECK(created->change->changes["phone"] == engine::json{{"from", nullptr}, {"to", ""}});

  d.clock.advance(60);
  auto rename = by("ann", "pt");
  rename.name = "Platinum Company";
  rename.attributes = engine::json{{"vip", nullptr}, {"segment", "retail"}};
  auto renamed = d.ex->put_customer(rename);
  REQUIRE(renamed.ok());
  CHECK_FALSE(renamed->created);
  const auto& c = renamed->saved;
  CHECK(c.tier == "platinum");
  CHECK(c.email == "a@pt.example");
  CHECK(c.attributes == engine::json{{"region", "east"}, {"segment", "retail"}});
  CHECK(c.created_at == d.clock.now() - 60);
  CHECK(c.updated_at == d.clock.now());
  REQUIRE(renamed->change);
  CHECK(renamed->change->actor == "ann");
  CHECK(renamed->change->at == d.clock.now());
  CHECK(renamed->change->changes ==
        engine::json::parse(R"({"name":{"from":"Platinum Co","to":"Platinum Company"},
                                "attributes":{"from":{"region":"east","vip":true},"to":{"region":"east","segment":"retail"}}})"));
  CHECK(d.store->get_customer("pt")->name == "Platinum Company");
  CHECK(changes_of(d, "pt").size() == 2);
  CHECK(verify(d) == "audit chain intact: 0 events over 0 tickets, 2 customer changes over 1 customers");
}

TEST_CASE("an update that changes nothing writes nothing") {
  desk d;
  d.add_customer("c1", "gold");
  const auto before = *d.store->get_customer("c1");
  d.clock.advance(3600);
  auto same = by("ann", "c1");
  same.name = before.name;
  same.tier = "gold";
  same.email = "";
  same.attributes = engine::json::object();
  auto r = d.ex->put_customer(same);
  REQUIRE(r.ok());
  CHECK_FALSE(r->created);
  CHECK_FALSE(r->change);
  CHECK(d.store->get_customer("c1")->updated_at == before.updated_at);
  CHECK(changes_of(d, "c1").size() == 1);
}

TEST_CASE("without may_set_tier a tier can be neither given to a new customer nor changed, nothing is written") {
  desk d;
  d.add_customer("c1", "gold");
  auto up = by("ann", "c1");
  up.tier = "platinum";
  up.email = "new@c1.example";
  up.may_set_tier = false;
  auto refused = d.ex->put_customer(up);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == engine::errc::forbidden);
  CHECK(refused.error().message == "changing the tier of customer 'c1' from gold to platinum needs a supervisor");
  CHECK(d.store->get_customer("c1")->email == "");
  CHECK(changes_of(d, "c1").size() == 1);

  auto newcomer = by("ann", "c2");
  newcomer.name = "Two";
  newcomer.tier = "gold";
  newcomer.may_set_tier = false;
  CHECK(d.ex->put_customer(newcomer).error().message == "adding customer 'c2' with tier gold needs a supervisor");
  CHECK(d.store->get_customer("c2").error().code == engine::errc::not_found);

  newcomer.tier = "standard";
  CHECK(d.ex->put_customer(newcomer).ok());
  up.tier = "gold";  // restating the tier is no change of it
  REQUIRE(d.ex->put_customer(up).ok());
  CHECK(d.store->get_customer("c1")->email == "new@c1.example");
  up.tier = "platinum";
  up.may_set_tier = true;
  REQUIRE(d.ex->put_customer(up).ok());
  CHECK(d.store->get_customer("c1")->tier == "platinum");
  CHECK(verify(d) == "audit chain intact: 0 events over 0 tickets, 4 customer changes over 2 customers");
}

TEST_CASE("bad updates are refused before anything is read") {
  desk d;
  auto u = by("ann", "c1");
  CHECK(d.ex->put_customer(u).error().message == "customer 'c1' does not exist yet; a name is needed to add it");
  u.name = "";
  CHECK(d.ex->put_customer(u).error().message == "customer name is required");
  u.name = "One";
  u.tier = "diamond";
  CHECK(d.ex->put_customer(u).error().message == "tier 'diamond' is not one of: standard, gold, platinum");
  u.tier.reset();
  u.attributes = engine::json::array();
  CHECK(d.ex->put_customer(u).error().message == "customer attributes must be a JSON object");
  u.attributes = engine::json{{"k", engine::json::array({engine::json::array({1})})}};
  CHECK(d.ex->put_customer(u).ok());
  u.actor = "";
  CHECK(d.ex->put_customer(u).error().message == "actor is required");
}

TEST_CASE("verify_audit catches a customer log that was cut short, reordered or does not replay to the row") {
  desk d;
  d.add_customer("c1");
  auto u = by("ann", "c1");
  u.email = "one@c1.example";
  REQUIRE(d.ex->put_customer(u).ok());
  u.email = "two@c1.example";
  REQUIRE(d.ex->put_customer(u).ok());
  testing::raw_db raw(d.path);
  REQUIRE(raw.exec("DROP TRIGGER customer_changes_no_delete; DROP TRIGGER customer_changes_no_update") == "");

  SUBCASE("the newest change removed") {
    REQUIRE(raw.exec("DELETE FROM customer_changes WHERE seq = 3") == "");
    CHECK(verify(d) == "customer 'c1' has email 'two@c1.example', but its log says 'one@c1.example'");
  }
  SUBCASE("a change in the middle removed") {
    REQUIRE(raw.exec("DELETE FROM customer_changes WHERE seq = 2") == "");
    CHECK(verify(d) == "the customer log jumps from change 1 to change 3, so changes were removed or reordered");
  }
  SUBCASE("a change re-hashed after editing it") {
    // A forger who recomputes the hash still has to match the change before it.
    auto log = changes_of(d, "c1");
    auto forged = log[2];
    forged.changes["email"]["from"] = "someone@else.example";
    forged.hash = engine::customer_change_hash(forged.prev_hash, forged);
    REQUIRE(raw.exec("UPDATE customer_changes SET changes = '" + forged.changes.dump() + "', hash = '" + forged.hash +
                     "' WHERE seq = 3") == "");
    CHECK(verify(d) == "customer change 3 changes email from 'someone@else.example', but it was 'one@c1.example'");
  }
}

TEST_CASE("an idempotency key older than the retention is a new request") {
  desk d;
  d.add_customer("c1");
  d.ex->set_idempotency_retention(3600);
  auto r = desk::intake("c1", "double charged");
  r.idempotency_key = "k1";
  auto first = d.ex->open(r);
  REQUIRE(first.ok());
  d.clock.advance(3599);
  auto replay = d.ex->open(r);
  REQUIRE(replay.ok());
  CHECK_FALSE(replay->created);
  CHECK(replay->ticket_after.id == first->ticket_after.id);
  d.clock.advance(2);  // the key is now past its retention, though not pruned yet
  auto late = d.ex->open(r);
  REQUIRE(late.ok());
  CHECK(late->created);
  CHECK(late->ticket_after.id != first->ticket_after.id);
  // The key now stands for the new ticket, for a new retention period.
  r.subject = "something else";
  CHECK(d.ex->open(r).error().code == engine::errc::conflict);
}

TEST_CASE("pruning deletes only expired idempotency keys, oldest first, at most a chunk per transaction") {
  desk d;
  d.add_customer("c1");
  d.ex->set_idempotency_retention(3600);
  auto open_with = [&](const std::string& key) {
    auto r = desk::intake("c1", "subject " + key);
    r.idempotency_key = key;
    REQUIRE(d.ex->open(r).ok());
  };
  for (int i = 0; i < 5; ++i) {
    open_with("old-" + std::to_string(i));
    d.clock.advance(1);
  }
  d.clock.advance(1799);
  open_with("young");
  d.clock.advance(1800);  // the old keys are 3600..3604 s old, young 1800 s
  testing::raw_db raw(d.path);
  auto keys = [&] { return raw.integer("SELECT count(*) FROM idempotency"); };
  REQUIRE(keys() == 6);
  CHECK(*d.ex->prune_idempotency(3) == 3);
  CHECK(raw.integer("SELECT count(*) FROM idempotency WHERE key IN ('old-0', 'old-1', 'old-2')") == 0);
  CHECK(*d.ex->prune_idempotency(3) == 1);  // old-4 is exactly 3600 s old: still honoured, kept
  CHECK(*d.ex->prune_idempotency(3) == 0);
  CHECK(keys() == 2);
  d.clock.advance(1);
  CHECK(*d.ex->prune_idempotency(3) == 1);
  CHECK(raw.integer("SELECT count(*) FROM idempotency WHERE key = 'young'") == 1);
  // The chunk is read through the created_at index, oldest first.
  CHECK(raw.plan("SELECT key FROM idempotency WHERE created_at < 1 ORDER BY created_at LIMIT 3")
            .find("USING COVERING INDEX idempotency_created") != std::string::npos);
}
