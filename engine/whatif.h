// `plaint policy whatif FILE` (SPEC §12): the period's SLA figures under the
// policy in force and under a proposed one, side by side, and the tickets
// whose outcome would change. Reads only.
//
// Every ticket active in the period (created before its end, not closed
// before its start) is replayed twice from its stored history
// (engine/replay.h): once as recorded — the policies that were in force,
// the timers as they fired, plus any still pending that fell due by the
// period's end — and once under the proposed policy, the people's actions
// kept at the instants they happened and the timers fired as the proposed
// calendar, targets, pauses and ladder would have fired them. What cannot
// be known is said in the output: people would have acted differently
// under other targets; an action the proposed policy refuses (a reopen
// after a shorter window) is left out and counted.
//
// Figures are about the tickets active in the period, the same tickets
// under both policies: warnings, breaches, levels reached and
// notifications over each ticket's life up to the period's end (or now),
// wherever a policy moves its due instants; resolutions and their on-time
// share count those in the period. Groups are keyed by the ticket as stored.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/replay.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct whatif_query {
  timestamp from = 0;
  timestamp to = 0;
  std::string by;             // "", "tier", "category", "priority", "channel", "owner", "team", "workflow"
  timestamp now = 0;          // timers fire up to min(now, to)
  std::size_t examples = 50;  // changed tickets listed at most
};

// Returns `invalid` if to <= from or `by` is unknown. The JSON shape
// (documented in the README): {"from","to","by","in_force":{…},"proposed":{…},
// "tickets","note","overall":{"in_force":F,"proposed":F,"change":F},
// "groups":[{"key",…}],"changed":{"count","tickets":[…]},"not_replayed":[…]}
// with figures F = {tickets, resolved, on_time, on_time_rate,
// warnings{first_response,resolution}, breaches{first_response,resolution},
// escalations{"2","3"}, follow_up_calls, notifications, refused_actions}.
// `open_more`, when given, opens another store on the same database: the
// histories are then read and replayed on two threads, one per store.
using store_opener = std::function<Result<std::unique_ptr<store>>()>;
Result<json> what_if(store& s, const policy_timeline& recorded, const policy_version& proposed,
                     const workflow_registry& workflows, const whatif_query& q, const store_opener& open_more = {});

}  // namespace plaint::engine
