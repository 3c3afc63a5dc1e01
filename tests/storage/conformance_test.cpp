// The storage contract (engine/store.h) checked against every back end:
// SQLite always, PostgreSQL when $PLAINT_TEST_PG names a server (tests/run.sh
// starts one). Round-trips, the audit chain, transactions, timers, queue
// filters, paging, search, tokens, history pages and the customer log.
#include <algorithm>
#include <functional>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "storage/open_store.h"
#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;
using engine::errc;

namespace {

// The code of a value the schema refuses (engine/store.h: ERRORS).
errc refused_value(const backend_store& f) { return f.backend == "sqlite" ? errc::internal : errc::invalid; }

engine::api_token sample_token(std::string id, std::string name, std::string role = "agent",
                               engine::timestamp created_at = 1'700'000'000) {
  engine::api_token t;
  t.id = std::move(id);
  t.name = std::move(name);
  t.role = std::move(role);
  t.salt = std::string(32, 'a');
  t.hash = std::string(64, 'b');
  t.created_at = created_at;
  return t;
}

std::string fields(const engine::api_token& t) {
  return engine::json{{"id", t.id},
                      {"name", t.name},
                      {"role", t.role},
                      {"salt", t.salt},
                      {"hash", t.hash},
                      {"created_at", t.created_at},
                      {"revoked_at", t.revoked_at ? engine::json(*t.revoked_at) : engine::json()}}
      .dump();
}

void put_tokens(engine::store& s, const std::vector<engine::api_token>& tokens) {
  auto tx = begin(s);
  for (const auto& t : tokens) require_ok(tx->put_token(t));
  require_ok(tx->commit());
}

// Which tokens are live, "ann-1 bob-1", in list order.
std::string live_ids(engine::store& s) {
  auto all = s.list_tokens();
  require_ok(all);
  std::string ids;
  for (const auto& t : *all)
    if (!t.revoked_at) ids += (ids.empty() ? "" : " ") + t.id;
  return ids;
}

engine::event_record event_of(engine::ticket_id ticket, std::string name, std::string from, std::string to,
                              std::int64_t version) {
  engine::event_record e;
  e.ticket = ticket;
  e.at = 1'700'000'200 + version;
  e.actor = "alice";
  e.event = std::move(name);
  e.from_state = std::move(from);
  e.to_state = std::move(to);
  e.version = version;
  e.payload = engine::json{{"note", "客户来电 about the kettle"}, {"n", version}};
  return e;
}

std::vector<engine::event_record> all_events(engine::store& s) {
  std::vector<engine::event_record> out;
  require_ok(s.scan_events(0, [&](const engine::event_record& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}

engine::ticket ticket_in(std::string customer, std::string state, std::string owner, int level) {
  engine::ticket t = sample_ticket(std::move(customer));
  t.state = std::move(state);
  t.owner = std::move(owner);
  t.level = level;
  return t;
}

// A ticket whose SLA clocks are set by `setup`; times are small integers.
template <class Setup>
engine::ticket with_clocks(Setup setup) {
  engine::ticket t = sample_ticket();
  setup(t);
  return t;
}

engine::ticket_page list(engine::store& s, engine::ticket_query q) {
  auto page = s.list_tickets(q);
  require_ok(page);
  return std::move(*page);
}

}  // namespace

TEST_CASE("customers round-trip, Chinese names included, and put updates in place") {
  for_each_backend([&](backend_store& f) {
    engine::customer zh = sample_customer("cn-001", "上海星辰贸易有限公司");
    zh.tier = "platinum";
    zh.email = "kefu@example.cn";
    zh.phone = "+86 21 5555 0100";
    zh.attributes = engine::json{{"城市", "上海"}, {"accounts", {1, 2, 3}}};
    add(*f.store, {sample_customer(), zh}, {});

    auto got = f.store->get_customer("cn-001");
    require_ok(got);
    CHECK(fields(*got) == fields(zh));

    zh.name = "星辰贸易";
    zh.tier = "gold";
    zh.updated_at += 60;
    add(*f.store, {zh}, {});
    auto customers = f.store->list_customers();
    require_ok(customers);
    REQUIRE(customers->size() == 2);
    CHECK(fields((*customers)[0]) == fields(sample_customer()));
    CHECK(fields((*customers)[1]) == fields(zh));
  });
}

TEST_CASE("missing tickets and customers are reported as not found") {
  for_each_backend([&](backend_store& f) {
    auto t = f.store->get_ticket(42);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == errc::not_found);
    CHECK(t.error().message == "ticket 42 does not exist");
    auto c = f.store->get_customer("acme");
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == errc::not_found);
    CHECK(c.error().message == "customer 'acme' does not exist");
    auto tx = begin(*f.store);
    auto found = tx->find_ticket(42);
    require_ok(found);
    CHECK_FALSE(found->has_value());
  });
}

TEST_CASE("a ticket round-trips every field, with optional values unset and set") {
  for_each_backend([&](backend_store& f) {
    engine::ticket bare = sample_ticket("acme", "水壶漏水，要求退款");

    engine::ticket full = sample_ticket();
    full.workflow = "service_request";
    full.tier = "gold";
    full.channel = "in_person";
    full.category = "product_quality";
    full.priority = "P1";
    full.description = "Leaks.\n第二行：快递延误。";
    full.state = "follow_up";
    full.owner = "bob";
    full.level = 3;
    full.version = 9;
    full.first_response_at = 1'700'000'110;
    full.first_response_warn_at = 1'700'000'120;
    full.first_response_due = 1'700'000'130;
    full.resolution_warn_at = 1'700'000'140;
    full.resolution_due = 1'700'000'150;
    full.paused_at = 1'700'000'160;
    full.paused_seconds = 77;
    full.resolved_at = 1'700'000'170;
    full.follow_up_due = 1'700'000'180;
    full.closed_at = 1'700'000'190;
    full.fired = engine::fired_first_response | engine::fired_resolution_warn;
    full.resolution_code = "replaced";
    full.root_cause = "seal";
    full.csat = 4;
    full.reopen_count = 2;
    full.handoff_count = 5;
    full.tags = {"vip", "退款", "a \"quoted\" tag"};

    const auto ids = add(*f.store, {sample_customer()}, {bare, full});
    CHECK(ids == std::vector<engine::ticket_id>{1, 2});
    bare.id = 1;
    full.id = 2;
    CHECK(fields(*f.store->get_ticket(1)) == fields(bare));
    CHECK(fields(*f.store->get_ticket(2)) == fields(full));

    SUBCASE("an explicit id is kept and later ids follow it") {
      engine::ticket imported = sample_ticket();
      imported.id = 40;
      const auto more = add(*f.store, {}, {imported, sample_ticket()});
      CHECK(more == std::vector<engine::ticket_id>{40, 41});
    }
    SUBCASE("update_ticket writes every field that changes after intake when the version matches") {
      engine::ticket changed = full;
      changed.id = 1;
      changed.version = 2;
      changed.tags = {};
      changed.csat.reset();
      changed.paused_at.reset();
      auto tx = begin(*f.store);
      engine::ticket before = *f.store->get_ticket(1);
      REQUIRE(before.version == 1);
      require_ok(tx->update_ticket(changed, before));
      require_ok(tx->commit());
      // What is fixed at intake stays as it was logged.
      const engine::ticket stored = *f.store->get_ticket(1);
      CHECK(stored.subject != changed.subject);
      changed.workflow = stored.workflow;
      changed.customer = stored.customer;
      changed.tier = stored.tier;
      changed.channel = stored.channel;
      changed.subject = stored.subject;
      changed.description = stored.description;
      changed.created_at = stored.created_at;
      CHECK(fields(stored) == fields(changed));
    }
    SUBCASE("update_ticket writes a figure column that moved alone") {
      // SQLite writes these in a statement of their own, run only when one
      // of them moved (figures_moved): each is changed here on its own.
      const std::function<void(engine::ticket&)> moves[] = {
          [](engine::ticket& t) { t.first_response_at = 1'700'000'901; },
          [](engine::ticket& t) { t.first_response_due = 1'700'000'902; },
          [](engine::ticket& t) { t.resolution_due = 1'700'000'903; },
          [](engine::ticket& t) { t.paused_at.reset(); },
          [](engine::ticket& t) { t.resolved_at = 1'700'000'905; },
          [](engine::ticket& t) { t.closed_at.reset(); },
          [](engine::ticket& t) { t.root_cause = "hinge"; },
          [](engine::ticket& t) { t.csat = 1; },
          [](engine::ticket& t) { t.reopen_count = 3; },
          [](engine::ticket& t) { t.handoff_count = 6; },
          [](engine::ticket& t) { t.tags = {"退款"}; },
      };
      for (std::size_t i = 0; i < std::size(moves); ++i) {
        const engine::ticket before = *f.store->get_ticket(2);
        engine::ticket after = before;
        moves[i](after);
        after.version = before.version + 1;
        auto tx = begin(*f.store);
        require_ok(tx->update_ticket(after, before));
        require_ok(tx->commit());
        CHECK_MESSAGE(fields(*f.store->get_ticket(2)) == fields(after), "change ", i);
      }
    }
  });
}

TEST_CASE("a ticket for an unknown customer is refused with the database's reason") {
  for_each_backend([&](backend_store& f) {
    auto tx = begin(*f.store);
    auto id = tx->insert_ticket(sample_ticket("nobody"));
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().code == refused_value(f));
    CHECK(id.error().message.find("cannot add a ticket for customer 'nobody': ") == 0);
    CHECK(id.error().message.find(f.backend == "sqlite" ? "FOREIGN KEY constraint failed" : "foreign key") !=
          std::string::npos);
  });
}

TEST_CASE("update_ticket with a stale version returns conflict and writes nothing") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, {sample_ticket()});
    engine::ticket t = *f.store->get_ticket(1);
    const std::string before = fields(t);
    t.state = "triage";
    t.owner = "mallory";
    t.version = 6;

    engine::ticket stale = t;
    stale.version = 5;
    auto tx = begin(*f.store);
    auto s = tx->update_ticket(t, stale);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == errc::conflict);
    CHECK(s.error().message == "ticket 1 was changed by someone else; it is no longer at version 5");
    require_ok(tx->commit());
    CHECK(fields(*f.store->get_ticket(1)) == before);

    t.id = 9;
    auto tx2 = begin(*f.store);
    stale.version = 1;
    auto missing = tx2->update_ticket(t, stale);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == errc::not_found);
    CHECK(missing.error().message == "ticket 9 does not exist");
  });
}

TEST_CASE("a committed transaction frees the store, and destroying it later leaves the next one alone") {
  for_each_backend([&](backend_store& f) {
    auto first = begin(*f.store);
    require_ok(first->put_customer(sample_customer("a")));
    require_ok(first->commit());
    auto second = begin(*f.store);
    require_ok(second->put_customer(sample_customer("b")));
    first.reset();
    require_ok(second->commit());
    CHECK(f.store->list_customers()->size() == 2);
  });
}

TEST_CASE("schedule_timer moves the pending timer of a kind and cancel_timer cancels it") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, {sample_ticket()});
    auto timers = [&] {
      std::vector<std::string> out;
      auto rows = f.store->ticket_timers(1);
      require_ok(rows);
      for (const auto& t : *rows)
        out.push_back(fmt::format("{} {} {}", t.kind, t.due_at, t.status));
      return out;
    };
    {
      auto tx = begin(*f.store);
      require_ok(tx->schedule_timer(1, "first_response", 1000));
      require_ok(tx->schedule_timer(1, "resolution", 5000));
      require_ok(tx->schedule_timer(1, "first_response", 2000));
      require_ok(tx->commit());
    }
    CHECK(timers() == std::vector<std::string>{"first_response 2000 pending", "resolution 5000 pending"});
    {
      auto tx = begin(*f.store);
      require_ok(tx->cancel_timer(1, "first_response"));
      require_ok(tx->cancel_timer(1, "follow_up"));  // none pending: nothing to do
      require_ok(tx->schedule_timer(1, "first_response", 3000));
      require_ok(tx->commit());
    }
    CHECK(timers() == std::vector<std::string>{"first_response 2000 cancelled", "resolution 5000 pending",
                                               "first_response 3000 pending"});
  });
}

TEST_CASE("timers written verbatim keep every field and still allow one pending per kind") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, {sample_ticket()});
    engine::timer fired{17, 1, "resolution_warn", 4000, "fired", 4001};
    engine::timer pending{18, 1, "resolution", 5000, "pending", std::nullopt};
    auto tx = begin(*f.store);
    require_ok(tx->insert_timer_verbatim(fired));
    require_ok(tx->insert_timer_verbatim(pending));
    require_ok(tx->commit());
    engine::timer twin = pending;
    twin.id = 19;
    {
      auto again = begin(*f.store);
      auto s = again->insert_timer_verbatim(twin);
      REQUIRE_FALSE(s.ok());
      CHECK(s.error().message.find("cannot import timer 19 of ticket 1: ") == 0);
      // A failed write leaves the transaction good only for rolling back.
    }
    std::vector<std::string> seen;
    require_ok(f.store->scan_timers([&](const engine::timer& t) {
      seen.push_back(fields(t));
      return true;
    }));
    CHECK(seen == std::vector<std::string>{fields(fired), fields(pending)});
  });
}

TEST_CASE("events written verbatim keep their seq and hashes, and appends continue after them") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, {sample_ticket()});
    auto empty = f.store->last_event_seq();
    require_ok(empty);
    CHECK(*empty == 0);
    engine::event_record e = event_of(1, "open", "", "intake", 1);
    e.seq = 1;
    e.prev_hash = engine::genesis_hash;
    e.hash = engine::audit_hash(e.prev_hash, e);
    auto tx = begin(*f.store);
    require_ok(tx->insert_event_verbatim(e));
    auto next = append_linked(*tx, event_of(1, "triage", "intake", "triage", 2));
    require_ok(next);
    CHECK(next->seq == 2);
    CHECK(next->prev_hash == e.hash);
    require_ok(tx->commit());
    auto last = f.store->last_event_seq();
    require_ok(last);
    CHECK(*last == 2);
    CHECK(engine::to_json(all_events(*f.store).at(0)) == engine::to_json(e));
  });
}

TEST_CASE("idempotency records and settings round-trip") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, {sample_ticket()});
    const engine::idempotency_record r{"req-7f3a", "open", "sha256:abc", 1, 1'700'000'500, ""};
    {
      auto tx = begin(*f.store);
      CHECK_FALSE(tx->find_idempotency("req-7f3a")->has_value());
      require_ok(tx->put_idempotency(r));
      require_ok(tx->put_setting("policy", "v1"));
      require_ok(tx->put_setting("policy", "v2"));
      require_ok(tx->commit());
    }
    auto tx = begin(*f.store);
    auto got = tx->find_idempotency("req-7f3a");
    require_ok(got);
    REQUIRE(got->has_value());
    const engine::idempotency_record& g = **got;
    CHECK(g.key == r.key);
    CHECK(g.scope == r.scope);
    CHECK(g.fingerprint == r.fingerprint);
    CHECK(g.ticket == r.ticket);
    CHECK(g.created_at == r.created_at);
    CHECK(**f.store->get_setting("policy") == "v2");
    CHECK_FALSE(f.store->get_setting("missing")->has_value());
  });
}

TEST_CASE("scans walk each table in key order and stop when the callback says so") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer("m"), sample_customer("b"), sample_customer("x")},
        {sample_ticket("x"), sample_ticket("b"), sample_ticket("m")});
    {
      auto tx = begin(*f.store);
      for (engine::ticket_id id : {3, 1, 2, 1}) require_ok(append_linked(*tx, event_of(id, "comment", "a", "a", 1)));
      require_ok(tx->commit());
    }
    std::string order;
    require_ok(f.store->scan_customers([&](const engine::customer& c) {
      order += c.id;
      return true;
    }));
    CHECK(order == "bmx");
    std::vector<engine::ticket_id> tickets;
    require_ok(f.store->scan_tickets([&](const engine::ticket& t) {
      tickets.push_back(t.id);
      return tickets.size() < 2;
    }));
    CHECK(tickets == std::vector<engine::ticket_id>{1, 2});
    std::vector<std::int64_t> seqs;
    require_ok(f.store->scan_events(2, [&](const engine::event_record& e) {
      seqs.push_back(e.seq);
      return true;
    }));
    CHECK(seqs == std::vector<std::int64_t>{3, 4});
  });
}

TEST_CASE("scan_tickets_active and scan_period_figures find the tickets that touch a period: open ones and those "
          "closed in or after it") {
  for_each_backend([&](backend_store& f) {
    // Created at 100, 200, 300, 400 (+1.7e9); closed at —, 250, 350, 150.
    auto at = [](std::int64_t t) { return 1'700'000'000 + t; };
    std::vector<engine::ticket> tickets;
    const std::pair<std::int64_t, std::int64_t> life[] = {{100, 0}, {200, 250}, {300, 350}, {120, 150}, {400, 0}};
    for (const auto& [created, closed] : life) {
      engine::ticket t = sample_ticket();
      t.created_at = t.updated_at = t.resolution_started_at = at(created);
      // Every column the figures read, different on each ticket.
      const int n = static_cast<int>(tickets.size());
      t.first_response_at = at(created + 5);
      t.first_response_due = at(created + 10 + n);
      t.resolution_due = at(created + 60);
      if (n == 0) t.paused_at = at(created + 7);
      t.level = 1 + n % 3;
      t.handoff_count = n;
      t.reopen_count = n % 2;
      t.owner = n == 1 ? "" : "agent" + std::to_string(n);
      t.category = n % 2 ? "billing" : "delivery";
      t.tier = n == 2 ? "platinum" : "standard";
      if (closed != 0) {
        t.state = "closed";
        t.closed_at = at(closed);
        t.resolved_at = at(closed - 1);
        t.csat = 1 + n;
        t.root_cause = "cause " + std::to_string(n);
      }
      tickets.push_back(t);
    }
    add(*f.store, {sample_customer()}, tickets);
    auto active = [&](std::int64_t from, std::int64_t to) {
      std::vector<engine::ticket_id> ids, figures;
      require_ok(f.store->scan_tickets_active(at(from), at(to), [&](const engine::ticket& t) {
        ids.push_back(t.id);
        return true;
      }));
      require_ok(f.store->scan_period_figures(at(from), at(to), [&](const engine::ticket_figures& got) {
        figures.push_back(got.id);
        const engine::ticket& t = tickets.at(static_cast<std::size_t>(got.id - 1));
        CHECK(got.created_at == t.created_at);
        CHECK(got.first_response_at == t.first_response_at);
        CHECK(got.first_response_due == t.first_response_due);
        CHECK(got.resolution_due == t.resolution_due);
        CHECK(got.paused_at == t.paused_at);
        CHECK(got.resolved_at == t.resolved_at);
        CHECK(got.closed_at == t.closed_at);
        CHECK(got.level == t.level);
        CHECK(got.handoff_count == t.handoff_count);
        CHECK(got.reopen_count == t.reopen_count);
        CHECK(got.csat == t.csat);
        CHECK(got.customer == t.customer);
        CHECK(got.tier == t.tier);
        CHECK(got.category == t.category);
        CHECK(got.owner == t.owner);
        CHECK(got.root_cause == t.root_cause);
        return true;
      }));
      std::sort(ids.begin(), ids.end());
      std::sort(figures.begin(), figures.end());
      CHECK(figures == ids);
      return ids;
    };
    using ids = std::vector<engine::ticket_id>;
    CHECK(active(0, 1000) == ids{1, 2, 3, 4, 5});
    CHECK(active(260, 320) == ids{1, 3});     // 2 closed before; 5 not yet created
    CHECK(active(150, 200) == ids{1, 4});     // closed exactly at the start counts; created at the end does not
    CHECK(active(360, 1000) == ids{1, 5});
    CHECK(active(0, 100) == ids{});
    std::size_t seen = 0;
    require_ok(f.store->scan_tickets_active(at(0), at(1000), [&](const engine::ticket&) { return ++seen < 2; }));
    CHECK(seen == 2);
    seen = 0;
    require_ok(f.store->scan_period_figures(at(0), at(1000), [&](const engine::ticket_figures&) { return ++seen < 2; }));
    CHECK(seen == 2);
  });
}

TEST_CASE("list_tickets filters by state, owner, customer, level and open_only, alone and combined") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer(), sample_customer("cn-001", "星辰")},
        {ticket_in("acme", "intake", "", 1), ticket_in("acme", "triage", "bob", 1),
         ticket_in("cn-001", "remediation", "bob", 2), ticket_in("cn-001", "closed", "alice", 3),
         ticket_in("acme", "remediation", "alice", 2)});
    engine::ticket_query q;
    CHECK(ids_of(list(*f.store, q)) == "5 4 3 2 1");
    q.state = "remediation";
    CHECK(ids_of(list(*f.store, q)) == "5 3");
    q.owner = "alice";
    CHECK(ids_of(list(*f.store, q)) == "5");
    q = {};
    q.owner = "bob";
    CHECK(ids_of(list(*f.store, q)) == "3 2");
    q.owner = "";
    CHECK(ids_of(list(*f.store, q)) == "1");
    q = {};
    q.customer = "cn-001";
    CHECK(ids_of(list(*f.store, q)) == "4 3");
    q.open_only = true;
    CHECK(ids_of(list(*f.store, q)) == "3");
    q = {};
    q.level = 2;
    CHECK(ids_of(list(*f.store, q)) == "5 3");
    q = {};
    q.open_only = true;
    CHECK(ids_of(list(*f.store, q)) == "5 3 2 1");
    q.state = "closed";
    CHECK(ids_of(list(*f.store, q)).empty());
  });
}

TEST_CASE("breached_only agrees with sla_of for every ticket at every instant") {
  for_each_backend([&](backend_store& f) {
    using T = engine::ticket;
    add(*f.store, {sample_customer()},
        {
            with_clocks([](T&) {}),
            with_clocks([](T& t) { t.first_response_due = 100; }),
            with_clocks([](T& t) { t.first_response_due = 100, t.first_response_at = 90; }),
            with_clocks([](T& t) { t.first_response_due = 100, t.first_response_at = 150; }),
            with_clocks([](T& t) { t.first_response_due = 100, t.closed_at = 80; }),
            with_clocks([](T& t) { t.first_response_due = 100, t.closed_at = 120; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.paused_at = 150; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.paused_at = 250; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.resolved_at = 190, t.paused_at = 250; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.resolved_at = 210; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.closed_at = 300; }),
            with_clocks([](T& t) { t.resolution_due = 200, t.closed_at = 150; }),
            with_clocks([](T& t) { t.resolution_due = 200; }),
            with_clocks([](T& t) { t.first_response_due = 100, t.first_response_at = 50, t.resolution_due = 200; }),
        });
    std::vector<engine::ticket> all;
    require_ok(f.store->scan_tickets([&](const engine::ticket& t) {
      all.push_back(t);
      return true;
    }));
    for (engine::timestamp now : {0, 80, 99, 100, 101, 150, 199, 200, 201, 1000}) {
      CAPTURE(now);
      engine::ticket_page expected;
      for (auto it = all.rbegin(); it != all.rend(); ++it)
        if (engine::sla_of(*it, now).breached()) expected.tickets.push_back(*it);
      engine::ticket_query q;
      q.breached_only = true;
      q.now = now;
      CHECK(ids_of(list(*f.store, q)) == ids_of(expected));
    }
    engine::ticket_query q;
    q.breached_only = true;
    q.now = 1000;
    CHECK(ids_of(list(*f.store, q)) == "14 13 11 10 8 6 4 2");
  });
}

TEST_CASE("list_tickets pages newest first and sets next_cursor only when more exist") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, std::vector<engine::ticket>(7, sample_ticket()));
    engine::ticket_query q;
    q.limit = 3;
    auto page = list(*f.store, q);
    CHECK(ids_of(page) == "7 6 5");
    CHECK(page.next_cursor == std::optional<engine::ticket_id>(5));
    q.cursor = page.next_cursor;
    page = list(*f.store, q);
    CHECK(ids_of(page) == "4 3 2");
    CHECK(page.next_cursor == std::optional<engine::ticket_id>(2));
    q.cursor = page.next_cursor;
    page = list(*f.store, q);
    CHECK(ids_of(page) == "1");
    CHECK_FALSE(page.next_cursor.has_value());
    q.cursor.reset();
    q.limit = 7;
    CHECK_FALSE(list(*f.store, q).next_cursor.has_value());
  });
}

TEST_CASE("list_tickets clamps the limit to 1..1000") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, std::vector<engine::ticket>(1002, sample_ticket()));
    engine::ticket_query q;
    q.limit = 5000;
    auto page = list(*f.store, q);
    CHECK(page.tickets.size() == 1000);
    CHECK(page.next_cursor == std::optional<engine::ticket_id>(3));
    for (int limit : {0, -5}) {
      q.limit = limit;
      page = list(*f.store, q);
      CHECK(ids_of(page) == "1002");
      CHECK(page.next_cursor == std::optional<engine::ticket_id>(1002));
    }
  });
}

TEST_CASE("search finds English in any case, Chinese of any length, two letters anywhere and text only in a note") {
  for_each_backend([&](backend_store& f) {
    engine::ticket en = sample_ticket("acme", "Refund for BROKEN kettle");
    en.description = "The lid snapped.";
    engine::ticket late = sample_ticket("acme", "快递延误三天");
    late.description = "包裹还没到";
    engine::ticket refund = sample_ticket("acme", "要求退款");
    refund.description = "质量问题";
    refund.state = "triage";
    engine::ticket printer = sample_ticket("acme", "Printer jams");
    printer.description = "";
    add(*f.store, {sample_customer()}, {en, late, refund, printer});
    {
      auto tx = begin(*f.store);
      require_ok(tx->index_text(4, 2, "Customer mentioned a squeaky hinge"));
      require_ok(tx->index_text(2, 3, "Order QZ-7, all ok"));
      require_ok(tx->commit());
    }
    auto search = [&](std::string text, std::optional<std::string> state = std::nullopt) -> std::string {
      engine::ticket_query q;
      q.search = std::move(text);
      q.state = std::move(state);
      return ids_of(list(*f.store, q));
    };
    CHECK(search("broken") == "1");
    CHECK(search("KETTLE") == "1");
    CHECK(search("Lid Snapped") == "1");
    CHECK(search("ok") == "2 1");  // two letters: inside a word, and at the end of a text
    CHECK(search("OK") == "2 1");
    CHECK(search("qz") == "2");
    CHECK(search("z7").empty());   // not neighbours: "Z-7"
    CHECK(search("z-") == "2");    // a letter and punctuation: the pair index too
    CHECK(search("7,") == "2");
    CHECK(search("快递延误") == "2");
    CHECK(search("快递延") == "2");
    CHECK(search("退款") == "3");
    CHECK(search("款") == "3");
    CHECK(search("退款", "triage") == "3");
    CHECK(search("退款", "intake").empty());
    CHECK(search("squeaky HINGE") == "4");
    CHECK(search("zzz").empty());
    CHECK(search("kettle lid").empty());  // the text is searched as one phrase
  }, search_batches::also_one);
}

TEST_CASE("a search is taken literally: wildcards, quotes, backslashes and SQL find only where they are written") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()},
        {sample_ticket("acme", "100% sure"), sample_ticket("acme", "under_score"),
         sample_ticket("acme", "say \"hi\" O'Brien \\ back {x}"), sample_ticket("acme", "plain text")});
    auto search = [&](std::string text) {
      engine::ticket_query q;
      q.search = std::move(text);
      return ids_of(list(*f.store, q));
    };
    // One or two characters (the pair index) and three or more (the
    // trigram index, ILIKE on PostgreSQL), each a wildcard somewhere.
    CHECK(search("%") == "1");
    CHECK(search("0%") == "1");
    CHECK(search("0% s") == "1");
    CHECK(search("%%").empty());
    CHECK(search("_") == "2");
    CHECK(search("r_s") == "2");
    CHECK(search("r%s").empty());  // a wildcard would have matched "under_score"
    CHECK(search("a%b").empty());  // ... and "say ... back"
    CHECK(search("\"") == "3");
    CHECK(search("'") == "3");
    CHECK(search("O'B") == "3");
    CHECK(search("\\") == "3");
    CHECK(search("\\ b") == "3");
    CHECK(search("{x}") == "3");
    CHECK(search("'; DROP TABLE tickets; --").empty());
    CHECK(search("\") OR 1=1 --").empty());
    CHECK(search("text") == "4");  // and the desk is as it was
  });
}

TEST_CASE("a search pages newest first through every matching ticket, notes on old tickets and filters included") {
  for_each_backend([&](backend_store& f) {
    std::vector<engine::ticket> tickets;
    for (int i = 1; i <= 60; ++i) {
      engine::ticket t = sample_ticket("acme", i % 3 == 0 ? fmt::format("Parcel {}", i) : fmt::format("Other {}", i));
      t.description = i % 4 == 0 ? "包裹没有到" : "nothing";
      t.state = i % 2 ? "triage" : "intake";
      tickets.push_back(t);
    }
    add(*f.store, {sample_customer()}, tickets);
    {  // notes added later, to old tickets as well as new ones
      auto tx = begin(*f.store);
      for (int i = 60; i >= 1; --i) {
        if (i % 5 == 0) require_ok(tx->index_text(i, 2, "parcel note"));
        if (i % 7 == 0) require_ok(tx->index_text(i, 3, "客户说包裹坏了"));
        if (i % 10 == 0) require_ok(tx->index_text(i, 4, "a second PARCEL note"));
      }
      require_ok(tx->commit());
    }
    auto all_pages = [&](std::string text, std::optional<std::string> state,
                         std::optional<std::string> customer = std::nullopt) {
      engine::ticket_query q;
      q.search = std::move(text);
      q.state = std::move(state);
      q.customer = std::move(customer);
      q.limit = 7;
      std::string out;
      for (int pages = 0; pages < 20; ++pages) {
        auto page = list(*f.store, q);
        out += (out.empty() || page.tickets.empty() ? "" : " ") + ids_of(page);
        if (!page.next_cursor) break;
        q.cursor = page.next_cursor;
      }
      return out;
    };
    auto expected = [](auto matches, std::optional<int> odd) {
      std::string out;
      for (int i = 60; i >= 1; --i)
        if (matches(i) && (!odd || i % 2 == *odd)) out += (out.empty() ? "" : " ") + std::to_string(i);
      return out;
    };
    auto parcel = [](int i) { return i % 3 == 0 || i % 5 == 0; };
    auto baoguo = [](int i) { return i % 4 == 0 || i % 7 == 0; };
    CHECK(all_pages("parcel", {}) == expected(parcel, {}));
    CHECK(all_pages("PARCEL", "triage") == expected(parcel, 1));
    CHECK(all_pages("包裹", {}) == expected(baoguo, {}));     // two CJK characters: the bigram index
    CHECK(all_pages("包", "intake") == expected(baoguo, 0));  // one: the character's own token
    CHECK(all_pages("坏了", {}) == expected([](int i) { return i % 7 == 0; }, {}));
    CHECK(all_pages("ar", {}) == expected(parcel, {}));       // two letters: the pair index
    CHECK(all_pages("l ", {}) == expected(parcel, {}));       // any two characters: the pair index too
    CHECK(all_pages("P", {}) == expected(parcel, {}));        // one letter
    CHECK(all_pages("r", "intake") == expected([](int) { return true; }, 0));  // in every ticket
    CHECK(all_pages(" 1", {}) == expected([](int i) { return i == 1 || (i >= 10 && i <= 19); }, {}));
    CHECK(all_pages("到", {}) == expected([](int i) { return i % 4 == 0; }, {}));  // the last of a run
    // Driven by the customer's tickets instead, each tested against its texts.
    CHECK(all_pages("parcel", "triage", "acme") == expected(parcel, 1));
    CHECK(all_pages("包裹", {}, "acme") == expected(baoguo, {}));
    CHECK(all_pages("ar", {}, "acme") == expected(parcel, {}));
    CHECK(all_pages("l ", {}, "acme") == expected(parcel, {}));
    CHECK(all_pages(" 1", {}, "acme") == expected([](int i) { return i == 1 || (i >= 10 && i <= 19); }, {}));
    CHECK(all_pages("parcel", {}, "nobody").empty());
  }, search_batches::also_one);
}

TEST_CASE("a scan callback may read through the same store, even running the same query") {
  for_each_backend([&](backend_store& f) {
    add(*f.store, {sample_customer()}, std::vector<engine::ticket>(3, sample_ticket()));
    std::string seen;
    require_ok(f.store->scan_tickets([&](const engine::ticket& t) {
      std::int64_t inner = 0;
      require_ok(f.store->scan_tickets([&](const engine::ticket&) { return ++inner < 100; }));
      seen += fmt::format("{}:{}:{} ", t.id, inner, f.store->get_ticket(t.id)->subject);
      return true;
    }));
    CHECK(seen == "1:3:Kettle leaks 2:3:Kettle leaks 3:3:Kettle leaks ");
  });
}

TEST_CASE("an empty store lists no tokens") {
  for_each_backend([&](backend_store& f) {
    auto all = f.store->list_tokens();
    require_ok(all);
    CHECK(all->empty());
  });
}

TEST_CASE("revoke_tokens revokes every live token of a name, or one by id, and counts them") {
  for_each_backend([&](backend_store& f) {
    put_tokens(*f.store, {sample_token("ann-1", "ann"), sample_token("ann-2", "ann"), sample_token("bob-1", "bob"),
                          sample_token("cy-1", "cy")});
    auto revoke = [&](std::string_view which, engine::timestamp at) {
      auto tx = begin(*f.store);
      auto n = tx->revoke_tokens(which, at);
      require_ok(n);
      require_ok(tx->commit());
      return *n;
    };

    SUBCASE("by name") {
      CHECK(revoke("ann", 1'700'000'500) == 2);
      CHECK(live_ids(*f.store) == "bob-1 cy-1");
      CHECK((*f.store->find_token("ann-2"))->revoked_at == 1'700'000'500);
      CHECK(revoke("ann", 1'700'000'600) == 0);  // already revoked: the first time stays
      CHECK((*f.store->find_token("ann-1"))->revoked_at == 1'700'000'500);
    }
    SUBCASE("by id") {
      CHECK(revoke("ann-2", 1'700'000'500) == 1);
      CHECK(live_ids(*f.store) == "ann-1 bob-1 cy-1");
    }
    SUBCASE("nobody matches") {
      CHECK(revoke("dora", 1'700'000'500) == 0);
      CHECK(revoke("%", 1'700'000'500) == 0);
      CHECK(revoke("' OR 1=1 --", 1'700'000'500) == 0);
      CHECK(live_ids(*f.store) == "ann-1 ann-2 bob-1 cy-1");
    }
    SUBCASE("a revocation that is not committed revokes nothing") {
      {
        auto tx = begin(*f.store);
        CHECK(*tx->revoke_tokens("bob", 1'700'000'500) == 1);
      }
      CHECK(live_ids(*f.store) == "ann-1 ann-2 bob-1 cy-1");
    }
  });
}

TEST_CASE("a token id is taken once: a second put fails and leaves the first token alone") {
  for_each_backend([&](backend_store& f) {
    const auto first = sample_token("0123456789abcdef", "ann");
    put_tokens(*f.store, {first});
    auto imposter = sample_token("0123456789abcdef", "eve", "admin");
    imposter.hash = std::string(64, 'e');
    {
      auto tx = begin(*f.store);
      auto s = tx->put_token(imposter);
      REQUIRE_FALSE(s.ok());
      CHECK(s.error().code == errc::conflict);
      CHECK(s.error().message == "cannot save token '0123456789abcdef' of eve: its id is taken");
      require_ok(tx->commit());
    }
    CHECK(fields(**f.store->find_token("0123456789abcdef")) == fields(first));
  });
}

TEST_CASE("the database refuses a token whose role is not agent, supervisor or admin") {
  for_each_backend([&](backend_store& f) {
    auto tx = begin(*f.store);
    auto s = tx->put_token(sample_token("0123456789abcdef", "ann", "root"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == refused_value(f));
    CHECK(s.error().message.find("cannot save token '0123456789abcdef' of ann: ") == 0);
    tx.reset();
    CHECK(f.store->list_tokens()->empty());
  });
}

TEST_CASE("prune_idempotency deletes at most its limit of keys created before the instant, oldest first") {
  for_each_backend([&](backend_store& f) {
    auto ids = add(*f.store, {sample_customer()}, {sample_ticket()});
    {
      auto tx = begin(*f.store);
      for (int i = 0; i < 5; ++i)
        require_ok(tx->put_idempotency({"k" + std::to_string(i), "open", "fp", ids[0], 100 + i, {}}));
      require_ok(tx->commit());
    }
    auto tx = begin(*f.store);
    auto n = tx->prune_idempotency(104, 2);
    require_ok(n);
    CHECK(*n == 2);
    CHECK_FALSE(tx->find_idempotency("k0")->has_value());
    CHECK_FALSE(tx->find_idempotency("k1")->has_value());
    CHECK(tx->find_idempotency("k2")->has_value());
    CHECK(*tx->prune_idempotency(104, 2) == 2);
    CHECK(*tx->prune_idempotency(104, 2) == 0);
    CHECK(tx->find_idempotency("k4")->has_value());
    require_ok(tx->commit());
  });
}

TEST_CASE("a database location is printed without a password or a query that may hold one") {
  using storage::printable_location;
  CHECK(printable_location("/var/lib/plaint/plaint.db") == "/var/lib/plaint/plaint.db");
  CHECK(printable_location("postgresql://desk:s3cret@db:5432/plaint") == "postgresql://desk@db:5432/plaint");
  CHECK(printable_location("postgres://desk:p@ss:w@rd@db/plaint") == "postgres://desk@db/plaint");
  CHECK(printable_location("postgresql://desk@db/plaint?password=s3cret&sslmode=require") == "postgresql://desk@db/plaint");
  CHECK(printable_location("postgresql://db/plaint") == "postgresql://db/plaint");
  CHECK(printable_location("postgresql://desk:s3cret@db") == "postgresql://desk@db");
  CHECK(storage::is_postgresql_url("postgres://db/x"));
  CHECK_FALSE(storage::is_postgresql_url("postgresql.db"));
}
