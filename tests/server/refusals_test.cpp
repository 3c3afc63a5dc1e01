// What the API refuses, how it says so, and that a refusal writes nothing;
// idempotent retries and optimistic versions.
#include <doctest/doctest.h>

#include <sstream>

#include "tests/raw_db.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

std::string events_of(std::int64_t id) { return "/api/v1/tickets/" + std::to_string(id) + "/events"; }

}  // namespace

TEST_CASE("a retried open with the same Idempotency-Key answers 200 with the same ticket") {
  server_desk d;
  const json body{{"customer", "acme"}, {"subject", "double charge"}, {"category", "billing"}};
  auto first = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-open-1"}});
  REQUIRE(first.status == 201);
  auto again = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-open-1"}});
  CHECK(again.status == 200);
  CHECK(again.json()["id"] == first.json()["id"]);
  CHECK(again.json()["version"] == 1);

  auto list = d.get("/api/v1/tickets", d.ann);
  REQUIRE(list.status == 200);
  CHECK(list.json()["items"].size() == 1);

  const std::string before = d.exported();
  auto other = d.post("/api/v1/tickets", d.ann, json{{"customer", "acme"}, {"subject", "something else"}},
                      {{"Idempotency-Key", "k-open-1"}});
  CHECK(other.status == 409);
  CHECK(error_code(other) == "conflict");
  CHECK(d.exported() == before);

  auto fresh = d.post("/api/v1/tickets", d.ann, body, {{"Idempotency-Key", "k-open-2"}});
  CHECK(fresh.status == 201);
  CHECK(fresh.json()["id"] != first.json()["id"]);
}

TEST_CASE("a retried event with the same Idempotency-Key is applied once and answered alike") {
  server_desk d;
  const std::int64_t id = d.open("missing part")["id"];
  const json triage{{"event", "triage"}, {"fields", {{"owner", "ann"}}}};
  auto first = d.post(events_of(id), d.ann, triage, {{"Idempotency-Key", "k-ev-1"}});
  REQUIRE(first.status == 200);
  CHECK(first.json()["version"] == 2);
  auto again = d.post(events_of(id), d.ann, triage, {{"Idempotency-Key", "k-ev-1"}});
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  const json t = d.ticket(id);
  CHECK(t["version"] == 2);
  CHECK(story(t) == "intake -triage-> triage");

  const std::string before = d.exported();
  auto other = d.post(events_of(id), d.ann, json{{"event", "start"}}, {{"Idempotency-Key", "k-ev-1"}});
  CHECK(other.status == 409);
  CHECK(error_code(other) == "conflict");
  CHECK(d.exported() == before);

  auto comment = json{{"event", "comment"}, {"note", "same note"}};
  CHECK(d.post(events_of(id), d.ann, comment).json()["version"] == 3);
  CHECK(d.post(events_of(id), d.ann, comment).json()["version"] == 4);  // no key: two comments
}

TEST_CASE("a stale expected_version is a 409 naming the current version, and nothing is written") {
  server_desk d;
  const std::int64_t id = d.open("late again")["id"];
  d.fire(id, d.ann, {{"event", "comment"}, {"note", "first"}});
  const std::string before = d.exported();
  auto r = d.post(events_of(id), d.bob, json{{"event", "comment"}, {"note", "stale"}, {"expected_version", 1}});
  CHECK(r.status == 409);
  const json j = r.json();
  CHECK(j["error"]["code"] == "conflict");
  CHECK(j["error"]["current_version"] == 2);
  CHECK(j["error"]["message"] == "ticket " + std::to_string(id) + " is at version 2, not the expected version 1");
  CHECK(d.exported() == before);
  CHECK(d.fire(id, d.bob, {{"event", "comment"}, {"note", "fresh"}, {"expected_version", 2}})["version"] == 3);
}

TEST_CASE("an event the state does not allow, or a failed guard, is a 422 and writes nothing") {
  server_desk d;
  const std::int64_t id = d.open("never answered")["id"];
  const std::string before = d.exported();
  SUBCASE("not allowed in intake") {
    auto r = d.post(events_of(id), d.ann, json{{"event", "resolve"}, {"note", "done"}});
    CHECK(r.status == 422);
    CHECK(error_code(r) == "not_allowed");
    CHECK(error_message(r).find("intake") != std::string::npos);
  }
  SUBCASE("triage without an owner") {
    auto r = d.post(events_of(id), d.ann, json{{"event", "triage"}});
    CHECK(r.status == 422);
    CHECK(error_code(r) == "not_allowed");
  }
  SUBCASE("reject with an unknown reason") {
    auto r = d.post(events_of(id), d.ann, json{{"event", "reject"}, {"fields", {{"reason", "boring"}}}});
    CHECK(r.status == 422);
  }
  SUBCASE("an event no workflow knows") {
    auto r = d.post(events_of(id), d.ann, json{{"event", "teleport"}});
    CHECK(r.status == 422);
  }
  CHECK(d.exported() == before);
}

TEST_CASE("an unknown ticket is a 404 on every ticket route") {
  server_desk d;
  const std::string before = d.exported();
  for (const std::string target : {"/api/v1/tickets/999", "/api/v1/tickets/999/events", "/api/v1/tickets/abc",
                                   "/api/v1/tickets/-1"}) {
    CAPTURE(target);
    auto r = d.get(target, d.ann);
    CHECK(r.status == 404);
    CHECK(error_code(r) == "not_found");
  }
  auto r = d.post(events_of(999), d.ann, json{{"event", "comment"}, {"note", "hello?"}});
  CHECK(r.status == 404);
  CHECK(error_code(r) == "not_found");
  CHECK(error_message(r) == "ticket 999 does not exist");
  CHECK(d.exported() == before);
}

TEST_CASE("malformed bodies are 400 with a clear message and write nothing") {
  server_desk d;
  const std::int64_t id = d.open("fine")["id"];
  const std::string before = d.exported();
  struct bad {
    std::string target, body, message;
  };
  const std::string tickets = "/api/v1/tickets";
  const std::vector<bad> cases = {
      {tickets, R"({"customer":"acme","subject":)", "the request body is not valid JSON"},
      {tickets, "", "the request body is not valid JSON"},
      {tickets, R"([{"customer":"acme","subject":"x"}])", "the request body must be a JSON object"},
      {tickets, R"("just a string")", "the request body must be a JSON object"},
      {tickets, R"({"customer":"acme","subject":"x","colour":"red"})", "unknown field 'colour'"},
      {tickets, R"({"customer":"acme","subject":5})", "field 'subject' must be a string"},
      {tickets, R"({"customer":"acme"})", "field 'subject' is required"},
      {tickets, "{\"customer\":\"acme\",\"subject\":\"bad \xff\xfe bytes\"}", "the request body is not valid UTF-8"},
      {tickets, "{\"customer\":\"acme\",\"subject\":\"over\xc0\xaflong\"}", "the request body is not valid UTF-8"},
      {events_of(id), R"({"event":"comment","expected_version":"x"})", "field 'expected_version' must be a whole number from 0 to 9223372036854775807"},
      {events_of(id), R"({"event":"comment","expected_version":1.5})", "field 'expected_version' must be a whole number from 0 to 9223372036854775807"},
      {events_of(id), R"({"event":"comment","fields":[1]})", "field 'fields' must be an object"},
      {events_of(id), R"({"event":"comment","fields":{"owner":{"a":1}}})",
       "fields.owner must be a string, a whole number or a boolean"},
      {events_of(id), R"({"event":"comment","when":"now"})", "unknown field 'when'"},
      {events_of(id), R"({"note":"no event"})", "field 'event' is required"},
      {events_of(id), "{\"event\":\"comment\",\"note\":\"\xed\xa0\x80\"}", "the request body is not valid UTF-8"},
      {"/api/v1/customers", R"({"id":"x","name":"y","vip":true})", "unknown field 'vip'"},
      {"/api/v1/customers", R"({"id":7,"name":"y"})", "field 'id' must be a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.body);
    auto r = d.post(c.target, d.ann, c.body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "invalid");
    CHECK(error_message(r) == c.message);
  }
  SUBCASE("unknown channel, category or priority") {
    for (const char* field : {"channel", "category", "priority", "workflow"}) {
      auto r = d.post(tickets, d.ann, json{{"customer", "acme"}, {"subject", "x"}, {field, "nonsense"}});
      CHECK_MESSAGE(r.status == 400, field << ": " << r.body);
      CHECK(error_code(r) == "invalid");
    }
  }
  CHECK(d.exported() == before);
}

TEST_CASE("a body over 1 MiB is refused with 413 and nothing is written") {
  server_desk d;
  const std::string before = d.exported();
  const std::string huge = json{{"customer", "acme"}, {"subject", "big"}, {"description", std::string(1100000, 'a')}}.dump();
  http_client c(d.port());
  auto r = c.request("POST", "/api/v1/tickets", huge, server_desk::auth(d.ann));
  CHECK(r.status == 413);
  CHECK(error_code(r) == "payload_too_large");
  CHECK(d.exported() == before);
  SUBCASE("sent in chunks, without a Content-Length") {
    std::string chunks;
    for (std::size_t at = 0; at < huge.size(); at += 65536) {
      const std::string part = huge.substr(at, 65536);
      std::ostringstream size;
      size << std::hex << part.size();
      chunks += size.str() + "\r\n" + part + "\r\n";
    }
    chunks += "0\r\n\r\n";
    http_client chunked(d.port());
    auto r2 = chunked.request("POST", "/api/v1/tickets", chunks, server_desk::auth(d.ann, {{"Transfer-Encoding", "chunked"}}));
    CHECK(r2.status == 413);
    CHECK(error_code(r2) == "payload_too_large");
    CHECK(d.exported() == before);
  }
  // The server is still well: a normal request on a new connection works.
  CHECK(d.post("/api/v1/tickets", d.ann, json{{"customer", "acme"}, {"subject", "small"}}).status == 201);
}

TEST_CASE("SQL and search metacharacters are stored and searched literally") {
  server_desk d;
  const std::string nasty = "Robert'); DROP TABLE tickets; -- \"quoted\" 100% _x_ \\ OR 1=1";
  const std::int64_t bad = d.open(nasty)["id"];
  const std::int64_t plain = d.open("plain subject")["id"];
  CHECK(d.ticket(bad)["subject"] == nasty);
  CHECK(d.ticket(plain)["subject"] == "plain subject");

  auto search = [&](const std::string& q) {
    auto r = d.get("/api/v1/tickets?q=" + url_encode(q), d.ann);
    REQUIRE_MESSAGE(r.status == 200, q << ": " << r.body);
    std::string ids;
    const json items = r.json()["items"];
    for (const auto& t : items) ids += (ids.empty() ? "" : " ") + t["id"].dump();
    return ids;
  };
  const std::string just_bad = std::to_string(bad);
  CHECK(search("'); DROP TABLE") == just_bad);
  CHECK(search("\"quoted\"") == just_bad);
  CHECK(search("%") == just_bad);
  CHECK(search("_") == just_bad);
  CHECK(search("0%") == just_bad);
  CHECK(search("OR 1=1") == just_bad);
  CHECK(search("\\") == just_bad);
  CHECK(search("' OR '1'='1").empty());
  CHECK(search("NEAR(a b)").empty());
  CHECK(search("*").empty());
  CHECK(d.get("/api/v1/tickets", d.ann).json()["items"].size() == 2);
}

TEST_CASE("bad query parameters are 400") {
  server_desk d;
  d.open("one");
  for (const std::string q : {"limit=abc", "limit=0", "limit=1001", "limit=-5", "cursor=x", "level=9",
                              "breached=maybe", "colour=red", "q=%ZZ", "q=%FF%FE"}) {
    CAPTURE(q);
    auto r = d.get("/api/v1/tickets?" + q, d.ann);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "invalid");
  }
  CHECK(error_message(d.get("/api/v1/tickets?colour=red", d.ann)) == "unknown query parameter 'colour'");
  CHECK(d.get("/api/v1/tickets?limit=1&state=intake&breached=false", d.ann).status == 200);
  // Every route refuses what it does not take, not just the lists.
  for (const std::string target : {"/api/v1/tickets/1?verbose=1", "/api/v1/tickets/1/events?page=2",
                                   "/api/v1/escalations?limit=5", "/api/v1/reports/kpi?from=2026-11-01&colour=red",
                                   "/api/v1/customers/acme?x=", "/metrics?format=json"}) {
    CAPTURE(target);
    auto r = d.get(target, d.sue);
    CHECK(r.status == 400);
    CHECK(error_message(r).rfind("unknown query parameter '", 0) == 0);
  }
}

TEST_CASE("an unknown route is 404 and a wrong method on a known path is 405 with Allow") {
  server_desk d;
  for (const std::string target : {"/nope", "/api/v2/tickets", "/api/v1/tickets/1/comments", "/api/v1"}) {
    CAPTURE(target);
    auto r = d.get(target, d.ann);
    CHECK(r.status == 404);
    CHECK(error_code(r) == "not_found");
  }
  struct wrong {
    std::string method, target, allow;
  };
  for (const auto& w : std::vector<wrong>{{"DELETE", "/api/v1/tickets/1", "GET, HEAD"},
                                          {"PUT", "/api/v1/tickets", "GET, HEAD, POST"},
                                          {"POST", "/healthz", "GET, HEAD"},
                                          {"PATCH", "/api/v1/tickets/1/events", "GET, HEAD, POST"},
                                          {"POST", "/metrics", "GET, HEAD"},
                                          {"HEAD", "/api/v1/customers", "POST"}}) {
    CAPTURE(w.method);
    CAPTURE(w.target);
    auto r = d.http->request(w.method, w.target, w.method == "HEAD" ? "" : "{}", server_desk::auth(d.ann));
    CHECK(r.status == 405);
    if (w.method != "HEAD") CHECK(error_code(r).rfind("bad shape", 0) != 0);
    CHECK(r.header("allow") == w.allow);
  }
  CHECK(d.exported().find("\"type\":\"ticket\"") == std::string::npos);
}

TEST_CASE("HEAD answers as GET would, with the same headers and no body") {
  server_desk d;
  REQUIRE(d.post("/api/v1/tickets", d.ann, json{{"customer", "acme"}, {"subject", "Kettle leaks"}}).status == 201);
  for (const std::string target : {"/api/v1/tickets/1", "/api/v1/tickets?limit=2", "/healthz", "/api/v1/openapi.json"}) {
    CAPTURE(target);
    const auto get = d.get(target, d.ann);
    const auto head = d.http->request("HEAD", target, "", server_desk::auth(d.ann));
    CHECK(get.status == 200);
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("content-type") == get.header("content-type"));
    CHECK(head.header("content-length") == std::to_string(get.body.size()));
  }
  // The connection stays usable: the next answer is not mistaken for a body.
  CHECK(d.get("/api/v1/tickets/1", d.ann).json()["id"] == 1);
  auto stream = d.http->request("HEAD", "/api/v1/stream", "", server_desk::auth(d.ann));
  CHECK(stream.status == 200);
  CHECK(stream.header("content-type") == "text/event-stream; charset=utf-8");
  auto anonymous = d.http->request("HEAD", "/api/v1/tickets/1");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.body.empty());
  auto agent_metrics = d.http->request("HEAD", "/metrics", "", server_desk::auth(d.ann));
  CHECK(agent_metrics.status == 403);
}

TEST_CASE("a write kept waiting past the busy timeout by another process is a 503 with Retry-After and writes nothing") {
  server_desk d(false);
  d.start({"--busy-timeout", "200"});
  const std::int64_t id = d.open("meter reading wrong")["id"];
  const std::string before = d.exported();
  {
    raw_db other(d.db);
    REQUIRE(other.exec("BEGIN IMMEDIATE") == "");
    auto r = d.post(events_of(id), d.ann, json{{"event", "comment"}, {"note", "called back"}});
    CHECK(r.status == 503);
    CHECK(error_code(r) == "unavailable");
    CHECK(r.header("retry-after") == "1");
    CHECK(error_message(r).find("is busy: another writer held it for more than 200 ms") != std::string::npos);
    auto c = d.post("/api/v1/customers", d.sue, json{{"id", "lee"}, {"name", "Lee"}});
    CHECK(c.status == 503);
    CHECK(error_code(c) == "unavailable");
    // Reads go on beside the other writer.
    CHECK(d.get("/api/v1/tickets/" + std::to_string(id), d.ann).status == 200);
    REQUIRE(other.exec("ROLLBACK") == "");
  }
  CHECK(d.exported() == before);
  auto retried = d.post(events_of(id), d.ann, json{{"event", "comment"}, {"note", "called back"}});
  CHECK(retried.status == 200);
  CHECK(story(d.ticket(id)) == "intake -comment-> intake");
}

TEST_CASE("a storage failure while committing an event is a 500 that writes nothing, and the server goes on") {
  server_desk d;
  const std::int64_t id = d.open("router dead")["id"];
  REQUIRE(raw_db(d.db).exec("CREATE TRIGGER inject_fault BEFORE INSERT ON events "
                            "WHEN NEW.payload LIKE '%disk fault%' "
                            "BEGIN SELECT RAISE(ABORT, 'injected disk fault'); END;") == "");
  const std::string before = d.exported();
  auto r = d.post(events_of(id), d.ann, json{{"event", "triage"}, {"note", "disk fault"}, {"fields", {{"owner", "ann"}}}});
  CHECK(r.status == 500);
  CHECK(error_code(r) == "internal");
  CHECK(d.exported() == before);
  CHECK(d.ticket(id)["state"] == "intake");
  auto ok = d.post(events_of(id), d.ann, json{{"event", "triage"}, {"note", "all fine"}, {"fields", {{"owner", "ann"}}}});
  CHECK(ok.status == 200);
  CHECK(story(d.ticket(id)) == "intake -triage-> triage");
}
