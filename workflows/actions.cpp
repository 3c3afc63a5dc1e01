// Guards and actions shared by every workflow: housekeeping in open states,
// first response, reopen.
#include "workflows/machine.h"

#include <charconv>

namespace plaint::workflows {

bool parse_int_field(std::string_view text, int lo, int hi, int& out) {
  int v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || v < lo || v > hi) return false;
  out = v;
  return true;
}

namespace {
// A note by the customer, or by the engine itself, is not a response to them.
bool by_agent(const context& ctx) {
  return ctx.field("from") != "customer" && ctx.in->actor != "system";
}
}  // namespace

bool has_note::check(context& ctx) {
  if (ctx.in->note.empty()) return ctx.refuse(fmt::format("a comment on ticket {} needs a note", ctx.id()));
  const auto from = ctx.field("from");
  if (!from.empty() && from != "agent" && from != "customer")
    return ctx.refuse(fmt::format("from must be agent or customer, not '{}'", from));
  return true;
}

void add_comment::run(context& ctx) {
  if (by_agent(ctx) && !ctx.next.first_response_at) {
    ctx.next.first_response_at = ctx.in->now;
    ctx.payload["first_response"] = true;
  }
}

bool has_new_owner::check(context& ctx) {
  const auto owner = ctx.field("owner");
  if (owner.empty()) return ctx.refuse(fmt::format("assign of ticket {} needs field owner", ctx.id()));
  if (owner == ctx.in->current.owner)
    return ctx.refuse(fmt::format("ticket {} is already owned by {}", ctx.id(), owner));
  return true;
}

void hand_off::run(context& ctx) {
  if (!ctx.next.owner.empty()) {
    ctx.next.handoff_count += 1;
    ctx.payload["previous_owner"] = ctx.next.owner;
  }
  ctx.next.owner = std::string(ctx.field("owner"));
}

bool below_top_level::check(context& ctx) {
  if (ctx.in->current.level >= 3)
    return ctx.refuse(fmt::format("ticket {} is already at level 3, the top of the support ladder", ctx.id()));
  return true;
}

void raise_level::run(context& ctx) {
  ctx.next.level += 1;
  ctx.payload["level"] = ctx.next.level;
  if (ctx.has("reason")) ctx.payload["reason"] = std::string(ctx.field("reason"));
}

bool valid_priority::check(context& ctx) {
  const auto p = ctx.field("priority");
  if (!engine::is_priority(p))
    return ctx.refuse(fmt::format("set_priority of ticket {} needs field priority, one of: {}", ctx.id(),
                                  engine::join(engine::priorities)));
  if (p == ctx.in->current.priority)
    return ctx.refuse(fmt::format("ticket {} already has priority {}", ctx.id(), p));
  return true;
}

void reprioritise::run(context& ctx) {
  ctx.payload["previous_priority"] = ctx.next.priority;
  ctx.next.priority = std::string(ctx.field("priority"));
}

void first_touch::run(context& ctx) {
  if (!ctx.next.first_response_at) {
    ctx.next.first_response_at = ctx.in->now;
    ctx.payload["first_response"] = true;
  }
}

bool in_reopen_window::check(context& ctx) {
  const auto& t = ctx.in->current;
  if (!t.resolved_at)
    return ctx.refuse(fmt::format("ticket {} was closed without a resolution ({}) and cannot be reopened",
                                  ctx.id(), t.resolution_code.empty() ? "rejected" : t.resolution_code));
  const engine::timestamp until = *t.resolved_at + std::int64_t{ctx.in->reopen_window_days} * 86400;
  if (ctx.in->now > until)
    return ctx.refuse(fmt::format("ticket {} can no longer be reopened: its {}-day reopen window closed at {}",
                                  ctx.id(), ctx.in->reopen_window_days, engine::format_iso(until)));
  return true;
}

void count_reopen::run(context& ctx) {
  ctx.next.reopen_count += 1;
  ctx.payload["reopen_count"] = ctx.next.reopen_count;
}

}  // namespace plaint::workflows
