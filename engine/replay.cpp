#include "engine/replay.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace plaint::engine {

policy_timeline::policy_timeline(std::vector<policy_version> versions, const sla_policy& builtin)
    : versions_(std::move(versions)) {
  if (versions_.empty() || versions_.front().since_seq > 0) {
    policy_version v;
    v.name = "built-in default";
    v.policy = std::make_shared<const sla_policy>(builtin);
    versions_.insert(versions_.begin(), std::move(v));
  }
}

const policy_version& policy_timeline::at_seq(std::int64_t seq) const {
  // The last version put in force before the event was appended.
  auto it = std::partition_point(versions_.begin(), versions_.end(),
                                 [seq](const policy_version& v) { return v.since_seq < seq; });
  return it == versions_.begin() ? versions_.front() : *std::prev(it);
}

const policy_version& policy_timeline::at_time(timestamp t) const {
  auto it = std::partition_point(versions_.begin(), versions_.end(),
                                 [t](const policy_version& v) { return v.at <= t; });
  return it == versions_.begin() ? versions_.front() : *std::prev(it);
}

namespace {

bool is_timer_event(const event_record& e) {
  return e.actor == "system" && e.payload.is_object() && e.payload.contains("timer");
}

std::string payload_text(const json& payload, const char* key, const std::string& fallback) {
  if (!payload.is_object()) return fallback;
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Walks one ticket's history, keeping the ticket as the replay leaves it.
class replayer {
 public:
  replayer(const ticket& stored, const workflow& wf, const replay_observer& observe)
      : stored_(stored), wf_(wf), observe_(observe) {}

  const ticket& current() const { return t_; }
  bool opened() const { return opened_; }

  void open(const event_record& e, const policy_version& pv) {
    const sla_policy& p = *pv.policy;
    ticket t;
    t.id = stored_.id;
    t.workflow = stored_.workflow;
    t.customer = payload_text(e.payload, "customer", stored_.customer);
    t.tier = stored_.tier;
    t.channel = payload_text(e.payload, "channel", stored_.channel);
    t.category = payload_text(e.payload, "category", stored_.category);
    t.priority = payload_text(e.payload, "priority", stored_.priority);
    // The texts (subject, description) play no part in the clocks and are
    // left out: every step of the replay copies the ticket.
    t.state = e.to_state.empty() ? std::string(wf_.initial_state()) : e.to_state;
    t.version = 1;
    const clock_mode mode = p.mode_of(wf_, t.state);
    update_clocks(ticket{}, t, std::nullopt, mode, p, e.at);
    report(replay_step::what::opened, &e, pv, e.at, t_, t, mode, mode);
    t_ = std::move(t);
    opened_ = true;
  }

  // An event of a person: decided by the workflow as it was when it happened.
  Result<bool> action(const event_record& e, const policy_version& pv) {
    const sla_policy& p = *pv.policy;
    field_map fields;
    if (e.payload.is_object())
      if (auto f = e.payload.find("fields"); f != e.payload.end() && f->is_object())
        for (const auto& [key, value] : f->items()) fields[key] = value.is_string() ? value.get<std::string>() : value.dump();
    const std::string note = payload_text(e.payload, "note", "");
    const transition_input in{t_, e.event, fields, note, e.actor, e.at, p.reopen_window_days};
    auto out = wf_.apply(in);
    if (!out) {
      replay_step s;
      s.kind = replay_step::what::refused;
      s.event = &e;
      s.policy = &pv;
      s.at = e.at;
      s.before = s.after = &t_;
      s.from = s.to = p.mode_of(wf_, t_.state);
      s.refusal = out.error().message;
      if (observe_) observe_(s);
      return false;
    }
    ticket after = std::move(out->next);
    // A hand-off is counted as the executor counts it.
    if (!t_.owner.empty() && after.owner != t_.owner && after.handoff_count == t_.handoff_count)
      after.handoff_count += 1;
    advance(replay_step::what::action, &e, pv, e.at, std::move(after));
    return true;
  }

  Status recompute(const event_record& e, const policy_version& pv) {
    ticket after = t_;
    recompute_clocks(after, pv.policy->mode_of(wf_, after.state), *pv.policy);
    advance(replay_step::what::recomputed, &e, pv, e.at, std::move(after));
    return {};
  }

  // Fires `kind` due at `due`, at instant `at`; false when the clocks do
  // not want that timer then.
  bool fire(std::string_view kind, timestamp due, timestamp at, const event_record* e, const policy_version& pv) {
    auto effect = plan_timer(t_, kind, due, *pv.policy, wf_);
    if (!effect) return false;
    ticket after = effect->after;
    advance(replay_step::what::timer, e, pv, at, std::move(after), &*effect, kind, due);
    return true;
  }

  // Fires, in due order, every timer the clocks arm that is due at or before `until`.
  void fire_due(timestamp until, const policy_version& pv) {
    for (;;) {
      const clock_mode mode = pv.policy->mode_of(wf_, t_.state);
      const auto earliest = earliest_timer(t_, mode);
      if (!earliest || *earliest > until) return;
      const auto wanted = desired_timers(t_, mode);
      std::optional<std::pair<timestamp, std::size_t>> first;  // due, index in timer_kinds
      for (const auto& [kind, due] : wanted) {
        const auto index = static_cast<std::size_t>(
            std::find(std::begin(timer_kinds), std::end(timer_kinds), kind) - std::begin(timer_kinds));
        if (due <= until && (!first || std::make_pair(due, index) < *first)) first = std::make_pair(due, index);
      }
      if (!first) return;
      if (!fire(timer_kinds[first->second], first->first, first->first, nullptr, pv)) return;
    }
  }

 private:
  void advance(replay_step::what kind, const event_record* e, const policy_version& pv, timestamp at, ticket after,
               const timer_effect* effect = nullptr, std::string_view timer_kind = {}, timestamp due = 0) {
    const sla_policy& p = *pv.policy;
    const clock_mode from = p.mode_of(wf_, t_.state), to = p.mode_of(wf_, after.state);
    after.version = t_.version + 1;
    update_clocks(t_, after, from, to, p, at);
    report(kind, e, pv, at, t_, after, from, to, effect, timer_kind, due);
    t_ = std::move(after);
  }

  void report(replay_step::what kind, const event_record* e, const policy_version& pv, timestamp at,
              const ticket& before, const ticket& after, clock_mode from, clock_mode to,
              const timer_effect* effect = nullptr, std::string_view timer_kind = {}, timestamp due = 0) const {
    if (!observe_) return;
    replay_step s;
    s.kind = kind;
    s.event = e;
    s.policy = &pv;
    s.at = at;
    s.before = &before;
    s.after = &after;
    s.from = from;
    s.to = to;
    s.fired = effect;
    s.timer_kind = std::string(timer_kind);
    s.timer_due = due;
    observe_(s);
  }

  const ticket& stored_;
  const workflow& wf_;
  const replay_observer& observe_;
  ticket t_;
  bool opened_ = false;
};

Result<const workflow*> workflow_of(const ticket& stored, const workflow_registry& workflows) {
  const workflow* wf = workflows.find(stored.workflow);
  if (!wf)
    return make_error(errc::internal, fmt::format("ticket {} uses workflow '{}', which this build does not know",
                                                  stored.id, stored.workflow));
  return wf;
}

Error unreplayable(const ticket& stored, const event_record& e, const std::string& why) {
  return make_error(errc::internal, fmt::format("ticket {} cannot be replayed at event {} ({}): {}", stored.id, e.seq,
                                                e.event, why));
}

}  // namespace

namespace {

// The walk both replays share. Recorded: every event as it was. Simulated:
// the people's actions only, each after the timers due by its instant.
// Then the timers due by `until` fire, under the policy in force then.
Result<ticket> walk(const ticket& stored, const std::vector<event_record>& events, const policy_timeline& policies,
                    const workflow_registry& workflows, const replay_observer& observe, bool simulated,
                    std::optional<timestamp> until) {
  auto wf = workflow_of(stored, workflows);
  PLAINT_TRY(wf);
  replayer r(stored, **wf, observe);
  for (const event_record& e : events) {
    const policy_version& pv = policies.at_seq(e.seq);
    if (e.event == "open" && !r.opened()) {
      r.open(e, pv);
      continue;
    }
    if (!r.opened()) return unreplayable(stored, e, "the history does not begin with open");
    const bool timer = is_timer_event(e);
    if (simulated && (timer || e.event == "sla_recomputed")) continue;
    if (simulated) r.fire_due(e.at, pv);
    if (timer) {
      const std::string kind = payload_text(e.payload, "timer", "");
      const auto due = parse_iso(payload_text(e.payload, "due", ""));
      if (!due) return unreplayable(stored, e, "the timer event names no due instant");
      if (!r.fire(kind, *due, e.at, &e, pv))
        return unreplayable(stored, e, fmt::format("the replayed clocks arm no {} timer due {}", kind, format_iso(*due)));
    } else if (e.event == "sla_recomputed") {
      PLAINT_TRY(r.recompute(e, pv));
    } else {
      auto accepted = r.action(e, pv);
      PLAINT_TRY(accepted);
      if (!*accepted && !simulated) return unreplayable(stored, e, "the workflow refuses it on the replayed ticket");
    }
  }
  if (!r.opened()) return make_error(errc::internal, fmt::format("ticket {} has no open event", stored.id));
  if (until) r.fire_due(*until, policies.at_time(*until));
  return r.current();
}

}  // namespace

Result<ticket> replay_recorded(const ticket& stored, const std::vector<event_record>& events,
                               const policy_timeline& policies, const workflow_registry& workflows,
                               const replay_observer& observe, std::optional<timestamp> fire_until) {
  return walk(stored, events, policies, workflows, observe, false, fire_until);
}

Result<ticket> replay_simulated(const ticket& stored, const std::vector<event_record>& events,
                                const policy_timeline& policies, const workflow_registry& workflows, timestamp end,
                                const replay_observer& observe) {
  return walk(stored, events, policies, workflows, observe, true, end);
}

std::vector<std::string> clock_differences(const ticket& replayed, const ticket& stored) {
  std::vector<std::string> out;
  auto instant = [](const std::optional<timestamp>& t) { return t ? format_iso(*t) : std::string("none"); };
  auto check = [&](const char* what, const std::optional<timestamp>& a, const std::optional<timestamp>& b) {
    if (a != b) out.push_back(fmt::format("{}: replayed {}, stored {}", what, instant(a), instant(b)));
  };
  auto check_text = [&](const char* what, const auto& a, const auto& b) {
    if (a != b) out.push_back(fmt::format("{}: replayed {}, stored {}", what, a, b));
  };
  check_text("state", replayed.state, stored.state);
  check_text("priority", replayed.priority, stored.priority);
  check_text("level", replayed.level, stored.level);
  check_text("fired timers", replayed.fired, stored.fired);
  check_text("paused seconds", replayed.paused_seconds, stored.paused_seconds);
  check("created_at", replayed.created_at, stored.created_at);
  check("first_response_at", replayed.first_response_at, stored.first_response_at);
  check("first_response_warn_at", replayed.first_response_warn_at, stored.first_response_warn_at);
  check("first_response_due", replayed.first_response_due, stored.first_response_due);
  check("resolution_started_at", replayed.resolution_started_at, stored.resolution_started_at);
  check("resolution_warn_at", replayed.resolution_warn_at, stored.resolution_warn_at);
  check("resolution_due", replayed.resolution_due, stored.resolution_due);
  check("paused_at", replayed.paused_at, stored.paused_at);
  check("resolved_at", replayed.resolved_at, stored.resolved_at);
  check("follow_up_due", replayed.follow_up_due, stored.follow_up_due);
  check("closed_at", replayed.closed_at, stored.closed_at);
  return out;
}

}  // namespace plaint::engine
