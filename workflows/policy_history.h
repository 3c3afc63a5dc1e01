// The policies a desk has had, so that `plaint sla explain` and `plaint
// policy whatif` replay each event under the policy it was applied under.
//
// Stored in the settings row `policy_history`: a JSON array, oldest first,
// of {"version", "name", "since_seq", "at", "actor", "text"}. A policy is
// in force for the events appended after `since_seq`, the audit chain's
// head in the transaction that stored it. Policy loads are rare (a desk
// changes its policy a few times a year), so one row holds them all.
//
// A database from before the history was kept has only the `policy` row:
// it reads as one version in force since the first event, and the
// explanation of older tickets is checked against the stored clocks like
// any other (a difference is reported, never hidden).
#pragma once

#include <string_view>

#include "engine/replay.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace plaint::workflows {

// Stores `text` (named `name`) as the policy in force from now on, and
// appends it to the history, in `tx` — a transaction of `s` (the history
// is read on the transaction's connection). The caller commits.
engine::Status record_policy(engine::store& s, engine::store_transaction& tx, std::string_view text,
                             std::string_view name, std::string_view actor, engine::timestamp at);

// The desk's policy history, each version parsed (parses are cached by
// text). `internal` when the history is damaged or a version no longer
// parses (a time zone gone from the system, say).
engine::Result<engine::policy_timeline> load_policy_timeline(engine::store& s,
                                                             const engine::workflow_registry& workflows);

}  // namespace plaint::workflows
