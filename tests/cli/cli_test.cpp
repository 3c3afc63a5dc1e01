#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "storage/schema_version.h"
#include "tests/cli/cli_fixture.h"

using plaint::testing::cli_desk;
using plaint::testing::run_plaint;

TEST_CASE("init is idempotent and names the database") {
  cli_desk d;
  auto r = d.plaint({"init"});
  CHECK(r.code == 0);
  CHECK(r.out.find("database ready: sqlite") != std::string::npos);
  CHECK(r.out.find(fmt::format("schema {}, ", plaint::storage::current_schema)) != std::string::npos);
  CHECK(r.out.find("; policy built-in policy.toml") != std::string::npos);
}

TEST_CASE("open prints the new id, and with --json the ticket") {
  cli_desk d;
  CHECK(d.open() == "1");
  auto r = d.plaint({"--json", "open", "--customer", "acme", "--subject", "wrong bill", "--category", "billing",
                     "--priority", "P2", "--channel", "email"});
  REQUIRE(r.code == 0);
  auto t = r.json();
  CHECK(t["id"] == 2);
  CHECK(t["state"] == "intake");
  CHECK(t["category"] == "billing");
  CHECK(t["priority"] == "P2");
  CHECK(t["channel"] == "email");
  CHECK(t["tier"] == "gold");
  CHECK(t["version"] == 1);
  CHECK(t["created_at"] == "2026-11-23T08:00:00Z");
}

TEST_CASE("event prints the new state and show --json carries the SPEC fields") {
  cli_desk d;
  const auto id = d.open();
  auto r = d.plaint({"event", id, "triage", "--set", "owner=bob", "--set", "priority=P1", "--note", "taking it"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "triage\n");
  auto t = d.show(id);
  for (const char* key : {"id", "state", "owner", "level", "priority", "category", "channel", "customer", "subject",
                          "version", "created_at", "sla", "history"})
    CHECK_MESSAGE(t.contains(key), key);
  for (const char* key : {"first_response_due", "resolution_due", "paused", "breached"})
    CHECK_MESSAGE(t["sla"].contains(key), key);
  CHECK(t["owner"] == "bob");
  CHECK(t["priority"] == "P1");
  CHECK(t["version"] == 2);
  CHECK(t["sla"]["first_response_due"] == "2026-11-23T08:45:00Z");  // P1 for gold: 45 minutes
  REQUIRE(t["history"].size() == 2);
  const auto& h0 = t["history"][0];
  CHECK(h0["seq"] == 1);
  CHECK(h0["event"] == "open");
  CHECK(h0["from"].is_null());
  CHECK(h0["to"] == "intake");
  CHECK(h0["actor"] == "ann");
  CHECK(h0["at"] == "2026-11-23T08:00:00Z");
  CHECK(t["history"][1]["from"] == "intake");
  CHECK(t["history"][1]["to"] == "triage");
  CHECK(t["history"][1]["payload"]["note"] == "taking it");
}

TEST_CASE("show prints a readable ticket page with clocks and history") {
  cli_desk d;
  const auto id = d.open("洗衣机漏水", "wang");
  d.now = "2026-11-23T20:00:00Z";
  auto r = d.plaint({"show", id});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("洗衣机漏水") != std::string::npos);
  CHECK(r.out.find("wang (platinum)") != std::string::npos);
  CHECK(r.out.find("first response") != std::string::npos);
  CHECK(r.out.find("OVERDUE by 8h 00m") != std::string::npos);  // P3 platinum: 4h target
  CHECK(r.out.find("BREACHED") != std::string::npos);
  CHECK(r.out.find("open") != std::string::npos);
}

TEST_CASE("the exit codes follow the specification") {
  cli_desk d;
  const auto id = d.open();
  CHECK(d.plaint({"show", "99"}).code == 3);
  CHECK(d.plaint({"event", "99", "triage", "--set", "owner=x"}).code == 3);
  CHECK(d.plaint({"event", id, "resolve"}).code == 4);
  CHECK(d.plaint({"event", id, "triage"}).code == 4);
  CHECK(d.plaint({"event", id, "comment", "--note", "hi", "--expect-version", "5"}).code == 5);
  CHECK(d.plaint({"event", id, "comment", "--note", "hi", "--expect-version", "1"}).code == 0);
  CHECK(d.plaint({"frobnicate"}).code == 2);
  CHECK(d.plaint({"list", "--colour", "red"}).code == 2);
  CHECK(d.plaint({"open", "--customer", "acme", "--subject", "x", "--channel", "pigeon"}).code == 2);
  CHECK(d.plaint({"open", "--customer", "nobody", "--subject", "x"}).code == 3);
}

TEST_CASE("errors are one sentence on stderr, or a JSON error object with --json and nothing on stdout") {
  cli_desk d;
  const auto id = d.open();
  auto r = d.plaint({"event", id, "resolve"});
  CHECK(r.out.empty());
  CHECK(r.err == "plaint: ticket 1 is in intake, which accepts: triage, reject, comment, assign, escalate, set_priority\n");
  auto j = d.plaint({"--json", "event", id, "start"});
  CHECK(j.code == 4);
  CHECK(j.out.empty());
  auto e = j.error_json();
  CHECK(e["error"]["code"] == "not_allowed");
  CHECK(e["error"]["message"] == "ticket 1 is in intake, which accepts: triage, reject, comment, assign, escalate, set_priority");
  auto usage = d.plaint({"--json", "show"});
  CHECK(usage.code == 2);
  CHECK(usage.out.empty());
  CHECK(usage.error_json()["error"]["code"] == "invalid");
}

TEST_CASE("list filters by state, owner, customer, level and breach, newest first") {
  cli_desk d;
  const auto a = d.open("one");
  const auto b = d.open("two", "wang");
  const auto c = d.open("three");
  d.fire_ok(b, {"triage", "--set", "owner=bob"});
  d.fire_ok(c, {"escalate"});
  auto ids = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--json", "list"});
    auto r = d.plaint(args);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    std::vector<int> out;
    for (const auto& t : r.json()) out.push_back(t["id"].get<int>());
    return out;
  };
  CHECK(ids({}) == std::vector<int>{3, 2, 1});
  CHECK(ids({"--state", "triage"}) == std::vector<int>{2});
  CHECK(ids({"--owner", "bob"}) == std::vector<int>{2});
  CHECK(ids({"--customer", "acme"}) == std::vector<int>{3, 1});
  CHECK(ids({"--level", "2"}) == std::vector<int>{3});
  CHECK(ids({"--open"}) == std::vector<int>{3, 2, 1});
  CHECK(ids({"--breached"}).empty());
  d.now = "2026-11-25T08:00:00Z";
  CHECK(ids({"--breached"}) == std::vector<int>{3, 2, 1});
  (void)a;
}

TEST_CASE("list pages with a cursor") {
  cli_desk d;
  for (int i = 0; i < 5; ++i) d.open("ticket " + std::to_string(i));
  auto first = d.plaint({"list", "--limit", "2"});
  REQUIRE(first.code == 0);
  CHECK(first.out.find("next cursor 4") != std::string::npos);
  auto second = d.plaint({"--json", "list", "--limit", "2", "--cursor", "4"});
  REQUIRE(second.code == 0);
  auto page = second.json();
  REQUIRE(page.size() == 2);
  CHECK(page[0]["id"] == 3);
  CHECK(page[1]["id"] == 2);
  auto last = d.plaint({"--json", "list", "--limit", "2", "--cursor", "2"});
  CHECK(last.json().size() == 1);
  CHECK(last.err.empty());
}

TEST_CASE("Chinese complaints round-trip and are found by search") {
  cli_desk d;
  const auto id = d.open("快递延误三天，要求退款", "wang", {"--description", "包裹在上海仓库停留了三天。客户非常不满。"});
  d.open("printer jams on every page");
  d.fire_ok(id, {"comment", "--note", "已联系物流公司核实"});
  auto t = d.show(id);
  CHECK(t["subject"] == "快递延误三天，要求退款");
  CHECK(t["description"] == "包裹在上海仓库停留了三天。客户非常不满。");
  auto search = [&](const std::string& q) {
    auto r = d.plaint({"--json", "list", "--search", q});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.json().size();
  };
  CHECK(search("退款") == 1);
  CHECK(search("快递延误") == 1);
  CHECK(search("上海仓库") == 1);
  CHECK(search("物流公司") == 1);
  CHECK(search("PRINTER") == 1);
  CHECK(search("jams on") == 1);
  CHECK(search("nothing like this") == 0);
}

TEST_CASE("workflow show prints the table from the machine in three formats") {
  cli_desk d;
  auto text = d.plaint({"workflow", "show"});
  REQUIRE(text.code == 0);
  CHECK(text.out.find("workflow complaint") != std::string::npos);
  CHECK(text.out.find("resolve           follow_up          has_resolution    record_resolution") != std::string::npos);
  auto mermaid = d.plaint({"workflow", "show", "service_request", "--format", "mermaid"});
  CHECK(mermaid.out.find("stateDiagram-v2") != std::string::npos);
  CHECK(mermaid.out.find("in_progress --> done : complete") != std::string::npos);
  auto dot = d.plaint({"workflow", "show", "complaint", "--format", "dot"});
  CHECK(dot.out.find("digraph complaint") != std::string::npos);
  CHECK(d.plaint({"workflow", "show", "incident"}).code == 3);
  CHECK(d.plaint({"workflow", "show", "--format", "svg"}).code == 2);
}

TEST_CASE("export and import round-trip a database, audit chain included") {
  cli_desk d;
  const auto id = d.open("退款没有到账", "wang");
  d.fire_ok(id, {"triage", "--set", "owner=bob"});
  d.fire_ok(id, {"start"});
  d.fire_ok(id, {"resolve", "--set", "resolution_code=refund", "--note", "已退款"});
  d.open("second");
  auto exported = d.plaint({"export"});
  REQUIRE(exported.code == 0);
  const std::string file = d.dir.file("dump.jsonl");
  std::ofstream(file) << exported.out;

  plaint::testing::cli_desk other;
  // `other` has customers already: import must refuse and change nothing.
  CHECK(other.plaint({"import", file}).code == 5);

  const std::string fresh = d.dir.file("fresh.db");
  auto imported = run_plaint({"--db", fresh, "import", file});
  REQUIRE_MESSAGE(imported.code == 0, imported.err);
  CHECK(imported.out == "imported 2 customers, 2 tickets, 5 events, 9 timers\n");
  CHECK(run_plaint({"--db", fresh, "audit", "verify"}).code == 0);
  auto again = run_plaint({"--db", fresh, "export"});
  CHECK(again.out == exported.out);
  auto found = run_plaint({"--db", fresh, "--json", "list", "--search", "退款"});
  CHECK(found.json().size() == 1);

  auto csv = d.plaint({"export", "--format", "csv"});
  REQUIRE(csv.code == 0);
  CHECK(csv.out.rfind("id,workflow,state,priority", 0) == 0);
  CHECK(csv.out.find("退款没有到账") != std::string::npos);
}

TEST_CASE("audit verify passes on an intact database") {
  cli_desk d;
  d.fire_ok(d.open(), {"comment", "--note", "hello"});
  auto r = d.plaint({"audit", "verify"});
  CHECK(r.code == 0);
  CHECK(r.out == "audit chain intact: 2 events over 1 tickets, 2 customer changes over 2 customers\n");
}

TEST_CASE("an idempotent open returns the same ticket") {
  cli_desk d;
  auto a = d.plaint({"open", "--customer", "acme", "--subject", "x", "--idempotency-key", "k1"});
  auto b = d.plaint({"open", "--customer", "acme", "--subject", "x", "--idempotency-key", "k1"});
  CHECK(a.code == 0);
  CHECK(b.code == 0);
  CHECK(a.out == b.out);
  auto c = d.plaint({"open", "--customer", "acme", "--subject", "y", "--idempotency-key", "k1"});
  CHECK(c.code == 5);
  auto list = d.plaint({"--json", "list"});
  CHECK(list.json().size() == 1);
}
