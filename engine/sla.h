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

#include "engine/calendar.h"
#include "engine/model.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct sla_targets {
  std::int64_t first_response = 0;  // seconds
  std::int64_t resolution = 0;
  std::int64_t follow_up = 0;
  double warn_ratio = 0.8;          // warning at this share of the target
};

// What the ladder does at one rung: the event is always appended (an
// `sla_warning` at a warning, an `escalate` by `system` at a breach).
struct escalation_step {
  bool raise_level = false;     // level + 1, at most 3
  bool raise_priority = false;  // one step more urgent, at most P1
  std::vector<std::string> notify;  // "owner", "team_lead", "supervisor"
};

struct escalation_ladder {
  escalation_step warning{false, false, {"owner"}};
  escalation_step first_response_breach{true, false, {"owner", "team_lead"}};
  escalation_step resolution_breach{true, false, {"owner", "team_lead"}};
  // A breach of a ticket that already breached a clock in this cycle.
  escalation_step second_breach{true, false, {"owner", "supervisor"}};
};

struct sla_policy {
  // Keyed by "P2/gold"; `targets_for` falls back to "P2/standard".
  std::map<std::string, sla_targets, std::less<>> targets;
  // Targets count working time of this calendar.
  business_calendar calendar;
  // States in which the resolution clock stops.
  std::vector<std::string> pause_states{"awaiting_customer"};
  int reopen_window_days = 14;
  escalation_ladder ladder;
  // Notification mail (not P1) waits for the calendar's working hours.
  bool notify_in_working_hours = false;
  // The policy file's text ("" for the built-in default) and where it came from.
  std::string source;
  std::string source_name;

  const sla_targets& targets_for(std::string_view priority, std::string_view tier) const;
  // The instant `seconds` of working time after `start`.
  timestamp add(timestamp start, std::int64_t seconds) const { return calendar.add(start, seconds); }
  bool pauses(std::string_view state) const;
  // The workflow's clock mode of `state`, with this policy's pausing states.
  clock_mode mode_of(const workflow& wf, std::string_view state) const;

  // The built-in default: 24x7 UTC; P1 1h/8h, P2 4h/24h, P3 8h/72h, P4
  // 24h/120h, gold 75 % and platinum 50 % of these; follow-up after 3 days;
  // warning at 80 %; the default ladder.
  static sla_policy defaults();
};

// Moves `after`'s clocks for a transition from `from` to `to` (`from` is
// nullopt when the ticket is being opened) as of `now`.
void update_clocks(const ticket& before, ticket& after, std::optional<clock_mode> from,
                   clock_mode to, const sla_policy& policy, timestamp now);

// Returns `invalid` when an instant on `t` (a due time, say, pushed past
// year 9999 by a long target) lies outside [min_instant, max_instant]:
// such a ticket could be written but not exported and imported again, so
// the transition that computed it is refused before anything is written.
Status check_clock_range(const ticket& t);

// Recomputes a ticket's due times under `policy` (after a policy change).
// Returns true if any due time moved.
bool recompute_clocks(ticket& t, clock_mode mode, const sla_policy& policy);

// Why a ticket stands on the supervisor's board and by how much its clock
// is overdue (seconds; negative: time left before the due instant).
struct board_reason {
  std::string why;  // "first response overdue", "resolution at risk", "escalated", …
  std::int64_t overdue = 0;
};
board_reason explain_board(const ticket& t, timestamp now);

// A timer to (re)arm (`due` set) or cancel (`due` empty).
struct timer_change {
  std::string kind;
  std::optional<timestamp> due;
};

// True when every field `desired_timers` reads is equal: the timers stand.
bool same_clocks(const ticket& a, const ticket& b);

// The pending timers a ticket in `mode` should have.
std::map<std::string, timestamp> desired_timers(const ticket& t, clock_mode mode);
// The earliest due instant among them (nullopt: none), without building them.
std::optional<timestamp> earliest_timer(const ticket& t, clock_mode mode);

std::vector<timer_change> timer_changes(const std::map<std::string, timestamp>& before,
                                        const std::map<std::string, timestamp>& after);

}  // namespace plaint::engine
