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
// (Kept out of line: inlined into the writer's callback, g++ 12 takes the
// Error inside the Result's variant for uninitialised.)
[[gnu::noinline]] response event_error(store_pool& readers, engine::ticket_id id, const engine::Error& e) {
  if (e.code == errc::conflict)
    if (auto s = readers.acquire())
      if (auto t = (**s).get_ticket(id)) return api::error_response(e, {{"current_version", t->version}});
  return api::error_response(e);
}

// Pages of a ticket's history (GET /tickets/{id}/events); GET /tickets/{id}
// embeds the newest history_embedded events (api_util.h).
constexpr std::int64_t default_events_page = 100;
constexpr std::int64_t max_events_page = 1000;
// GET /customers/{id} lists the customer's newest changes.
constexpr int customer_changes_shown = 20;

// A whole-number query parameter from lo to hi; nullopt when absent or empty.
engine::Result<std::optional<std::int64_t>> query_int(const std::map<std::string, std::string>& q, const char* key,
                                                      std::int64_t lo, std::int64_t hi) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return std::optional<std::int64_t>();
  auto n = to_int(it->second);
  if (!n || *n < lo || *n > hi)
    return make_error(errc::invalid, fmt::format("{} must be a whole number from {} to {}", key, lo, hi));
  return n;
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
    // Fields not sent (or null) are kept; "" clears email or phone. Whether
    // the tier may move is decided by the writer on the customer as it is.
    engine::customer_update u;
    u.id = b->str("id", true);
    u.name = b->opt_str("name");
    u.tier = b->opt_str("tier");
    u.email = b->opt_str("email");
    u.phone = b->opt_str("phone");
    u.attributes = b->opt_object("attributes");
    if (!b->status()) return fail(b->status().error());
    u.actor = who.name;
    u.may_set_tier = engine::role_at_least(who.role, "supervisor");
    return writer_.submit_customer(std::move(u), [respond](engine::Result<engine::customer_result> r) {
      if (!r) return respond(error_response(r.error()));
      respond(json_response(r->created ? 201 : 200, engine::to_json(r->saved)));
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
    e.expected_version = b->integer("expected_version", 0);
    if (!b->status()) return fail(b->status().error());
    e.actor = who.name;
    e.idempotency_key = req.header("idempotency-key");
    // Agents work any open ticket, but taking one away from its owner is a
    // supervisor's decision, made by the executor on the ticket as the
    // write transaction reads it.
    e.may_reassign = engine::role_at_least(who.role, "supervisor");
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
    auto changes = store.customer_history(c->id, customer_changes_shown);
    if (!changes) return fail(changes.error());
    json j = engine::to_json(*c);
    j["tickets"] = json::array();
    for (const auto& t : page->tickets) j["tickets"].push_back(engine::to_json(t, now));
    j["changes"] = json::array();
    for (const auto& ch : *changes)
      j["changes"].push_back({{"seq", ch.seq}, {"at", engine::format_iso(ch.at)}, {"actor", ch.actor},
                              {"changes", ch.changes}});
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
    auto limit = query_int(query, "limit", 1, max_events_page);
    if (!limit) return fail(limit.error());
    auto cursor = query_int(query, "cursor", 1, INT64_MAX);
    if (!cursor) return fail(cursor.error());
    const int n = static_cast<int>(limit->value_or(default_events_page));
    auto page = store.ticket_history(*id, *cursor, n);
    if (!page) return fail(page.error());
    json arr = json::array();
    for (const auto& e : page->events) arr.push_back(engine::to_json(e));
    response r = json_response(200, arr);
    if (page->next_cursor) {
      // The body stays the array it always was; the way to older events
      // is in the headers (RFC 8288 Link, and the bare cursor).
      r.headers.emplace_back("X-Next-Cursor", std::to_string(*page->next_cursor));
      r.headers.emplace_back("Link", fmt::format("</api/v1/tickets/{}/events?cursor={}&limit={}>; rel=\"next\"", *id,
                                                 *page->next_cursor, n));
    }
    return respond(std::move(r));
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
