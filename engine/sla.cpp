#include "engine/sla.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace plaint::engine {

const sla_targets& sla_policy::targets_for(std::string_view priority, std::string_view tier) const {
  std::string key(priority);
  key += '/';
  key += tier;
  if (auto it = targets.find(key); it != targets.end()) return it->second;
  if (auto it = targets.find(std::string(priority) + "/standard"); it != targets.end())
    return it->second;
  throw std::logic_error("SLA policy has no targets for " + key);
}

bool sla_policy::pauses(std::string_view state) const {
  return std::find(pause_states.begin(), pause_states.end(), state) != pause_states.end();
}

clock_mode sla_policy::mode_of(const workflow& wf, std::string_view state) const {
  const clock_mode m = wf.clock_of(state);
  return m == clock_mode::running && pauses(state) ? clock_mode::paused : m;
}

sla_policy sla_policy::defaults() {
  constexpr std::int64_t h = 3600, d = 86400;
  struct row {
    const char* priority;
    std::int64_t fr, res;
  };
  const row base[] = {{"P1", 1 * h, 8 * h}, {"P2", 4 * h, 24 * h}, {"P3", 8 * h, 72 * h},
                      {"P4", 24 * h, 120 * h}};
  // Higher value tiers get tighter targets: gold 75 %, platinum 50 %.
  const std::pair<const char*, double> tier_factor[] = {
      {"standard", 1.0}, {"gold", 0.75}, {"platinum", 0.5}};
  sla_policy p;
  for (const auto& r : base)
    for (const auto& [tier, f] : tier_factor)
      p.targets[std::string(r.priority) + "/" + tier] =
          sla_targets{static_cast<std::int64_t>(std::llround(r.fr * f)),
                      static_cast<std::int64_t>(std::llround(r.res * f)), 3 * d, 0.8};
  return p;
}

namespace {

std::int64_t share(std::int64_t seconds, double ratio) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(seconds) * ratio));
}

void compute_resolution_dues(ticket& t, const sla_policy& p) {
  const sla_targets& tg = p.targets_for(t.priority, t.tier);
  // Time spent paused (in working seconds) pushes the resolution clock out.
  t.resolution_warn_at =
      p.add(t.resolution_started_at, share(tg.resolution, tg.warn_ratio) + t.paused_seconds);
  t.resolution_due = p.add(t.resolution_started_at, tg.resolution + t.paused_seconds);
}

void compute_dues(ticket& t, const sla_policy& p) {
  const sla_targets& tg = p.targets_for(t.priority, t.tier);
  t.first_response_warn_at = p.add(t.created_at, share(tg.first_response, tg.warn_ratio));
  t.first_response_due = p.add(t.created_at, tg.first_response);
  compute_resolution_dues(t, p);
}

// Ends a pause: the working time it lasted is added to the resolution clock.
void resume(ticket& t, const sla_policy& p, timestamp now) {
  if (!t.paused_at) return;
  t.paused_seconds += p.calendar.between(*t.paused_at, now);
  t.paused_at.reset();
  compute_resolution_dues(t, p);
}

constexpr unsigned resolution_bits = fired_resolution_warn | fired_resolution | fired_follow_up;

}  // namespace

void update_clocks(const ticket& before, ticket& after, std::optional<clock_mode> from,
                   clock_mode to, const sla_policy& policy, timestamp now) {
  if (!from) {
    after.created_at = now;
    after.resolution_started_at = now;
    compute_dues(after, policy);
  } else if (after.priority != before.priority && to != clock_mode::closed) {
    compute_dues(after, policy);
    // The running pause is still counted on resume.
  }
  after.updated_at = now;
  if (!from || *from == to) return;

  const bool was_done = *from == clock_mode::resolved || *from == clock_mode::closed;
  if (was_done && (to == clock_mode::running || to == clock_mode::paused)) {  // reopened
    after.resolved_at.reset();
    after.closed_at.reset();
    after.follow_up_due.reset();
    after.resolution_started_at = now;
    after.paused_seconds = 0;
    after.fired &= ~resolution_bits;
    compute_dues(after, policy);
    if (to == clock_mode::paused) after.paused_at = now;
    return;
  }
  if (to == clock_mode::paused) {
    after.paused_at = now;
    return;
  }
  resume(after, policy, now);
  if (to == clock_mode::resolved) {
    after.resolved_at = now;
    after.follow_up_due = policy.add(now, policy.targets_for(after.priority, after.tier).follow_up);
  } else if (to == clock_mode::closed) {
    after.closed_at = now;
  }
}

Status check_clock_range(const ticket& t) {
  const std::pair<const char*, std::optional<timestamp>> instants[] = {
      {"opening time", t.created_at},
      {"update time", t.updated_at},
      {"resolution start", t.resolution_started_at},
      {"first response time", t.first_response_at},
      {"first-response warning time", t.first_response_warn_at},
      {"first-response due time", t.first_response_due},
      {"resolution warning time", t.resolution_warn_at},
      {"resolution due time", t.resolution_due},
      {"pause time", t.paused_at},
      {"resolution time", t.resolved_at},
      {"follow-up due time", t.follow_up_due},
      {"closing time", t.closed_at}};
  for (const auto& [what, at] : instants) {
    if (!at || in_instant_range(*at)) continue;
    const std::string whose = t.id == 0 ? std::string("the new ticket's") : fmt::format("ticket {}'s", t.id);
    return make_error(errc::invalid,
                      *at > max_instant
                          ? fmt::format("{} {} would fall after {}, the last instant plaint can store", whose,
                                        what, format_iso(max_instant))
                          : fmt::format("{} {} would fall before {}, the first instant plaint can store", whose,
                                        what, format_iso(min_instant)));
  }
  return {};
}

bool recompute_clocks(ticket& t, clock_mode mode, const sla_policy& policy) {
  const ticket before = t;
  if (mode == clock_mode::running || mode == clock_mode::paused) compute_dues(t, policy);
  if (mode == clock_mode::resolved && t.resolved_at)
    t.follow_up_due = policy.add(*t.resolved_at, policy.targets_for(t.priority, t.tier).follow_up);
  return t.first_response_due != before.first_response_due || t.first_response_warn_at != before.first_response_warn_at ||
         t.resolution_due != before.resolution_due || t.resolution_warn_at != before.resolution_warn_at ||
         t.follow_up_due != before.follow_up_due;
}

board_reason explain_board(const ticket& t, timestamp now) {
  const auto sla = sla_of(t, now);
  // A clock still running past its due instant is "overdue"; one that
  // stopped past it (the ticket was escalated for it) "answered late" or
  // "resolved late". What still runs comes first.
  if (sla.first_response_breached && !t.first_response_at)
    return {"first response overdue", now - *t.first_response_due};
  if (sla.resolution_breached && !t.resolved_at)
    return {"resolution overdue", t.paused_at.value_or(now) - *t.resolution_due};
  if (!t.first_response_at && t.first_response_warn_at && *t.first_response_warn_at <= now)
    return {"first response at risk", now - *t.first_response_due};
  if (!t.resolved_at && !t.paused_at && t.resolution_warn_at && *t.resolution_warn_at <= now)
    return {"resolution at risk", now - *t.resolution_due};
  if (sla.first_response_breached)
    return {"first response answered late", *t.first_response_at - *t.first_response_due};
  if (sla.resolution_breached) return {"resolved late", *t.resolved_at - *t.resolution_due};
  return {"escalated", 0};
}

bool same_clocks(const ticket& a, const ticket& b) {
  return a.fired == b.fired && a.first_response_at == b.first_response_at &&
         a.first_response_warn_at == b.first_response_warn_at && a.first_response_due == b.first_response_due &&
         a.resolution_warn_at == b.resolution_warn_at && a.resolution_due == b.resolution_due &&
         a.follow_up_due == b.follow_up_due;
}

std::map<std::string, timestamp> desired_timers(const ticket& t, clock_mode mode) {
  std::map<std::string, timestamp> out;
  auto want = [&](const char* kind, const std::optional<timestamp>& due) {
    if (due && !(t.fired & timer_bit_of(kind))) out.emplace(kind, *due);
  };
  const bool open = mode == clock_mode::running || mode == clock_mode::paused;
  if (open && !t.first_response_at) {
    want("first_response_warn", t.first_response_warn_at);
    want("first_response", t.first_response_due);
  }
  if (mode == clock_mode::running) {
    want("resolution_warn", t.resolution_warn_at);
    want("resolution", t.resolution_due);
  }
  if (mode == clock_mode::resolved) want("follow_up", t.follow_up_due);
  return out;
}

std::optional<timestamp> earliest_timer(const ticket& t, clock_mode mode) {
  std::optional<timestamp> first;
  auto want = [&](unsigned bit, const std::optional<timestamp>& due) {
    if (due && !(t.fired & bit) && (!first || *due < *first)) first = due;
  };
  const bool open = mode == clock_mode::running || mode == clock_mode::paused;
  if (open && !t.first_response_at) {
    want(fired_first_response_warn, t.first_response_warn_at);
    want(fired_first_response, t.first_response_due);
  }
  if (mode == clock_mode::running) {
    want(fired_resolution_warn, t.resolution_warn_at);
    want(fired_resolution, t.resolution_due);
  }
  if (mode == clock_mode::resolved) want(fired_follow_up, t.follow_up_due);
  return first;
}

std::vector<timer_change> timer_changes(const std::map<std::string, timestamp>& before,
                                        const std::map<std::string, timestamp>& after) {
  std::vector<timer_change> out;
  for (const auto& [kind, due] : after) {
    auto it = before.find(kind);
    if (it == before.end() || it->second != due) out.push_back({kind, due});
  }
  for (const auto& [kind, due] : before)
    if (!after.count(kind)) out.push_back({kind, std::nullopt});
  return out;
}

}  // namespace plaint::engine
