// SLA targets and the clock arithmetic that turns a transition into due
// times and timer changes.
//
// The clocks live on the ticket (`first_response_due`, `resolution_due`, …);
// the pending timers in storage mirror them. After every transition the
// executor calls `update_clocks` and commits `timer_changes` in the same
// transaction, so the timers table never disagrees with the ticket.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct sla_targets {
  std::int64_t first_response = 0;  // seconds
  std::int64_t resolution = 0;
  std::int64_t follow_up = 0;
  double warn_ratio = 0.8;          // warning at this share of the target
};

struct sla_policy {
  // Keyed by "P2/gold"; `targets_for` falls back to "P2/standard".
  std::map<std::string, sla_targets, std::less<>> targets;
  int reopen_window_days = 14;

  const sla_targets& targets_for(std::string_view priority, std::string_view tier) const;
  // The instant `seconds` of service time after `start`.
  timestamp add(timestamp start, std::int64_t seconds) const;

  // The built-in default: 24x7; P1 1h/8h, P2 4h/24h, P3 8h/72h, P4 24h/120h,
  // gold and platinum faster; follow-up after 3 days; warning at 80 %.
  static sla_policy defaults();
};

// Moves `after`'s clocks for a transition from `from` to `to` (`from` is
// nullopt when the ticket is being opened) as of `now`.
void update_clocks(const ticket& before, ticket& after, std::optional<clock_mode> from,
                   clock_mode to, const sla_policy& policy, timestamp now);

// A timer to (re)arm (`due` set) or cancel (`due` empty).
struct timer_change {
  std::string kind;
  std::optional<timestamp> due;
};

// The pending timers a ticket in `mode` should have.
std::map<std::string, timestamp> desired_timers(const ticket& t, clock_mode mode);

std::vector<timer_change> timer_changes(const std::map<std::string, timestamp>& before,
                                        const std::map<std::string, timestamp>& after);

}  // namespace plaint::engine
