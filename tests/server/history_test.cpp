// Long histories are paged, and idempotency keys do not live for ever.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/raw_db.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

std::string events_of(std::int64_t id) { return "/api/v1/tickets/" + std::to_string(id) + "/events"; }

std::vector<std::int64_t> versions_of(const json& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e["version"]);
  return out;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto v = from; v <= to; ++v) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("a long history is paged newest first by cursor, and GET /tickets/{id} embeds its newest 50 events") {
  server_desk d;
  const std::int64_t id = d.open("chatty customer")["id"];
  const std::int64_t other = d.open("quiet customer")["id"];
  for (int i = 1; i < 130; ++i) d.fire(id, d.ann, {{"event", "comment"}, {"note", "call " + std::to_string(i)}});

  auto got = d.get("/api/v1/tickets/" + std::to_string(id), d.ann);
  REQUIRE(got.status == 200);
  const json t = got.json();
  CHECK(t["version"] == 130);
  CHECK(versions_of(t["history"]) == range(81, 130));
  CHECK(t["history_next_cursor"] == std::to_string(t["history"][0]["seq"].get<std::int64_t>()));
  CHECK(d.get("/api/v1/tickets/" + std::to_string(other), d.ann).json()["history_next_cursor"] == nullptr);
  CHECK(versions_of(d.ticket(id)["history"]) == range(1, 130));  // the fixture follows the pages

  // The first page: the newest 100 events, in seq order as before paging.
  auto first = d.get(events_of(id), d.bob);
  REQUIRE(first.status == 200);
  CHECK(versions_of(first.json()) == range(31, 130));
  const std::string cursor = first.header("x-next-cursor");
  CHECK(cursor == std::to_string(first.json()[0]["seq"].get<std::int64_t>()));
  CHECK(first.header("link") ==
        "</api/v1/tickets/" + std::to_string(id) + "/events?cursor=" + cursor + "&limit=100>; rel=\"next\"");
  auto rest = d.get(events_of(id) + "?cursor=" + cursor, d.bob);
  REQUIRE(rest.status == 200);
  CHECK(versions_of(rest.json()) == range(1, 30));
  CHECK(rest.header("x-next-cursor").empty());
  CHECK(rest.header("link").empty());
  CHECK(rest.json()[0]["event"] == "open");

  // Small pages, followed to the end, give the whole history once.
  std::vector<std::int64_t> all;
  std::string next;
  int pages = 0;
  do {
    auto r = d.get(events_of(id) + "?limit=7" + (next.empty() ? "" : "&cursor=" + next), d.ann);
    REQUIRE(r.status == 200);
    const auto v = versions_of(r.json());
    all.insert(all.begin(), v.begin(), v.end());
    next = r.header("x-next-cursor");
    ++pages;
  } while (!next.empty() && pages < 100);
  CHECK(all == range(1, 130));
  CHECK(pages == 19);

  auto quiet = d.get(events_of(other), d.ann);
  CHECK(quiet.json().size() == 1);
  CHECK(quiet.header("x-next-cursor").empty());
  CHECK(versions_of(d.get(events_of(id) + "?limit=1000", d.ann).json()) == range(1, 130));

  auto refused = [&](const std::string& query) {
    auto r = d.get(events_of(id) + query, d.ann);
    CHECK(r.status == 400);
    return error_message(r);
  };
  CHECK(refused("?limit=0") == "limit must be a whole number from 1 to 1000");
  CHECK(refused("?limit=1001") == "limit must be a whole number from 1 to 1000");
  CHECK(refused("?cursor=abc") == "cursor must be a whole number from 1 to 9223372036854775807");
  const std::int64_t foreign = d.ticket(other)["history"][0]["seq"];
  CHECK(refused("?cursor=" + std::to_string(foreign)) ==
        "cursor " + std::to_string(foreign) + " is not an event of ticket " + std::to_string(id));
  CHECK(refused("?page=2") == "unknown query parameter 'page'");
}

TEST_CASE("idempotency keys expire after --idempotency-retention and are pruned in the background") {
  server_desk d(false);
  d.start({"--idempotency-retention", "3600"});
  const json body{{"customer", "acme"}, {"subject", "double charge"}};
  auto first = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-old"}});
  REQUIRE(first.status == 201);
  auto fresh = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-new"}});
  REQUIRE(fresh.status == 201);
  CHECK(d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-old"}}).json()["id"] == first.json()["id"]);
  REQUIRE(d.server->stop() == 0);

  // Two hours pass for k-old.
  REQUIRE(raw_db(d.db).exec("UPDATE idempotency SET created_at = created_at - 7200 WHERE key = 'k-old'") == "");
  d.start({"--idempotency-retention", "3600"});
  raw_db raw(d.db);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (raw.integer("SELECT count(*) FROM idempotency WHERE key = 'k-old'") != 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(raw.integer("SELECT count(*) FROM idempotency WHERE key = 'k-old'") == 0);
  CHECK(raw.integer("SELECT count(*) FROM idempotency WHERE key = 'k-new'") == 1);

  // A retry after its key expired is a new request; a live key still replays.
  auto late = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-old"}});
  CHECK(late.status == 201);
  CHECK(late.json()["id"] != first.json()["id"]);
  auto replay = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-new"}});
  CHECK(replay.status == 200);
  CHECK(replay.json()["id"] == fresh.json()["id"]);
}
