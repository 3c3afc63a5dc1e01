// What a due SLA timer does to its ticket (SPEC §4, §9 "Ladder"), as a pure
// function of the ticket, the timer and the policy: the executor fires
// timers through it, and the SLA replay (engine/replay.h) runs the same
// rungs, so an explanation or a what-if cannot drift from what the desk did.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/sla.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct timer_effect {
  ticket after;        // version + 1, the fired bits, level and priority as the rung leaves them
  std::string event;   // "sla_warning", "escalate" or "follow_up_due"
  json payload;        // {"timer", "due"} and, for the SLA clocks, "clock" ("reason", "level", "priority")
  std::string rung;    // "warning", "first_response_breach", "resolution_breach", "second_breach", "follow_up"
  const escalation_step* step = nullptr;  // the rung's step (notifications)
  std::string kind;    // the notification kind: "sla_warning", "sla_breach", "follow_up"
  std::string what;    // "resolution target 2026-… breached; escalated to level 3"
};

// The effect of timer `kind` due at `due` on `before`; nullopt when the
// ticket (in `wf`, under `policy`) no longer wants that timer at that
// instant, so it retires without effects.
std::optional<timer_effect> plan_timer(const ticket& before, std::string_view kind, timestamp due,
                                       const sla_policy& policy, const workflow& wf);

// Who a rung notifies about `after`: "owner:ID" (the team lead when nobody
// owns it), "team_lead", "supervisor"; sorted, each once.
std::vector<std::string> rung_recipients(const escalation_step& step, const ticket& after);

}  // namespace plaint::engine
