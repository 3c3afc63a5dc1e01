#include "engine/transfer.h"

#include <string>

#include <fmt/format.h>

#include "engine/audit.h"
#include "engine/utf8.h"

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
  std::int64_t integer(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_integer()) {
      fail(fmt::format("field {} must be a whole number", key));
      return 0;
    }
    return it->get<std::int64_t>();
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

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

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
  reader r(j);
  ticket t;
  t.id = r.integer("id");
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
  t.level = static_cast<int>(r.integer("level"));
  t.version = r.integer("version");
  t.created_at = r.time("created_at");
  t.updated_at = r.time("updated_at");
  t.resolution_started_at = r.time("resolution_started_at");
  t.first_response_at = r.opt_time("first_response_at");
  t.first_response_warn_at = r.opt_time("first_response_warn_at");
  t.first_response_due = r.opt_time("first_response_due");
  t.resolution_warn_at = r.opt_time("resolution_warn_at");
  t.resolution_due = r.opt_time("resolution_due");
  t.paused_at = r.opt_time("paused_at");
  t.paused_seconds = r.integer("paused_seconds");
  t.resolved_at = r.opt_time("resolved_at");
  t.follow_up_due = r.opt_time("follow_up_due");
  t.closed_at = r.opt_time("closed_at");
  t.fired = static_cast<unsigned>(r.integer("fired"));
  t.resolution_code = r.str("resolution_code", false);
  t.root_cause = r.str("root_cause", false);
  if (auto it = j.find("csat"); it != j.end() && !it->is_null()) t.csat = static_cast<int>(r.integer("csat"));
  t.reopen_count = static_cast<int>(r.integer("reopen_count"));
  t.handoff_count = static_cast<int>(r.integer("handoff_count"));
  if (auto it = j.find("tags"); it != j.end() && it->is_array())
    for (const auto& tag : *it)
      if (tag.is_string()) t.tags.push_back(tag.get<std::string>());
  PLAINT_TRY(r.status());
  if (!is_channel(t.channel) || !is_category(t.category) || !is_priority(t.priority) || !is_tier(t.tier))
    return make_error(errc::invalid, fmt::format("ticket {} has an unknown channel, category, priority or tier", t.id));
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
  e.seq = r.integer("seq");
  e.ticket = r.integer("ticket");
  e.at = r.time("at");
  e.actor = r.str("actor");
  e.event = r.str("event");
  e.from_state = r.str("from", false);
  e.to_state = r.str("to");
  e.version = r.integer("version");
  e.payload = r.object("payload");
  e.prev_hash = r.str("prev_hash");
  e.hash = r.str("hash");
  PLAINT_TRY(r.status());
  return e;
}

Result<timer> timer_from_record(const json& j) {
  reader r(j);
  timer t;
  t.id = r.integer("id");
  t.ticket = r.integer("ticket");
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

Status import_line(store_transaction& tx, const json& j, std::string& prev_hash, transfer_counts& n) {
  if (!j.is_object()) return make_error(errc::invalid, "it is not a JSON object");
  const auto type = j.value("type", std::string());
  if (type == "customer") {
    auto c = customer_from_record(j);
    PLAINT_TRY(c);
    ++n.customers;
    return tx.put_customer(*c);
  }
  if (type == "ticket") {
    auto t = ticket_from_record(j);
    PLAINT_TRY(t);
    auto owner = tx.find_customer(t->customer);
    PLAINT_TRY(owner);
    if (!*owner) return make_error(errc::invalid, fmt::format("ticket {} names customer '{}', who is not in the file", t->id, t->customer));
    ++n.tickets;
    PLAINT_TRY(tx.insert_ticket(*t));
    return tx.index_text(t->id, t->subject + "\n" + t->description);
  }
  if (type == "event") {
    auto e = event_from_record(j);
    PLAINT_TRY(e);
    ++n.events;
    if (e->seq != n.events || e->prev_hash != prev_hash || audit_hash(prev_hash, *e) != e->hash)
      return make_error(errc::invalid, fmt::format("event {} breaks the audit chain", e->seq));
    prev_hash = e->hash;
    PLAINT_TRY(tx.insert_event_verbatim(*e));
    if (auto note = e->payload.find("note"); note != e->payload.end() && note->is_string())
      return tx.index_text(e->ticket, note->get<std::string>());
    return {};
  }
  if (type == "timer") {
    auto t = timer_from_record(j);
    PLAINT_TRY(t);
    ++n.timers;
    return tx.insert_timer_verbatim(*t);
  }
  return make_error(errc::invalid, "its type is not customer, ticket, event or timer");
}

}  // namespace

Result<transfer_counts> import_jsonl(store& s, std::istream& in) {
  bool empty = true;
  PLAINT_TRY(s.scan_customers([&](const customer&) { return empty = false; }));
  PLAINT_TRY(s.scan_tickets([&](const ticket&) { return empty = false; }));
  if (!empty) return make_error(errc::conflict, "the database already holds customers or tickets; import into a new database");

  auto tx = s.begin();
  PLAINT_TRY(tx);
  transfer_counts n;
  std::string prev = genesis_hash;
  std::string text;
  for (std::int64_t line_no = 1; std::getline(in, text); ++line_no) {
    if (text.empty()) continue;
    if (!valid_utf8(text)) return make_error(errc::invalid, fmt::format("line {} is not valid UTF-8 text", line_no));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(errc::invalid, fmt::format("line {} is not valid JSON", line_no));
    Status st = import_line(**tx, j, prev, n);
    if (!st) return make_error(st.error().code, fmt::format("line {} was refused: {}", line_no, st.error().message));
  }
  PLAINT_TRY((*tx)->commit());
  return n;
}

}  // namespace plaint::engine
