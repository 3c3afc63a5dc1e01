// KPIs for supervisors (SPEC §7): what a period's tickets say about the desk.
//
// A period [from, to) counts tickets resolved in it unless a figure says
// otherwise (opened: created in it; backlog: open at `to`). Times are
// business seconds under the policy's calendar. Grouping splits every
// figure by owner, category, customer tier or team (the support level a
// ticket reached: "L1", "L2", "L3").
#pragma once

#include <optional>
#include <string>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/sla.h"
#include "engine/store.h"

namespace plaint::engine {

struct kpi_query {
  timestamp from = 0;
  timestamp to = 0;
  std::string by;  // "", "owner", "category", "tier", "team"
};

// Returns `invalid` if to <= from or `by` is unknown. The JSON shape:
// {"from","to","by","overall":{…figures…},"groups":[{"key":…,…figures…}],
//  "customers_at_risk":[{"customer","tier","complaints","low_csat","breaches"}]}
// figures: opened, closed, resolved, backlog{total, by_age{"<1d","1-3d","3-7d",">7d"}},
// first_response_seconds{p50,p90,histogram[{le,count}]}, resolution_seconds{…}, on_time_rate,
// success_rate, reopen_rate, escalation_rate{"2","3"}, handoffs_mean,
// csat{mean, count, distribution{"1".."5"}}, follow_up_completion,
// top_categories[{key,count}], top_root_causes[{key,count}].
Result<json> compute_kpis(store& s, const sla_policy& policy, const kpi_query& q);

}  // namespace plaint::engine
