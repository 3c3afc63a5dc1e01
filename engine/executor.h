// The transition executor: load → apply the workflow → persist atomically.
//
// The path of one event (see docs/design.md):
//   1. validate the request's text (UTF-8, sizes) — nothing is read yet;
//   2. begin the store's write transaction;
//   3. load the ticket, check `expected_version`;
//   4. the ticket's workflow restores a machine to the stored state and
//      applies the event (guards, actions) — pure, no I/O;
//   5. move the SLA clocks, diff the pending timers;
//   6. write ticket (version + 1), audit event (hash-chained), timer rows and
//      search text through the transaction, and commit (fsync);
//   7. only then return the result to the caller.
// A refusal at any step returns before commit, so nothing is written.
#pragma once

#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "engine/customers.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/sla.h"
#include "engine/store.h"
#include "engine/time.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct open_request {
  std::string customer;
  std::string subject;
  std::string description;
  std::string channel = "web";
  std::string category = "other";
  std::string priority = "P3";
  std::string workflow = "complaint";
  std::string idempotency_key;  // empty: none
  std::string actor;
};

struct event_request {
  ticket_id ticket = 0;
  std::string event;
  std::string note;
  field_map fields;
  std::optional<std::int64_t> expected_version;
  std::string actor;
  std::string idempotency_key;  // empty: none
  // Whether the actor may take a ticket away from an owner other than
  // themselves (a supervisor's decision). The CLI, run by whoever holds the
  // database file, may; the API sets it from the token's role.
  bool may_reassign = true;
};

using batch_request = std::variant<open_request, event_request>;

// One timer that fired, with what it did.
struct fired_timer {
  timer fired;
  ticket ticket_after;
  event_record event;
  std::vector<notification> notified;
  std::string summary;  // "ticket 7: resolution target breached; escalated to level 3; notified owner:ann"
};

struct transition_result {
  ticket ticket_after;
  event_record event;     // empty when replayed
  bool created = true;    // false when an idempotency key matched: nothing was written
  std::string response;   // events with an idempotency key: the response JSON to (re)send
  // Timers of the ticket that were due by the event's instant and fired
  // first, in the same transaction, in due order (events only).
  std::vector<fired_timer> fired_first;
};

class executor {
 public:
  executor(store& s, const workflow_registry& workflows, const clock& c,
           sla_policy policy = sla_policy::defaults());

  // Logs a new ticket in its workflow's initial state (event `open`).
  // Returns `invalid` for bad text, an unknown channel, category, priority or
  // workflow; `not_found` for an unknown customer; `conflict` when the
  // idempotency key was used for a different request. A key already used
  // for the same request returns the first ticket with `created = false`.
  Result<transition_result> open(const open_request& r);

  // Fires one event. First fires the ticket's timers due at or before the
  // event's instant (in due order, in the same transaction: the history and
  // the ladder do not depend on how often timers were looked at), then
  // applies the event to the ticket as they left it. `expected_version` is
  // the version the caller saw, before those timers. An event that moves
  // the ticket away from an owner other than the actor is a hand-off: it is
  // counted, and without `may_reassign` refused with `forbidden`.
  // Returns `not_found` for an unknown ticket, `invalid` for bad text,
  // `conflict` if `expected_version` is stale, `not_allowed` if the state
  // does not accept the event or a guard refuses. Nothing is written on any
  // error, the due timers included.
  Result<transition_result> apply(const event_request& r);

  // Applies several requests in ONE transaction (group commit): each gets its
  // own result, a refused one writes nothing, and the batch commits once, so
  // many transitions share one fsync. Requests see the effects of earlier
  // ones in the batch. If storage fails mid-batch, the batch is rolled back
  // and each request is retried in its own transaction. Returns an error
  // (for every request) only if the batch cannot begin or commit.
  Result<std::vector<Result<transition_result>>> apply_batch(const std::vector<batch_request>& items);

  // Adds a customer or changes the fields `u` carries, keeping the others,
  // and records the change in the customer log in the same transaction
  // (engine/customers.h). Returns `invalid` for bad text, tier or
  // attributes and for a new customer without a name; `forbidden` for a
  // tier `u.may_set_tier` does not allow, decided on the customer as it is
  // inside the transaction. Nothing is written on an error, nor when
  // nothing would change (`change` is then nullopt).
  Result<customer_result> put_customer(const customer_update& u);

  // Idempotency keys are honoured for this long after their first use
  // (default 24 h); an older key is a new request, and prune_idempotency
  // deletes it.
  static constexpr std::int64_t default_idempotency_retention = 24 * 3600;
  void set_idempotency_retention(std::int64_t seconds) { idempotency_retention_ = seconds; }
  std::int64_t idempotency_retention() const { return idempotency_retention_; }
  // Deletes up to `limit` expired idempotency keys, oldest first, in one
  // transaction; returns how many. Call again while it returns `limit`.
  Result<std::int64_t> prune_idempotency(int limit = 1000);

  // Fires every timer due at `now`, earliest first, up to `batch` timers per
  // transaction. Each timer's claim and its effects (event appended, level
  // or priority raised, notifications recorded) commit together, and a timer
  // that another process claimed first is skipped: each fires exactly once.
  // At most `limit` timers per call, so a long backlog (after an outage) is
  // worked off in bounded rounds: call again while it returns `limit` timers.
  Result<std::vector<fired_timer>> fire_due(timestamp now, int batch = 256, std::size_t limit = 1024);

  // Puts `policy` in force and recomputes the due times of every open
  // ticket under it; a ticket whose clocks moved gets an `sla_recomputed`
  // event by `actor`. Returns how many tickets changed.
  Result<std::int64_t> apply_policy(sla_policy policy, const std::string& actor);

  // open() and apply() inside the caller's transaction, with the same checks
  // (as of the clock's now), for a caller that writes more in the same
  // transaction (engine/channels.h: a customer and a message's record with
  // the ticket). The caller commits.
  Result<transition_result> open_within(store_transaction& tx, const open_request& r);
  Result<transition_result> apply_within(store_transaction& tx, const event_request& r);
  store& storage() const { return store_; }

  const workflow_registry& workflows() const { return workflows_; }
  const sla_policy& policy() const { return policy_; }
  // Puts `policy` in force for what follows, recomputing nothing (for a
  // process that learns of a policy another one applied).
  void set_policy(sla_policy policy) { policy_ = std::move(policy); }
  const clock& time_source() const { return clock_; }

 private:
  Result<transition_result> open_in(store_transaction& tx, const open_request& r, timestamp now);
  Result<transition_result> apply_in(store_transaction& tx, const event_request& r, timestamp now);
  Result<std::optional<fired_timer>> fire_in(store_transaction& tx, const timer& t, timestamp now);
  // What firing `t` would do to `before` (nullopt: the ticket no longer
  // wants that timer). Pure: fire_in writes it.
  struct planned_fire;
  std::optional<planned_fire> plan_fire(const ticket& before, const timer& t, timestamp now) const;
  // The ticket's pending timers due at or before `now`; no read when its
  // clocks say none is.
  Result<std::vector<timer>> overdue_timers(store_transaction& tx, const ticket& t, timestamp now) const;
  // The ticket as firing `due` in order would leave it, its clocks moved
  // as persist will move them. Pure; `invalid` when a firing would move an
  // instant out of years 0000–9999 (persist would refuse it).
  Result<ticket> preview_fires(ticket t, const std::vector<timer>& due, timestamp now) const;
  // Moves the clocks of `after` for the change from `before` at `now`
  // (update_clocks) and refuses, with `invalid`, instants outside years
  // 0000–9999 (check_clock_range). Pure: persist and the previews share it.
  Status settle_clocks(const ticket& before, ticket& after, const workflow& wf, timestamp now) const;
  Status persist(store_transaction& tx, const ticket& before, ticket& after,
                 const workflow& wf, bool opened, event_record& e, std::string_view text);

  store& store_;
  const workflow_registry& workflows_;
  const clock& clock_;
  sla_policy policy_;
  std::int64_t idempotency_retention_ = default_idempotency_retention;
};

// Checks one text input: well-formed UTF-8, no NUL, at most `max_bytes`.
// `what` names it in the message: "subject is not valid UTF-8".
Status check_text(std::string_view what, std::string_view value, std::size_t max_bytes);
// As check_text, and refuses empty text: "subject is required".
Status check_required(std::string_view what, std::string_view value, std::size_t max_bytes);

}  // namespace plaint::engine
