// The complaint machine. The transition table below is the single source of
// truth: `plaint workflow show complaint` prints it, the engine applies it.
//
//   intake ──triage──▶ triage ──start──▶ remediation ──resolve──▶ follow_up ──follow_up_done──▶ closed
//     │                  │                 ▲      │                  │                           │
//     └──reject──▶ closed◀┘ reject          │  request_info           └────────reopen─────────────┤
//                            customer_replied      ▼                                              │
//                                       awaiting_customer      remediation ◀──────reopen──────────┘
//
// Every open state (all but closed) also accepts comment, assign, escalate
// and set_priority without leaving the state (`open_state`).
#include "workflows/complaint.h"

#include "workflows/machine.h"

namespace plaint::workflows {
namespace {

namespace ev {
using namespace workflows::ev;
PLAINT_EVENT(triage, "owner!, category, priority");
PLAINT_EVENT(reject, "reason!");
PLAINT_EVENT(start, "");
PLAINT_EVENT(request_info, "");
PLAINT_EVENT(customer_replied, "");
PLAINT_EVENT(resolve, "resolution_code!, note!, root_cause");
PLAINT_EVENT(follow_up_done, "csat, unreachable");
PLAINT_EVENT(reopen, "");
}  // namespace ev

struct intake : open_state<intake> { static constexpr auto name = "intake"; };
struct triage : open_state<triage> { static constexpr auto name = "triage"; };
struct remediation : open_state<remediation> { static constexpr auto name = "remediation"; };
struct awaiting_customer : open_state<awaiting_customer> { static constexpr auto name = "awaiting_customer"; };
struct follow_up : open_state<follow_up> { static constexpr auto name = "follow_up"; };
struct closed : named_state<closed> { static constexpr auto name = "closed"; };

PLAINT_GUARD(has_owner) {
  if (!ctx.has("owner"))
    return ctx.refuse(fmt::format("triage of ticket {} needs field owner: the agent accountable for it", ctx.id()));
  if (ctx.has("category") && !engine::is_category(ctx.field("category")))
    return ctx.refuse(fmt::format("category '{}' is not one of: {}", ctx.field("category"),
                                  engine::join(engine::categories)));
  if (ctx.has("priority") && !engine::is_priority(ctx.field("priority")))
    return ctx.refuse(fmt::format("priority '{}' is not one of: {}", ctx.field("priority"),
                                  engine::join(engine::priorities)));
  return true;
}

PLAINT_ACTION(take_owner) {
  ctx.next.owner = std::string(ctx.field("owner"));
  if (ctx.has("category")) ctx.next.category = std::string(ctx.field("category"));
  if (ctx.has("priority")) ctx.next.priority = std::string(ctx.field("priority"));
}

PLAINT_GUARD(has_reason) {
  if (!engine::is_reject_reason(ctx.field("reason")))
    return ctx.refuse(fmt::format("reject of ticket {} needs field reason, one of: {}", ctx.id(),
                                  engine::join(engine::reject_reasons)));
  return true;
}

PLAINT_ACTION(close_as) { ctx.next.resolution_code = std::string(ctx.field("reason")); }

PLAINT_GUARD(has_resolution) {
  if (!ctx.has("resolution_code"))
    return ctx.refuse(fmt::format("resolve of ticket {} needs field resolution_code", ctx.id()));
  if (ctx.in->note.empty())
    return ctx.refuse(fmt::format("resolve of ticket {} needs a note saying what was done", ctx.id()));
  return true;
}

PLAINT_ACTION(record_resolution) {
  ctx.next.resolution_code = std::string(ctx.field("resolution_code"));
  ctx.next.root_cause = std::string(ctx.field("root_cause"));
}

PLAINT_GUARD(has_csat) {
  const auto csat = ctx.field("csat");
  const auto unreachable = ctx.field("unreachable");
  if (!csat.empty() && !unreachable.empty())
    return ctx.refuse("follow_up_done takes either csat or unreachable, not both");
  if (!csat.empty()) {
    int score = 0;
    if (!parse_int_field(csat, 1, 5, score))
      return ctx.refuse(fmt::format("csat must be a whole number from 1 to 5, not '{}'", csat));
    return true;
  }
  if (unreachable.empty())
    return ctx.refuse(fmt::format("follow_up_done of ticket {} needs field csat (1-5), or unreachable=true once the follow-up is due",
                                  ctx.id()));
  if (unreachable != "true")
    return ctx.refuse(fmt::format("unreachable must be true, not '{}'", unreachable));
  const auto& due = ctx.in->current.follow_up_due;
  if (!due || ctx.in->now < *due)
    return ctx.refuse(fmt::format("ticket {} cannot be closed as unreachable before its follow-up is due at {}",
                                  ctx.id(), due ? engine::format_iso(*due) : std::string("(not set)")));
  return true;
}

PLAINT_ACTION(record_csat) {
  int score = 0;
  if (parse_int_field(ctx.field("csat"), 1, 5, score)) {
    ctx.next.csat = score;
    ctx.payload["csat"] = score;
  } else {
    ctx.payload["unreachable"] = true;
  }
}

// The lifecycle. Housekeeping events live once in `open_state`.
struct complaint_ : machine_base<complaint_> {
  static constexpr auto name = "complaint";
  static constexpr auto initial = "intake";
  using initial_state = restoring;
  using states = mpl::vector<intake, triage, remediation, awaiting_customer, follow_up, closed>;
  using events = mpl::vector<ev::triage, ev::reject, ev::start, ev::request_info, ev::customer_replied,
                             ev::resolve, ev::follow_up_done, ev::reopen, ev::comment, ev::assign,
                             ev::escalate, ev::set_priority>;

  struct transition_table : mpl::vector<
    //  from               event                 to                 action             guard
    Row<intake,            ev::triage,           triage,            take_owner,        has_owner>,
    Row<intake,            ev::reject,           closed,            close_as,          has_reason>,
    Row<triage,            ev::reject,           closed,            close_as,          has_reason>,
    Row<triage,            ev::start,            remediation,       first_touch,       none>,
    Row<remediation,       ev::request_info,     awaiting_customer, none,              none>,
    Row<remediation,       ev::resolve,          follow_up,         record_resolution, has_resolution>,
    Row<awaiting_customer, ev::customer_replied, remediation,       none,              none>,
    Row<follow_up,         ev::follow_up_done,   closed,            record_csat,       has_csat>,
    Row<follow_up,         ev::reopen,           remediation,       count_reopen,      in_reopen_window>,
    Row<closed,            ev::reopen,           remediation,       count_reopen,      in_reopen_window>,
    // Restoring a stored ticket: one eventless row per persisted state.
    Row<restoring,         none,                 intake,            none,              stored_is<intake>>,
    Row<restoring,         none,                 triage,            none,              stored_is<triage>>,
    Row<restoring,         none,                 remediation,       none,              stored_is<remediation>>,
    Row<restoring,         none,                 awaiting_customer, none,              stored_is<awaiting_customer>>,
    Row<restoring,         none,                 follow_up,         none,              stored_is<follow_up>>,
    Row<restoring,         none,                 closed,            none,              stored_is<closed>>
  > {};

  static engine::clock_mode clock_of(std::string_view state) {
    if (state == follow_up::name) return engine::clock_mode::resolved;
    if (state == closed::name) return engine::clock_mode::closed;
    return engine::clock_mode::running;
  }
};

}  // namespace

const engine::workflow& complaint_workflow() {
  static const msm_workflow<complaint_> instance;
  return instance;
}

}  // namespace plaint::workflows
