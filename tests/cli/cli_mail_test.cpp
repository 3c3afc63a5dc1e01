// `plaint mail ingest` as an MTA runs it: one process per message on stdin,
// over the real-world-shaped messages of tests/data/mail (what each must
// give is in tests/data/mail/expected.json and README.md).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/cli/cli_fixture.h"
#include "tests/raw_db.h"

using namespace plaint::testing;
using nlohmann::json;

namespace {

const std::string mail_dir = std::string(PLAINT_SOURCE_DIR) + "/tests/data/mail/";

std::string message(const std::string& name) {
  std::ifstream in(mail_dir + name, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read " << mail_dir + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const json& expected() {
  static const json j = json::parse(message("expected.json"));
  return j;
}

struct mail_desk : cli_desk {
  run_result ingest(const std::string& raw, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"--json", "mail", "ingest", "--own-address", "support@desk.example"};
    args.insert(args.end(), extra.begin(), extra.end());
    return plaint(args, raw);
  }
  run_result ingest_file(const std::string& name) const { return ingest(message(name)); }
  // How much the database holds: tickets, events, customers, attachments, messages.
  std::string counts() const {
    raw_db raw(db);
    return std::to_string(raw.integer("SELECT count(*) FROM tickets")) + "/" +
           std::to_string(raw.integer("SELECT count(*) FROM events")) + "/" +
           std::to_string(raw.integer("SELECT count(*) FROM customers")) + "/" +
           std::to_string(raw.integer("SELECT count(*) FROM attachments")) + "/" +
           std::to_string(raw.integer("SELECT count(*) FROM mail_links"));
  }
  json customer(const std::string& id) const {
    auto r = plaint({"--json", "customer", "show", id});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.json();
  }
};

void check_text(const std::string& text, const json& want) {
  for (const auto& s : want["body_contains"]) CHECK_MESSAGE(text.find(s.get<std::string>()) != std::string::npos,
                                                           "missing: " << s << " in: " << text);
  for (const auto& s : want["body_excludes"]) CHECK_MESSAGE(text.find(s.get<std::string>()) == std::string::npos,
                                                           "should not contain: " << s << " in: " << text);
}

}  // namespace

TEST_CASE("every message of the corpus: new complaints in any charset, replies, duplicates, noise and junk") {
  mail_desk d;
  // New messages first, so that plain-ascii.eml is ticket 1, which the replies name.
  const std::vector<std::string> order{
      "plain-ascii.eml", "utf8.eml", "gb2312.eml", "gbk.eml", "big5.eml", "html-only.eml",
      "multipart-attachment.eml", "latin1.eml", "no-message-id.eml", "reply-subject.eml",
      "reply-references.eml", "duplicate.eml", "auto-reply.eml", "bulk.eml", "bounce.eml", "from-self.eml",
      "malformed.eml"};
  REQUIRE(order.size() == expected().size());
  for (const auto& name : order) {
    CAPTURE(name);
    const json& want = expected().at(name);
    const std::string kind = want["kind"];
    const std::string before = d.counts();
    auto r = d.ingest_file(name);
    if (kind == "new") {
      REQUIRE_MESSAGE(r.code == 0, r.err);
      const json out = r.json();
      CHECK(out["created"] == true);
      const json t = d.show(std::to_string(out["ticket"].get<long>()));
      CHECK(t["subject"] == want["subject"]);
      CHECK(t["channel"] == "email");
      CHECK(t["customer"] == want["from"]);
      check_text(t["description"], want);
      CHECK(d.customer(want["from"])["name"] == want["name"]);
      CHECK(d.customer(want["from"])["email"] == want["from"]);
      REQUIRE(t["attachments"].size() == want["attachments"].size());
      for (std::size_t i = 0; i < want["attachments"].size(); ++i) {
        CHECK(t["attachments"][i]["name"] == want["attachments"][i]["name"]);
        CHECK(t["attachments"][i]["content_type"] == want["attachments"][i]["content_type"]);
        CHECK(t["attachments"][i]["size"] == want["attachments"][i]["size"]);
      }
    } else if (kind == "reply") {
      REQUIRE_MESSAGE(r.code == 0, r.err);
      CHECK(r.json()["created"] == false);
      CHECK(r.json()["ticket"] == want["reply_to_ticket"]);
      CHECK(r.json()["event"] == "comment");
      const json t = d.show(std::to_string(want["reply_to_ticket"].get<long>()));
      const json& last = t["history"].back();
      CHECK(last["event"] == "comment");
      CHECK(last["actor"] == "mail:" + want["from"].get<std::string>());
      check_text(last["payload"]["note"], want);
    } else if (kind == "duplicate") {
      REQUIRE_MESSAGE(r.code == 0, r.err);
      CHECK(r.json()["duplicate"] == true);
      CHECK(r.json()["ticket"] == 1);
      CHECK(d.counts() == before);  // nothing written again
    } else if (kind == "noise") {
      CHECK_MESSAGE(r.code == 0, r.err);
      CHECK(r.err.find("not taken") != std::string::npos);
      CHECK(r.json()["ticket"].is_null());
      CHECK(d.counts() == before);
    } else {
      CHECK(kind == "malformed");
      CHECK(r.code == 65);  // EX_DATAERR: the MTA bounces it
      CHECK(r.err.find("no usable sender") != std::string::npos);
      CHECK(d.counts() == before);
    }
  }
  // The sender of a second message is the same customer, found by address
  // (case does not matter).
  std::string again = message("plain-ascii.eml");
  again.replace(again.find("Message-ID: <"), 13, "Message-ID: <again-");
  again.replace(again.find("mary.jones@shop.example"), 23, "Mary.Jones@Shop.example");
  auto r = d.ingest(again);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.json()["customer"] == "mary.jones@shop.example");
  // Chinese mail is searchable by a two-character word.
  auto found = d.plaint({"--json", "list", "--search", "包裹"});
  REQUIRE(found.code == 0);
  REQUIRE(found.json().size() == 1);
  CHECK(found.json()[0]["subject"] == "包裹破损，要求退款");
}

TEST_CASE("a reply to a ticket awaiting the customer is customer_replied, and one to a closed ticket opens anew") {
  mail_desk d;
  REQUIRE(d.ingest_file("plain-ascii.eml").code == 0);
  d.fire_ok("1", {"triage", "--set", "owner=ann"});
  d.fire_ok("1", {"start"});
  d.fire_ok("1", {"request_info", "--note", "Which model is it?"});
  CHECK(d.show("1")["state"] == "awaiting_customer");
  auto r = d.ingest_file("reply-subject.eml");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.json()["event"] == "customer_replied");
  CHECK(d.show("1")["state"] == "remediation");

  // Once it is closed, a reply is a new complaint.
  d.fire_ok("1", {"resolve", "--set", "resolution_code=fixed", "--note", "sent a new kettle"});
  d.fire_ok("1", {"follow_up_done", "--set", "csat=4"});
  const std::string state = d.show("1")["state"];
  if (state != "closed") d.fire_ok("1", {"close"});
  REQUIRE(d.show("1")["state"] == "closed");
  auto late = d.ingest_file("reply-references.eml");
  REQUIRE_MESSAGE(late.code == 0, late.err);
  CHECK(late.json()["created"] == true);
  CHECK(late.json()["ticket"] == 2);
}

TEST_CASE("a message the desk cannot take now is EX_TEMPFAIL (75), one it can never take EX_DATAERR (65), both write nothing") {
  mail_desk d;
  const std::string before = d.counts();
  {
    raw_db lock(d.db);
    REQUIRE(lock.exec("BEGIN IMMEDIATE") == "");
    auto r = d.plaint({"--busy-timeout", "100", "mail", "ingest"}, message("plain-ascii.eml"));
    CHECK(r.code == 75);
    CHECK(r.err.find("busy") != std::string::npos);
    REQUIRE(lock.exec("ROLLBACK") == "");
  }
  CHECK(d.counts() == before);

  auto missing = run_plaint({"--db", d.dir.file("nothing-here/plaint.db"), "mail", "ingest"}, message("plain-ascii.eml"));
  CHECK(missing.code == 75);

  auto big = d.ingest(message("plain-ascii.eml") + std::string(4096, 'x'), {"--max-size", "2048"});
  CHECK(big.code == 65);
  CHECK(big.err.find("larger than the 2048 byte limit") != std::string::npos);
  CHECK(d.ingest("").code == 65);
  CHECK(d.ingest(std::string("\0\1\2 not mail", 13)).code == 65);
  CHECK(d.counts() == before);

  // An attachment over its limit is not kept, and the ticket says so.
  auto small = d.ingest(message("multipart-attachment.eml"), {"--max-attachment", "500"});
  REQUIRE_MESSAGE(small.code == 0, small.err);
  const json t = d.show(std::to_string(small.json()["ticket"].get<long>()));
  REQUIRE(t["attachments"].size() == 2);  // the 613-byte PDF is not kept
  CHECK(t["description"].get<std::string>().find("[not kept: receipt.pdf (613 bytes, over the 500 bytes limit)]") !=
        std::string::npos);
}

TEST_CASE("with working_hours_only, mail that falls due at night waits for the morning, P1 mail never waits") {
  mail_desk d;
  std::ifstream in(std::string(PLAINT_SOURCE_DIR) + "/examples/policy-business-hours.toml");
  std::stringstream text;
  text << in.rdbuf();
  const std::string file = d.dir.file("policy.toml");
  std::ofstream(file) << text.str() << "\n[notifications]\nworking_hours_only = true\n";
  auto loaded = d.plaint({"policy", "load", file});
  REQUIRE_MESSAGE(loaded.code == 0, loaded.err);
  d.now = "2026-11-27T08:00:00Z";  // Friday 09:00 in Berlin, when the desk opens
  const std::string p3 = d.open("slow refund", "acme", {"--priority", "P3"});
  const std::string p1 = d.open("gas smell", "acme", {"--priority", "P1"});
  d.now = "2026-11-28T02:00:00Z";  // Saturday 03:00: the timers are overdue (the server was down)
  REQUIRE(d.plaint({"tick"}).code == 0);
  raw_db raw(d.db);
  const auto monday_9 = raw.integer("SELECT unixepoch('2026-11-30T08:00:00Z')");
  const auto saturday_3 = raw.integer("SELECT unixepoch('2026-11-28T02:00:00Z')");
  CHECK(raw.integer("SELECT count(*) FROM outbox WHERE ticket = " + p3) >= 1);
  CHECK(raw.integer("SELECT count(*) FROM outbox WHERE ticket = " + p3 + " AND next_at <> " + std::to_string(monday_9)) == 0);
  CHECK(raw.integer("SELECT count(*) FROM outbox WHERE ticket = " + p1) >= 1);
  CHECK(raw.integer("SELECT count(*) FROM outbox WHERE ticket = " + p1 + " AND next_at <> " + std::to_string(saturday_3)) == 0);
}

TEST_CASE("a policy's notifications table is checked like the rest") {
  mail_desk d;
  std::ifstream in(std::string(PLAINT_SOURCE_DIR) + "/workflows/policy.toml");
  std::stringstream text;
  text << in.rdbuf();
  const std::string policy = text.str();
  const std::string file = d.dir.file("bad.toml");
  auto with = [&](const std::string& line) {
    std::string p = policy;
    p.replace(p.find("working_hours_only = false"), 26, line);
    std::ofstream(file) << p;
    return d.plaint({"policy", "load", file});
  };
  auto r = with("working_hours_only = \"yes\"");
  CHECK(r.code == 2);
  CHECK(r.err.find("notifications.working_hours_only") != std::string::npos);
  r = with("quiet = true");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown key 'quiet'") != std::string::npos);
  CHECK(with("working_hours_only = true").code == 0);
}
