// The outbox's webhook rows: one per webhook and transaction, however many
// events the transaction logs; delivered event by event, in seq order, by
// the worker (server/outbox.h) to a real receiver on loopback, with a
// refused event split off to be retried alone and an unreachable receiver
// keeping the rest together.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "engine/channels.h"
#include "server/outbox.h"
#include "storage/sqlite_queries.h"
#include "tests/raw_db.h"
#include "tests/engine/desk_fixture.h"
#include "tests/server/hook_receiver.h"

using namespace plaint;
using namespace plaint::testing;

namespace {

std::int64_t add_hook(desk& d, const std::string& url, const std::string& events) {
  auto w = engine::new_webhook(url, events, "0123456789abcdef", "root", d.clock.now());
  REQUIRE(w.ok());
  auto tx = d.store->begin();
  REQUIRE(tx.ok());
  auto id = engine::add_webhook(**tx, *w);
  REQUIRE(id.ok());
  REQUIRE((*tx)->commit().ok());
  return *id;
}

std::vector<engine::outbox_item> rows_of(desk& d, std::int64_t hook) {
  auto rows = d.store->list_outbox("webhook", std::to_string(hook), "", 1000);
  REQUIRE(rows.ok());
  return *rows;
}

// One ticket with `notes` comments logged in ONE transaction (a batch).
engine::ticket_id batch_of_comments(desk& d, const std::vector<std::string>& notes) {
  d.add_customer("acme");
  auto opened = d.ex->open(desk::intake("acme", "the kettle leaks"));
  REQUIRE(opened.ok());
  std::vector<engine::batch_request> batch;
  for (const auto& n : notes) batch.emplace_back(desk::comment(opened->ticket_after.id, n));
  auto done = d.ex->apply_batch(batch);
  REQUIRE(done.ok());
  for (const auto& r : *done) REQUIRE(r.ok());
  return opened->ticket_after.id;
}

server::delivery_settings quick() {
  server::delivery_settings s;
  s.retry_base = 1;
  s.timeout = std::chrono::seconds(5);
  return s;
}

}  // namespace

TEST_CASE("a transaction's events cost each webhook one outbox row, counted as one delivery per event") {
  desk d;
  const std::int64_t all = add_hook(d, "http://127.0.0.1:9/all", "");
  const std::int64_t some = add_hook(d, "http://127.0.0.1:9/some", "comment");
  const std::int64_t none = add_hook(d, "http://127.0.0.1:9/none", "escalate");
  batch_of_comments(d, {"one", "two", "three", "four", "five"});

  // The open: a row for `all` only. The batch: one row each for `all` and
  // `some`, covering its five events; nothing for `none`.
  auto a = rows_of(d, all);
  REQUIRE(a.size() == 2);
  CHECK(a[0].events == 5);
  CHECK(a[0].last_seq - a[0].event_seq == 4);
  CHECK(a[0].kind == "comment");
  CHECK(a[1].events == 1);
  CHECK(a[1].kind == "open");
  CHECK(a[1].last_seq == a[1].event_seq);
  auto s = rows_of(d, some);
  REQUIRE(s.size() == 1);
  CHECK(s[0].events == 5);
  CHECK(s[0].event_seq == a[0].event_seq);
  CHECK(rows_of(d, none).empty());

  auto counts = d.store->count_outbox();
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 1);
  CHECK((*counts)[0].state == "pending");
  CHECK((*counts)[0].count == 11);  // deliveries owed, not rows
}

TEST_CASE("a batch's deliveries go out in seq order, each signed with its own delivery id") {
  desk d;
  hook_receiver receiver;
  const std::int64_t hook = add_hook(d, receiver.url(), "");
  batch_of_comments(d, {"one", "two", "three"});
  server::outbox_worker worker(*d.store, server::direct_writes(*d.store), d.clock, quick());
  auto r = worker.run_once();
  REQUIRE(r.ok());
  CHECK(r->delivered == 4);
  const auto hits = receiver.hits();
  REQUIRE(hits.size() == 4);
  std::vector<std::int64_t> seqs;
  std::set<std::string> ids;
  for (const auto& h : hits) {
    const auto body = engine::json::parse(h.body);
    seqs.push_back(body["seq"].get<std::int64_t>());
    CHECK(h.headers.at("x-plaint-delivery") == std::to_string(hook) + "-" + std::to_string(seqs.back()));
    CHECK(h.headers.at("x-plaint-event") == body["event"].get<std::string>());
    ids.insert(h.headers.at("x-plaint-delivery"));
  }
  CHECK(seqs == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(ids.size() == 4);
  for (const auto& row : rows_of(d, hook)) CHECK(row.state == "delivered");
  auto again = worker.run_once();
  REQUIRE(again.ok());
  CHECK(again->attempted() == 0);
  CHECK(receiver.hits().size() == 4);
}

TEST_CASE("an event the receiver refuses is retried alone, and the others of its transaction are delivered") {
  desk d;
  hook_receiver receiver;
  receiver.refuse_containing("\"seq\":3,");
  const std::int64_t hook = add_hook(d, receiver.url(), "");
  batch_of_comments(d, {"one", "two", "three"});  // seqs 2, 3, 4 in one row
  server::outbox_worker worker(*d.store, server::direct_writes(*d.store), d.clock, quick());
  auto r = worker.run_once();
  REQUIRE(r.ok());
  CHECK(r->delivered == 3);
  CHECK(r->retried == 1);
  CHECK(receiver.hits().size() == 4);

  auto rows = rows_of(d, hook);  // newest first: the split-off row, the batch, the open
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].state == "pending");
  CHECK(rows[0].event_seq == 3);
  CHECK(rows[0].last_seq == 3);
  CHECK(rows[0].events == 1);
  CHECK(rows[0].attempts == 1);
  CHECK(rows[0].last_error.find("answered 500") != std::string::npos);
  CHECK(rows[1].state == "delivered");
  CHECK(rows[1].events == 2);

  // Not yet due: nothing is sent.
  auto early = worker.run_once();
  REQUIRE(early.ok());
  CHECK(early->attempted() == 0);
  receiver.refuse_containing("");
  d.clock.advance(10);
  auto later = worker.run_once();
  REQUIRE(later.ok());
  CHECK(later->delivered == 1);
  const auto hits = receiver.hits();
  REQUIRE(hits.size() == 5);
  CHECK(hits[4].headers.at("x-plaint-delivery") == std::to_string(hook) + "-3");
  auto counts = d.store->count_outbox();
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 1);
  CHECK((*counts)[0].state == "delivered");
  CHECK((*counts)[0].count == 4);
}

TEST_CASE("a receiver that cannot be reached keeps a transaction's events together until it can") {
  desk d;
  hook_receiver receiver;
  const int port = receiver.port();
  receiver.stop();
  const std::int64_t hook = add_hook(d, "http://127.0.0.1:" + std::to_string(port) + "/hook", "");
  batch_of_comments(d, {"one", "two", "three"});
  server::outbox_worker worker(*d.store, server::direct_writes(*d.store), d.clock, quick());
  auto r = worker.run_once();
  REQUIRE(r.ok());
  CHECK(r->delivered == 0);
  CHECK(r->retried == 4);
  auto rows = rows_of(d, hook);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].events == 3);  // tried at its first event, the rest not tried
  CHECK(rows[0].attempts == 1);
  CHECK(rows[0].state == "pending");

  receiver.listen();
  d.clock.advance(10);
  auto later = worker.run_once();
  REQUIRE(later.ok());
  CHECK(later->delivered == 4);
  CHECK(receiver.hits().size() == 4);
  for (const auto& row : rows_of(d, hook)) CHECK(row.state == "delivered");
}

TEST_CASE("the rows of one attempt: delivered, refused, not reached and stopped") {
  engine::outbox_item o;
  o.id = 7;
  o.channel = "webhook";
  o.event_seq = 10;
  o.last_seq = 19;
  o.events = 10;
  o.created_at = 1000;
  SUBCASE("all delivered: the row itself") {
    engine::webhook_attempt a;
    a.delivered = 10;
    auto rows = engine::after_webhook_attempt(o, a, 1001, 3600, 0.5, 30);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == 7);
    CHECK(rows[0].state == "delivered");
    CHECK(rows[0].events == 10);
  }
  SUBCASE("some delivered, one refused, then the receiver gone") {
    engine::webhook_attempt a;
    a.delivered = 4;
    a.refused = {{12, "POST x: the receiver answered 503"}};
    a.stopped_at = 15;
    a.left = 5;
    a.error = "POST x: connection refused";
    auto rows = engine::after_webhook_attempt(o, a, 1001, 3600, 0.5, 30);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].id == 7);
    CHECK(rows[0].events == 4);
    CHECK(rows[0].state == "delivered");
    CHECK(rows[1].id == 0);
    CHECK(rows[1].event_seq == 15);
    CHECK(rows[1].last_seq == 19);
    CHECK(rows[1].events == 5);
    CHECK(rows[1].state == "pending");
    CHECK(rows[1].next_at == 1001 + 30);
    CHECK(rows[1].last_error == "POST x: connection refused");
    CHECK(rows[2].id == 0);
    CHECK(rows[2].event_seq == 12);
    CHECK(rows[2].last_seq == 12);
    CHECK(rows[2].events == 1);
    CHECK(rows[2].attempts == 1);
  }
  SUBCASE("nothing delivered: the row keeps what is left") {
    engine::webhook_attempt a;
    a.stopped_at = 10;
    a.left = 10;
    a.error = "timeout";
    auto rows = engine::after_webhook_attempt(o, a, 1001, 3600, 0.5, 30);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == 7);
    CHECK(rows[0].events == 10);
    CHECK(rows[0].attempts == 1);
  }
  SUBCASE("the worker stopped: what is left waits, and no attempt is counted") {
    engine::webhook_attempt a;
    a.delivered = 2;
    a.stopped_at = 12;
    a.left = 8;
    a.cancelled = true;
    auto rows = engine::after_webhook_attempt(o, a, 1001, 3600, 0.5, 30);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].id == 0);
    CHECK(rows[1].attempts == 0);
    CHECK(rows[1].next_at == 1001);
    CHECK(rows[1].state == "pending");
  }
  SUBCASE("past the retry period: failed for good") {
    engine::webhook_attempt a;
    a.stopped_at = 10;
    a.left = 10;
    a.error = "timeout";
    auto rows = engine::after_webhook_attempt(o, a, 1000 + 3600, 3600, 0.5, 30);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].state == "failed");
  }
}

TEST_CASE("settled outbox rows are deleted once their retention has passed, and newer ones stay") {
  desk d;
  hook_receiver receiver;
  const std::int64_t hook = add_hook(d, receiver.url(), "");
  batch_of_comments(d, {"one"});
  server::outbox_worker worker(*d.store, server::direct_writes(*d.store), d.clock, quick());
  REQUIRE(worker.run_once().ok());
  REQUIRE(rows_of(d, hook).size() == 2);
  // A newer row, still pending when the first two expire.
  receiver.stop();
  d.clock.advance(20 * 86400);
  REQUIRE(d.ex->apply(desk::comment(1, "later")).ok());
  REQUIRE(worker.run_once().ok());
  d.clock.advance(engine::default_outbox_retention - 20 * 86400 + 1);
  auto pruned = worker.prune();
  REQUIRE(pruned.ok());
  CHECK(*pruned == 2);
  auto left = rows_of(d, hook);
  REQUIRE(left.size() == 1);
  CHECK(left[0].state != "delivered");
  auto again = worker.prune();
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("without SMTP, mail waiting in the outbox neither delays the webhooks nor wakes the worker") {
  desk d;
  hook_receiver receiver;
  const std::int64_t hook = add_hook(d, receiver.url(), "");
  batch_of_comments(d, {"one"});
  // Mail that fell due long before the webhooks and waits for an SMTP server.
  {
    raw_db raw(d.path);
    REQUIRE(raw.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
                     "INSERT INTO outbox (channel, ticket, event_seq, target, kind, payload, created_at, next_at, "
                     "last_seq, events) SELECT 'email', 1, 1, 'ann@desk.example', 'sla_breach', '{}', 1000, 1000 + i, 1, 1 "
                     "FROM n") == "");
    // The claim of one channel reads that channel's index, not the mail.
    const std::string plan = raw.plan(storage::query_sql[storage::q::outbox_claimable_of]);
    INFO(plan);
    CHECK(plan.rfind("SEARCH outbox USING INDEX outbox_pending_channel (channel=? AND next_at<?)", 0) == 0);
  }
  auto mail_due = d.store->next_outbox_due("email");
  REQUIRE(mail_due.ok());
  CHECK(**mail_due == 1001);
  auto hooks_due = d.store->next_outbox_due("webhook");
  REQUIRE(hooks_due.ok());
  CHECK(**hooks_due == d.clock.now());
  server::outbox_worker worker(*d.store, server::direct_writes(*d.store), d.clock, quick());
  CHECK(worker.channel() == "webhook");
  auto first = worker.run_once();
  REQUIRE(first.ok());
  CHECK(first->delivered == 2);  // the open's row and the comment's
  for (const auto& row : rows_of(d, hook)) CHECK(row.state == "delivered");
  // Nothing of its own is due now: the mail does not count.
  auto next = worker.next_due();
  REQUIRE(next.ok());
  CHECK_FALSE(next->has_value());
  auto again = worker.run_once();
  REQUIRE(again.ok());
  CHECK(again->attempted() == 0);
  auto mail = d.store->list_outbox("email", "", "pending", 1000);
  REQUIRE(mail.ok());
  CHECK(mail->size() == 1000);  // all still waiting
}
