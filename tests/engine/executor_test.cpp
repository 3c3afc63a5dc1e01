#include <doctest/doctest.h>

#include "engine/audit.h"
#include "tests/engine/desk_fixture.h"
#include "tests/engine/faulty_store.h"
#include "tests/raw_db.h"

using plaint::testing::desk;
using plaint::testing::faulty_store;
using plaint::testing::raw_db;
using namespace plaint;

TEST_CASE("a complaint's whole story is persisted, one version per event") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  CHECK(d.get(id).version == 1);
  REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(id, "start").ok());
  REQUIRE(d.fire(id, "request_info").ok());
  REQUIRE(d.fire(id, "customer_replied").ok());
  REQUIRE(d.fire(id, "resolve", {{"resolution_code", "refund"}}, "refunded").ok());
  REQUIRE(d.fire(id, "follow_up_done", {{"csat", "5"}}).ok());
  CHECK(d.history(id) ==
        "intake -triage-> triage -start-> remediation -request_info-> awaiting_customer "
        "-customer_replied-> remediation -resolve-> follow_up -follow_up_done-> closed");
  const auto t = d.get(id);
  CHECK(t.version == 7);
  CHECK(t.state == "closed");
  CHECK(t.csat == 5);
  auto events = d.store->ticket_events(id);
  REQUIRE(events.ok());
  for (std::size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].version == static_cast<std::int64_t>(i + 1));
  CHECK((*events)[0].event == "open");
  CHECK((*events)[0].from_state.empty());
}

TEST_CASE("tickets and their history survive a restart of the process") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open("c1", "投诉：快递延误三天");
  REQUIRE(d.fire(id, "triage", {{"owner", "李娜"}}).ok());
  d.reopen();
  const auto t = d.get(id);
  CHECK(t.subject == "投诉：快递延误三天");
  CHECK(t.owner == "李娜");
  CHECK(t.state == "triage");
  REQUIRE(d.fire(id, "start").ok());
  CHECK(d.history(id) == "intake -triage-> triage -start-> remediation");
}

TEST_CASE("a refused event writes nothing") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  const auto before = d.get(id);
  SUBCASE("not accepted in the state") {
    auto r = d.fire(id, "resolve", {{"resolution_code", "x"}}, "note");
    CHECK(r.error().code == engine::errc::not_allowed);
    CHECK(r.error().message == "ticket 1 is in intake, which accepts: triage, reject, comment, assign, escalate, set_priority");
  }
  SUBCASE("guard fails") {
    auto r = d.fire(id, "triage");
    CHECK(r.error().code == engine::errc::not_allowed);
  }
  SUBCASE("unknown ticket") {
    auto r = d.fire(999, "triage", {{"owner", "ann"}});
    CHECK(r.error().code == engine::errc::not_found);
    CHECK(r.error().message == "ticket 999 does not exist");
  }
  SUBCASE("stale expected version") {
    auto r = d.fire(id, "triage", {{"owner", "ann"}}, "", 7);
    CHECK(r.error().code == engine::errc::conflict);
    CHECK(r.error().message == "ticket 1 is at version 1, not the expected version 7");
  }
  SUBCASE("invalid UTF-8 in a note") {
    auto r = d.fire(id, "comment", {}, "bad \xff bytes");
    CHECK(r.error().code == engine::errc::invalid);
    CHECK(r.error().message == "note is not valid UTF-8 text");
  }
  SUBCASE("a note over the size limit") {
    auto r = d.fire(id, "comment", {}, std::string(1 << 20, 'x'));
    CHECK(r.error().code == engine::errc::invalid);
    CHECK(r.error().message == "note is 1048576 bytes long; the limit is 65536 bytes");
  }
  const auto after = d.get(id);
  CHECK(after.version == before.version);
  CHECK(after.state == before.state);
  CHECK(d.history(id) == "intake");
}

TEST_CASE("the expected version lets exactly one of two racing writers win") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  REQUIRE(d.fire(id, "comment", {}, "first", 1).ok());
  auto second = d.fire(id, "comment", {}, "second", 1);
  CHECK(second.error().code == engine::errc::conflict);
  CHECK(d.get(id).version == 2);
}

TEST_CASE("an idempotency key never creates a second complaint") {
  desk d;
  d.add_customer("c1");
  auto r = desk::intake("c1", "double charged");
  r.idempotency_key = "req-77";
  auto first = d.ex->open(r);
  REQUIRE(first.ok());
  CHECK(first->created);
  d.reopen();
  auto retry = d.ex->open(r);
  REQUIRE(retry.ok());
  CHECK_FALSE(retry->created);
  CHECK(retry->ticket_after.id == first->ticket_after.id);
  r.subject = "something else";
  auto misuse = d.ex->open(r);
  CHECK(misuse.error().code == engine::errc::conflict);
  engine::ticket_query q;
  auto page = d.store->list_tickets(q);
  REQUIRE(page.ok());
  CHECK(page->tickets.size() == 1);
}

TEST_CASE("open refuses bad input and writes nothing") {
  desk d;
  d.add_customer("c1");
  auto r = desk::intake("c1", "ok");
  SUBCASE("unknown customer") {
    r.customer = "nobody";
    CHECK(d.ex->open(r).error().message == "customer 'nobody' does not exist");
  }
  SUBCASE("unknown channel") {
    r.channel = "pigeon";
    auto e = d.ex->open(r).error();
    CHECK(e.code == engine::errc::invalid);
    CHECK(e.message == "channel 'pigeon' is not one of: phone, email, web, chat, in_person, social, proactive");
  }
  SUBCASE("empty subject") {
    r.subject = "";
    CHECK(d.ex->open(r).error().message == "subject is required");
  }
  SUBCASE("invalid UTF-8") {
    r.description = "\xc3\x28";
    CHECK(d.ex->open(r).error().message == "description is not valid UTF-8 text");
  }
  SUBCASE("unknown workflow") {
    r.workflow = "incident";
    CHECK(d.ex->open(r).error().message == "workflow 'incident' is not one of: complaint, service_request");
  }
  engine::ticket_query q;
  CHECK(d.store->list_tickets(q)->tickets.empty());
  CHECK(engine::verify_audit(*d.store)->events == 0);
}

TEST_CASE("SLA timers follow the ticket: armed at intake, paused, cancelled on resolve, follow-up armed") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open("c1", "slow", "P2");  // 4h first response, 24h resolution
  CHECK(d.pending_timers(id) == std::map<std::string, std::string>{
                                    {"first_response_warn", "2026-11-23T11:12:00Z"},
                                    {"first_response", "2026-11-23T12:00:00Z"},
                                    {"resolution_warn", "2026-11-24T03:12:00Z"},
                                    {"resolution", "2026-11-24T08:00:00Z"}});
  REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(id, "start").ok());
  CHECK(d.pending_timers(id) == std::map<std::string, std::string>{{"resolution_warn", "2026-11-24T03:12:00Z"},
                                                                   {"resolution", "2026-11-24T08:00:00Z"}});
  REQUIRE(d.fire(id, "request_info").ok());
  CHECK(d.pending_timers(id).empty());
  CHECK(d.get(id).paused_at.has_value());
  d.clock.advance(2 * 3600);
  REQUIRE(d.fire(id, "customer_replied").ok());
  CHECK(d.pending_timers(id) == std::map<std::string, std::string>{{"resolution_warn", "2026-11-24T05:12:00Z"},
                                                                   {"resolution", "2026-11-24T10:00:00Z"}});
  CHECK(d.get(id).paused_seconds == 7200);
  REQUIRE(d.fire(id, "set_priority", {{"priority", "P1"}}).ok());  // 8h resolution from intake, + 2h paused
  CHECK(d.pending_timers(id).at("resolution") == "2026-11-23T18:00:00Z");
  CHECK(d.get(id).priority == "P1");  // stored, though no indexed column moved
  REQUIRE(d.fire(id, "resolve", {{"resolution_code", "fixed"}}, "fixed it").ok());
  CHECK(d.pending_timers(id) == std::map<std::string, std::string>{{"follow_up", "2026-11-26T10:00:00Z"}});
  REQUIRE(d.fire(id, "follow_up_done", {{"csat", "3"}}).ok());
  CHECK(d.pending_timers(id).empty());
}

TEST_CASE("comments by agents count as the first response") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  d.clock.advance(600);
  REQUIRE(d.fire(id, "comment", {}, "we are looking into it").ok());
  CHECK(d.get(id).first_response_at == d.clock.now());
  CHECK(d.pending_timers(id).count("first_response") == 0);
}

TEST_CASE("a reopened complaint gets a fresh resolution clock and counts the reopen") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(id, "start").ok());
  REQUIRE(d.fire(id, "resolve", {{"resolution_code", "fixed"}}, "done").ok());
  REQUIRE(d.fire(id, "follow_up_done", {{"csat", "2"}}).ok());
  d.clock.advance(13 * 86400);
  REQUIRE(d.fire(id, "reopen").ok());
  const auto t = d.get(id);
  CHECK(t.state == "remediation");
  CHECK(t.reopen_count == 1);
  CHECK_FALSE(t.closed_at.has_value());
  CHECK(t.resolution_due == d.clock.now() + 72 * 3600);
  CHECK(d.pending_timers(id).count("resolution") == 1);
}

TEST_CASE("the audit chain verifies and detects tampering") {
  desk d;
  d.add_customer("c1");
  for (int i = 0; i < 3; ++i) {
    const auto id = d.open();
    REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  }
  auto ok = engine::verify_audit(*d.store);
  REQUIRE(ok.ok());
  CHECK(ok->ok);
  CHECK(ok->events == 6);
  CHECK(ok->message == "audit chain intact: 6 events over 3 tickets, 1 customer changes over 1 customers");
}

TEST_CASE("a batch commits many transitions at once and refuses some without harming the rest") {
  desk d;
  d.add_customer("c1");
  const auto a = d.open();
  const auto b = d.open();
  std::vector<engine::batch_request> batch;
  batch.push_back(engine::event_request{a, "triage", "", {{"owner", "ann"}}, std::nullopt, "ann", ""});
  batch.push_back(engine::event_request{a, "start", "", {}, std::nullopt, "ann", ""});  // sees the triage before it
  batch.push_back(engine::event_request{b, "resolve", "", {}, std::nullopt, "ann", ""});  // refused
  batch.push_back(engine::event_request{b, "comment", "hello", {}, 1, "ann", ""});
  batch.push_back(engine::event_request{b, "comment", "stale", {}, 1, "ann", ""});  // version conflict
  batch.push_back(desk::intake("c1", "in a batch"));
  auto results = d.ex->apply_batch(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 6);
  CHECK((*results)[0].ok());
  CHECK((*results)[1].ok());
  CHECK((*results)[2].error().code == engine::errc::not_allowed);
  CHECK((*results)[3].ok());
  CHECK((*results)[4].error().code == engine::errc::conflict);
  REQUIRE((*results)[5].ok());
  CHECK(d.history(a) == "intake -triage-> triage -start-> remediation");
  CHECK(d.history(b) == "intake -comment-> intake");
  CHECK(d.get((*results)[5]->ticket_after.id).subject == "in a batch");
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("a storage failure inside a batch rolls the batch back, the others commit one by one, the failed one not at all") {
  desk d;
  d.add_customer("c1");
  const auto a = d.open();
  const auto b = d.open();
  const auto c = d.open();
  const auto b_before = d.get(b);
  const auto b_timers = d.pending_timers(b);
  // A fault that strikes after the ticket row is written and before its
  // event is: the failure that would leave half a transition behind.
  REQUIRE(raw_db(d.path).exec("CREATE TRIGGER inject_fault BEFORE INSERT ON events "
                              "WHEN NEW.payload LIKE '%disk fault%' "
                              "BEGIN SELECT RAISE(ABORT, 'injected disk fault'); END;") == "");
  std::vector<engine::batch_request> batch;
  batch.push_back(desk::comment(a, "first"));
  batch.push_back(engine::event_request{b, "triage", "disk fault", {{"owner", "ann"}}, std::nullopt, "ann", "k-b"});
  batch.push_back(engine::event_request{c, "triage", "", {{"owner", "bo"}}, std::nullopt, "bo", ""});
  batch.push_back(desk::comment(a, "second"));
  batch.push_back(desk::intake("c1", "opened beside the fault"));
  auto results = d.ex->apply_batch(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 5);
  CHECK((*results)[0].ok());
  REQUIRE_FALSE((*results)[1].ok());
  CHECK((*results)[1].error().code == engine::errc::internal);
  CHECK((*results)[1].error().message.find("injected disk fault") != std::string::npos);
  CHECK((*results)[2].ok());
  CHECK((*results)[3].ok());
  REQUIRE((*results)[4].ok());

  // Each good request committed exactly once, in order.
  CHECK(d.history(a) == "intake -comment-> intake -comment-> intake");
  CHECK(d.get(a).version == 3);
  CHECK(d.history(c) == "intake -triage-> triage");
  CHECK(d.get((*results)[4]->ticket_after.id).subject == "opened beside the fault");
  // Nothing of the failed one: not its row, its timers, its event or its key.
  const auto b_after = d.get(b);
  CHECK(b_after.version == b_before.version);
  CHECK(b_after.state == "intake");
  CHECK(b_after.owner == b_before.owner);
  CHECK(b_after.last_event == b_before.last_event);
  CHECK(d.pending_timers(b) == b_timers);
  CHECK(d.history(b) == "intake");
  CHECK(engine::verify_audit(*d.store)->ok);

  // Once the fault is gone the same request (same key) goes through once.
  REQUIRE(raw_db(d.path).exec("DROP TRIGGER inject_fault") == "");
  auto retried = d.ex->apply(std::get<engine::event_request>(batch[1]));
  REQUIRE(retried.ok());
  CHECK(retried->created);
  CHECK(d.history(b) == "intake -triage-> triage");
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("a lock timeout inside a batch fails the whole batch, rolled back, without retrying item by item") {
  desk d;
  d.add_customer("c1");
  const auto a = d.open();
  const auto b = d.open();
  faulty_store faulty(*d.store);
  faulty.fail_appends_to(b, {engine::errc::unavailable, "the lock was held too long"});
  engine::executor ex(faulty, workflows::builtin_workflows(), d.clock, d.policy);
  std::vector<engine::batch_request> batch;
  batch.push_back(desk::comment(a, "first"));
  batch.push_back(desk::comment(b, "locked out"));
  batch.push_back(desk::comment(a, "second"));
  auto results = ex.apply_batch(batch);
  REQUIRE_FALSE(results.ok());
  CHECK(results.error().code == engine::errc::unavailable);
  CHECK(faulty.begins == 1);
  CHECK(d.history(a) == "intake");  // a's first comment was rolled back with the rest
  CHECK(d.get(a).version == 1);
  CHECK(d.history(b) == "intake");
}

TEST_CASE("when the store stops taking writes during the item-by-item retry, the rest fail without asking again") {
  desk d;
  d.add_customer("c1");
  const auto a = d.open();
  const auto b = d.open();
  const auto c = d.open();
  faulty_store faulty(*d.store);
  faulty.fail_appends_to(b, {engine::errc::internal, "disk fault"});
  // begin 1: the batch; 2: item a alone; 3: item b alone, now locked out.
  faulty.on_begin = [](int n) -> std::optional<engine::Error> {
    if (n >= 3) return engine::Error{engine::errc::unavailable, "the lock was held too long"};
    return std::nullopt;
  };
  engine::executor ex(faulty, workflows::builtin_workflows(), d.clock, d.policy);
  std::vector<engine::batch_request> batch;
  batch.push_back(desk::comment(a, "first"));
  batch.push_back(desk::comment(b, "faulty"));
  batch.push_back(desk::comment(c, "third"));
  auto results = ex.apply_batch(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].ok());
  CHECK((*results)[1].error().code == engine::errc::unavailable);
  CHECK((*results)[2].error().code == engine::errc::unavailable);
  CHECK(faulty.begins == 3);
  CHECK(d.history(a) == "intake -comment-> intake");
  CHECK(d.history(b) == "intake");
  CHECK(d.history(c) == "intake");
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("an event retried with the same idempotency key is applied once and answered the same") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  engine::event_request r{id, "comment", "called back", {}, std::nullopt, "ann", "evt-1"};
  auto first = d.ex->apply(r);
  REQUIRE(first.ok());
  CHECK(first->created);
  CHECK_FALSE(first->response.empty());
  auto again = d.ex->apply(r);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->response == first->response);
  CHECK(d.get(id).version == 2);
  r.note = "something else";
  CHECK(d.ex->apply(r).error().code == engine::errc::conflict);
}

TEST_CASE("the ticket's JSON text is exactly the JSON document of the ticket") {
  desk d;
  d.add_customer("c1", "gold");
  const auto a = d.open("c1", "退款 \"quoted\" \\ back\nslash \xF0\x9F\x98\x80");
  const auto b = d.open();
  REQUIRE(d.fire(b, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(b, "start").ok());
  REQUIRE(d.fire(b, "request_info").ok());
  const auto c = d.open();
  REQUIRE(d.fire(c, "triage", {{"owner", "bo"}}).ok());
  REQUIRE(d.fire(c, "start").ok());
  REQUIRE(d.fire(c, "resolve", {{"resolution_code", "x"}, {"root_cause", "y"}}, "done").ok());
  REQUIRE(d.fire(c, "follow_up_done", {{"csat", "4"}}).ok());
  for (auto id : {a, b, c})
    for (engine::timestamp later : {engine::timestamp{0}, engine::timestamp{86400 * 30}}) {
      const auto t = d.get(id);
      const auto now = d.clock.now() + later;
      CHECK(engine::ticket_json_text(t, now) == engine::to_json(t, now).dump());
    }
}
