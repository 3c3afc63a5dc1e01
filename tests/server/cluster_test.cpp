// Several `plaint serve` nodes on one PostgreSQL database (SPEC §8): no lost
// update, every timer fired once, one audit chain, every node's stream in
// seq order; a node killed mid-load loses nothing it acknowledged; the
// database restarted mid-load is a 503 meanwhile and no restart of a node.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "tests/pg_fixture.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

struct cluster {
  server_desk& d;
  std::vector<std::unique_ptr<server_process>> nodes;

  cluster(server_desk& desk, int n) : d(desk) {
    for (int i = 0; i < n; ++i) add();
    d.http = std::make_unique<http_client>(nodes[0]->port());  // d.ticket() and friends ask node 1
  }
  ~cluster() {
    d.http.reset();
    for (auto& n : nodes)
      if (n->running()) CHECK_MESSAGE(n->stop() == 0, "a node did not stop cleanly: " << n->errors());
  }
  void add() {
    nodes.push_back(std::make_unique<server_process>(
        d.db, d.dir.file("node" + std::to_string(nodes.size() + 1) + ".err"),
        std::vector<std::string>{"--retry-base", "1"}));
  }
  int port(std::size_t i) const { return nodes[i]->port(); }
};

http_response post_to(http_client& c, const std::string& target, const std::string& token, const json& body,
                      header_list more = {}) {
  return c.request("POST", target, body.dump(), server_desk::auth(token, std::move(more)));
}

// A note from the customer on ticket `id` (it stops no clock).
http_response customer_note(http_client& c, const std::string& token, std::int64_t id, const std::string& note) {
  return post_to(c, "/api/v1/tickets/" + std::to_string(id) + "/events", token,
                 {{"event", "comment"}, {"note", note}, {"fields", {{"from", "customer"}}}});
}

// A stream from seq 1 (Last-Event-ID 0): the replay, then live.
http_client whole_stream(int port, const std::string& token) {
  http_client c(port);
  REQUIRE(c.send_request("GET", "/api/v1/stream", "", server_desk::auth(token, {{"Last-Event-ID", "0"}})));
  http_response head;
  REQUIRE(c.read_head(head));
  REQUIRE(head.status == 200);
  return c;
}

// Reads a stream until `last` arrived: every seq from 1 to `last` exactly
// once and in order, or the first one out of place.
std::string stream_in_order(http_client& s, std::int64_t last) {
  std::int64_t expect = 1;
  while (expect <= last) {
    auto m = s.next_event(10s);
    if (!m) return "the stream stopped after seq " + std::to_string(expect - 1);
    const std::int64_t seq = std::stoll(m->id);
    if (seq != expect) return "seq " + std::to_string(seq) + " came where " + std::to_string(expect) + " was due";
    ++expect;
  }
  return "";
}

// The audit chain verified, and its length: seqs run gap-free from 1.
std::int64_t verified_length(server_desk& d) {
  auto r = d.plaint({"--json", "audit", "verify"});
  REQUIRE_MESSAGE(r.code == 0, r.out << r.err);
  return r.json()["events"];
}

bool eventually(const std::function<bool()>& done, std::chrono::seconds within = 30s) {
  for (const auto until = std::chrono::steady_clock::now() + within; !done();) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

}  // namespace

TEST_CASE("three nodes on one database: no lost update, every timer fired once, one chain, every stream in order") {
  pg_database pdb;
  server_desk d(false, pdb.url);
  d.load_fast_p1_policy();
  cluster c(d, 3);
  std::vector<http_client> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(whole_stream(c.port(i), d.sue));

  // Twelve P1 tickets, opened round the nodes: each has a warning and a
  // breach due within 3 s, for all three schedulers to race for.
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    http_client h(c.port(i % 3));
    auto r = post_to(h, "/api/v1/tickets", d.ann,
                     {{"customer", i % 2 ? "wang" : "acme"}, {"subject", "节点 " + std::to_string(i)}, {"priority", "P1"}});
    REQUIRE_MESSAGE(r.status == 201, r.body);
    ids.push_back(r.json()["id"]);
  }

  // Customer notes without expected_version, from every node at once: each
  // is taken (a stale read is retried, never lost).
  std::mutex mu;
  std::map<std::int64_t, int> notes;
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int n = 0; n < 3; ++n)
    writers.emplace_back([&, n] {
      http_client h(c.port(n));
      for (int k = 0; k < 60; ++k) {
        const std::int64_t id = ids[static_cast<std::size_t>((k * 7 + n) % 12)];
        auto r = customer_note(h, d.ann, id, "还在等 " + std::to_string(k));
        if (r.status != 200) {
          ++refused;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ++notes[id];
      }
    });
  // Read-modify-write with expected_version on one ticket from two nodes:
  // each version is taken by at most one of them.
  const std::int64_t raced = d.open("两个节点抢同一个版本")["id"];
  std::atomic<int> won{0}, lost{0};
  for (int n = 0; n < 2; ++n)
    writers.emplace_back([&, n] {
      http_client h(c.port(n + 1));
      const std::string target = "/api/v1/tickets/" + std::to_string(raced);
      for (int k = 0; k < 30; ++k) {
        auto t = h.request("GET", target, "", server_desk::auth(d.sue));
        if (t.status != 200) continue;
        auto r = post_to(h, target + "/events", d.bob,
                         {{"event", "comment"}, {"note", "race " + std::to_string(k)}, {"fields", {{"from", "customer"}}},
                          {"expected_version", t.json()["version"]}});
        if (r.status == 200) ++won;
        if (r.status == 409) {
          ++lost;
          CHECK(error_code(r) == "conflict");
        }
      }
    });
  for (auto& t : writers) t.join();
  CHECK(refused == 0);
  CHECK(won + lost == 60);
  CHECK(won >= 1);
  {
    const json t = d.ticket(raced);
    std::int64_t version = 0;
    for (const auto& e : t["history"]) CHECK(e["version"] == ++version);
    CHECK(t["version"] == 1 + won);  // every win stored, no loss stored
  }

  // Every ticket's warning and breach fire, once each, whichever node got there.
  std::string waiting;
  const bool all_escalated = eventually([&] {
    for (auto id : ids) {
      bool escalated = false;
      const json t = d.ticket(id);
      for (const auto& e : t["history"]) escalated = escalated || e["event"] == "escalate";
      waiting = escalated ? "" : t.dump();
      if (!escalated) return false;
    }
    return true;
  });
  REQUIRE_MESSAGE(all_escalated, waiting);
  std::this_thread::sleep_for(1500ms);  // a second firing, were there one, would show by now
  for (auto id : ids) {
    const json t = d.ticket(id);
    std::map<std::string, int> kinds;
    int comments = 0;
    std::int64_t version = 0;
    for (const auto& e : t["history"]) {
      CHECK(e["version"] == ++version);  // no version taken twice, none skipped
      if (e["event"] == "comment") ++comments;
      if (e["event"] == "sla_warning" || e["event"] == "escalate")
        ++kinds[e["event"].get<std::string>() + "/" + e["payload"]["clock"].get<std::string>()];
    }
    CHECK(t["version"] == version);
    CHECK(kinds == std::map<std::string, int>{{"escalate/first_response", 1}, {"sla_warning/first_response", 1}});
    CHECK(comments == notes[id]);
  }

  // One chain, and every stream saw all of it, in order.
  const std::int64_t last = verified_length(d);
  CHECK(last == 12 + 180 + 1 + won + 24);
  for (auto& s : streams) CHECK(stream_in_order(s, last) == "");
}

TEST_CASE("a node killed with SIGKILL mid-load loses nothing it acknowledged, and the others carry on") {
  pg_database pdb;
  server_desk d(false, pdb.url);
  cluster c(d, 2);
  const std::int64_t id = d.open("kill a node")["id"];
  std::mutex mu;
  std::vector<std::int64_t> acknowledged;  // versions answered 200
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int n = 0; n < 2; ++n)
    load.emplace_back([&, n] {
      http_client h(c.port(static_cast<std::size_t>(n)));
      for (int k = 0; !stop; ++k) {
        auto r = customer_note(h, d.ann, id, std::to_string(n) + "/" + std::to_string(k));
        if (r.status == 0) {  // the node is gone, and the connection with it
          if (n == 1) return;
          h.close();
          continue;
        }
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(r.json()["version"]);
        }
      }
    });
  std::this_thread::sleep_for(1500ms);
  c.nodes[1]->kill();
  std::this_thread::sleep_for(1000ms);
  stop = true;
  for (auto& t : load) t.join();

  const json t = d.ticket(id);
  std::set<std::int64_t> stored;
  for (const auto& e : t["history"]) stored.insert(e["version"].get<std::int64_t>());
  REQUIRE(acknowledged.size() > 20);
  for (auto v : acknowledged) CHECK_MESSAGE(stored.count(v) == 1, "acknowledged version " << v << " is missing");
  auto verified = d.plaint({"audit", "verify"});
  CHECK_MESSAGE(verified.code == 0, verified.out << verified.err);
  // The surviving node still takes writes.
  CHECK(customer_note(*d.http, d.ann, id, "still here").status == 200);
}

namespace {

// A PostgreSQL server of this test's own, to stop and start again.
struct private_pg {
  temp_dir dir;
  std::string url;
  private_pg() { url = run("start"); }
  ~private_pg() { run("stop"); }
  std::string run(const std::string& what) {
    const std::string cmd =
        std::string("'") + PLAINT_SOURCE_DIR + "/tests/pg/server.sh' " + what + " '" + dir.file("pg") + "'";
    FILE* out = ::popen(cmd.c_str(), "r");
    REQUIRE(out != nullptr);
    char line[512] = {};
    const bool read = std::fgets(line, sizeof line, out) != nullptr;
    REQUIRE(::pclose(out) == 0);
    std::string text = read ? line : "";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }
};

}  // namespace

TEST_CASE("PostgreSQL restarted mid-load: the nodes answer 503 meanwhile and recover without a restart") {
  private_pg pg;
  server_desk d(false, pg.url);
  cluster c(d, 2);
  const std::int64_t id = d.open("restart the database")["id"];
  std::mutex mu;
  std::vector<std::int64_t> acknowledged;
  std::map<int, int> statuses;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int n = 0; n < 2; ++n)
    load.emplace_back([&, n] {
      http_client h(c.port(static_cast<std::size_t>(n)));
      for (int k = 0; !stop; ++k) {
        auto r = customer_note(h, d.ann, id, std::to_string(k));
        if (r.status == 0) h.close();  // a closed keep-alive
        std::lock_guard<std::mutex> lock(mu);
        ++statuses[r.status];
        if (r.status == 200) acknowledged.push_back(r.json()["version"]);
        if (r.status == 503) CHECK(error_code(r) == "unavailable");
        if (r.status != 200) std::this_thread::sleep_for(20ms);
      }
    });
  std::this_thread::sleep_for(1000ms);
  pg.run("stop");
  std::this_thread::sleep_for(1500ms);
  {
    std::lock_guard<std::mutex> lock(mu);
    statuses.clear();
  }
  std::this_thread::sleep_for(500ms);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(statuses[503] > 0);  // while it is down: 503, nothing else
    CHECK(statuses[200] == 0);
  }
  pg.run("resume");
  // Both nodes take writes again by themselves.
  for (int n = 0; n < 2; ++n) {
    http_client h(c.port(static_cast<std::size_t>(n)));
    CHECK(eventually([&] {
      auto r = customer_note(h, d.ann, id, "back");
      if (r.status == 0) h.close();
      return r.status == 200;
    }));
  }
  stop = true;
  for (auto& t : load) t.join();
  const json t = d.ticket(id);
  std::set<std::int64_t> stored;
  for (const auto& e : t["history"]) stored.insert(e["version"].get<std::int64_t>());
  for (auto v : acknowledged) CHECK_MESSAGE(stored.count(v) == 1, "acknowledged version " << v << " is missing");
  auto verified = d.plaint({"audit", "verify"});
  CHECK_MESSAGE(verified.code == 0, verified.out << verified.err);
}

TEST_CASE("migrate moves a desk from SQLite to PostgreSQL and back without loss, and refuses a database in use") {
  server_desk d(false);
  for (int i = 0; i < 5; ++i)
    REQUIRE(d.plaint({"open", "--customer", i % 2 ? "wang" : "acme", "--subject", "冰箱 " + std::to_string(i) + " 不制冷"}).code == 0);
  REQUIRE(d.plaint({"event", "1", "comment", "--note", "师傅明天上门"}).code == 0);
  REQUIRE(d.plaint({"user", "add", "--id", "lead", "--name", "Lead", "--email", "lead@desk.example", "--role",
                    "supervisor", "--team", "L1"}).code == 0);
  auto hook = d.plaint({"webhook", "add", "--url", "http://127.0.0.1:9/hook", "--secret", "0123456789abcdef"});
  REQUIRE_MESSAGE(hook.code == 0, hook.err);
  REQUIRE(d.plaint({"event", "2", "comment", "--note", "owed to the webhook"}).code == 0);  // a pending delivery

  pg_database pdb;
  auto moved = run_plaint({"--json", "migrate", "--from", d.db, "--to", pdb.url});
  REQUIRE_MESSAGE(moved.code == 0, moved.err);
  const json n = moved.json();
  CHECK(n["tickets"] == 5);
  CHECK(n["events"] == 7);
  CHECK(n["people"] == 1);
  CHECK(n["tokens"] == 4);
  CHECK(n["webhooks"] == 1);
  CHECK(n["deliveries"] == 1);
  CHECK(n["audit_ok"] == true);

  // Back into a new SQLite file: the same desk, record for record.
  const std::string back = d.dir.file("back.db");
  auto returned = run_plaint({"migrate", "--from", pdb.url, "--to", back});
  REQUIRE_MESSAGE(returned.code == 0, returned.err);
  CHECK(returned.out.find("audit chain intact") != std::string::npos);
  CHECK(returned.out.find("plaint@") != std::string::npos);
  auto exported = run_plaint({"--db", back, "export"});
  REQUIRE(exported.code == 0);
  CHECK(exported.out == d.exported());
  for (const auto& db : {pdb.url, back}) {
    auto found = run_plaint({"--db", db, "--json", "list", "--search", "冰箱"});
    REQUIRE(found.code == 0);
    CHECK(found.json().size() == 5);
    auto status = run_plaint({"--db", db, "--json", "notify", "status"});
    REQUIRE(status.code == 0);
    CHECK(status.json()["counts"][0]["state"] == "pending");
  }

  // The desk's tokens work against the moved database.
  server_process node(pdb.url, d.dir.file("node.err"));
  http_client h(node.port());
  CHECK(h.request("GET", "/api/v1/tickets/1", "", server_desk::auth(d.ann)).status == 200);

  // A database that holds a desk already is refused, and keeps what it had.
  auto again = run_plaint({"migrate", "--from", back, "--to", pdb.url});
  CHECK(again.code == 5);
  CHECK(again.err.find("already holds") != std::string::npos);
  CHECK(run_plaint({"--db", pdb.url, "export"}).out == d.exported());
  CHECK(run_plaint({"migrate", "--from", back, "--to", back}).code == 2);
  // A source that holds no desk: refused, and the destination not created.
  const std::string nowhere = d.dir.file("typo.db"), fresh = d.dir.file("fresh.db");
  auto typo = run_plaint({"migrate", "--from", nowhere, "--to", fresh});
  CHECK(typo.code != 0);
  CHECK(typo.err.find("plaint init") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(fresh));
}
