#include "engine/executor.h"

#include "engine/channels.h"

#include <fmt/format.h>

#include "engine/audit.h"
#include "engine/people.h"
#include "engine/utf8.h"

namespace plaint::engine {

Status check_text(std::string_view what, std::string_view value, std::size_t max_bytes) {
  if (value.size() > max_bytes)
    return make_error(errc::invalid, fmt::format("{} is {} bytes long; the limit is {} bytes", what,
                                                 value.size(), max_bytes));
  if (!valid_utf8(value))
    return make_error(errc::invalid, fmt::format("{} is not valid UTF-8 text", what));
  return {};
}

Status check_required(std::string_view what, std::string_view value, std::size_t max_bytes) {
  if (value.empty()) return make_error(errc::invalid, fmt::format("{} is required", what));
  return check_text(what, value, max_bytes);
}

namespace {

template <std::size_t N>
Status check_choice(std::string_view what, std::string_view value,
                    const std::string_view (&allowed)[N]) {
  for (auto a : allowed)
    if (a == value) return {};
  return make_error(errc::invalid, fmt::format("{} '{}' is not one of: {}", what, value, join(allowed)));
}

std::string fingerprint(const open_request& r) {
  return sha256_hex(json{{"customer", r.customer},
                         {"subject", r.subject},
                         {"description", r.description},
                         {"channel", r.channel},
                         {"category", r.category},
                         {"priority", r.priority},
                         {"workflow", r.workflow}}
                        .dump());
}

std::string fingerprint(const event_request& r) {
  return sha256_hex(json{{"ticket", r.ticket},
                         {"event", r.event},
                         {"note", r.note},
                         {"fields", r.fields},
                         {"expected_version", r.expected_version ? json(*r.expected_version) : json(nullptr)}}
                        .dump());
}

// The earlier request that used `key`, if any; `conflict` if it was a
// different request (its fingerprint differs). A key first used before
// `expired_before` is past its retention: the request is a new one (and
// its record is replaced), whether or not the key was pruned yet.
Result<std::optional<idempotency_record>> earlier_request(store_transaction& tx, const std::string& key,
                                                          const std::string& print, timestamp expired_before) {
  if (key.empty()) return std::optional<idempotency_record>();
  auto seen = tx.find_idempotency(key);
  PLAINT_TRY(seen);
  if (*seen && (*seen)->created_at < expired_before) return std::optional<idempotency_record>();
  if (*seen && (*seen)->fingerprint != print)
    return make_error(errc::conflict, fmt::format("idempotency key '{}' was already used for a different request (ticket {})",
                                                  key, (*seen)->ticket));
  return std::move(*seen);
}

Status check_open(const open_request& r) {
  PLAINT_TRY(check_required("customer", r.customer, max_id_bytes));
  PLAINT_TRY(check_required("subject", r.subject, max_subject_bytes));
  PLAINT_TRY(check_text("description", r.description, max_text_bytes));
  PLAINT_TRY(check_required("actor", r.actor, max_id_bytes));
  PLAINT_TRY(check_text("idempotency key", r.idempotency_key, max_id_bytes));
  PLAINT_TRY(check_choice("channel", r.channel, channels));
  PLAINT_TRY(check_choice("category", r.category, categories));
  PLAINT_TRY(check_choice("priority", r.priority, priorities));
  return {};
}

// An event that moves a ticket away from its owner is a hand-off, whichever
// event carries it (assign, or triage/start naming another owner): it is
// counted, and taking a ticket from someone other than the actor needs a
// supervisor. Decided on the ticket as the transaction reads it.
Status check_hand_off(const ticket& before, ticket& after, const event_request& r, json& payload) {
  if (before.owner.empty() || after.owner == before.owner) return {};
  if (!r.may_reassign && before.owner != r.actor)
    return make_error(errc::forbidden, fmt::format("ticket {} is owned by {}; giving it to {} needs a supervisor",
                                                   before.id, before.owner, after.owner.empty() ? "nobody" : after.owner));
  if (after.handoff_count == before.handoff_count) after.handoff_count += 1;
  payload["previous_owner"] = before.owner;
  return {};
}

Status check_event(const event_request& r) {
  PLAINT_TRY(check_required("event", r.event, max_id_bytes));
  PLAINT_TRY(check_text("note", r.note, max_text_bytes));
  PLAINT_TRY(check_required("actor", r.actor, max_id_bytes));
  PLAINT_TRY(check_text("idempotency key", r.idempotency_key, max_id_bytes));
  for (const auto& [key, value] : r.fields) {
    PLAINT_TRY(check_required("field name", key, max_id_bytes));
    PLAINT_TRY(check_text(fmt::format("field {}", key), value, max_text_bytes));
  }
  return {};
}

}  // namespace

executor::executor(store& s, const workflow_registry& workflows, const clock& c, sla_policy policy)
    : store_(s), workflows_(workflows), clock_(c), policy_(std::move(policy)) {}

Result<customer_result> executor::put_customer(const customer_update& u) {
  PLAINT_TRY(check_customer_update(u));
  auto tx = store_.begin();
  PLAINT_TRY(tx);
  auto result = put_customer_in(**tx, u, clock_.now());
  PLAINT_TRY(result);
  if (result->change) PLAINT_TRY((*tx)->commit());
  return result;
}

Result<std::int64_t> executor::prune_idempotency(int limit) {
  auto tx = store_.begin();
  PLAINT_TRY(tx);
  auto n = (*tx)->prune_idempotency(clock_.now() - idempotency_retention_, limit);
  PLAINT_TRY(n);
  if (*n > 0) PLAINT_TRY((*tx)->commit());
  return n;
}

Result<transition_result> executor::open(const open_request& r) {
  PLAINT_TRY(check_open(r));
  auto tx = store_.begin();
  PLAINT_TRY(tx);
  auto result = open_in(**tx, r, clock_.now());
  PLAINT_TRY(result);
  if (result->created) PLAINT_TRY((*tx)->commit());
  return result;
}

Result<transition_result> executor::open_within(store_transaction& tx, const open_request& r) {
  PLAINT_TRY(check_open(r));
  return open_in(tx, r, clock_.now());
}

Result<transition_result> executor::apply_within(store_transaction& tx, const event_request& r) {
  PLAINT_TRY(check_event(r));
  return apply_in(tx, r, clock_.now());
}

Result<transition_result> executor::open_in(store_transaction& tx, const open_request& r, timestamp now) {
  const workflow* wf = workflows_.find(r.workflow);
  if (!wf)
    return make_error(errc::invalid, fmt::format("workflow '{}' is not one of: {}", r.workflow,
                                                 join(workflows_.names())));
  const std::string print = r.idempotency_key.empty() ? std::string() : fingerprint(r);
  {
    auto seen = earlier_request(tx, r.idempotency_key, print, now - idempotency_retention_);
    PLAINT_TRY(seen);
    if (*seen) {
      auto t = store_.get_ticket((*seen)->ticket);
      PLAINT_TRY(t);
      auto events = store_.ticket_events(t->id);
      PLAINT_TRY(events);
      if (events->empty())
        return make_error(errc::internal, fmt::format("ticket {} has no history to replay", t->id));
      return transition_result{std::move(*t), events->front(), false, {}, {}};
    }
  }

  auto cust = tx.find_customer(r.customer);
  PLAINT_TRY(cust);
  if (!*cust) return make_error(errc::not_found, fmt::format("customer '{}' does not exist", r.customer));

  ticket t;
  t.workflow = r.workflow;
  t.customer = r.customer;
  t.tier = (*cust)->tier;
  t.channel = r.channel;
  t.category = r.category;
  t.priority = r.priority;
  t.subject = r.subject;
  t.description = r.description;
  t.state = std::string(wf->initial_state());
  t.version = 1;
  update_clocks(ticket{}, t, std::nullopt, policy_.mode_of(*wf, t.state), policy_, now);
  PLAINT_TRY(check_clock_range(t));

  auto next = tx.next_event_seq();  // the open event, appended by persist
  PLAINT_TRY(next);
  t.last_event = *next;
  auto id = tx.insert_ticket(t);
  PLAINT_TRY(id);
  t.id = *id;

  event_record e;
  e.ticket = t.id;
  e.at = now;
  e.actor = r.actor;
  e.event = "open";
  e.to_state = t.state;
  e.version = 1;
  e.payload = json{{"customer", t.customer}, {"channel", t.channel}, {"category", t.category},
                   {"priority", t.priority}, {"subject", t.subject}};
  PLAINT_TRY(persist(tx, ticket{}, t, *wf, true, e, t.subject + "\n" + t.description));
  if (!r.idempotency_key.empty())
    PLAINT_TRY(tx.put_idempotency({r.idempotency_key, "open", print, t.id, now, {}}));
  return transition_result{std::move(t), std::move(e), true, {}, {}};
}

Result<transition_result> executor::apply(const event_request& r) {
  PLAINT_TRY(check_event(r));
  auto tx = store_.begin();
  PLAINT_TRY(tx);
  auto result = apply_in(**tx, r, clock_.now());
  PLAINT_TRY(result);
  PLAINT_TRY((*tx)->commit());
  return result;
}

Result<transition_result> executor::apply_in(store_transaction& tx, const event_request& r,
                                             timestamp now) {
  const std::string print = r.idempotency_key.empty() ? std::string() : fingerprint(r);
  {
    auto seen = earlier_request(tx, r.idempotency_key, print, now - idempotency_retention_);
    PLAINT_TRY(seen);
    if (*seen) {
      auto t = tx.find_ticket((*seen)->ticket);
      PLAINT_TRY(t);
      if (!*t) return make_error(errc::internal, "an idempotency key names a ticket that does not exist");
      transition_result replay{std::move(**t), {}, false, {}, {}};
      replay.response = (*seen)->response;
      return replay;
    }
  }
  auto found = tx.find_ticket(r.ticket);
  PLAINT_TRY(found);
  if (!*found) return make_error(errc::not_found, fmt::format("ticket {} does not exist", r.ticket));
  ticket before = std::move(**found);
  if (r.expected_version && *r.expected_version != before.version)
    return make_error(errc::conflict, fmt::format("ticket {} is at version {}, not the expected version {}",
                                                  before.id, before.version, *r.expected_version));
  const workflow* wf = workflows_.find(before.workflow);
  if (!wf)
    return make_error(errc::internal,
                      fmt::format("ticket {} uses workflow '{}', which this build does not know",
                                  before.id, before.workflow));
  auto decide = [&](const ticket& current) -> Result<transition_output> {
    const transition_input in{current, r.event, r.fields, r.note, r.actor, now, policy_.reopen_window_days};
    auto out = wf->apply(in);
    PLAINT_TRY(out);
    PLAINT_TRY(check_hand_off(current, out->next, r, out->payload));
    if (out->next.owner != current.owner) PLAINT_TRY(check_owner(tx, out->next.owner));
    return out;
  };

  // Timers due by `now` fire first, as a timely tick would have fired them;
  // the event is judged on the ticket as they leave it — the workflow, the
  // hand-off and the range of its clocks — before any of them is written,
  // so a refusal writes nothing (in a batch too, where no rollback follows).
  auto due = overdue_timers(tx, before, now);
  PLAINT_TRY(due);
  std::vector<fired_timer> fired;
  if (!due->empty()) {
    auto previewed = preview_fires(before, *due, now);
    PLAINT_TRY(previewed);
    auto planned = decide(*previewed);
    PLAINT_TRY(planned);
    PLAINT_TRY(settle_clocks(*previewed, planned->next, *wf, now));
    for (const timer& t : *due) {
      auto f = fire_in(tx, t, now);
      PLAINT_TRY(f);
      if (*f) fired.push_back(std::move(**f));
    }
    auto again = tx.find_ticket(r.ticket);
    PLAINT_TRY(again);
    if (!*again) return make_error(errc::internal, fmt::format("ticket {} vanished in its own transaction", r.ticket));
    before = std::move(**again);
  }
  auto out = decide(before);
  PLAINT_TRY(out);
  ticket& after = out->next;
  after.version = before.version + 1;

  event_record e;
  e.ticket = before.id;
  e.at = now;
  e.actor = r.actor;
  e.event = r.event;
  e.from_state = before.state;
  e.to_state = after.state;
  e.version = after.version;
  e.payload = std::move(out->payload);
  if (!r.note.empty()) e.payload["note"] = r.note;
  if (!r.fields.empty()) e.payload["fields"] = r.fields;
  PLAINT_TRY(persist(tx, before, after, *wf, false, e, r.note));
  transition_result result{std::move(after), std::move(e), true, {}, std::move(fired)};
  if (!r.idempotency_key.empty()) {
    result.response = ticket_json_text(result.ticket_after, now);
    PLAINT_TRY(tx.put_idempotency({r.idempotency_key, "event", print, before.id, now, result.response}));
  }
  return result;
}

Result<std::vector<Result<transition_result>>> executor::apply_batch(const std::vector<batch_request>& items) {
  const timestamp now = clock_.now();
  std::vector<Result<transition_result>> results;
  results.reserve(items.size());
  auto run = [&](store_transaction& tx, const batch_request& item) -> Result<transition_result> {
    if (const auto* o = std::get_if<open_request>(&item)) {
      PLAINT_TRY(check_open(*o));
      return open_in(tx, *o, now);
    }
    const auto& ev = std::get<event_request>(item);
    PLAINT_TRY(check_event(ev));
    return apply_in(tx, ev, now);
  };
  {
    auto tx = store_.begin();
    PLAINT_TRY(tx);
    for (const auto& item : items) {
      auto r = run(**tx, item);
      // A refusal wrote nothing. A storage failure may have written half an
      // event, so the batch is rolled back and retried item by item; when
      // the store is unavailable (locked, say) every retry would wait in
      // vain, so the whole batch — now rolled back — fails with that.
      if (!r && r.error().code == errc::unavailable) return r.error();
      if (!r && r.error().code == errc::internal) break;
      results.push_back(std::move(r));
    }
    if (results.size() == items.size()) {
      Status committed = (*tx)->commit();
      if (!committed) return committed.error();
      return results;
    }
  }
  results.clear();
  for (const auto& item : items) {
    auto tx = store_.begin();
    if (!tx) {
      // The store takes no more writes: the rest would fail (or wait) alike.
      results.resize(items.size(), tx.error());
      break;
    }
    auto r = run(**tx, item);
    if (r) {
      Status committed = (*tx)->commit();
      if (!committed) r = committed.error();
    }
    results.push_back(std::move(r));
  }
  return results;
}

Status executor::settle_clocks(const ticket& before, ticket& after, const workflow& wf, timestamp now) const {
  update_clocks(before, after, policy_.mode_of(wf, before.state), policy_.mode_of(wf, after.state), policy_, now);
  return check_clock_range(after);
}

Status executor::persist(store_transaction& tx, const ticket& before, ticket& after,
                         const workflow& wf, bool opened, event_record& e, std::string_view text) {
  const std::optional<clock_mode> from =
      opened ? std::nullopt : std::optional<clock_mode>(policy_.mode_of(wf, before.state));
  const clock_mode to = policy_.mode_of(wf, after.state);
  if (!opened) PLAINT_TRY(settle_clocks(before, after, wf, e.at));  // before this event writes anything

  // The ticket row points at its newest event and each event at the
  // ticket's previous one: the history needs no index of its own, and so no
  // index page per ticket in every commit.
  auto next = tx.next_event_seq();
  PLAINT_TRY(next);
  e.ticket_prev = before.last_event;
  after.last_event = *next;
  if (!opened) PLAINT_TRY(tx.update_ticket(after, before));
  auto appended = tx.append_event(std::move(e));
  PLAINT_TRY(appended);
  e = std::move(*appended);
  if (e.seq != after.last_event)
    return make_error(errc::internal, fmt::format("event {} was logged as {}", after.last_event, e.seq));

  // Most events (comments, assignments) leave every clock as it was.
  if (!from || *from != to || !same_clocks(before, after)) {
    const auto old_timers = from ? desired_timers(before, *from) : std::map<std::string, timestamp>{};
    for (const auto& change : timer_changes(old_timers, desired_timers(after, to))) {
      if (change.due)
        PLAINT_TRY(tx.schedule_timer(after.id, change.kind, *change.due));
      else
        PLAINT_TRY(tx.cancel_timer(after.id, change.kind));
    }
  }
  if (!text.empty()) PLAINT_TRY(tx.index_text(after.id, opened ? 0 : after.version, text));
  // Webhook deliveries of this event, written with it (engine/channels.h).
  return queue_webhooks(tx, e, after, e.at);
}

}  // namespace plaint::engine
