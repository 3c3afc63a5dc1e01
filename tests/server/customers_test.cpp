// Customers over HTTP: a re-post merges instead of wiping, a tier is a
// supervisor's to give or change, and every change is in the customer log
// that `audit verify` holds the customer rows to.
#include <doctest/doctest.h>

#include "tests/raw_db.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

const std::string customers = "/api/v1/customers";

// The customer log as (actor, changed fields) lines, oldest first.
std::string log_of(const json& customer) {
  std::string out;
  for (const auto& c : customer["changes"]) {
    out += c["actor"].get<std::string>() + ":";
    for (const auto& [field, change] : c["changes"].items()) {
      (void)change;
      out += " " + field;
    }
    out += "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("re-posting a customer keeps the fields it does not send, an empty email clears it") {
  server_desk d;
  REQUIRE(d.post(customers, d.sue,
                 json{{"id", "pt"}, {"name", "Platinum Co"}, {"tier", "platinum"}, {"email", "a@pt.example"},
                      {"phone", "+86 21 5555"}, {"attributes", {{"region", "华东"}, {"vip", true}}}})
              .status == 201);

  // The report of issue 10: an agent re-posts the id and a new name only.
  auto renamed = d.post(customers, d.ann, json{{"id", "pt"}, {"name", "Platinum Company"}});
  REQUIRE_MESSAGE(renamed.status == 200, renamed.body);
  const json c = renamed.json();
  CHECK(c["name"] == "Platinum Company");
  CHECK(c["tier"] == "platinum");
  CHECK(c["email"] == "a@pt.example");
  CHECK(c["phone"] == "+86 21 5555");
  CHECK(c["attributes"] == json{{"region", "华东"}, {"vip", true}});

  // Attributes merge key by key (RFC 7386): null removes one, the rest stay.
  auto merged = d.post(customers, d.ann,
                       json{{"id", "pt"}, {"attributes", {{"vip", nullptr}, {"segment", "retail"}}}, {"tier", nullptr}});
  REQUIRE_MESSAGE(merged.status == 200, merged.body);
  CHECK(merged.json()["attributes"] == json{{"region", "华东"}, {"segment", "retail"}});
  CHECK(merged.json()["tier"] == "platinum");

  auto cleared = d.post(customers, d.ann, json{{"id", "pt"}, {"email", ""}});
  REQUIRE(cleared.status == 200);
  CHECK(cleared.json()["email"] == "");
  CHECK(cleared.json()["phone"] == "+86 21 5555");

  const json read = d.get(customers + "/pt", d.bob).json();
  CHECK(read["email"] == "");
  CHECK(log_of(read) == "sue: attributes email name phone tier\nann: name\nann: attributes\nann: email\n");
  const json& first = read["changes"][0];
  CHECK(first["changes"]["tier"] == json{{"from", nullptr}, {"to", "platinum"}});
  CHECK(read["changes"][1]["changes"]["name"] == json{{"from", "Platinum Co"}, {"to", "Platinum Company"}});
  CHECK(read["changes"][3]["changes"]["email"] == json{{"from", "a@pt.example"}, {"to", ""}});
}

TEST_CASE("a new customer needs a name, and a re-post that changes nothing writes nothing") {
  server_desk d;
  auto nameless = d.post(customers, d.ann, json{{"id", "ghost"}, {"email", "g@example.com"}});
  CHECK(nameless.status == 400);
  CHECK(error_message(nameless) == "customer 'ghost' does not exist yet; a name is needed to add it");
  CHECK(d.get(customers + "/ghost", d.ann).status == 404);

  auto empty_name = d.post(customers, d.ann, json{{"id", "acme"}, {"name", ""}});
  CHECK(empty_name.status == 400);
  CHECK(error_message(empty_name) == "customer name is required");

  const json before = d.get(customers + "/acme", d.ann).json();
  const std::string exported = d.exported();
  auto same = d.post(customers, d.ann, json{{"id", "acme"}, {"name", "ACME Ltd"}, {"tier", "gold"}});
  REQUIRE_MESSAGE(same.status == 200, same.body);
  CHECK(same.json()["updated_at"] == before["updated_at"]);
  CHECK(d.exported() == exported);
  CHECK(d.get(customers + "/acme", d.ann).json()["changes"].size() == 1);
}

TEST_CASE("an agent adds standard customers and edits contacts, giving or changing a tier needs a supervisor") {
  server_desk d;
  const std::string before = d.exported();

  auto upgrade = d.post(customers, d.ann, json{{"id", "acme"}, {"tier", "platinum"}, {"email", "x@acme.example"}});
  CHECK(upgrade.status == 403);
  CHECK(error_code(upgrade) == "forbidden");
  CHECK(error_message(upgrade) == "changing the tier of customer 'acme' from gold to platinum needs a supervisor");

  auto downgrade = d.post(customers, d.bob, json{{"id", "wang"}, {"tier", "standard"}});
  CHECK(downgrade.status == 403);
  CHECK(error_message(downgrade) == "changing the tier of customer 'wang' from platinum to standard needs a supervisor");

  auto gold_newcomer = d.post(customers, d.ann, json{{"id", "neo"}, {"name", "Neo"}, {"tier", "gold"}});
  CHECK(gold_newcomer.status == 403);
  CHECK(error_message(gold_newcomer) == "adding customer 'neo' with tier gold needs a supervisor");
  CHECK(d.exported() == before);  // nothing was written by any of them

  // What an agent may do: add a standard customer, restate a tier, edit contacts.
  CHECK(d.post(customers, d.ann, json{{"id", "neo"}, {"name", "Neo"}, {"tier", "standard"}}).status == 201);
  auto contact = d.post(customers, d.ann, json{{"id", "acme"}, {"tier", "gold"}, {"email", "x@acme.example"}});
  CHECK(contact.status == 200);
  CHECK(contact.json()["email"] == "x@acme.example");

  auto by_supervisor = d.post(customers, d.sue, json{{"id", "acme"}, {"tier", "platinum"}});
  REQUIRE(by_supervisor.status == 200);
  CHECK(by_supervisor.json()["tier"] == "platinum");
  CHECK(by_supervisor.json()["email"] == "x@acme.example");
  const json acme = d.get(customers + "/acme", d.ann).json();
  CHECK(acme["changes"].back()["actor"] == "sue");
  CHECK(acme["changes"].back()["changes"] == json{{"tier", {{"from", "gold"}, {"to", "platinum"}}}});
  // The new tier counts for complaints logged from now on.
  CHECK(d.open("kettle leaks", "acme")["tier"] == "platinum");
}

TEST_CASE("bad customer attributes are a 400 and write nothing") {
  server_desk d;
  const std::string before = d.exported();
  json deep = json::object();
  for (int i = 0; i < 20; ++i) deep = json{{"k", deep}};
  auto nested = d.post(customers, d.ann, json{{"id", "acme"}, {"attributes", deep}});
  CHECK(nested.status == 400);
  CHECK(error_message(nested) == "customer attributes are nested deeper than 16 levels");
  auto big = d.post(customers, d.ann, json{{"id", "acme"}, {"attributes", {{"notes", std::string(70000, 'x')}}}});
  CHECK(big.status == 400);
  CHECK(error_message(big).find("attributes would be") != std::string::npos);
  auto tier = d.post(customers, d.sue, json{{"id", "acme"}, {"tier", "diamond"}});
  CHECK(tier.status == 400);
  CHECK(error_message(tier) == "tier 'diamond' is not one of: standard, gold, platinum");
  CHECK(d.exported() == before);
}

TEST_CASE("audit verify holds every customer to its change log and catches a tampered change or row") {
  server_desk d;
  REQUIRE(d.post(customers, d.ann, json{{"id", "acme"}, {"email", "ops@acme.example"}}).status == 200);
  REQUIRE(d.post(customers, d.sue, json{{"id", "acme"}, {"tier", "platinum"}}).status == 200);
  auto ok = d.plaint({"audit", "verify"});
  CHECK_MESSAGE(ok.code == 0, ok.err);
  CHECK(ok.out == "audit chain intact: 0 events over 0 tickets, 4 customer changes over 2 customers\n");

  SUBCASE("a change rewritten behind plaint's back") {
    raw_db raw(d.db);
    CHECK(raw.exec("UPDATE customer_changes SET actor = 'ann' WHERE seq = 4") == "the customer log is append-only");
    CHECK(raw.exec("DELETE FROM customer_changes WHERE seq = 4") == "the customer log is append-only");
    REQUIRE(raw.exec("DROP TRIGGER customer_changes_no_update") == "");
    REQUIRE(raw.exec("UPDATE customer_changes SET actor = 'ann' WHERE seq = 4") == "");
    auto r = d.plaint({"audit", "verify"});
    CHECK(r.code == 1);
    CHECK(r.err == "plaint: the audit chain is broken: customer change 4 was altered: its content no longer matches "
                   "its hash\n");
  }
  SUBCASE("a customer row changed around the log") {
    REQUIRE(raw_db(d.db).exec("UPDATE customers SET tier = 'gold' WHERE id = 'acme'") == "");
    auto r = d.plaint({"audit", "verify"});
    CHECK(r.code == 1);
    CHECK(r.err == "plaint: the audit chain is broken: customer 'acme' has tier 'gold', but its log says "
                   "'platinum'\n");
  }
  SUBCASE("a customer inserted around the log") {
    REQUIRE(raw_db(d.db).exec("INSERT INTO customers (id, name, created_at, updated_at) VALUES ('sly', 'Sly', 0, 0)") ==
            "");
    auto r = d.plaint({"audit", "verify"});
    CHECK(r.code == 1);
    CHECK(r.err == "plaint: the audit chain is broken: customer 'sly' has no recorded changes: its row was written "
                   "around the customer log\n");
  }
}
