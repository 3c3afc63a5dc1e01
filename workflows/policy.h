// The SLA policy file: TOML text in, a validated `engine::sla_policy` out.
//
// The format is documented by its shipped default, `workflows/policy.toml`,
// which is embedded in the binary at build time and yields exactly
// `engine::sla_policy::defaults()`.
//
// Invariants of a parsed policy: `targets` holds every "P#/tier" key for
// P1–P4 × standard, gold, platinum; every duration is positive and no
// longer than ten years of the calendar's working weeks hold (3650 days
// at most), so no due time lands more than about ten years ahead; every
// warning threshold is in (0, 1); every pause state is an open state of a
// registered workflow; `source` is the text and `source_name` the name given.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/sla.h"
#include "engine/workflow.h"

namespace plaint::workflows {

// Parses and validates a policy. `source_name` names the file in messages.
// Returns `invalid` with one sentence naming the file and, where known, the
// line — "policy.toml line 14: targets.P2.resolution "-4h" is not a positive
// duration such as "4h" or "90s"" — for text kept from the TOML parser
// (workflows/toml_guard.h: non-ASCII outside comments, a table header
// without a key, ...), invalid TOML, an unknown key, a value of the wrong
// type, a missing, non-positive or too long target, an impossible
// calendar (unknown zone, bad interval, no working time), or a pause state
// that is not an open state of some workflow in `workflows`.
engine::Result<engine::sla_policy> parse_policy(std::string_view text, std::string_view source_name,
                                                const engine::workflow_registry& workflows);

// The shipped default, workflows/policy.toml, embedded in the binary at build time.
const std::string& default_policy_text();

// The default parsed once against `builtin_workflows()`; the default must
// parse (a failure is a build defect and throws std::logic_error).
const engine::sla_policy& default_policy();

// The policy as TOML text for `plaint policy show`: the source text if the
// policy has one, else the policy written out in the same format (a weekly
// calendar without source text is noted in a comment, its hours unknown).
std::string policy_text(const engine::sla_policy& policy);

}  // namespace plaint::workflows
