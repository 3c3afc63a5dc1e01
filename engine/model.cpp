#include "engine/model.h"

#include <algorithm>

#include "engine/result.h"

namespace plaint::engine {

std::string_view errc_name(errc code) {
  switch (code) {
    case errc::invalid: return "invalid";
    case errc::not_found: return "not_found";
    case errc::not_allowed: return "not_allowed";
    case errc::conflict: return "conflict";
    case errc::internal: break;
  }
  return "internal";
}

namespace {
template <std::size_t N>
bool one_of(const std::string_view (&set)[N], std::string_view s) {
  return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

json opt(const std::optional<timestamp>& t) { return t ? json(format_iso(*t)) : json(nullptr); }
}  // namespace

bool is_tier(std::string_view s) { return one_of(tiers, s); }
bool is_channel(std::string_view s) { return one_of(channels, s); }
bool is_category(std::string_view s) { return one_of(categories, s); }
bool is_priority(std::string_view s) { return one_of(priorities, s); }
bool is_reject_reason(std::string_view s) { return one_of(reject_reasons, s); }

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

unsigned timer_bit_of(std::string_view kind) {
  for (std::size_t i = 0; i < std::size(timer_kinds); ++i)
    if (timer_kinds[i] == kind) return 1u << i;
  return 0;
}

sla_status sla_of(const ticket& t, timestamp now) {
  // A clock met is late only if met after its due instant; a clock still
  // running is breached from the due instant on (when its timer fires).
  sla_status s;
  s.paused = t.paused_at.has_value();
  if (t.first_response_due) {
    s.first_response_breached = t.first_response_at ? *t.first_response_at > *t.first_response_due
                                                    : t.closed_at.value_or(now) >= *t.first_response_due;
  }
  if (t.resolution_due) {
    // A paused clock is judged as of the moment it paused; a ticket closed
    // without resolution (rejected) as of its closing.
    s.resolution_breached = t.resolved_at ? *t.resolved_at > *t.resolution_due
                                          : t.paused_at.value_or(t.closed_at.value_or(now)) >= *t.resolution_due;
  }
  return s;
}

json to_json(const customer& c) {
  return json{{"id", c.id},
              {"name", c.name},
              {"tier", c.tier},
              {"email", c.email},
              {"phone", c.phone},
              {"attributes", c.attributes},
              {"created_at", format_iso(c.created_at)},
              {"updated_at", format_iso(c.updated_at)}};
}

json to_json(const ticket& t, timestamp now) {
  const sla_status s = sla_of(t, now);
  json sla{{"first_response_due", opt(t.first_response_due)},
           {"first_response_at", opt(t.first_response_at)},
           {"resolution_due", opt(t.resolution_due)},
           {"resolved_at", opt(t.resolved_at)},
           {"follow_up_due", opt(t.follow_up_due)},
           {"paused", s.paused},
           {"paused_seconds", t.paused_seconds},
           {"breached", s.breached()},
           {"first_response_breached", s.first_response_breached},
           {"resolution_breached", s.resolution_breached}};
  // Time left (negative: overdue) on each clock still running.
  if (t.first_response_due && !t.first_response_at && !t.closed_at)
    sla["first_response_left"] = *t.first_response_due - now;
  if (t.resolution_due && !t.resolved_at && !t.closed_at)
    sla["resolution_left"] = *t.resolution_due - t.paused_at.value_or(now);
  return json{{"id", t.id},
              {"workflow", t.workflow},
              {"state", t.state},
              {"owner", t.owner},
              {"level", t.level},
              {"priority", t.priority},
              {"category", t.category},
              {"channel", t.channel},
              {"customer", t.customer},
              {"tier", t.tier},
              {"subject", t.subject},
              {"description", t.description},
              {"version", t.version},
              {"created_at", format_iso(t.created_at)},
              {"updated_at", format_iso(t.updated_at)},
              {"closed_at", opt(t.closed_at)},
              {"resolution_code", t.resolution_code},
              {"root_cause", t.root_cause},
              {"csat", t.csat ? json(*t.csat) : json(nullptr)},
              {"reopen_count", t.reopen_count},
              {"handoff_count", t.handoff_count},
              {"tags", t.tags},
              {"sla", std::move(sla)}};
}

json to_json(const event_record& e) {
  return json{{"seq", e.seq},
              {"ticket", e.ticket},
              {"at", format_iso(e.at)},
              {"actor", e.actor},
              {"event", e.event},
              {"from", e.from_state.empty() ? json(nullptr) : json(e.from_state)},
              {"to", e.to_state},
              {"version", e.version},
              {"payload", e.payload},
              {"prev_hash", e.prev_hash},
              {"hash", e.hash}};
}

json to_json(const timer& t) {
  return json{{"id", t.id},
              {"ticket", t.ticket},
              {"kind", t.kind},
              {"due_at", format_iso(t.due_at)},
              {"status", t.status},
              {"fired_at", opt(t.fired_at)}};
}

json to_json(const notification& n) {
  return json{{"id", n.id},       {"ticket", n.ticket},   {"event_seq", n.event_seq}, {"at", format_iso(n.at)},
              {"recipient", n.recipient}, {"kind", n.kind}, {"message", n.message}};
}

}  // namespace plaint::engine
