// The mapping between rows and the engine's structs, one for every back
// end: `Stmt` binds parameters by position (bind, bind_null, bind_blob, as
// storage::statement does for SQLite and pg::binder for PostgreSQL) and
// `Row` reads columns by index (is_null, int_at, opt_int_at, view_at,
// text_at, blob_at). Each bind_* binds a whole row from parameter 1 in its
// table's column order (the column lists of sqlite_queries.cpp, which the
// PostgreSQL queries repeat); each read_* reads one in that order. JSON
// columns are serialised into `json_buf`, which must outlive the step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"

namespace plaint::storage {

// Optional ints of a narrower type (csat) go through int64.
inline std::optional<std::int64_t> widen(const std::optional<int>& v) {
  if (!v) return std::nullopt;
  return *v;
}

// The ids of an id-less row mean "let SQLite choose".
template <class Stmt>
void bind_id(Stmt& s, int i, std::int64_t id) {
  if (id == 0)
    s.bind_null(i);
  else
    s.bind(i, id);
}

// False for malformed text; the caller names the column (formatting only on
// failure keeps reads free of needless allocations).
inline bool parse_json(std::string_view text, engine::json& out) {
  out = engine::json::parse(text.begin(), text.end(), nullptr, false);
  return !out.is_discarded();
}

template <class Stmt>
void bind_customer(Stmt& s, const engine::customer& c, std::string& json_buf) {
  json_buf = c.attributes.dump();
  s.bind(1, c.id);
  s.bind(2, c.name);
  s.bind(3, c.tier);
  s.bind(4, c.email);
  s.bind(5, c.phone);
  s.bind(6, json_buf);
  s.bind(7, c.created_at);
  s.bind(8, c.updated_at);
}

template <class Row>
engine::Result<engine::customer> read_customer(const Row& s) {
  engine::customer c;
  c.id = s.text_at(0);
  c.name = s.text_at(1);
  c.tier = s.text_at(2);
  c.email = s.text_at(3);
  c.phone = s.text_at(4);
  if (!parse_json(s.view_at(5), c.attributes))
    return engine::Error{engine::errc::internal, fmt::format("customer '{}' has malformed JSON attributes", c.id)};
  c.created_at = s.int_at(6);
  c.updated_at = s.int_at(7);
  return c;
}

// The tags column's text, into a buffer the caller keeps until the
// statement runs (bound values are not copied).
inline const std::string& tags_json(const engine::ticket& t, std::string& json_buf) {
  json_buf = t.tags.empty() ? std::string("[]") : engine::json(t.tags).dump();
  return json_buf;
}

template <class Stmt>
void bind_ticket(Stmt& s, const engine::ticket& t, std::string& json_buf) {
  bind_id(s, 1, t.id);
  s.bind(2, t.workflow);
  s.bind(3, t.customer);
  s.bind(4, t.tier);
  s.bind(5, t.channel);
  s.bind(6, t.category);
  s.bind(7, t.priority);
  s.bind(8, t.subject);
  s.bind(9, t.description);
  s.bind(10, t.state);
  s.bind(11, t.owner);
  s.bind(12, std::int64_t{t.level});
  s.bind(13, t.version);
  s.bind(14, t.created_at);
  s.bind(15, t.updated_at);
  s.bind(16, t.resolution_started_at);
  s.bind(17, t.first_response_at);
  s.bind(18, t.first_response_warn_at);
  s.bind(19, t.first_response_due);
  s.bind(20, t.resolution_warn_at);
  s.bind(21, t.resolution_due);
  s.bind(22, t.paused_at);
  s.bind(23, t.paused_seconds);
  s.bind(24, t.resolved_at);
  s.bind(25, t.follow_up_due);
  s.bind(26, t.closed_at);
  s.bind(27, std::int64_t{t.fired});
  s.bind(28, t.resolution_code);
  s.bind(29, t.root_cause);
  s.bind(30, widen(t.csat));
  s.bind(31, std::int64_t{t.reopen_count});
  s.bind(32, std::int64_t{t.handoff_count});
  s.bind(33, tags_json(t, json_buf));
  s.bind(34, t.last_event);
}

// ticket_update: what changes on most events (no index, no CHECK).
template <class Stmt>
void bind_ticket_update(Stmt& s, const engine::ticket& t, std::int64_t expected_version) {
  s.bind(1, t.id);
  s.bind(2, t.version);
  s.bind(3, t.updated_at);
  s.bind(4, t.resolution_started_at);
  s.bind(5, t.first_response_warn_at);
  s.bind(6, t.resolution_warn_at);
  s.bind(7, t.paused_seconds);
  s.bind(8, t.follow_up_due);
  s.bind(9, std::int64_t{t.fired});
  s.bind(10, t.resolution_code);
  s.bind(11, t.last_event);
  s.bind(12, expected_version);
}

// ticket_update_figures: whether one of its columns moved, and its columns
// (first_response_at … tags) bound from parameter `first` on. SQLite binds
// them after the id (2–12); PostgreSQL, whose UPDATE is one statement,
// after bind_ticket_update's twelve (13–23).
inline bool figures_moved(const engine::ticket& t, const engine::ticket& before) {
  return t.first_response_at != before.first_response_at || t.first_response_due != before.first_response_due ||
         t.resolution_due != before.resolution_due || t.paused_at != before.paused_at ||
         t.resolved_at != before.resolved_at || t.closed_at != before.closed_at || t.root_cause != before.root_cause ||
         t.csat != before.csat || t.reopen_count != before.reopen_count || t.handoff_count != before.handoff_count ||
         t.tags != before.tags;
}
template <class Stmt>
void bind_ticket_figures(Stmt& s, const engine::ticket& t, int first, std::string& json_buf) {
  s.bind(first, t.first_response_at);
  s.bind(first + 1, t.first_response_due);
  s.bind(first + 2, t.resolution_due);
  s.bind(first + 3, t.paused_at);
  s.bind(first + 4, t.resolved_at);
  s.bind(first + 5, t.closed_at);
  s.bind(first + 6, t.root_cause);
  s.bind(first + 7, widen(t.csat));
  s.bind(first + 8, std::int64_t{t.reopen_count});
  s.bind(first + 9, std::int64_t{t.handoff_count});
  s.bind(first + 10, tags_json(t, json_buf));
}

template <class Row>
engine::Result<engine::ticket> read_ticket(const Row& s) {
  engine::ticket t;
  t.id = s.int_at(0);
  t.workflow = s.text_at(1);
  t.customer = s.text_at(2);
  t.tier = s.text_at(3);
  t.channel = s.text_at(4);
  t.category = s.text_at(5);
  t.priority = s.text_at(6);
  t.subject = s.text_at(7);
  t.description = s.text_at(8);
  t.state = s.text_at(9);
  t.owner = s.text_at(10);
  t.level = static_cast<int>(s.int_at(11));
  t.version = s.int_at(12);
  t.created_at = s.int_at(13);
  t.updated_at = s.int_at(14);
  t.resolution_started_at = s.int_at(15);
  t.first_response_at = s.opt_int_at(16);
  t.first_response_warn_at = s.opt_int_at(17);
  t.first_response_due = s.opt_int_at(18);
  t.resolution_warn_at = s.opt_int_at(19);
  t.resolution_due = s.opt_int_at(20);
  t.paused_at = s.opt_int_at(21);
  t.paused_seconds = s.int_at(22);
  t.resolved_at = s.opt_int_at(23);
  t.follow_up_due = s.opt_int_at(24);
  t.closed_at = s.opt_int_at(25);
  t.fired = static_cast<unsigned>(s.int_at(26));
  t.resolution_code = s.text_at(27);
  t.root_cause = s.text_at(28);
  if (!s.is_null(29)) t.csat = static_cast<int>(s.int_at(29));
  t.reopen_count = static_cast<int>(s.int_at(30));
  t.handoff_count = static_cast<int>(s.int_at(31));
  const std::string_view tags = s.view_at(32);
  if (tags != "[]") {
    engine::json j;
    if (!parse_json(tags, j) || !j.is_array())
      return engine::Error{engine::errc::internal, fmt::format("ticket {} has malformed tags: not a JSON array", t.id)};
    for (const auto& tag : j) {
      if (!tag.is_string())
        return engine::Error{engine::errc::internal, fmt::format("ticket {} has a tag that is not a string", t.id)};
      t.tags.push_back(tag.get<std::string>());
    }
  }
  t.last_event = s.int_at(33);
  return t;
}

// The strings view the row: valid until the next step.
template <class Row>
engine::ticket_figures read_figures(const Row& s) {
  engine::ticket_figures f;
  f.id = s.int_at(0);
  f.created_at = s.int_at(1);
  f.first_response_at = s.opt_int_at(2);
  f.first_response_due = s.opt_int_at(3);
  f.resolution_due = s.opt_int_at(4);
  f.paused_at = s.opt_int_at(5);
  f.resolved_at = s.opt_int_at(6);
  f.closed_at = s.opt_int_at(7);
  f.level = static_cast<int>(s.int_at(8));
  f.handoff_count = static_cast<int>(s.int_at(9));
  f.reopen_count = static_cast<int>(s.int_at(10));
  if (!s.is_null(11)) f.csat = static_cast<int>(s.int_at(11));
  f.customer = s.view_at(12);
  f.tier = s.view_at(13);
  f.category = s.view_at(14);
  f.owner = s.view_at(15);
  f.root_cause = s.view_at(16);
  return f;
}

template <class Stmt>
void bind_event(Stmt& s, const engine::event_record& e, std::string& json_buf) {
  json_buf = e.payload.dump();
  s.bind(1, e.seq);
  s.bind(2, e.ticket);
  s.bind(3, e.at);
  s.bind(4, e.actor);
  s.bind(5, e.event);
  if (e.from_state.empty())
    s.bind_null(6);
  else
    s.bind(6, e.from_state);
  s.bind(7, e.to_state);
  s.bind(8, e.version);
  s.bind(9, json_buf);
  s.bind(10, e.prev_hash);
  s.bind(11, e.hash);
}

template <class Row>
engine::Result<engine::event_record> read_event(const Row& s) {
  engine::event_record e;
  e.seq = s.int_at(0);
  e.ticket = s.int_at(1);
  e.at = s.int_at(2);
  e.actor = s.text_at(3);
  e.event = s.text_at(4);
  e.from_state = s.text_at(5);  // NULL reads as ""
  e.to_state = s.text_at(6);
  e.version = s.int_at(7);
  if (!parse_json(s.view_at(8), e.payload))
    return engine::Error{engine::errc::internal, fmt::format("event {} has a malformed JSON payload", e.seq)};
  e.prev_hash = s.text_at(9);
  e.hash = s.text_at(10);
  e.ticket_prev = s.int_at(11);
  return e;
}

template <class Stmt>
void bind_timer(Stmt& s, const engine::timer& t) {
  bind_id(s, 1, t.id);
  s.bind(2, t.ticket);
  s.bind(3, t.kind);
  s.bind(4, t.due_at);
  s.bind(5, t.status);
  s.bind(6, t.fired_at);
}

template <class Row>
engine::timer read_timer(const Row& s) {
  engine::timer t;
  t.id = s.int_at(0);
  t.ticket = s.int_at(1);
  t.kind = s.text_at(2);
  t.due_at = s.int_at(3);
  t.status = s.text_at(4);
  t.fired_at = s.opt_int_at(5);
  return t;
}

template <class Stmt>
void bind_idempotency(Stmt& s, const engine::idempotency_record& r) {
  s.bind(1, r.key);
  s.bind(2, r.scope);
  s.bind(3, r.fingerprint);
  s.bind(4, r.ticket);
  s.bind(5, r.created_at);
  s.bind(6, r.response);
}

template <class Row>
engine::idempotency_record read_idempotency(const Row& s) {
  engine::idempotency_record r;
  r.key = s.text_at(0);
  r.scope = s.text_at(1);
  r.fingerprint = s.text_at(2);
  r.ticket = s.int_at(3);
  r.created_at = s.int_at(4);
  r.response = s.text_at(5);
  return r;
}

template <class Stmt>
void bind_notification(Stmt& s, const engine::notification& n) {
  bind_id(s, 1, n.id);
  s.bind(2, n.ticket);
  s.bind(3, n.event_seq);
  s.bind(4, n.at);
  s.bind(5, n.recipient);
  s.bind(6, n.kind);
  s.bind(7, n.message);
}

template <class Row>
engine::notification read_notification(const Row& s) {
  engine::notification n;
  n.id = s.int_at(0);
  n.ticket = s.int_at(1);
  n.event_seq = s.int_at(2);
  n.at = s.int_at(3);
  n.recipient = s.text_at(4);
  n.kind = s.text_at(5);
  n.message = s.text_at(6);
  return n;
}

template <class Stmt>
void bind_customer_change(Stmt& s, const engine::customer_change& c, std::string& json_buf) {
  json_buf = c.changes.dump(-1, ' ', false, engine::json::error_handler_t::replace);
  s.bind(1, c.seq);
  s.bind(2, c.customer);
  s.bind(3, c.at);
  s.bind(4, c.actor);
  s.bind(5, json_buf);
  s.bind(6, c.prev_hash);
  s.bind(7, c.hash);
}

template <class Row>
engine::Result<engine::customer_change> read_customer_change(const Row& s) {
  engine::customer_change c;
  c.seq = s.int_at(0);
  c.customer = s.text_at(1);
  c.at = s.int_at(2);
  c.actor = s.text_at(3);
  if (!parse_json(s.view_at(4), c.changes))
    return engine::Error{engine::errc::internal, fmt::format("customer change {} has malformed JSON", c.seq)};
  c.prev_hash = s.text_at(5);
  c.hash = s.text_at(6);
  return c;
}

template <class Stmt>
void bind_token(Stmt& s, const engine::api_token& t) {
  s.bind(1, t.id);
  s.bind(2, t.name);
  s.bind(3, t.role);
  s.bind(4, t.salt);
  s.bind(5, t.hash);
  s.bind(6, t.created_at);
  s.bind(7, t.revoked_at);
}

template <class Row>
engine::api_token read_token(const Row& s) {
  engine::api_token t;
  t.id = s.text_at(0);
  t.name = s.text_at(1);
  t.role = s.text_at(2);
  t.salt = s.text_at(3);
  t.hash = s.text_at(4);
  t.created_at = s.int_at(5);
  t.revoked_at = s.opt_int_at(6);
  return t;
}

template <class Stmt>
void bind_person(Stmt& s, const engine::person& p) {
  s.bind(1, p.id);
  s.bind(2, p.name);
  s.bind(3, p.email);
  s.bind(4, p.role);
  s.bind(5, p.team);
  s.bind(6, static_cast<std::int64_t>(p.disabled ? 1 : 0));
  s.bind(7, p.password_hash);
  s.bind(8, p.created_at);
  s.bind(9, p.updated_at);
  s.bind(10, p.lang);
}

template <class Row>
engine::person read_person(const Row& s) {
  engine::person p;
  p.id = s.text_at(0);
  p.name = s.text_at(1);
  p.email = s.text_at(2);
  p.role = s.text_at(3);
  p.team = s.text_at(4);
  p.disabled = s.int_at(5) != 0;
  p.password_hash = s.text_at(6);
  p.created_at = s.int_at(7);
  p.updated_at = s.int_at(8);
  p.lang = s.text_at(9);
  return p;
}

template <class Stmt>
void bind_mail_link(Stmt& s, const engine::mail_link& m) {
  s.bind(1, m.message_id);
  s.bind(2, m.ticket);
  s.bind(3, m.direction);
  s.bind(4, m.event_seq);
  s.bind(5, m.at);
}

template <class Row>
engine::mail_link read_mail_link(const Row& s) {
  engine::mail_link m;
  m.message_id = s.text_at(0);
  m.ticket = s.int_at(1);
  m.direction = s.text_at(2);
  m.event_seq = s.int_at(3);
  m.at = s.int_at(4);
  return m;
}

template <class Stmt>
void bind_attachment(Stmt& s, const engine::attachment& a) {
  s.bind(2, a.ticket);
  s.bind(3, a.event_seq);
  s.bind(4, a.name);
  s.bind(5, a.content_type);
  s.bind(6, a.size);
  s.bind(7, a.sha256);
  s.bind(8, a.at);
  s.bind_blob(9, a.data);
}

template <class Row>
engine::attachment read_attachment(const Row& s, bool with_data) {
  engine::attachment a;
  a.id = s.int_at(0);
  a.ticket = s.int_at(1);
  a.event_seq = s.int_at(2);
  a.name = s.text_at(3);
  a.content_type = s.text_at(4);
  a.size = s.int_at(5);
  a.sha256 = s.text_at(6);
  a.at = s.int_at(7);
  if (with_data) a.data = s.blob_at(8);
  return a;
}

template <class Stmt>
void bind_webhook(Stmt& s, const engine::webhook& w, std::string& json_buf) {
  json_buf = engine::json(w.events).dump();
  if (w.id > 0)
    s.bind(1, w.id);
  else
    s.bind_null(1);
  s.bind(2, w.url);
  s.bind(3, json_buf);
  s.bind(4, w.secret);
  s.bind(5, w.created_by);
  s.bind(6, w.created_at);
  s.bind(7, w.removed_at);
}

template <class Row>
engine::Result<engine::webhook> read_webhook(const Row& s) {
  engine::webhook w;
  w.id = s.int_at(0);
  w.url = s.text_at(1);
  const engine::json events = engine::json::parse(s.view_at(2), nullptr, false);
  if (!events.is_array())
    return engine::Error{engine::errc::internal, fmt::format("webhook {} has an events list that is not a JSON array", w.id)};
  for (const auto& e : events)
    if (e.is_string()) w.events.push_back(e.get<std::string>());
  w.secret = s.text_at(3);
  w.created_by = s.text_at(4);
  w.created_at = s.int_at(5);
  w.removed_at = s.opt_int_at(6);
  return w;
}

template <class Stmt>
void bind_outbox(Stmt& s, const engine::outbox_item& o) {
  s.bind(2, o.channel);
  s.bind(3, o.ticket);
  s.bind(4, o.event_seq);
  s.bind(5, o.target);
  s.bind(6, o.kind);
  s.bind(7, o.payload);
  s.bind(8, o.state);
  s.bind(9, static_cast<std::int64_t>(o.attempts));
  s.bind(10, o.created_at);
  s.bind(11, o.next_at);
  s.bind(12, o.claimed_until);
  s.bind(13, o.last_error);
  s.bind(14, o.delivered_at);
  s.bind(15, o.last_seq ? o.last_seq : o.event_seq);
  s.bind(16, static_cast<std::int64_t>(o.events));
}

template <class Stmt>
void bind_outbox_update(Stmt& s, const engine::outbox_item& o) {
  s.bind(1, o.id);
  s.bind(2, o.state);
  s.bind(3, static_cast<std::int64_t>(o.attempts));
  s.bind(4, o.next_at);
  s.bind(5, o.claimed_until);
  s.bind(6, o.last_error);
  s.bind(7, o.delivered_at);
  s.bind(8, o.event_seq);
  s.bind(9, o.last_seq ? o.last_seq : o.event_seq);
  s.bind(10, static_cast<std::int64_t>(o.events));
}

template <class Row>
engine::outbox_item read_outbox(const Row& s) {
  engine::outbox_item o;
  o.id = s.int_at(0);
  o.channel = s.text_at(1);
  o.ticket = s.int_at(2);
  o.event_seq = s.int_at(3);
  o.target = s.text_at(4);
  o.kind = s.text_at(5);
  o.payload = s.text_at(6);
  o.state = s.text_at(7);
  o.attempts = static_cast<int>(s.int_at(8));
  o.created_at = s.int_at(9);
  o.next_at = s.int_at(10);
  o.claimed_until = s.opt_int_at(11);
  o.last_error = s.text_at(12);
  o.delivered_at = s.opt_int_at(13);
  o.last_seq = s.int_at(14);
  o.events = static_cast<int>(s.int_at(15));
  return o;
}

template <class Stmt>
void bind_session(Stmt& s, const engine::web_session& w) {
  s.bind(1, w.id);
  s.bind(2, w.person);
  s.bind(3, w.csrf);
  s.bind(4, w.created_at);
  s.bind(5, w.expires_at);
}

template <class Row>
engine::web_session read_session(const Row& s) {
  engine::web_session w;
  w.id = s.text_at(0);
  w.person = s.text_at(1);
  w.csrf = s.text_at(2);
  w.created_at = s.int_at(3);
  w.expires_at = s.int_at(4);
  return w;
}

}  // namespace plaint::storage
