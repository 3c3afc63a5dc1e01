// The real `plaint` binary: customer updates that merge, terminal control
// characters rendered harmless in human output, history paging in `show`,
// and idempotency keys pruned by `tick`.
#include <doctest/doctest.h>

#include "tests/cli/cli_fixture.h"
#include "tests/raw_db.h"

using namespace plaint::testing;

namespace {

// Nothing in `text` that a terminal would act on: C0 controls but line feed,
// DEL, C1 controls (UTF-8 C2 80..9F) or a right-to-left override.
bool inert(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80) return false;
  }
  return text.find("\u202e") == std::string::npos;
}

}  // namespace

TEST_CASE("customer add changes only the options given, says so, and logs every change") {
  cli_desk d;
  auto email = d.plaint({"customer", "add", "--id", "acme", "--email", "ops@acme.example"});
  REQUIRE_MESSAGE(email.code == 0, email.err);
  CHECK(email.out == "customer acme saved (ACME Ltd, gold)\n");
  auto same = d.plaint({"customer", "add", "--id", "acme", "--name", "ACME Ltd", "--tier", "gold"});
  CHECK(same.out == "customer acme unchanged (ACME Ltd, gold)\n");
  CHECK(d.plaint({"customer", "add", "--id", "acme", "--email", ""}).code == 0);

  auto shown = d.plaint({"--json", "customer", "show", "acme"});
  REQUIRE(shown.code == 0);
  const auto c = shown.json();
  CHECK(c["tier"] == "gold");
  CHECK(c["name"] == "ACME Ltd");
  CHECK(c["email"] == "");
  REQUIRE(c["changes"].size() == 3);
  CHECK(c["changes"][1]["actor"] == "ann");
  CHECK(c["changes"][1]["changes"] == nlohmann::json{{"email", {{"from", ""}, {"to", "ops@acme.example"}}}});

  auto text = d.plaint({"customer", "show", "acme"});
  CHECK(text.out.find("changes\n") != std::string::npos);
  CHECK(text.out.find("email: ops@acme.example → (none)") != std::string::npos);

  auto added = d.plaint({"customer", "add", "--id", "li", "--name", "李雷"});
  CHECK(added.out == "customer li added (李雷, standard)\n");
  auto nameless = d.plaint({"customer", "add", "--id", "ghost", "--tier", "gold"});
  CHECK(nameless.code == 2);
  CHECK(nameless.err == "plaint: customer 'ghost' does not exist yet; a name is needed to add it\n");
  auto verified = d.plaint({"audit", "verify"});
  CHECK(verified.code == 0);
  CHECK(verified.out == "audit chain intact: 0 events over 0 tickets, 5 customer changes over 3 customers\n");
}

TEST_CASE("control characters in stored text reach no terminal raw, --json keeps the text as stored") {
  cli_desk d;
  const std::string subject = "refund \x1b[2J\x1b]0;pwned\x07 now";
  const std::string description = "line one\nline two \x1b[31mred\r\nthree\roverwrite";
  const std::string owner = "mal\x1b[0mlory";
  REQUIRE(d.plaint({"customer", "add", "--id", "evil", "--name", "Evil \x1b[5mblink\x7f"}).code == 0);
  const std::string id = d.open(subject, "evil", {"--description", description, "--priority", "P1"});
  d.fire_ok(id, {"triage", "--set", "owner=" + owner});
  d.fire_ok(id, {"comment", "--note", "csi \xc2\x9b" "31m and \u202e reversed\nsecond line"});

  auto list = d.plaint({"list"});
  auto show = d.plaint({"show", id});
  auto board = d.plaint({"--now", "2026-11-24T08:00:00Z", "escalations"});
  auto customer = d.plaint({"customer", "show", "evil"});
  auto customers = d.plaint({"customer", "list"});
  for (const auto* r : {&list, &show, &board, &customer, &customers}) {
    REQUIRE_MESSAGE(r->code == 0, r->err);
    CHECK_MESSAGE(inert(r->out), r->out);
  }
  CHECK(list.out.find("refund ␛[2J␛]0;pwned␇ now") != std::string::npos);
  CHECK(board.out.find("mal␛[0mlory") != std::string::npos);
  CHECK(customers.out.find("Evil ␛[5mblink␡") != std::string::npos);
  CHECK(show.out.find("subject      refund ␛[2J␛]0;pwned␇ now\n") != std::string::npos);
  // A multi-line description stays readable, each further line indented
  // under the first, so none can pass for a line of its own.
  CHECK(show.out.find("description  line one\n             line two ␛[31mred\n             three␍overwrite\n") !=
        std::string::npos);
  CHECK(show.out.find("“csi \\u009b31m and \\u202e reversed second line”") != std::string::npos);

  const auto j = d.show(id);
  CHECK(j["subject"] == subject);
  CHECK(j["owner"] == owner);

  auto missing = d.plaint({"customer", "show", "no\x1b[2Jbody"});
  CHECK(missing.code == 3);
  CHECK(missing.err == "plaint: customer 'no␛[2Jbody' does not exist\n");
  auto missing_json = d.plaint({"--json", "customer", "show", "no\x1b[2Jbody"});
  CHECK(missing_json.error_json()["error"]["message"] == "customer 'no\x1b[2Jbody' does not exist");
}

TEST_CASE("show prints the newest 50 events and counts the earlier ones, --all and --json give every event") {
  cli_desk d;
  const std::string id = d.open("a long story");
  for (int i = 1; i < 60; ++i) d.fire_ok(id, {"comment", "--note", "call " + std::to_string(i)});

  auto page = d.plaint({"show", id});
  REQUIRE(page.code == 0);
  CHECK(page.out.find("history (the newest 50 events; 10 earlier not shown: plaint show " + id + " --all)\n") !=
        std::string::npos);
  CHECK(page.out.find("“call 10”") != std::string::npos);
  CHECK(page.out.find("“call 9”") == std::string::npos);
  CHECK(page.out.find("(new) -> intake") == std::string::npos);

  auto all = d.plaint({"show", id, "--all"});
  REQUIRE(all.code == 0);
  CHECK(all.out.find("\nhistory\n") != std::string::npos);
  CHECK(all.out.find("“call 1”") != std::string::npos);
  CHECK(all.out.find("open             (new) -> intake") != std::string::npos);

  CHECK(d.show(id)["history"].size() == 60);
  const std::string short_one = d.open("short");
  CHECK(d.plaint({"show", short_one}).out.find("\nhistory\n") != std::string::npos);
}

TEST_CASE("tick --idempotency-retention prunes expired keys, after which the key is a new request") {
  cli_desk d;
  auto first = d.plaint({"open", "--customer", "acme", "--subject", "x", "--idempotency-key", "k1"});
  REQUIRE(first.code == 0);
  const std::string later = "2026-11-26T08:00:00Z";  // two days on
  auto plain_tick = d.plaint({"--now", later, "tick"});
  REQUIRE(plain_tick.code == 0);
  CHECK(plain_tick.out.find("pruned") == std::string::npos);
  CHECK(raw_db(d.db).integer("SELECT count(*) FROM idempotency") == 1);  // kept unless asked

  auto pruning = d.plaint({"--now", later, "tick", "--idempotency-retention", "86400"});
  REQUIRE_MESSAGE(pruning.code == 0, pruning.err);
  CHECK(pruning.out.find("pruned 1 expired idempotency keys\n") != std::string::npos);
  CHECK(raw_db(d.db).integer("SELECT count(*) FROM idempotency") == 0);
  auto again = d.plaint({"--now", later, "open", "--customer", "acme", "--subject", "x", "--idempotency-key", "k1"});
  REQUIRE(again.code == 0);
  CHECK(again.out != first.out);
  CHECK(d.plaint({"tick", "--idempotency-retention", "0"}).code == 2);
}
