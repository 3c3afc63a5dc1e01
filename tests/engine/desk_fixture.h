// A real SQLite desk in a temp directory with a fixed, steerable clock.
#pragma once

#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "engine/executor.h"
#include "storage/sqlite_store.h"
#include "tests/temp_dir.h"
#include "workflows/registry.h"

namespace plaint::testing {

struct desk {
  temp_dir dir;
  std::string path = dir.file("desk.db");
  engine::fixed_clock clock{1'795'420'800};  // 2026-11-23T08:00:00Z, a Monday
  std::unique_ptr<storage::sqlite_store> store;
  std::unique_ptr<engine::executor> ex;
  engine::sla_policy policy = engine::sla_policy::defaults();

  desk() { reopen(); }
  explicit desk(engine::sla_policy p) : policy(std::move(p)) { reopen(); }

  // Closes and reopens the database file, as a restarted process would.
  void reopen() {
    ex.reset();
    store.reset();
    auto s = storage::sqlite_store::open(path);
    REQUIRE(s.ok());
    store = std::move(*s);
    REQUIRE(store->migrate().ok());
    ex = std::make_unique<engine::executor>(*store, workflows::builtin_workflows(), clock, policy);
  }

  void add_customer(const std::string& id, const std::string& tier = "standard") {
    engine::customer c;
    c.id = id;
    c.name = "Customer " + id;
    c.tier = tier;
    REQUIRE(ex->put_customer(engine::customer_update::whole(c, "desk")).ok());
  }

  // What a desk agent logs: a new complaint for `customer`.
  static engine::open_request intake(const std::string& customer, const std::string& subject,
                                     const std::string& priority = "P3") {
    engine::open_request r;
    r.customer = customer;
    r.subject = subject;
    r.priority = priority;
    r.actor = "desk";
    return r;
  }

  // A comment by ann on ticket `id`, for batches.
  static engine::event_request comment(engine::ticket_id id, const std::string& note) {
    return engine::event_request{id, "comment", note, {}, std::nullopt, "ann", ""};
  }

  engine::ticket_id open(const std::string& customer = "c1", const std::string& subject = "it broke",
                         const std::string& priority = "P3") {
    auto t = ex->open(intake(customer, subject, priority));
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    return t->ticket_after.id;
  }

  engine::Result<engine::transition_result> fire(engine::ticket_id id, const std::string& event,
                                                 engine::field_map fields = {}, const std::string& note = "",
                                                 std::optional<std::int64_t> expected = std::nullopt) {
    engine::event_request r;
    r.ticket = id;
    r.event = event;
    r.fields = std::move(fields);
    r.note = note;
    r.expected_version = expected;
    r.actor = "ann";
    return ex->apply(r);
  }

  engine::ticket get(engine::ticket_id id) {
    auto t = store->get_ticket(id);
    REQUIRE(t.ok());
    return *t;
  }

  // "intake -triage-> triage -start-> remediation"
  std::string history(engine::ticket_id id) {
    auto events = store->ticket_events(id);
    REQUIRE(events.ok());
    std::string out;
    for (const auto& e : *events) {
      if (out.empty())
        out = e.to_state;
      else
        out += " -" + e.event + "-> " + e.to_state;
    }
    return out;
  }

  std::map<std::string, std::string> pending_timers(engine::ticket_id id) {
    auto timers = store->ticket_timers(id);
    REQUIRE(timers.ok());
    std::map<std::string, std::string> out;
    for (const auto& t : *timers)
      if (t.status == "pending") out[t.kind] = engine::format_iso(t.due_at);
    return out;
  }
};

}  // namespace plaint::testing
