#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "engine/audit.h"
#include "engine/scheduler.h"
#include "tests/engine/desk_fixture.h"
#include "tests/raw_db.h"

using plaint::testing::desk;
using namespace plaint;

namespace {

// Every priority and tier: first response 10 min, resolution 1 h, follow-up
// 1 day, warning at half-time; 24x7.
engine::sla_policy short_policy(std::int64_t fr = 600, std::int64_t res = 3600) {
  engine::sla_policy p = engine::sla_policy::defaults();
  for (auto& [key, t] : p.targets) t = engine::sla_targets{fr, res, 86400, 0.5};
  return p;
}

std::vector<std::string> tick(desk& d) {
  auto fired = d.ex->fire_due(d.clock.now());
  REQUIRE_MESSAGE(fired.ok(), (fired.ok() ? "" : fired.error().message));
  std::vector<std::string> out;
  for (const auto& f : *fired) out.push_back(f.fired.kind);
  return out;
}

}  // namespace

TEST_CASE("a warning comes before the breach, and breaches climb the ladder 1 to 2 to 3") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  CHECK(tick(d).empty());
  d.clock.advance(300);  // half of the first-response target
  CHECK(tick(d) == std::vector<std::string>{"first_response_warn"});
  CHECK(d.get(id).level == 1);
  d.clock.advance(300);
  CHECK(tick(d) == std::vector<std::string>{"first_response"});
  CHECK(d.get(id).level == 2);
  d.clock.advance(1200);  // 30 min: resolution warning
  CHECK(tick(d) == std::vector<std::string>{"resolution_warn"});
  d.clock.advance(1800);
  CHECK(tick(d) == std::vector<std::string>{"resolution"});
  const auto t = d.get(id);
  CHECK(t.level == 3);
  CHECK(t.version == 5);
  CHECK(d.history(id) ==
        "intake -sla_warning-> intake -escalate-> intake -sla_warning-> intake -escalate-> intake");
  auto events = d.store->ticket_events(id);
  REQUIRE(events.ok());
  CHECK((*events)[2].actor == "system");
  CHECK((*events)[2].payload["clock"] == "first_response");
  CHECK((*events)[4].payload["clock"] == "resolution");
  CHECK((*events)[4].payload["level"] == 3);
  CHECK(d.pending_timers(id).empty());
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("breaches notify as the ladder says") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  REQUIRE(d.fire(id, "assign", {{"owner", "ann"}}).ok());
  d.clock.advance(600);
  tick(d);
  auto notes = d.store->ticket_notifications(id);
  REQUIRE(notes.ok());
  std::vector<std::string> who;
  for (const auto& n : *notes) who.push_back(n.kind + " " + n.recipient);
  CHECK(who == std::vector<std::string>{"sla_warning owner:ann", "sla_breach owner:ann", "sla_breach team_lead"});
  CHECK(notes->back().message ==
        "ticket 1 (P3, c1): first-response target 2026-11-23T08:10:00Z breached; escalated to level 2");
}

TEST_CASE("each notification queues one email whose payload is the ticket's summary as JSON") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open("c1", "退款 \"quoted\" \\ refund\tmissing");
  REQUIRE(d.fire(id, "assign", {{"owner", "ann"}}).ok());
  d.clock.advance(600);
  tick(d);
  const auto t = d.get(id);
  auto mail = d.store->list_outbox("email", "", "", 100);
  REQUIRE(mail.ok());
  REQUIRE(mail->size() == 3);
  auto notes = d.store->ticket_notifications(id);
  REQUIRE(notes.ok());
  for (const auto& o : *mail) {
    std::string message;
    for (const auto& n : *notes)
      if (n.recipient == o.target && n.kind == o.kind) message = n.message;
    // Written directly; it must be the document nlohmann would write.
    const int level = o.kind == "sla_warning" ? 1 : 2;  // the ticket as that firing left it
    const engine::json expected{{"message", message}, {"ticket", t.id}, {"subject", t.subject},
                                {"priority", t.priority}, {"level", level}, {"state", t.state},
                                {"customer", t.customer}, {"owner", t.owner}};
    CHECK(o.payload == expected.dump());
  }
}

TEST_CASE("the second breach takes the second-breach step, which may raise the priority") {
  auto p = short_policy();
  p.ladder.second_breach = {true, true, {"supervisor"}};
  desk d(p);
  d.add_customer("c1");
  const auto id = d.open();
  d.clock.advance(3600);
  tick(d);
  const auto t = d.get(id);
  CHECK(t.level == 3);
  CHECK(t.priority == "P2");
  auto notes = d.store->ticket_notifications(id);
  CHECK(notes->back().recipient == "supervisor");
}

TEST_CASE("a breach retires its clock's warning if both fall due together") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  d.clock.advance(600);
  CHECK(tick(d) == std::vector<std::string>{"first_response_warn", "first_response"});
  auto p = short_policy(600, 3600);
  p.targets["P3/standard"].warn_ratio = 0.9995;  // rounds to the breach second
  desk e(p);
  e.add_customer("c1");
  const auto id2 = e.open();
  e.clock.advance(600);
  CHECK(tick(e) == std::vector<std::string>{"first_response"});
  CHECK(e.history(id2) == "intake -escalate-> intake");
  (void)id;
}

TEST_CASE("ticking again at the same instant fires nothing twice") {
  desk d(short_policy());
  d.add_customer("c1");
  for (int i = 0; i < 5; ++i) d.open();
  d.clock.advance(7200);
  CHECK(tick(d).size() == 20);
  CHECK(tick(d).empty());
  d.reopen();
  CHECK(tick(d).empty());
  CHECK(d.store->count_pending_timers().value() == 0);
}

TEST_CASE("timers due while the process was down fire on start-up once, in due order") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto a = d.open();
  d.clock.advance(60);
  const auto b = d.open();
  d.clock.advance(86400);  // "down" for a day
  d.reopen();
  auto fired = d.ex->fire_due(d.clock.now());
  REQUIRE(fired.ok());
  std::vector<std::string> order;
  for (const auto& f : *fired) order.push_back(std::to_string(f.ticket_after.id) + " " + f.fired.kind);
  CHECK(order == std::vector<std::string>{std::to_string(a) + " first_response_warn", std::to_string(b) + " first_response_warn",
                                          std::to_string(a) + " first_response", std::to_string(b) + " first_response",
                                          std::to_string(a) + " resolution_warn", std::to_string(b) + " resolution_warn",
                                          std::to_string(a) + " resolution", std::to_string(b) + " resolution"});
}

TEST_CASE("a crash between selecting a timer and committing leaves it to fire once after restart") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  d.clock.advance(300);
  {
    auto due = d.store->due_timers(d.clock.now(), 10);
    REQUIRE(due->size() == 1);
    auto tx = d.store->begin();
    REQUIRE(tx.ok());
    CHECK((*tx)->claim_timer(due->front().id, d.clock.now()).value());
    // the process dies here: no commit
  }
  d.reopen();
  CHECK(d.get(id).version == 1);
  CHECK(tick(d) == std::vector<std::string>{"first_response_warn"});
  CHECK(tick(d).empty());
  CHECK(d.get(id).version == 2);
}

TEST_CASE("two processes ticking the same database fire each timer once") {
  desk d(short_policy());
  d.add_customer("c1");
  for (int i = 0; i < 20; ++i) d.open();
  d.clock.advance(7200);
  auto other_store = storage::sqlite_store::open(d.path);
  REQUIRE(other_store.ok());
  engine::executor other(**other_store, workflows::builtin_workflows(), d.clock, d.policy);
  // The two take turns in small rounds until nothing is due, so both fire.
  std::size_t by_other = 0, by_first = 0;
  for (;;) {
    auto a = other.fire_due(d.clock.now(), 3, 7);
    auto b = d.ex->fire_due(d.clock.now(), 2, 5);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    by_other += a->size();
    by_first += b->size();
    if (a->empty() && b->empty()) break;
  }
  CHECK(by_other > 0);
  CHECK(by_first > 0);
  CHECK(by_other + by_first == 80);
  CHECK(d.store->count_pending_timers().value() == 0);
  for (engine::ticket_id id = 1; id <= 20; ++id) CHECK(d.get(id).version == 5);  // open + 4 timers, each once
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("resolving cancels the SLA timers and arms the follow-up, which fires once") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(id, "start").ok());
  REQUIRE(d.fire(id, "resolve", {{"resolution_code", "fixed"}}, "done").ok());
  d.clock.advance(86400);
  CHECK(tick(d) == std::vector<std::string>{"follow_up"});
  CHECK(d.get(id).level == 1);
  REQUIRE(d.fire(id, "follow_up_done", {{"unreachable", "true"}}).ok());
  CHECK(d.get(id).state == "closed");
}

TEST_CASE("pausing stops the resolution timers and resuming re-arms them later") {
  desk d(short_policy());
  d.add_customer("c1");
  const auto id = d.open();
  REQUIRE(d.fire(id, "triage", {{"owner", "ann"}}).ok());
  REQUIRE(d.fire(id, "start").ok());
  REQUIRE(d.fire(id, "request_info").ok());
  d.clock.advance(7200);
  CHECK(tick(d).empty());
  REQUIRE(d.fire(id, "customer_replied").ok());
  CHECK(d.pending_timers(id).at("resolution") == "2026-11-23T11:00:00Z");
}

TEST_CASE("a policy change recomputes the due times of open tickets") {
  desk d;
  d.add_customer("c1");
  const auto id = d.open();
  CHECK(d.pending_timers(id).at("resolution") == "2026-11-26T08:00:00Z");
  auto changed = d.ex->apply_policy(short_policy(), "supervisor");
  REQUIRE(changed.ok());
  CHECK(*changed == 1);
  CHECK(d.pending_timers(id).at("resolution") == "2026-11-23T09:00:00Z");
  CHECK(d.history(id) == "intake -sla_recomputed-> intake");
  auto audit = engine::verify_audit(*d.store);
  REQUIRE(audit.ok());
  CHECK_MESSAGE(audit->ok, audit->message);
}

TEST_CASE("the live scheduler fires timers as they fall due on an io_context") {
  engine::system_clock real;
  plaint::testing::temp_dir dir;
  auto s = storage::sqlite_store::open(dir.file("live.db"));
  REQUIRE(s.ok());
  REQUIRE((*s)->migrate().ok());
  engine::executor ex(**s, workflows::builtin_workflows(), real, short_policy(2, 4));
  engine::customer c;
  c.id = "c1";
  c.name = "Live";
  REQUIRE(ex.put_customer(engine::customer_update::whole(c, "test")).ok());
  auto opened = ex.open(desk::intake("c1", "live"));
  REQUIRE(opened.ok());

  boost::asio::io_context io;
  std::vector<std::string> fired;
  engine::scheduler sched(io, ex, **s, [&](const engine::fired_timer& f) {
    fired.push_back(f.fired.kind);
    if (f.fired.kind == "resolution") io.stop();
  });
  sched.start();
  io.run_for(std::chrono::seconds(10));
  sched.stop();
  INFO("fired: " << engine::join(fired));
  CHECK(fired == std::vector<std::string>{"first_response_warn", "first_response", "resolution_warn", "resolution"});
  CHECK(ex.apply({opened->ticket_after.id, "comment", "x", {}, std::nullopt, "ann", ""}).ok());
  CHECK((*s)->get_ticket(opened->ticket_after.id)->level == 3);
}

TEST_CASE("the live scheduler sees timers another connection arms, within its rescan interval") {
  engine::system_clock real;
  plaint::testing::temp_dir dir;
  const std::string path = dir.file("shared.db");
  auto s = storage::sqlite_store::open(path);
  REQUIRE(s.ok());
  REQUIRE((*s)->migrate().ok());
  engine::executor ex(**s, workflows::builtin_workflows(), real, short_policy(2, 4));
  engine::customer c;
  c.id = "c1";
  c.name = "Elsewhere";
  REQUIRE(ex.put_customer(engine::customer_update::whole(c, "test")).ok());

  boost::asio::io_context io;
  std::vector<std::string> fired;
  engine::scheduler sched(
      io, ex, **s,
      [&](const engine::fired_timer& f) {
        fired.push_back(f.fired.kind);
        io.stop();
      },
      {}, std::chrono::milliseconds(100));
  sched.start();  // nothing is pending yet
  CHECK_FALSE(sched.armed_for().has_value());
  {
    // Another process (say `plaint open` beside a running server) opens a
    // ticket through its own connection; nothing pokes this scheduler.
    auto other = storage::sqlite_store::open(path);
    REQUIRE(other.ok());
    engine::executor elsewhere(**other, workflows::builtin_workflows(), real, short_policy(2, 4));
    REQUIRE(elsewhere.open(desk::intake("c1", "opened elsewhere")).ok());
  }
  io.run_for(std::chrono::seconds(5));
  sched.stop();
  CHECK(fired == std::vector<std::string>{"first_response_warn"});
}

TEST_CASE("a scheduler that cannot fire backs off by its rescan interval instead of spinning, then fires once it can") {
  desk d(short_policy(600, 3600));
  d.add_customer("c1");
  const auto id = d.open();
  d.clock.advance(7 * 86400);  // every timer of the ticket is overdue
  d.store->set_busy_timeout(std::chrono::milliseconds(0));
  plaint::testing::raw_db other(d.path);
  REQUIRE(other.exec("BEGIN IMMEDIATE") == "");  // another process holds the write lock

  boost::asio::io_context io;
  int failures = 0;
  std::vector<std::string> fired;
  engine::scheduler sched(
      io, *d.ex, *d.store, [&](const engine::fired_timer& f) { fired.push_back(f.fired.kind); },
      [&](const engine::Error& e) {
        ++failures;
        CHECK(e.code == engine::errc::unavailable);
        sched.poke();  // as the server does after every batch: no busy loop either
      },
      std::chrono::milliseconds(100));
  sched.start();
  io.run_for(std::chrono::milliseconds(450));
  CHECK(fired.empty());
  CHECK(failures >= 3);
  CHECK(failures <= 6);

  REQUIRE(other.exec("ROLLBACK") == "");
  io.run_for(std::chrono::milliseconds(300));
  sched.stop();
  CHECK(fired == std::vector<std::string>{"first_response_warn", "first_response", "resolution_warn", "resolution"});
  CHECK(d.get(id).level == 3);
  CHECK(engine::verify_audit(*d.store)->ok);
}

TEST_CASE("a batched event refused for a due time past year 9999 writes nothing, not even the timers due before it") {
  // Opened two hours before the last storable instant; the first-response
  // timers (10 min, warning at 5) are overdue when the event comes.
  auto p = short_policy();
  SUBCASE("the event's own clocks would leave the range") {
    p.targets["P4/standard"] = engine::sla_targets{600, 30 * 86400, 86400, 0.5};
  }
  SUBCASE("a timer due before it would move them out of the range") {
    p.ladder.first_response_breach = {true, true, {"team_lead"}};  // P3 -> P2
    p.targets["P2/standard"] = engine::sla_targets{600, 30 * 86400, 86400, 0.5};
  }
  desk d(p);
  d.add_customer("c1");
  d.clock.set(engine::max_instant - 7200);
  const auto late = d.open();
  const auto timers_before = d.pending_timers(late);
  d.clock.advance(1200);
  const auto other = d.open();  // nothing due: its comment goes through beside the refusal

  const bool own = p.targets["P4/standard"].resolution == 30 * 86400;
  std::vector<engine::batch_request> batch;
  batch.push_back(desk::comment(other, "before"));
  if (own)
    batch.push_back(engine::event_request{late, "set_priority", "", {{"priority", "P4"}}, std::nullopt, "ann", "k-late"});
  else
    batch.push_back(engine::event_request{late, "comment", "late", {}, std::nullopt, "ann", "k-late"});
  auto results = d.ex->apply_batch(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 2);
  CHECK((*results)[0].ok());
  REQUIRE_FALSE((*results)[1].ok());
  CHECK((*results)[1].error().code == engine::errc::invalid);
  CHECK((*results)[1].error().message == "ticket " + std::to_string(late) +
                                             "'s resolution warning time would fall after 9999-12-31T23:59:59Z, "
                                             "the last instant plaint can store");
  // Nothing of the refused one: no firing, no event, no timer claimed, no key.
  CHECK(d.history(late) == "intake");
  CHECK(d.get(late).version == 1);
  CHECK(d.get(late).level == 1);
  CHECK(d.pending_timers(late) == timers_before);
  CHECK(d.store->ticket_notifications(late)->empty());
  CHECK(d.history(other) == "intake -comment-> intake");
  CHECK(engine::verify_audit(*d.store)->ok);
}
