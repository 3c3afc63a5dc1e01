// The live event stream (GET /api/v1/stream, Server-Sent Events): one
// message per appended event, replay after Last-Event-ID, then live.
#include <doctest/doctest.h>

#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

// An open stream: status 200 and the event-stream content type checked.
http_client open_stream(server_desk& d, const std::string& token, const header_list& extra = {}) {
  http_client c(d.port());
  REQUIRE(c.send_request("GET", "/api/v1/stream", "", server_desk::auth(token, extra)));
  http_response head;
  REQUIRE(c.read_head(head));
  REQUIRE(head.status == 200);
  CHECK(head.header("content-type").rfind("text/event-stream", 0) == 0);
  return c;
}

json data_of(const sse_message& m) { return json::parse(m.data, nullptr, false); }

}  // namespace

TEST_CASE("a transition reaches an open stream with its seq, names and version") {
  server_desk d;
  const std::int64_t id = d.open("stream me")["id"];
  auto stream = open_stream(d, d.ann);
  // Live only: the open event before the stream is not replayed.
  CHECK_FALSE(stream.next_event(200ms).has_value());

  d.fire(id, d.bob, {{"event", "triage"}, {"fields", {{"owner", "bob"}}}});
  const json events = d.get("/api/v1/tickets/" + std::to_string(id) + "/events", d.ann).json();
  REQUIRE(events.size() == 2);
  const json& triage = events[1];

  auto m = stream.next_event(3s);
  REQUIRE(m.has_value());
  CHECK(m->event == "triage");
  CHECK(m->id == std::to_string(triage["seq"].get<std::int64_t>()));
  const json data = data_of(*m);
  CHECK(data == json{{"seq", triage["seq"]},
                     {"ticket", id},
                     {"event", "triage"},
                     {"from", "intake"},
                     {"to", "triage"},
                     {"at", triage["at"]},
                     {"actor", "bob"},
                     {"version", 2}});

  const std::int64_t other = d.open("second ticket", "wang")["id"];
  auto opened = stream.next_event(3s);
  REQUIRE(opened.has_value());
  CHECK(opened->event == "open");
  CHECK(data_of(*opened)["ticket"] == other);
  CHECK(data_of(*opened)["from"].is_null());
  CHECK(data_of(*opened)["to"] == "intake");
  CHECK(data_of(*opened)["version"] == 1);
}

TEST_CASE("a reconnect with Last-Event-ID replays every event after it, then goes live") {
  server_desk d;
  const std::int64_t id = d.open("replay me")["id"];
  d.fire(id, d.ann, {{"event", "triage"}, {"fields", {{"owner", "ann"}}}});
  d.fire(id, d.ann, {{"event", "start"}});
  d.fire(id, d.ann, {{"event", "comment"}, {"note", "working on it"}});
  const json events = d.get("/api/v1/tickets/" + std::to_string(id) + "/events", d.ann).json();
  REQUIRE(events.size() == 4);
  const std::int64_t after = events[1]["seq"];

  auto stream = open_stream(d, d.sue, {{"Last-Event-ID", std::to_string(after)}});
  std::vector<std::string> seen;
  for (std::size_t i = 2; i < 4; ++i) {
    auto m = stream.next_event(3s);
    REQUIRE(m.has_value());
    CHECK(m->id == std::to_string(events[i]["seq"].get<std::int64_t>()));
    CHECK(m->event == events[i]["event"]);
    CHECK(data_of(*m)["version"] == events[i]["version"]);
  }
  CHECK_FALSE(stream.next_event(200ms).has_value());

  d.fire(id, d.ann, {{"event", "request_info"}});
  auto live = stream.next_event(3s);
  REQUIRE(live.has_value());
  CHECK(live->event == "request_info");
  CHECK(data_of(*live)["to"] == "awaiting_customer");
  CHECK(data_of(*live)["version"] == 5);
  CHECK(std::stoll(live->id) > events[3]["seq"].get<std::int64_t>());

  SUBCASE("Last-Event-ID 0 replays the whole log") {
    auto all = open_stream(d, d.ann, {{"Last-Event-ID", "0"}});
    for (std::int64_t v = 1; v <= 5; ++v) {
      auto m = all.next_event(3s);
      REQUIRE(m.has_value());
      CHECK(data_of(*m)["version"] == v);
    }
    CHECK_FALSE(all.next_event(200ms).has_value());
  }
}

TEST_CASE("every stream sees each event exactly once, in seq order, under concurrent writes") {
  server_desk d;
  const std::int64_t id = d.open("noisy")["id"];
  auto a = open_stream(d, d.ann);
  auto b = open_stream(d, d.sue);
  for (int k = 0; k < 20; ++k) d.fire(id, d.ann, {{"event", "comment"}, {"note", std::to_string(k)}});
  for (auto* s : {&a, &b}) {
    std::int64_t last = 0;
    for (int k = 0; k < 20; ++k) {
      auto m = s->next_event(3s);
      REQUIRE(m.has_value());
      CHECK(std::stoll(m->id) > last);
      last = std::stoll(m->id);
      CHECK(data_of(*m)["version"] == k + 2);
    }
    CHECK_FALSE(s->next_event(200ms).has_value());
  }
}

TEST_CASE("the stream needs a valid token") {
  server_desk d;
  for (const header_list& h : {header_list{}, header_list{{"Authorization", "Bearer nonsense"}}}) {
    http_client c(d.port());
    auto r = c.request("GET", "/api/v1/stream", "", h);
    CHECK(r.status == 401);
    CHECK(error_code(r) == "unauthorized");
    CHECK(r.header("www-authenticate") == "Bearer");
  }
}
