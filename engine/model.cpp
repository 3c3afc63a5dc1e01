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
    case errc::unavailable: return "unavailable";
    case errc::forbidden: return "forbidden";
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

json to_json(const customer_change& c) {
  return json{{"seq", c.seq},         {"customer", c.customer}, {"at", format_iso(c.at)}, {"actor", c.actor},
              {"changes", c.changes}, {"prev_hash", c.prev_hash}, {"hash", c.hash}};
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

void append_json_string(std::string& out, std::string_view s) {
  const bool plain =
      std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

namespace {
// Appends members of one JSON object in the order given (the callers give
// them sorted, as nlohmann::json orders keys).
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_ += '{'; }
  void close() { out_ += '}'; }
  std::string& key(const char* name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return out_;
  }
  void str(const char* name, std::string_view v) {
    append_json_string(key(name), v);
  }
  void num(const char* name, std::int64_t v) { key(name) += std::to_string(v); }
  void boolean(const char* name, bool v) { key(name) += v ? "true" : "false"; }
  void time(const char* name, const std::optional<timestamp>& t) {
    if (t) {
      std::string& o = key(name);
      o += '"';
      o += format_iso(*t);
      o += '"';
    } else
      key(name) += "null";
  }

 private:
  std::string& out_;
  bool first_ = true;
};
}  // namespace

std::string ticket_json_text(const ticket& t, timestamp now) {
  const sla_status s = sla_of(t, now);
  std::string out;
  out.reserve(900 + t.subject.size() + t.description.size());
  object_writer o(out);
  o.str("category", t.category);
  o.str("channel", t.channel);
  o.time("closed_at", t.closed_at);
  o.time("created_at", t.created_at);
  if (t.csat)
    o.num("csat", *t.csat);
  else
    o.key("csat") += "null";
  o.str("customer", t.customer);
  o.str("description", t.description);
  o.num("handoff_count", t.handoff_count);
  o.num("id", t.id);
  o.num("level", t.level);
  o.str("owner", t.owner);
  o.str("priority", t.priority);
  o.num("reopen_count", t.reopen_count);
  o.str("resolution_code", t.resolution_code);
  o.str("root_cause", t.root_cause);
  {
    o.key("sla");
    object_writer sla(out);
    sla.boolean("breached", s.breached());
    sla.time("first_response_at", t.first_response_at);
    sla.boolean("first_response_breached", s.first_response_breached);
    sla.time("first_response_due", t.first_response_due);
    if (t.first_response_due && !t.first_response_at && !t.closed_at)
      sla.num("first_response_left", *t.first_response_due - now);
    sla.time("follow_up_due", t.follow_up_due);
    sla.boolean("paused", s.paused);
    sla.num("paused_seconds", t.paused_seconds);
    sla.boolean("resolution_breached", s.resolution_breached);
    sla.time("resolution_due", t.resolution_due);
    if (t.resolution_due && !t.resolved_at && !t.closed_at)
      sla.num("resolution_left", *t.resolution_due - t.paused_at.value_or(now));
    sla.time("resolved_at", t.resolved_at);
    sla.close();
  }
  o.str("state", t.state);
  o.str("subject", t.subject);
  o.key("tags") += json(t.tags).dump(-1, ' ', false, json::error_handler_t::replace);
  o.str("tier", t.tier);
  o.time("updated_at", t.updated_at);
  o.num("version", t.version);
  o.str("workflow", t.workflow);
  o.close();
  return out;
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
