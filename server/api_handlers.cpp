// The API's handlers. Reads use a pooled read connection on the calling
// I/O thread; writes go to the group-commit writer and answer when durable.
#include <fmt/format.h>

#include "engine/kpi.h"
#include "engine/sla.h"
#include "server/api.h"
#include "server/api_util.h"

namespace plaint::server {

using namespace detail;
using engine::errc;
using engine::json;
using engine::make_error;

namespace {

// The error response of a refused event, with the ticket's current version
// on a conflict so the client can retry against it.
response event_error(store_pool& readers, engine::ticket_id id, const engine::Error& e) {
  if (e.code == errc::conflict)
    if (auto s = readers.acquire())
      if (auto t = (**s).get_ticket(id)) return api::error_response(e, {{"current_version", t->version}});
  return api::error_response(e);
}

engine::Result<json> list_tickets(engine::store& s, const std::map<std::string, std::string>& q, engine::timestamp now) {
  engine::ticket_query query;
  query.now = now;
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = q.find(key);
    if (it == q.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  auto flag = [&](const char* key) -> engine::Result<bool> {
    auto v = text(key);
    if (!v || *v == "false") return false;
    if (*v == "true") return true;
    return make_error(errc::invalid, fmt::format("{} must be true or false", key));
  };
  auto number = [&](const char* key, std::int64_t lo, std::int64_t hi) -> engine::Result<std::optional<std::int64_t>> {
    auto v = text(key);
    if (!v) return std::optional<std::int64_t>();
    auto n = to_int(*v);
    if (!n || *n < lo || *n > hi)
      return make_error(errc::invalid, fmt::format("{} must be a whole number from {} to {}", key, lo, hi));
    return n;
  };
  query.state = text("state");
  query.owner = text("owner");
  query.customer = text("customer");
  auto level = number("level", 1, 3);
  PLAINT_TRY(level);
  if (*level) query.level = static_cast<int>(**level);
  auto breached = flag("breached");
  PLAINT_TRY(breached);
  query.breached_only = *breached;
  auto open = flag("open");
  PLAINT_TRY(open);
  query.open_only = *open;
  query.search = text("q").value_or("");
  PLAINT_TRY(engine::check_text("q", query.search, engine::max_subject_bytes));
  auto limit = number("limit", 1, 1000);
  PLAINT_TRY(limit);
  query.limit = static_cast<int>(limit->value_or(50));
  auto cursor = number("cursor", 1, INT64_MAX);
  PLAINT_TRY(cursor);
  query.cursor = *cursor;
  auto page = s.list_tickets(query);
  PLAINT_TRY(page);
  json items = json::array();
  for (const auto& t : page->tickets) items.push_back(engine::to_json(t, now));
  return json{{"items", std::move(items)},
              {"next_cursor", page->next_cursor ? json(std::to_string(*page->next_cursor)) : json(nullptr)}};
}

}  // namespace

void api::dispatch(const request& req, const route_info& route, const std::vector<std::string>& params,
                   const std::map<std::string, std::string>& query, const engine::token_identity& who,
                   respond_fn respond) {
  const std::string& p = route.pattern;
  const engine::timestamp now = clock_.now();
  auto fail = [&respond](const engine::Error& e) { respond(error_response(e)); };
  auto id_param = [&]() -> engine::Result<engine::ticket_id> {
    auto id = to_int(params.at(0));
    if (!id || *id <= 0) return make_error(errc::not_found, fmt::format("ticket '{}' does not exist", params.at(0)));
    return *id;
  };

  if (p == "/api/v1/openapi.json") {
    response r;
    r.body = openapi_document();
    return respond(std::move(r));
  }

  if (p == "/metrics") {
    auto s = readers_.acquire();
    if (!s) return fail(s.error());
    auto pending = (**s).count_pending_timers();
    if (!pending) return fail(pending.error());
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(*pending);
    return respond(std::move(r));
  }

  if (p == "/api/v1/customers" && req.method == "POST") {
    auto b = body::parse(req.body, {"id", "name", "tier", "email", "phone", "attributes"});
    if (!b) return fail(b.error());
    engine::customer c;
    c.id = b->str("id", true);
    c.name = b->str("name", true);
    c.tier = b->str("tier");
    if (c.tier.empty()) c.tier = "standard";
    c.email = b->str("email");
    c.phone = b->str("phone");
    c.attributes = b->object("attributes");
    if (!b->status()) return fail(b->status().error());
    bool existed = false;
    if (auto s = readers_.acquire()) existed = (**s).get_customer(c.id).ok();
    return writer_.submit_customer(std::move(c), [respond, existed](engine::Result<engine::customer> r) {
      if (!r) return respond(error_response(r.error()));
      respond(json_response(existed ? 200 : 201, engine::to_json(*r)));
    });
  }

  if (p == "/api/v1/tickets" && req.method == "POST") {
    auto b = body::parse(req.body, {"customer", "subject", "description", "channel", "category", "priority", "workflow"});
    if (!b) return fail(b.error());
    engine::open_request o;
    o.customer = b->str("customer", true);
    o.subject = b->str("subject", true);
    o.description = b->str("description");
    auto or_default = [&](const char* key, std::string& field) {
      auto v = b->str(key);
      if (!v.empty()) field = std::move(v);
    };
    or_default("channel", o.channel);
    or_default("category", o.category);
    or_default("priority", o.priority);
    or_default("workflow", o.workflow);
    if (!b->status()) return fail(b->status().error());
    o.idempotency_key = req.header("idempotency-key");
    o.actor = who.name;
    return writer_.submit(std::move(o), [respond, this](engine::Result<engine::transition_result> r) {
      if (!r) return respond(error_response(r.error()));
      response out;
      out.status = r->created ? 201 : 200;
      out.body = engine::ticket_json_text(r->ticket_after, clock_.now());
      respond(std::move(out));
    });
  }

  if (p == "/api/v1/tickets/{id}/events" && req.method == "POST") {
    auto id = id_param();
    if (!id) return fail(id.error());
    auto b = body::parse(req.body, {"event", "note", "fields", "expected_version"});
    if (!b) return fail(b.error());
    engine::event_request e;
    e.ticket = *id;
    e.event = b->str("event", true);
    e.note = b->str("note");
    e.fields = b->fields("fields");
    e.expected_version = b->integer("expected_version");
    if (!b->status()) return fail(b->status().error());
    e.actor = who.name;
    e.idempotency_key = req.header("idempotency-key");
    // Agents work any open ticket, but taking one away from its owner is a
    // supervisor's decision.
    if (e.event == "assign" && !engine::role_at_least(who.role, "supervisor")) {
      auto s = readers_.acquire();
      if (!s) return fail(s.error());
      auto t = (**s).get_ticket(*id);
      if (t && !t->owner.empty() && t->owner != who.name)
        return respond(json_response(
            403, {{"error",
                   {{"code", "forbidden"},
                    {"message", fmt::format("ticket {} is owned by {}; reassigning it needs a supervisor", *id,
                                            t->owner)}}}}));
    }
    const engine::ticket_id tid = *id;
    return writer_.submit(std::move(e), [respond, this, tid](engine::Result<engine::transition_result> r) {
      if (!r) return respond(event_error(readers_, tid, r.error()));
      if (!r->response.empty()) {
        response out;
        out.body = r->response;
        return respond(std::move(out));
      }
      response out;
      out.body = engine::ticket_json_text(r->ticket_after, clock_.now());
      respond(std::move(out));
    });
  }

  // Everything below reads.
  auto s = readers_.acquire();
  if (!s) return fail(s.error());
  engine::store& store = **s;

  if (p == "/api/v1/customers/{id}") {
    auto c = store.get_customer(params.at(0));
    if (!c) return fail(c.error());
    engine::ticket_query q;
    q.customer = c->id;
    q.limit = 1000;
    q.now = now;
    auto page = store.list_tickets(q);
    if (!page) return fail(page.error());
    json j = engine::to_json(*c);
    j["tickets"] = json::array();
    for (const auto& t : page->tickets) j["tickets"].push_back(engine::to_json(t, now));
    return respond(json_response(200, j));
  }
  if (p == "/api/v1/tickets") {
    auto j = list_tickets(store, query, now);
    if (!j) return fail(j.error());
    return respond(json_response(200, *j));
  }
  if (p == "/api/v1/tickets/{id}" || p == "/api/v1/tickets/{id}/events") {
    auto id = id_param();
    if (!id) return fail(id.error());
    auto t = store.get_ticket(*id);
    if (!t) return fail(t.error());
    if (p == "/api/v1/tickets/{id}") return respond(json_response(200, ticket_with_history(store, *t, now)));
    auto events = store.ticket_events(*id);
    if (!events) return fail(events.error());
    json arr = json::array();
    for (const auto& e : *events) arr.push_back(engine::to_json(e));
    return respond(json_response(200, arr));
  }
  if (p == "/api/v1/escalations") {
    auto board = store.attention_board(now, 500);
    if (!board) return fail(board.error());
    json arr = json::array();
    for (const auto& t : *board) {
      const auto why = engine::explain_board(t, now);
      json j = engine::to_json(t, now);
      j["reason"] = why.why;
      j["overdue_seconds"] = why.overdue;
      arr.push_back(std::move(j));
    }
    return respond(json_response(200, arr));
  }
  if (p == "/api/v1/reports/kpi") {
    engine::kpi_query kq;
    auto when = [&](const char* key, engine::timestamp fallback) -> engine::Result<engine::timestamp> {
      auto it = query.find(key);
      if (it == query.end() || it->second.empty()) return fallback;
      auto t = engine::parse_iso(it->second);
      if (!t) return make_error(errc::invalid, fmt::format("{} '{}' is not an ISO 8601 time", key, it->second));
      return *t;
    };
    auto to = when("to", now);
    if (!to) return fail(to.error());
    auto from = when("from", *to - 30 * 86400);
    if (!from) return fail(from.error());
    kq.from = *from;
    kq.to = *to;
    if (auto it = query.find("by"); it != query.end()) kq.by = it->second;
    auto report = engine::compute_kpis(store, *writer_.policy(), kq);
    if (!report) return fail(report.error());
    return respond(json_response(200, *report));
  }
  fail(make_error(errc::internal, fmt::format("no handler for {} {}", route.method, p)));
}

}  // namespace plaint::server
