// The API's handlers. Reads use a pooled read connection on the calling
// I/O thread; writes go to the group-commit writer and answer when durable.
#include <fmt/format.h>

#include "engine/channels.h"
#include "engine/explain.h"
#include "engine/kpi.h"
#include "engine/sla.h"
#include "engine/utf8.h"
#include "engine/whatif.h"
#include "server/api.h"
#include "server/api_util.h"
#include "server/handlers.h"

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

// A JSON array of tickets, each written directly (engine::ticket_json_text,
// the same text as to_json(...).dump(), without building a json value per
// ticket); `extra(t)` may add fields to each, as `,"key":value` text.
template <class Extra>
std::string tickets_json_text(const std::vector<engine::ticket>& tickets, engine::timestamp now, Extra&& extra) {
  std::string out = "[";
  for (const auto& t : tickets) {
    if (out.size() > 1) out.push_back(',');
    out += engine::ticket_json_text(t, now);
    std::string more = extra(t);
    if (!more.empty()) out.insert(out.size() - 1, more);  // before the object's closing brace
  }
  out.push_back(']');
  return out;
}

response json_text_response(std::string body) {
  response r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

engine::Result<std::string> list_page(engine::store& s, const std::map<std::string, std::string>& q,
                                      engine::timestamp now) {
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
  return fmt::format("{{\"items\":{},\"next_cursor\":{}}}",
                     tickets_json_text(page->tickets, now, [](const engine::ticket&) { return std::string(); }),
                     page->next_cursor ? fmt::format("\"{}\"", *page->next_cursor) : "null");
}

// Runs `fn` with a pooled read connection, or answers the error.
template <typename Fn>
void with_reader(api& a, call& c, Fn&& fn) {
  auto s = a.readers().acquire();
  if (!s) return c.respond(api::error_response(s.error()));
  fn(**s);
}

engine::Result<engine::ticket_id> ticket_param(const call& c) {
  auto id = to_int(c.params.at(0));
  if (!id || *id <= 0) return make_error(errc::not_found, fmt::format("ticket '{}' does not exist", c.params.at(0)));
  return *id;
}

void fail(call& c, const engine::Error& e) { c.respond(api::error_response(e)); }

}  // namespace

namespace handlers {
void healthz(api&, call& c) { c.respond(api::json_response(200, {{"status", "ok"}})); }

// Liveness: the process answers. Readiness: it can also write.
void readyz(api& a, call& c) {
  const auto r = a.writes().ready();
  if (r.ready) return c.respond(api::json_response(200, {{"status", "ready"}}));
  response out = api::json_response(503, {{"status", "not_ready"}, {"reason", r.reason}});
  out.headers.emplace_back("Retry-After", "1");
  c.respond(std::move(out));
}

void openapi(api&, call& c) {
  response r;
  r.body = api::openapi_document();
  c.respond(std::move(r));
}

// Only HEAD gets here; the transport serves GET itself.
void stream_head(api&, call& c) {
  response r;
  r.content_type = "text/event-stream; charset=utf-8";
  c.respond(std::move(r));
}

void metrics_text(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto pending = s.count_pending_timers();
    if (!pending) return fail(c, pending.error());
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = a.stats().render(*pending);
    c.respond(std::move(r));
  });
}

void put_customer(api& a, call& c) {
  auto b = body::parse(c.req.body, {"id", "name", "tier", "email", "phone", "attributes"});
  if (!b) return fail(c, b.error());
  // Fields not sent (or null) are kept; "" clears email or phone. Whether
  // the tier may move is decided by the writer on the customer as it is.
  engine::customer_update u;
  u.id = b->str("id", true);
  u.name = b->opt_str("name");
  u.tier = b->opt_str("tier");
  u.email = b->opt_str("email");
  u.phone = b->opt_str("phone");
  u.attributes = b->opt_object("attributes");
  if (!b->status()) return fail(c, b->status().error());
  u.actor = c.who.name;
  u.may_set_tier = engine::role_at_least(c.who.role, "supervisor");
  a.writes().submit_customer(std::move(u), [respond = c.respond](engine::Result<engine::customer_result> r) {
    if (!r) return respond(api::error_response(r.error()));
    respond(api::json_response(r->created ? 201 : 200, engine::to_json(r->saved)));
  });
}

void open_ticket(api& a, call& c) {
  auto b = body::parse(c.req.body, {"customer", "subject", "description", "channel", "category", "priority", "workflow"});
  if (!b) return fail(c, b.error());
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
  if (!b->status()) return fail(c, b->status().error());
  o.idempotency_key = c.req.header("idempotency-key");
  o.actor = c.who.name;
  a.writes().submit(std::move(o), [respond = c.respond, &a](engine::Result<engine::transition_result> r) {
    if (!r) return respond(api::error_response(r.error()));
    response out;
    out.status = r->created ? 201 : 200;
    out.body = engine::ticket_json_text(r->ticket_after, a.clock().now());
    respond(std::move(out));
  });
}

void post_event(api& a, call& c) {
  auto id = ticket_param(c);
  if (!id) return fail(c, id.error());
  auto b = body::parse(c.req.body, {"event", "note", "fields", "expected_version"});
  if (!b) return fail(c, b.error());
  engine::event_request e;
  e.ticket = *id;
  e.event = b->str("event", true);
  e.note = b->str("note");
  e.fields = b->fields("fields");
  e.expected_version = b->integer("expected_version", 0);
  if (!b->status()) return fail(c, b->status().error());
  e.actor = c.who.name;
  e.idempotency_key = c.req.header("idempotency-key");
  // Agents work any open ticket, but taking one away from its owner is a
  // supervisor's decision, made by the executor on the ticket as the
  // write transaction reads it.
  e.may_reassign = engine::role_at_least(c.who.role, "supervisor");
  const engine::ticket_id tid = *id;
  a.writes().submit(std::move(e), [respond = c.respond, &a, tid](engine::Result<engine::transition_result> r) {
    if (!r) return respond(event_error(a.readers(), tid, r.error()));
    response out;
    out.body = r->response.empty() ? engine::ticket_json_text(r->ticket_after, a.clock().now()) : r->response;
    respond(std::move(out));
  });
}

void get_customer(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto cu = s.get_customer(c.params.at(0));
    if (!cu) return fail(c, cu.error());
    engine::ticket_query q;
    q.customer = cu->id;
    q.limit = 1000;
    q.now = c.now;
    auto page = s.list_tickets(q);
    if (!page) return fail(c, page.error());
    auto changes = s.customer_history(cu->id, customer_changes_shown);
    if (!changes) return fail(c, changes.error());
    json j = engine::to_json(*cu);
    j["tickets"] = json::array();
    for (const auto& t : page->tickets) j["tickets"].push_back(engine::to_json(t, c.now));
    j["changes"] = json::array();
    for (const auto& ch : *changes)
      j["changes"].push_back({{"seq", ch.seq}, {"at", engine::format_iso(ch.at)}, {"actor", ch.actor},
                              {"changes", ch.changes}});
    c.respond(api::json_response(200, j));
  });
}

void list_tickets(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto j = list_page(s, c.query, c.now);
    if (!j) return fail(c, j.error());
    c.respond(json_text_response(std::move(*j)));
  });
}

void get_ticket(api& a, call& c) {
  auto id = ticket_param(c);
  if (!id) return fail(c, id.error());
  with_reader(a, c, [&](engine::store& s) {
    auto t = s.get_ticket(*id);
    if (!t) return fail(c, t.error());
    json j = ticket_with_history(s, *t, c.now);
    j["clock"] = business_clock(*a.writes().policy(), *t, c.now);
    auto files = s.ticket_attachments(*id);
    if (!files) return fail(c, files.error());
    j["attachments"] = json::array();
    for (const auto& f : *files) j["attachments"].push_back(engine::to_json(f));
    c.respond(api::json_response(200, j));
  });
}

void ticket_events(api& a, call& c) {
  auto id = ticket_param(c);
  if (!id) return fail(c, id.error());
  auto limit = query_int(c.query, "limit", 1, max_events_page);
  if (!limit) return fail(c, limit.error());
  auto cursor = query_int(c.query, "cursor", 1, INT64_MAX);
  if (!cursor) return fail(c, cursor.error());
  with_reader(a, c, [&](engine::store& s) {
    auto t = s.get_ticket(*id);
    if (!t) return fail(c, t.error());
    const int n = static_cast<int>(limit->value_or(default_events_page));
    auto page = s.ticket_history(*id, *cursor, n);
    if (!page) return fail(c, page.error());
    json arr = json::array();
    for (const auto& e : page->events) arr.push_back(engine::to_json(e));
    response r = api::json_response(200, arr);
    if (page->next_cursor) {
      // The body stays the array it always was; the way to older events
      // is in the headers (RFC 8288 Link, and the bare cursor).
      r.headers.emplace_back("X-Next-Cursor", std::to_string(*page->next_cursor));
      r.headers.emplace_back("Link", fmt::format("</api/v1/tickets/{}/events?cursor={}&limit={}>; rel=\"next\"", *id,
                                                 *page->next_cursor, n));
    }
    c.respond(std::move(r));
  });
}

void escalations(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto board = s.attention_board(c.now, 500);
    if (!board) return fail(c, board.error());
    c.respond(json_text_response(tickets_json_text(*board, c.now, [&](const engine::ticket& t) {
      const auto why = engine::explain_board(t, c.now);
      return fmt::format(",\"overdue_seconds\":{},\"reason\":{}", why.overdue, json(why.why).dump());
    })));
  });
}

// GET /tickets/{id}/sla: `plaint sla explain --json`.
void sla_explain(api& a, call& c) {
  auto id = ticket_param(c);
  if (!id) return fail(c, id.error());
  if (!a.sla().history) return fail(c, {errc::unavailable, "this server cannot read the policy history"});
  with_reader(a, c, [&](engine::store& s) {
    auto t = s.get_ticket(*id);
    if (!t) return fail(c, t.error());
    // The whole history is read and replayed: bounded, so that no ticket
    // can make a read thread hold it all (the CLI explains any length).
    constexpr std::int64_t max_events = 100'000;
    if (t->version > max_events)
      return fail(c, {errc::invalid, fmt::format("ticket {} has {} events; the API explains tickets of up to {} "
                                                 "events (plaint sla explain has no limit)",
                                                 *id, t->version, max_events)});
    auto events = s.ticket_events(*id);
    if (!events) return fail(c, events.error());
    auto policies = a.sla().history(s);
    if (!policies) return fail(c, policies.error());
    c.respond(api::json_response(200, engine::explain_sla(*t, *events, *policies, a.workflows(), c.now)));
  });
}

// POST /reports/whatif?from=&to=&by=: the body is the proposed policy's
// TOML; `plaint policy whatif FILE --json`. Runs on the read pool (it may
// take seconds) within the read timeout; reads only.
void whatif(api& a, call& c) {
  if (!a.sla().history || !a.sla().parse)
    return fail(c, {errc::unavailable, "this server cannot read or parse policies"});
  const std::string& body = c.req.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return fail(c, {errc::invalid, "the request body must be the proposed policy, as TOML"});
  if (!engine::valid_utf8(body)) return fail(c, {errc::invalid, "the proposed policy is not valid UTF-8 text"});
  auto period = report_period(c.query, c.now);
  if (!period) return fail(c, period.error());
  engine::whatif_query q;
  q.from = period->first;
  q.to = period->second;
  q.now = c.now;
  if (auto it = c.query.find("by"); it != c.query.end()) q.by = it->second;
  if (c.query.count("examples")) {
    auto n = query_int(c.query, "examples", 0, 1000);
    if (!n) return fail(c, n.error());
    q.examples = static_cast<std::size_t>(n->value_or(50));
  }
  auto proposed = a.sla().parse(body, "the proposed policy");
  if (!proposed) return fail(c, proposed.error());
  engine::policy_version pv;
  pv.name = "proposed";
  pv.policy = std::make_shared<const engine::sla_policy>(std::move(*proposed));
  with_reader(a, c, [&](engine::store& s) {
    auto policies = a.sla().history(s);
    if (!policies) return fail(c, policies.error());
    auto r = engine::what_if(s, *policies, pv, a.workflows(), q);
    if (!r) return fail(c, r.error());
    c.respond(api::json_response(200, *r));
  });
}

void kpi(api& a, call& c) {
  auto period = report_period(c.query, c.now);
  if (!period) return fail(c, period.error());
  engine::kpi_query kq;
  kq.from = period->first;
  kq.to = period->second;
  if (auto it = c.query.find("by"); it != c.query.end()) kq.by = it->second;
  with_reader(a, c, [&](engine::store& s) {
    auto report = engine::compute_kpis(s, *a.writes().policy(), kq);
    if (!report) return fail(c, report.error());
    c.respond(api::json_response(200, *report));
  });
}


// ---- channels (SPEC §11) -----------------------------------------------------

// GET /tickets/{id}/attachments/{n}: the bytes as they came, always as a
// download (never shown inline, never sniffed) and sandboxed.
void get_attachment(api& a, call& c) {
  auto id = ticket_param(c);
  if (!id) return fail(c, id.error());
  auto n = to_int(c.params.at(1));
  with_reader(a, c, [&](engine::store& s) {
    auto f = n ? s.get_attachment(*n) : engine::Result<std::optional<engine::attachment>>(std::nullopt);
    if (!f) return fail(c, f.error());
    if (!*f || (*f)->ticket != *id)
      return fail(c, {errc::not_found, fmt::format("ticket {} has no attachment '{}'", *id, c.params.at(1))});
    response r;
    r.content_type = "application/octet-stream";
    std::string ascii;
    for (char ch : (*f)->name) ascii += (ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\') ? ch : '_';
    std::string encoded;
    for (unsigned char ch : (*f)->name) {
      if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_') encoded += static_cast<char>(ch);
      else encoded += fmt::format("%{:02X}", ch);
    }
    r.headers.emplace_back("Content-Disposition",
                           fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii, encoded));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
    r.headers.emplace_back("X-Plaint-Content-Type", (*f)->content_type);
    r.headers.emplace_back("Cache-Control", "private, no-store");
    r.body = std::move((*f)->data);
    c.respond(std::move(r));
  });
}

void list_webhooks(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto all = s.list_webhooks();
    if (!all) return fail(c, all.error());
    json arr = json::array();
    for (const auto& w : *all) arr.push_back(engine::to_json(w));
    c.respond(api::json_response(200, arr));
  });
}

// POST /webhooks {"url", "events": "escalate,sla_warning", "secret"}: 201
// with the webhook, and its secret when plaint made it (shown this once).
void add_webhook(api& a, call& c) {
  auto b = body::parse(c.req.body, {"url", "events", "secret"});
  if (!b) return fail(c, b.error());
  const std::string url = b->str("url", true);
  const std::string events = b->str("events");
  const std::string secret = b->str("secret");
  if (!b->status()) return fail(c, b->status().error());
  auto made = engine::new_webhook(url, events, secret, c.who.name, c.now);
  if (!made) return fail(c, made.error());
  const bool show_secret = secret.empty();
  a.writes().submit_task(
      [w = std::move(*made)](engine::store_transaction& tx) -> engine::Result<json> {
        auto id = engine::add_webhook(tx, w);
        PLAINT_TRY(id);
        engine::webhook saved = w;
        saved.id = *id;
        json j = engine::to_json(saved);
        j["secret"] = saved.secret;
        return j;
      },
      [respond = c.respond, show_secret](engine::Result<json> r) {
        if (!r) return respond(api::error_response(r.error()));
        if (!show_secret) r->erase("secret");
        respond(api::json_response(201, *r));
      });
}

void remove_webhook(api& a, call& c) {
  auto id = to_int(c.params.at(0));
  if (!id) return fail(c, {errc::not_found, fmt::format("webhook '{}' does not exist", c.params.at(0))});
  const engine::timestamp now = c.now;
  a.writes().submit_task(
      [id = *id, now](engine::store_transaction& tx) -> engine::Result<json> {
        auto hooks = tx.live_webhooks();
        PLAINT_TRY(hooks);
        for (auto w : **hooks) {
          if (w.id != id) continue;
          w.removed_at = now;
          PLAINT_TRY(tx.put_webhook(w));
          return engine::to_json(w);
        }
        return make_error(errc::not_found, fmt::format("webhook {} does not exist", id));
      },
      [respond = c.respond](engine::Result<json> r) {
        if (!r) return respond(api::error_response(r.error()));
        respond(api::json_response(200, *r));
      });
}

void webhook_deliveries(api& a, call& c) {
  auto id = to_int(c.params.at(0));
  if (!id) return fail(c, {errc::not_found, fmt::format("webhook '{}' does not exist", c.params.at(0))});
  auto limit = query_int(c.query, "limit", 1, 1000);
  if (!limit) return fail(c, limit.error());
  auto it = c.query.find("state");
  const std::string state = it == c.query.end() ? "" : it->second;
  if (!state.empty() && state != "pending" && state != "delivered" && state != "failed")
    return fail(c, {errc::invalid, "state must be pending, delivered or failed"});
  with_reader(a, c, [&](engine::store& s) {
    auto rows = s.list_outbox("webhook", std::to_string(*id), state, static_cast<int>(limit->value_or(50)));
    if (!rows) return fail(c, rows.error());
    json arr = json::array();
    for (const auto& o : *rows) arr.push_back(engine::to_json(o));
    c.respond(api::json_response(200, arr));
  });
}

void notification_status(api& a, call& c) {
  with_reader(a, c, [&](engine::store& s) {
    auto counts = s.count_outbox();
    if (!counts) return fail(c, counts.error());
    auto failed = s.list_outbox("", "", "failed", 50);
    if (!failed) return fail(c, failed.error());
    c.respond(api::json_response(200, engine::outbox_status_json(*counts, *failed)));
  });
}

}  // namespace handlers

}  // namespace plaint::server
