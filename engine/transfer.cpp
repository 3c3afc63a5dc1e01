#include "engine/transfer.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "engine/json_limits.h"
#include "engine/utf8.h"
#include "engine/workflow.h"

namespace plaint::engine {

namespace {

json opt_time(const std::optional<timestamp>& t) { return t ? json(format_iso(*t)) : json(nullptr); }

// Reads typed members, remembering the first problem as one sentence.
class reader {
 public:
  explicit reader(const json& j) : j_(j) {}

  std::string str(const char* key, bool required = true) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) fail(fmt::format("field {} is missing", key));
      return {};
    }
    if (!it->is_string()) {
      fail(fmt::format("field {} must be a string", key));
      return {};
    }
    return it->get<std::string>();
  }
  // A whole number in [lo, hi] (by default any signed 64-bit one).
  std::int64_t integer(const char* key, std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t hi = std::numeric_limits<std::int64_t>::max()) {
    auto it = j_.find(key);
    const bool whole = it != j_.end() && it->is_number_integer() &&
                       !(it->is_number_unsigned() &&
                         it->get<std::uint64_t>() > std::uint64_t{std::numeric_limits<std::int64_t>::max()});
    const std::int64_t v = whole ? it->get<std::int64_t>() : 0;
    if (!whole || v < lo || v > hi) {
      constexpr auto any_low = std::numeric_limits<std::int64_t>::min();
      constexpr auto any_high = std::numeric_limits<std::int64_t>::max();
      fail(lo == any_low && hi == any_high ? fmt::format("field {} must be a whole number", key)
           : hi == any_high                ? fmt::format("field {} must be a whole number of at least {}", key, lo)
                                           : fmt::format("field {} must be a whole number from {} to {}", key, lo, hi));
      return 0;
    }
    return v;
  }
  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return out;
    if (it->is_array())
      for (const auto& e : *it)
        if (e.is_string()) out.push_back(e.get<std::string>());
    if (!it->is_array() || out.size() != it->size()) fail(fmt::format("field {} must be a list of strings", key));
    return out;
  }
  timestamp time(const char* key) {
    auto t = opt_time(key);
    if (!t) fail(fmt::format("field {} is missing", key));
    return t.value_or(0);
  }
  std::optional<timestamp> opt_time(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (it->is_string())
      if (auto t = parse_iso(it->get<std::string>())) return t;
    fail(fmt::format("field {} must be an ISO 8601 time", key));
    return std::nullopt;
  }
  json object(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return json::object();
    if (!it->is_object()) fail(fmt::format("field {} must be an object", key));
    return *it;
  }
  Status status() const { return ok_ ? Status() : Status(make_error(errc::invalid, error_)); }

 private:
  void fail(std::string why) {
    if (ok_) error_ = std::move(why);
    ok_ = false;
  }
  const json& j_;
  bool ok_ = true;
  std::string error_;
};

}  // namespace

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

json ticket_record(const ticket& t) {
  return json{{"id", t.id},
              {"workflow", t.workflow},
              {"customer", t.customer},
              {"tier", t.tier},
              {"channel", t.channel},
              {"category", t.category},
              {"priority", t.priority},
              {"subject", t.subject},
              {"description", t.description},
              {"state", t.state},
              {"owner", t.owner},
              {"level", t.level},
              {"version", t.version},
              {"created_at", format_iso(t.created_at)},
              {"updated_at", format_iso(t.updated_at)},
              {"resolution_started_at", format_iso(t.resolution_started_at)},
              {"first_response_at", opt_time(t.first_response_at)},
              {"first_response_warn_at", opt_time(t.first_response_warn_at)},
              {"first_response_due", opt_time(t.first_response_due)},
              {"resolution_warn_at", opt_time(t.resolution_warn_at)},
              {"resolution_due", opt_time(t.resolution_due)},
              {"paused_at", opt_time(t.paused_at)},
              {"paused_seconds", t.paused_seconds},
              {"resolved_at", opt_time(t.resolved_at)},
              {"follow_up_due", opt_time(t.follow_up_due)},
              {"closed_at", opt_time(t.closed_at)},
              {"fired", t.fired},
              {"resolution_code", t.resolution_code},
              {"root_cause", t.root_cause},
              {"csat", t.csat ? json(*t.csat) : json(nullptr)},
              {"reopen_count", t.reopen_count},
              {"handoff_count", t.handoff_count},
              {"tags", t.tags}};
}

Result<ticket> ticket_from_record(const json& j) {
  constexpr std::int64_t most = std::numeric_limits<int>::max();
  constexpr unsigned all_timers =
      fired_first_response_warn | fired_first_response | fired_resolution_warn | fired_resolution | fired_follow_up;
  reader r(j);
  ticket t;
  t.id = r.integer("id", 1);
  t.workflow = r.str("workflow");
  t.customer = r.str("customer");
  t.tier = r.str("tier");
  t.channel = r.str("channel");
  t.category = r.str("category");
  t.priority = r.str("priority");
  t.subject = r.str("subject");
  t.description = r.str("description", false);
  t.state = r.str("state");
  t.owner = r.str("owner", false);
  t.level = static_cast<int>(r.integer("level", 1, 3));
  t.version = r.integer("version", 1);
  t.created_at = r.time("created_at");
  t.updated_at = r.time("updated_at");
  t.resolution_started_at = r.time("resolution_started_at");
  t.first_response_at = r.opt_time("first_response_at");
  t.first_response_warn_at = r.opt_time("first_response_warn_at");
  t.first_response_due = r.opt_time("first_response_due");
  t.resolution_warn_at = r.opt_time("resolution_warn_at");
  t.resolution_due = r.opt_time("resolution_due");
  t.paused_at = r.opt_time("paused_at");
  t.paused_seconds = r.integer("paused_seconds", 0);
  t.resolved_at = r.opt_time("resolved_at");
  t.follow_up_due = r.opt_time("follow_up_due");
  t.closed_at = r.opt_time("closed_at");
  t.fired = static_cast<unsigned>(r.integer("fired", 0, all_timers));
  t.resolution_code = r.str("resolution_code", false);
  t.root_cause = r.str("root_cause", false);
  if (auto it = j.find("csat"); it != j.end() && !it->is_null()) t.csat = static_cast<int>(r.integer("csat", 1, 5));
  t.reopen_count = static_cast<int>(r.integer("reopen_count", 0, most));
  t.handoff_count = static_cast<int>(r.integer("handoff_count", 0, most));
  t.tags = r.strings("tags");
  PLAINT_TRY(r.status());
  if (!is_channel(t.channel) || !is_category(t.category) || !is_priority(t.priority) || !is_tier(t.tier))
    return make_error(errc::invalid, fmt::format("ticket {} has an unknown channel, category, priority or tier", t.id));
  // Reports take a ticket without a closing time for an open one.
  if ((t.state == "closed") != t.closed_at.has_value())
    return make_error(errc::invalid, fmt::format("ticket {} is in state '{}' but {} a closing time", t.id, t.state,
                                                 t.closed_at ? "has" : "has no"));
  return t;
}

Result<customer> customer_from_record(const json& j) {
  reader r(j);
  customer c;
  c.id = r.str("id");
  c.name = r.str("name");
  c.tier = r.str("tier");
  c.email = r.str("email", false);
  c.phone = r.str("phone", false);
  c.attributes = r.object("attributes");
  c.created_at = r.time("created_at");
  c.updated_at = r.time("updated_at");
  PLAINT_TRY(r.status());
  if (!is_tier(c.tier)) return make_error(errc::invalid, fmt::format("customer {} has unknown tier '{}'", c.id, c.tier));
  return c;
}

Result<event_record> event_from_record(const json& j) {
  reader r(j);
  event_record e;
  e.seq = r.integer("seq", 1);
  e.ticket = r.integer("ticket", 1);
  e.at = r.time("at");
  e.actor = r.str("actor");
  e.event = r.str("event");
  e.from_state = r.str("from", false);
  e.to_state = r.str("to");
  e.version = r.integer("version", 1);
  e.payload = r.object("payload");
  e.prev_hash = r.str("prev_hash");
  e.hash = r.str("hash");
  PLAINT_TRY(r.status());
  return e;
}

Result<timer> timer_from_record(const json& j) {
  reader r(j);
  timer t;
  t.id = r.integer("id", 1);
  t.ticket = r.integer("ticket", 1);
  t.kind = r.str("kind");
  t.due_at = r.time("due_at");
  t.status = r.str("status");
  t.fired_at = r.opt_time("fired_at");
  PLAINT_TRY(r.status());
  if (!timer_bit_of(t.kind)) return make_error(errc::invalid, fmt::format("timer kind '{}' is unknown", t.kind));
  if (t.status != "pending" && t.status != "fired" && t.status != "cancelled")
    return make_error(errc::invalid, fmt::format("timer status '{}' is unknown", t.status));
  return t;
}

Result<transfer_counts> export_jsonl(store& s, std::ostream& out) {
  transfer_counts n;
  auto line = [&out](json j, const char* type) {
    j["type"] = type;
    out << j.dump() << '\n';
  };
  PLAINT_TRY(s.scan_customers([&](const customer& c) { line(to_json(c), "customer"); return ++n.customers, true; }));
  PLAINT_TRY(s.scan_tickets([&](const ticket& t) { line(ticket_record(t), "ticket"); return ++n.tickets, true; }));
  PLAINT_TRY(s.scan_events(0, [&](const event_record& e) { line(to_json(e), "event"); return ++n.events, true; }));
  PLAINT_TRY(s.scan_timers([&](const timer& t) { line(to_json(t), "timer"); return ++n.timers, true; }));
  auto changes = export_customer_log(s, out);  // engine/customers.h
  PLAINT_TRY(changes);
  n.customer_changes = *changes;
  out.flush();
  if (!out) return make_error(errc::internal, "the export could not be written");
  return n;
}

Result<transfer_counts> export_csv(store& s, std::ostream& out, timestamp now) {
  transfer_counts n;
  out << "id,workflow,state,priority,level,category,channel,customer,tier,owner,subject,created_at,"
         "updated_at,first_response_due,resolution_due,breached,resolution_code,root_cause,csat,"
         "reopen_count,handoff_count,version\n";
  PLAINT_TRY(s.scan_tickets([&](const ticket& t) {
    auto iso = [](const std::optional<timestamp>& v) { return v ? format_iso(*v) : std::string(); };
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", t.id,
                       t.workflow, t.state, t.priority, t.level, t.category, t.channel,
                       csv_cell(t.customer), t.tier, csv_cell(t.owner), csv_cell(t.subject),
                       format_iso(t.created_at), format_iso(t.updated_at), iso(t.first_response_due),
                       iso(t.resolution_due), sla_of(t, now).breached() ? "true" : "false",
                       csv_cell(t.resolution_code), csv_cell(t.root_cause),
                       t.csat ? std::to_string(*t.csat) : std::string(), t.reopen_count,
                       t.handoff_count, t.version);
    return ++n.tickets, true;
  }));
  out.flush();
  if (!out) return make_error(errc::internal, "the export could not be written");
  return n;
}

namespace {

// What import has read so far: enough to refuse, before anything is
// committed, a file that `audit verify` or the engine would trip over.
struct import_state {
  const workflow_registry& workflows;
  transfer_counts n;
  audit_checker chain;  // the checks of verify_audit, as the lines arrive
  struct ticket_head {
    std::int64_t version = 0;
    std::string state;
  };
  std::map<ticket_id, ticket_head> tickets;
  std::set<std::int64_t> timers;
  std::set<std::pair<ticket_id, std::string>> pending;  // one pending timer per ticket and kind
};

Status import_ticket(store_transaction& tx, const json& j, import_state& st) {
  auto t = ticket_from_record(j);
  PLAINT_TRY(t);
  if (st.tickets.count(t->id)) return make_error(errc::invalid, fmt::format("ticket {} appears twice", t->id));
  const workflow* wf = st.workflows.find(t->workflow);
  if (!wf)
    return make_error(errc::invalid, fmt::format("ticket {} uses workflow '{}', which is not one of: {}", t->id,
                                                 t->workflow, fmt::join(st.workflows.names(), ", ")));
  const auto& states = wf->states();
  if (std::find(states.begin(), states.end(), t->state) == states.end())
    return make_error(errc::invalid, fmt::format("ticket {} is in state '{}', which workflow {} does not have", t->id,
                                                 t->state, t->workflow));
  auto owner = tx.find_customer(t->customer);
  PLAINT_TRY(owner);
  if (!*owner)
    return make_error(errc::invalid,
                      fmt::format("ticket {} names customer '{}', who is not in the file", t->id, t->customer));
  st.tickets[t->id] = {t->version, t->state};
  ++st.n.tickets;
  t->last_event = 0;  // linked by its events as they are imported
  PLAINT_TRY(tx.insert_ticket(*t));
  return tx.index_text(t->id, 0, t->subject + "\n" + t->description);
}

Status import_event(store_transaction& tx, const json& j, import_state& st) {
  auto e = event_from_record(j);
  PLAINT_TRY(e);
  if (!st.tickets.count(e->ticket))
    return make_error(errc::invalid, fmt::format("event {} names ticket {}, which is not in the file", e->seq, e->ticket));
  // The store links the event after the ticket's newest one, as the chain expects.
  e->ticket_prev = st.chain.last_seq(e->ticket);
  if (!st.chain.add_event(*e)) return make_error(errc::invalid, st.chain.report().message);
  ++st.n.events;
  PLAINT_TRY(tx.insert_event_verbatim(*e));
  if (auto note = e->payload.find("note"); note != e->payload.end() && note->is_string())
    return tx.index_text(e->ticket, e->version, note->get<std::string>());
  return {};
}

Status import_timer(store_transaction& tx, const json& j, import_state& st) {
  auto t = timer_from_record(j);
  PLAINT_TRY(t);
  if (!st.timers.insert(t->id).second) return make_error(errc::invalid, fmt::format("timer {} appears twice", t->id));
  if (!st.tickets.count(t->ticket))
    return make_error(errc::invalid, fmt::format("timer {} names ticket {}, which is not in the file", t->id, t->ticket));
  if (t->status == "pending" && !st.pending.emplace(t->ticket, t->kind).second)
    return make_error(errc::invalid, fmt::format("timer {} is a second pending {} timer of ticket {}", t->id, t->kind,
                                                 t->ticket));
  ++st.n.timers;
  return tx.insert_timer_verbatim(*t);
}

Status import_line(store_transaction& tx, const json& j, import_state& st) {
  if (!j.is_object()) return make_error(errc::invalid, "it is not a JSON object");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() ||
      (*type != "customer" && *type != "ticket" && *type != "event" && *type != "timer"))
    return make_error(errc::invalid, "field type must be customer, customer_change, ticket, event or timer");
  if (*type == "ticket") return import_ticket(tx, j, st);
  if (*type == "event") return import_event(tx, j, st);
  if (*type == "timer") return import_timer(tx, j, st);
  auto c = customer_from_record(j);
  PLAINT_TRY(c);
  ++st.n.customers;
  return tx.put_customer(*c);
}

// The ticket checks of verify_audit, once every event is in.
Status check_tickets(import_state& st) {
  for (const auto& [id, head] : st.tickets) {
    ticket t;
    t.id = id;
    t.version = head.version;
    t.state = head.state;
    t.last_event = st.chain.last_seq(id);
    if (!st.chain.check_ticket(t))
      return make_error(errc::invalid, fmt::format("the file would not pass audit verify: {}; nothing was imported",
                                                   st.chain.report().message));
  }
  return {};
}

}  // namespace

Result<transfer_counts> import_jsonl(store& s, const workflow_registry& workflows, std::istream& in,
                                     const std::function<void(std::int64_t)>& progress,
                                     const std::function<Status(store_transaction&)>& also) {
  bool empty = true;
  PLAINT_TRY(s.scan_customers([&](const customer&) { return empty = false; }));
  PLAINT_TRY(s.scan_tickets([&](const ticket&) { return empty = false; }));
  if (!empty) return make_error(errc::conflict, "the database already holds customers or tickets; import into a new database");

  auto tx = s.begin();
  PLAINT_TRY(tx);
  import_state st{workflows, {}, {}, {}, {}, {}};
  customer_log_import customer_log;
  std::string text;
  for (std::int64_t line_no = 1; std::getline(in, text); ++line_no) {
    if (progress && line_no % 10000 == 0) progress(line_no);
    if (text.empty()) continue;
    const std::string line = fmt::format("line {}", line_no);
    if (!valid_utf8(text)) return make_error(errc::invalid, line + " is not valid UTF-8 text");
    // Before parsing: nlohmann's parser and its values recurse per level.
    PLAINT_TRY(check_json_depth(line, text));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(errc::invalid, line + " is not valid JSON");
    customer_log.observe(j);  // the customer log's lines and checks: engine/customers.h
    Status st_line = customer_log.claims(j) ? customer_log.add(**tx, j) : import_line(**tx, j, st);
    if (!st_line) return make_error(st_line.error().code, fmt::format("{} was refused: {}", line, st_line.error().message));
  }
  if (in.bad()) return make_error(errc::internal, "the file could not be read to its end");
  PLAINT_TRY(check_tickets(st));
  if (Status logged = customer_log.finish(**tx); !logged)
    return make_error(logged.error().code, fmt::format("the file would not pass audit verify: {}; nothing was imported",
                                                       logged.error().message));
  st.n.customer_changes = customer_log.count();
  if (also) PLAINT_TRY(also(**tx));
  PLAINT_TRY((*tx)->commit());
  return st.n;
}

}  // namespace plaint::engine
