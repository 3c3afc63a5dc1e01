// Operations against a running server (SPEC §13): a backup taken while
// transitions stream in holds every one acknowledged before it began, and
// restores to a database a new server starts on and serves.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

struct ack {
  std::int64_t ticket;
  std::int64_t version;
  std::string note;
  std::chrono::steady_clock::time_point at;  // when the answer arrived
};

}  // namespace

TEST_CASE("a backup taken under a load of transitions holds every one acknowledged before it began, and restores") {
  server_desk d;
  std::vector<std::int64_t> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(d.open("loaded " + std::to_string(i))["id"]);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<ack> acked;
  std::map<int, int> statuses;
  std::vector<std::thread> pool;
  const int port = d.port();
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      http_client c(port, 5s);
      for (int k = 0; !stop; ++k) {
        const std::int64_t id = tickets[static_cast<std::size_t>((t + k) % 4)];
        const std::string note = "t" + std::to_string(t) + "-" + std::to_string(k);
        auto r = c.request("POST", "/api/v1/tickets/" + std::to_string(id) + "/events",
                           json{{"event", "comment"}, {"note", note}}.dump(), server_desk::auth(d.ann));
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mu);
        ++statuses[r.status];
        if (r.status == 200) acked.push_back({id, r.json()["version"], note, now});
      }
    });
  std::this_thread::sleep_for(500ms);
  const auto began = std::chrono::steady_clock::now();
  const std::string copy = d.dir.file("backup.db");
  auto backup = d.plaint({"--json", "backup", copy});
  const auto ended = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : pool) t.join();
  REQUIRE_MESSAGE(backup.code == 0, backup.err);
  CHECK(statuses.size() == 1);  // every request answered 200: the backup stopped no write
  const json b = backup.json();
  CHECK(b["integrity"] == "ok");

  std::size_t before = 0, after = 0;
  for (const auto& a : acked) {
    if (a.at < began) ++before;
    if (a.at > ended) ++after;
  }
  INFO("acknowledged before the backup: " << before << ", after it: " << after);
  REQUIRE(before > 20);
  CHECK(after > 0);  // writes went on

  // Restore into a new file and serve it.
  const std::string restored = d.dir.file("restored.db");
  auto r = run_plaint({"--db", restored, "--json", "restore", copy});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.json()["anchor"] == b["anchor"]);
  // The desk's server stops; one on the restored file takes its place.
  REQUIRE(d.server->stop() == 0);
  d.http.reset();
  d.server = std::make_unique<server_process>(restored, d.dir.file("restored.err"));
  d.http = std::make_unique<http_client>(d.server->port());
  std::map<std::int64_t, json> held;
  for (auto id : tickets) held[id] = d.ticket(id);
  std::size_t checked = 0;
  for (const auto& a : acked) {
    if (a.at >= began) continue;
    const json& t = held[a.ticket];
    CAPTURE(a.ticket);
    CAPTURE(a.version);
    REQUIRE(t["version"].get<std::int64_t>() >= a.version);
    const json& e = t["history"][static_cast<std::size_t>(a.version - 1)];
    CHECK(e["version"] == a.version);
    CHECK(e["payload"]["note"] == a.note);
    ++checked;
  }
  CHECK(checked == before);
  // The restored server takes new work, and the live desk still holds the
  // history the backup was anchored at.
  auto more = d.post("/api/v1/tickets/" + std::to_string(tickets[0]) + "/events", d.ann,
                     json{{"event", "comment"}, {"note", "after the restore"}});
  CHECK(more.status == 200);
  CHECK(d.plaint({"audit", "verify", "--anchor", b["anchor"].get<std::string>()}).code == 0);
}
