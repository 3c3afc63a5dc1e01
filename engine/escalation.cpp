// Timers firing and the escalation ladder (SPEC §4, §9 "Ladder"): the
// executor's system events. Each runs inside a store transaction that also
// claims the timer, so a crash before commit leaves the timer pending (it
// fires after restart) and a commit makes it fired exactly once.
#include <algorithm>

#include <fmt/format.h>

#include "engine/channels.h"
#include "engine/executor.h"
#include "engine/ladder.h"

namespace plaint::engine {

namespace {

const char* clock_of_kind(std::string_view kind) {
  return kind.rfind("first_response", 0) == 0 ? "first_response" : "resolution";
}

std::string clock_label(std::string_view clock) {
  return clock == "first_response" ? "first-response" : "resolution";
}

// One step more urgent: P3 -> P2; P1 stays.
std::string raised(const std::string& priority) {
  if (priority.size() == 2 && priority[1] > '1') return std::string("P") + static_cast<char>(priority[1] - 1);
  return priority;
}

}  // namespace

std::vector<std::string> rung_recipients(const escalation_step& step, const ticket& t) {
  std::vector<std::string> out;
  for (const auto& who : step.notify) {
    if (who != "owner")
      out.push_back(who);
    else if (!t.owner.empty())
      out.push_back("owner:" + t.owner);
    else
      out.push_back("team_lead");  // nobody owns it yet: the lead must assign it
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<timer_effect> plan_timer(const ticket& before, std::string_view kind_view, timestamp due,
                                       const sla_policy& policy, const workflow& wf) {
  const std::string kind(kind_view);
  // A pending row the ticket no longer wants (it should not happen: timers
  // follow every transition) is retired without effects.
  const auto wanted = desired_timers(before, policy.mode_of(wf, before.state));
  auto it = wanted.find(kind);
  if (it == wanted.end() || it->second != due) return std::nullopt;

  timer_effect p;
  ticket& after = p.after;
  after = before;
  after.version = before.version + 1;
  after.fired |= timer_bit_of(kind);
  p.payload = json{{"timer", kind}, {"due", format_iso(due)}};

  if (kind == "follow_up") {
    static const escalation_step follow_up_step{false, false, {"owner"}};
    p.step = &follow_up_step;
    p.rung = "follow_up";
    p.event = "follow_up_due";
    p.kind = "follow_up";
    p.what = "follow-up call is due";
  } else if (kind.size() > 5 && kind.compare(kind.size() - 5, 5, "_warn") == 0) {
    const std::string clock = clock_of_kind(kind);
    p.step = &policy.ladder.warning;
    p.rung = "warning";
    p.event = "sla_warning";
    p.payload["clock"] = clock;
    p.kind = "sla_warning";
    const auto clock_due = clock == "first_response" ? before.first_response_due : before.resolution_due;
    p.what = fmt::format("{} target {} is at risk", clock_label(clock), clock_due ? format_iso(*clock_due) : "-");
  } else {
    const std::string clock = clock_of_kind(kind);
    const unsigned other = clock == "first_response" ? fired_resolution : fired_first_response;
    const bool second = (before.fired & other) != 0;
    p.step = second ? &policy.ladder.second_breach
             : clock == "first_response" ? &policy.ladder.first_response_breach
                                         : &policy.ladder.resolution_breach;
    p.rung = second ? "second_breach" : clock + "_breach";
    p.event = "escalate";
    // A breach makes its clock's warning moot: it will not fire afterwards.
    after.fired |= timer_bit_of(clock + "_warn");
    p.payload["clock"] = clock;
    p.payload["reason"] = clock + " breached";
    p.kind = "sla_breach";
    p.what = fmt::format("{} target {} breached", clock_label(clock), format_iso(due));
  }
  if (p.step->raise_level && after.level < 3) after.level += 1;
  if (p.step->raise_priority) after.priority = raised(before.priority);
  if (p.event == "escalate") {
    p.payload["level"] = after.level;
    p.what += after.level > before.level ? fmt::format("; escalated to level {}", after.level)
                                         : fmt::format("; already at level {}", after.level);
  }
  if (after.priority != before.priority) {
    p.payload["priority"] = after.priority;
    p.what += fmt::format("; priority raised to {}", after.priority);
  }
  return p;
}

struct executor::planned_fire {
  ticket after;
  event_record event;
  const escalation_step* step = nullptr;
  std::string kind;  // notification kind
  std::string what;  // "resolution target 2026-… breached; escalated to level 3"
};

std::optional<executor::planned_fire> executor::plan_fire(const ticket& before, const timer& t,
                                                          timestamp now) const {
  const workflow* wf = workflows_.find(before.workflow);
  if (!wf) return std::nullopt;
  auto effect = plan_timer(before, t.kind, t.due_at, policy_, *wf);
  if (!effect) return std::nullopt;
  planned_fire p;
  p.after = std::move(effect->after);
  p.step = effect->step;
  p.kind = std::move(effect->kind);
  p.what = std::move(effect->what);
  event_record& e = p.event;
  e.ticket = before.id;
  e.at = now;
  e.actor = "system";
  e.event = std::move(effect->event);
  e.from_state = before.state;
  e.to_state = before.state;
  e.version = p.after.version;
  e.payload = std::move(effect->payload);
  return p;
}

Result<std::optional<fired_timer>> executor::fire_in(store_transaction& tx, const timer& t, timestamp now) {
  auto claimed = tx.claim_timer(t.id, now);
  PLAINT_TRY(claimed);
  if (!*claimed) return std::optional<fired_timer>();  // fired or cancelled by someone else
  auto found = tx.find_ticket(t.ticket);
  PLAINT_TRY(found);
  if (!*found) return make_error(errc::internal, fmt::format("timer {} belongs to ticket {}, which does not exist", t.id, t.ticket));
  const ticket& before = **found;
  const workflow* wf = workflows_.find(before.workflow);
  if (!wf) return make_error(errc::internal, fmt::format("ticket {} uses an unknown workflow", before.id));
  auto plan = plan_fire(before, t, now);
  if (!plan) return std::optional<fired_timer>();

  PLAINT_TRY(persist(tx, before, plan->after, *wf, false, plan->event, ""));
  const ticket& after = plan->after;
  fired_timer f{t, after, plan->event, {}, {}};
  f.fired.status = "fired";
  f.fired.fired_at = now;
  for (const auto& who : rung_recipients(*plan->step, after)) {
    notification n{0, after.id, f.event.seq, now, who, plan->kind,
                   fmt::format("ticket {} ({}, {}): {}", after.id, after.priority, after.customer, plan->what)};
    PLAINT_TRY(tx.add_notification(n));
    // Held to working hours when the policy says so, but never a P1.
    const timestamp not_before =
        policy_.notify_in_working_hours && after.priority != "P1" ? policy_.calendar.add(now, 0) : now;
    PLAINT_TRY(queue_email(tx, n, after, now, not_before));
    f.notified.push_back(std::move(n));
  }
  std::vector<std::string> names;
  for (const auto& n : f.notified) names.push_back(n.recipient);
  f.summary = fmt::format("ticket {}: {}{}", after.id, plan->what, names.empty() ? "" : "; notified " + join(names));
  return std::optional<fired_timer>(std::move(f));
}

Result<std::vector<timer>> executor::overdue_timers(store_transaction& tx, const ticket& t, timestamp now) const {
  // The ticket's own clocks say whether anything is due: the common case
  // (nothing overdue) costs no read.
  const workflow* wf = workflows_.find(t.workflow);
  if (!wf) return std::vector<timer>();
  const auto earliest = earliest_timer(t, policy_.mode_of(*wf, t.state));
  if (!earliest || *earliest > now) return std::vector<timer>();
  return tx.due_timers_of(t.id, now);
}

Result<ticket> executor::preview_fires(ticket t, const std::vector<timer>& due, timestamp now) const {
  const workflow* wf = workflows_.find(t.workflow);
  if (!wf) return t;
  for (const auto& d : due) {
    auto p = plan_fire(t, d, now);
    if (!p) continue;
    // A firing that raises the priority moves the due times; the next timer
    // is judged on them, as fire_in will judge it on the row persist wrote.
    PLAINT_TRY(settle_clocks(t, p->after, *wf, now));
    t = std::move(p->after);
  }
  return t;
}

Result<std::vector<fired_timer>> executor::fire_due(timestamp now, int batch, std::size_t limit) {
  std::vector<fired_timer> out;
  while (out.size() < limit) {
    const auto room = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch), limit - out.size()));
    auto due = store_.due_timers(now, room);
    PLAINT_TRY(due);
    if (due->empty()) return out;
    auto tx = store_.begin();
    PLAINT_TRY(tx);
    std::vector<fired_timer> fired;
    for (const timer& t : *due) {
      auto f = fire_in(**tx, t, now);
      PLAINT_TRY(f);
      if (*f) fired.push_back(std::move(**f));
    }
    PLAINT_TRY((*tx)->commit());
    for (auto& f : fired) out.push_back(std::move(f));
    // Claims lost to another process leave `fired` short; the loop reads again.
  }
  return out;
}

Result<std::int64_t> executor::apply_policy(sla_policy policy, const std::string& actor) {
  PLAINT_TRY(check_required("actor", actor, max_id_bytes));
  std::vector<ticket_id> open;
  PLAINT_TRY(store_.scan_tickets([&](const ticket& t) {
    if (!t.closed_at) open.push_back(t.id);
    return true;
  }));
  policy_ = std::move(policy);
  const timestamp now = clock_.now();
  std::int64_t changed = 0;
  constexpr std::size_t per_transaction = 500;
  for (std::size_t i = 0; i < open.size(); i += per_transaction) {
    auto tx = store_.begin();
    PLAINT_TRY(tx);
    for (std::size_t k = i; k < std::min(open.size(), i + per_transaction); ++k) {
      auto found = (*tx)->find_ticket(open[k]);
      PLAINT_TRY(found);
      if (!*found) continue;
      const ticket& before = **found;
      const workflow* wf = workflows_.find(before.workflow);
      if (!wf) continue;
      ticket after = before;
      if (!recompute_clocks(after, policy_.mode_of(*wf, after.state), policy_)) continue;
      after.version = before.version + 1;
      event_record e;
      e.ticket = before.id;
      e.at = now;
      e.actor = actor;
      e.event = "sla_recomputed";
      e.from_state = before.state;
      e.to_state = before.state;
      e.version = after.version;
      e.payload = json{{"policy", policy_.source_name}};
      PLAINT_TRY(persist(**tx, before, after, *wf, false, e, ""));
      ++changed;
    }
    PLAINT_TRY((*tx)->commit());
  }
  return changed;
}

}  // namespace plaint::engine
