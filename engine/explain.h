// `plaint sla explain ID` (SPEC §12): why a ticket is due when it is due.
//
// The recorded replay (engine/replay.h) is watched step by step: every
// computation of a clock (the policy version and its row priority/tier, the
// target), every pause (the state and the event that began and ended it),
// every recompute with the event that caused it, and every timer that fired
// (its event's seq and the ladder's rung). The calendar then cuts each
// clock's span into segments — counted working time, off hours, weekend,
// holiday (named), paused — with the seconds each contributed. Finally the
// replayed clocks are checked against the stored ticket, so an explanation
// that does not add up to the stored due times says so.
#pragma once

#include <vector>

#include "engine/model.h"
#include "engine/replay.h"
#include "engine/workflow.h"

namespace plaint::engine {

// At most this many segments per clock in the output; the totals still
// count every one ("segments_omitted" says how many were left out).
inline constexpr std::size_t max_explained_segments = 400;

// The explanation as JSON (the shape of `plaint sla explain --json` and
// `GET /api/v1/tickets/{id}/sla`, documented in the README):
// {"ticket","state","priority","tier","now","policy":{version,name},
//  "clocks":[{"clock","cycle","status","policy","row","target_seconds",
//    "warning_threshold","started_at","started_by","stopped_at","stopped_by",
//    "warning_at","due_at","paused_seconds","reached","adds_up","breached",
//    "elapsed_seconds","totals":{kind: seconds},"segments":[…],
//    "segments_omitted","recomputes":[…],"pauses":[…],"warning","breach","fired"}],
//  "check":{"matches","differences":[…],"error"}}
json explain_sla(const ticket& stored, const std::vector<event_record>& events, const policy_timeline& policies,
                 const workflow_registry& workflows, timestamp now);

}  // namespace plaint::engine
