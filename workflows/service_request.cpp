// The service-request machine: open → in_progress → done → closed.
//
//   open ──start──▶ in_progress ──complete──▶ done ──close──▶ closed
//     │                  ▲                     │               │
//     └──cancel──▶ closed └──────reopen────────┴───────────────┘
//
// Open states (open, in_progress, done) also accept the housekeeping events.
#include "workflows/service_request.h"

#include "workflows/machine.h"

namespace plaint::workflows {
namespace {

namespace ev {
using namespace workflows::ev;
PLAINT_EVENT(start, "owner");
PLAINT_EVENT(cancel, "reason!");
PLAINT_EVENT(complete, "note!, resolution_code");
PLAINT_EVENT(close, "");
PLAINT_EVENT(reopen, "");
}  // namespace ev

struct open : open_state<open> { static constexpr auto name = "open"; };
struct in_progress : open_state<in_progress> { static constexpr auto name = "in_progress"; };
struct done : open_state<done> { static constexpr auto name = "done"; };
struct closed : named_state<closed> { static constexpr auto name = "closed"; };

PLAINT_GUARD(has_worker) {
  if (ctx.has("owner") || !ctx.in->current.owner.empty()) return true;
  return ctx.refuse(fmt::format("start of request {} needs field owner: nobody owns it yet", ctx.id()));
}

PLAINT_ACTION(take_work) {
  if (ctx.has("owner")) ctx.next.owner = std::string(ctx.field("owner"));
  if (!ctx.next.first_response_at) ctx.next.first_response_at = ctx.in->now;
}

PLAINT_GUARD(has_cancel_reason) {
  if (ctx.has("reason")) return true;
  return ctx.refuse(fmt::format("cancel of request {} needs field reason", ctx.id()));
}

PLAINT_ACTION(cancel_as) { ctx.next.resolution_code = "cancelled: " + std::string(ctx.field("reason")); }

PLAINT_GUARD(has_work_note) {
  if (!ctx.in->note.empty()) return true;
  return ctx.refuse(fmt::format("complete of request {} needs a note saying what was done", ctx.id()));
}

PLAINT_ACTION(record_done) {
  ctx.next.resolution_code = ctx.has("resolution_code") ? std::string(ctx.field("resolution_code")) : "done";
}

struct service_request_ : machine_base<service_request_> {
  static constexpr auto name = "service_request";
  static constexpr auto initial = "open";
  using initial_state = restoring;
  using states = mpl::vector<open, in_progress, done, closed>;
  using events = mpl::vector<ev::start, ev::cancel, ev::complete, ev::close, ev::reopen, ev::comment,
                             ev::assign, ev::escalate, ev::set_priority>;

  struct transition_table : mpl::vector<
    //  from         event         to           action        guard
    Row<open,        ev::start,    in_progress, take_work,    has_worker>,
    Row<open,        ev::cancel,   closed,      cancel_as,    has_cancel_reason>,
    Row<in_progress, ev::complete, done,        record_done,  has_work_note>,
    Row<done,        ev::close,    closed,      none,         none>,
    Row<done,        ev::reopen,   in_progress, count_reopen, in_reopen_window>,
    Row<closed,      ev::reopen,   in_progress, count_reopen, in_reopen_window>,
    // Restoring a stored ticket: one eventless row per persisted state.
    Row<restoring,   none,         open,        none,         stored_is<open>>,
    Row<restoring,   none,         in_progress, none,         stored_is<in_progress>>,
    Row<restoring,   none,         done,        none,         stored_is<done>>,
    Row<restoring,   none,         closed,      none,         stored_is<closed>>
  > {};

  static engine::clock_mode clock_of(std::string_view state) {
    if (state == done::name) return engine::clock_mode::resolved;
    if (state == closed::name) return engine::clock_mode::closed;
    return engine::clock_mode::running;
  }
};

}  // namespace

const engine::workflow& service_request_workflow() {
  static const msm_workflow<service_request_> instance;
  return instance;
}

}  // namespace plaint::workflows
