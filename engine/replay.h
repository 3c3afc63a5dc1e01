// The SLA replay: a ticket's clocks rebuilt from its stored history and the
// policies that were in force, through the same functions that moved them
// when the events happened (the workflow's `apply`, `update_clocks`,
// `recompute_clocks`, `plan_timer`). `plaint sla explain` watches the
// recorded replay step by step; `plaint policy whatif` replays the people's
// actions under another policy and lets the timers fire as that policy
// would have fired them. Both are pure: nothing is read or written here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/ladder.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/sla.h"
#include "engine/workflow.h"

namespace plaint::engine {

// One policy as it was put in force. Events after `since_seq` (up to the
// next version's) were applied under it.
struct policy_version {
  int version = 0;              // 0: the built-in default, never loaded
  std::string name;             // the file name it was loaded from
  std::int64_t since_seq = 0;   // the audit chain's head when it was put in force
  timestamp at = 0;
  std::string actor;
  std::shared_ptr<const sla_policy> policy;
};

// The policies of a desk's history, oldest first; never empty.
class policy_timeline {
 public:
  // `versions` ascending by since_seq; empty means the built-in default.
  policy_timeline(std::vector<policy_version> versions, const sla_policy& builtin);
  // The version an event with this seq was applied under.
  const policy_version& at_seq(std::int64_t seq) const;
  const policy_version& current() const { return versions_.back(); }
  // The version in force at instant `t`: the last one put in force at or
  // before it (by the time it was loaded).
  const policy_version& at_time(timestamp t) const;
  const std::vector<policy_version>& versions() const { return versions_; }

 private:
  std::vector<policy_version> versions_;
};

// One step of a replay, as an observer sees it.
struct replay_step {
  enum class what {
    opened,      // the `open` event
    action,      // an event of a person (or of mail): the workflow decided it
    timer,       // a timer fired (recorded, or simulated: `event` is null)
    recomputed,  // `sla_recomputed`: a policy put in force moved the clocks
    refused,     // simulated only: the action is refused under this policy and left out
  };
  what kind = what::action;
  const event_record* event = nullptr;  // the stored event; null for a simulated firing
  const policy_version* policy = nullptr;
  timestamp at = 0;        // the event's instant (a simulated firing: its due instant)
  const ticket* before = nullptr;
  const ticket* after = nullptr;
  clock_mode from = clock_mode::running;  // `opened`: equal to `to`
  clock_mode to = clock_mode::running;
  const timer_effect* fired = nullptr;  // `timer`: the rung that applied
  std::string timer_kind;               // `timer`
  timestamp timer_due = 0;              // `timer`
  std::string refusal;                  // `refused`: why
};
using replay_observer = std::function<void(const replay_step&)>;

// Replays `events` (one ticket's whole history, seq order, starting with
// `open`) as recorded: people's actions, timer firings and recomputes each
// under the policy in force at its seq. `stored` gives what the history
// does not repeat (workflow, customer tier). Returns the ticket as the
// replay leaves it, or `internal` when the history cannot be replayed (an
// event the workflow refuses, a timer the clocks did not want): then the
// stored clocks were not computed the way this build computes them.
// With `fire_until`, the timers still pending after the history that are
// due at or before it fire too (under the policy in force then), as a
// running server would have fired them.
Result<ticket> replay_recorded(const ticket& stored, const std::vector<event_record>& events,
                               const policy_timeline& policies, const workflow_registry& workflows,
                               const replay_observer& observe = {},
                               std::optional<timestamp> fire_until = std::nullopt);

// Replays the people's actions in `events` at the instants they happened
// under `policies` (timers and recomputes of the history are left out),
// firing the timers the replayed clocks arm: before each action, every
// timer due at or before its instant, in due order; after the last one,
// those due at or before `end`. An action the replayed ticket no longer
// accepts (a reopen after a shorter window, say) is reported as `refused`
// and left out. Returns the ticket as the replay leaves it.
Result<ticket> replay_simulated(const ticket& stored, const std::vector<event_record>& events,
                                const policy_timeline& policies, const workflow_registry& workflows, timestamp end,
                                const replay_observer& observe = {});

// The clock fields of two tickets that differ ("resolution_due 2026-… ≠ 2026-…"),
// for a check of a replay against the stored ticket; empty when they agree.
std::vector<std::string> clock_differences(const ticket& replayed, const ticket& stored);

}  // namespace plaint::engine
