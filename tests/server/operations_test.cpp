// Operations against a running server (SPEC §13): a backup taken while
// transitions stream in holds every one acknowledged before it began, and
// restores to a database a new server starts on and serves.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
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

TEST_CASE("the server logs one JSON line per request and per timer round, echoes X-Request-Id, and never a secret") {
  server_desk d(false);
  REQUIRE(d.plaint({"user", "add", "--id", "li.na", "--name", "李娜", "--role", "agent"}).code == 0);
  REQUIRE(d.plaint({"user", "password", "li.na"}, "pw-li.na-secret-2026\n").code == 0);
  d.start({"--log-level", "debug"});
  const std::int64_t id = d.open("printer on fire")["id"];
  auto given = d.post("/api/v1/tickets/" + std::to_string(id) + "/events", d.ann,
                      json{{"event", "comment"}, {"note", "note text stays out of the log"}},
                      {{"X-Request-Id", "desk-42.a:b_c"}});
  REQUIRE(given.status == 200);
  CHECK(given.header("x-request-id") == "desk-42.a:b_c");
  // An offered id that is not a plain token is replaced, never echoed.
  auto odd = d.get("/api/v1/tickets/" + std::to_string(id), d.ann);
  const std::string generated = odd.header("x-request-id");
  CHECK(std::regex_match(generated, std::regex("[0-9a-f]{16}")));
  auto spoofed = d.http->request("GET", "/api/v1/tickets/" + std::to_string(id), "",
                                 server_desk::auth(d.ann, {{"X-Request-Id", "evil\"}{line"}}));
  CHECK(std::regex_match(spoofed.header("x-request-id"), std::regex("[0-9a-f]{16}")));
  CHECK(d.get("/api/v1/tickets/" + std::to_string(id), "plt_not_a_real_token").status == 401);
  http_client c(d.port());
  auto signed_in = c.request("POST", "/signin", "username=li.na&password=pw-li.na-secret-2026",
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(signed_in.status == 303);
  const std::string cookie = signed_in.header("set-cookie");
  {
    http_client s(d.port(), 2s);
    s.request("GET", "/api/v1/stream", "", server_desk::auth(d.ann));  // times out reading: the stream stays open
  }
  std::this_thread::sleep_for(1500ms);  // a timer round (debug) at least
  REQUIRE(d.server->stop() == 0);

  const std::string err = d.server->errors();
  std::vector<json> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) lines.push_back(j);
  }
  auto find = [&](const std::string& request_id) -> json {
    for (const auto& j : lines)
      if (j.value("request_id", "") == request_id) return j;
    return nullptr;
  };
  const json comment = find("desk-42.a:b_c");
  REQUIRE(comment.is_object());
  CHECK(comment["msg"] == "request");
  CHECK(comment["level"] == "info");
  CHECK(comment["method"] == "POST");
  CHECK(comment["route"] == "POST /api/v1/tickets/{id}/events");
  CHECK(comment["status"] == 200);
  CHECK(comment["actor"] == "ann");
  CHECK(comment["ticket"] == id);
  CHECK(comment["duration_ms"].is_number());
  CHECK(std::regex_match(comment["time"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(find(generated)["route"] == "GET /api/v1/tickets/{id}");
  bool unauthorized = false, signin = false, round = false;
  for (const auto& j : lines) {
    if (j.value("status", 0) == 401 && j["actor"].is_null()) unauthorized = true;
    if (j.value("route", "") == "POST /signin") signin = true;
    if (j.value("msg", "") == "timer round") round = j["fired"].is_number() && j["duration_ms"].is_number();
  }
  CHECK(unauthorized);
  CHECK(signin);
  // A stream's line names its token.
  bool stream = false;
  for (const auto& j : lines) stream = stream || (j.value("route", "") == "GET /api/v1/stream" && j["actor"] == "ann");
  CHECK(stream);
  CHECK(round);
  // No secret: the tokens, the password, the session cookie, the note.
  for (const std::string& secret : {d.ann, d.sue, std::string("plt_not_a_real_token"), std::string("pw-li.na-secret-2026"),
                                   cookie.substr(cookie.find('=') + 1, 20), std::string("note text stays")}) {
    CAPTURE(secret);
    CHECK(err.find(secret) == std::string::npos);
  }
}
