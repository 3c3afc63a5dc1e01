// The store's SQL and its row mapping. The column lists below are the single
// source of column order for SELECTs, INSERTs and the bind_/read_ functions.
#include "storage/sqlite_queries.h"

#include <fmt/format.h>

namespace plaint::storage {

using engine::errc;
using engine::Error;

#define PLAINT_CUSTOMER_COLUMNS "id, name, tier, email, phone, attributes, created_at, updated_at"
#define PLAINT_TICKET_COLUMNS                                                                          \
  "id, workflow, customer, tier, channel, category, priority, subject, description, state, owner, "  \
  "level, version, created_at, updated_at, resolution_started_at, first_response_at, "              \
  "first_response_warn_at, first_response_due, resolution_warn_at, resolution_due, paused_at, "     \
  "paused_seconds, resolved_at, follow_up_due, closed_at, fired, resolution_code, root_cause, csat, " \
  "reopen_count, handoff_count, tags, last_event"
#define PLAINT_EVENT_COLUMNS \
  "seq, ticket, at, actor, event, from_state, to_state, version, payload, prev_hash, hash, ticket_prev"
#define PLAINT_EVENT_COLUMNS_OF(e)                                                                 \
  e ".seq, " e ".ticket, " e ".at, " e ".actor, " e ".event, " e ".from_state, " e ".to_state, " e \
  ".version, " e ".payload, " e ".prev_hash, " e ".hash, " e ".ticket_prev"
#define PLAINT_CUSTOMER_CHANGE_COLUMNS "seq, customer, at, actor, changes, prev_hash, hash"
#define PLAINT_PERSON_COLUMNS "id, name, email, role, team, disabled, password_hash, created_at, updated_at, lang"
#define PLAINT_SESSION_COLUMNS "id, person, csrf, created_at, expires_at"
#define PLAINT_TIMER_COLUMNS "id, ticket, kind, due_at, status, fired_at"
// engine::sla_of()'s breach test in SQL, as of the instant `now`; keep the two in step.
#define PLAINT_BREACHED(now)                                                                                   \
  "((first_response_due IS NOT NULL AND (CASE WHEN first_response_at IS NOT NULL"                              \
  " THEN first_response_at > first_response_due ELSE COALESCE(closed_at, " now ") >= first_response_due END))" \
  " OR (resolution_due IS NOT NULL AND (CASE WHEN resolved_at IS NOT NULL THEN resolved_at > resolution_due"  \
  " ELSE COALESCE(paused_at, closed_at, " now ") >= resolution_due END)))"
#define PLAINT_NOTIFICATION_COLUMNS "id, ticket, event_seq, at, recipient, kind, message"
#define PLAINT_IDEMPOTENCY_COLUMNS "key, scope, fingerprint, ticket, created_at, response"
#define PLAINT_TOKEN_COLUMNS "id, name, role, salt, hash, created_at, revoked_at"
#define PLAINT_MAIL_LINK_COLUMNS "message_id, ticket, direction, event_seq, at"
#define PLAINT_ATTACHMENT_HEAD "id, ticket, event_seq, name, content_type, size, sha256, at"
#define PLAINT_ATTACHMENT_COLUMNS PLAINT_ATTACHMENT_HEAD ", data"
#define PLAINT_WEBHOOK_COLUMNS "id, url, events, secret, created_by, created_at, removed_at"
#define PLAINT_OUTBOX_COLUMNS                                                                             \
  "id, channel, ticket, event_seq, target, kind, payload, state, attempts, created_at, next_at, "        \
  "claimed_until, last_error, delivered_at, last_seq, events"

#define PLAINT_LIST_TICKETS(driver)                                                           \
  "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets"                                              \
  " WHERE " driver                                                                            \
  " AND (?1 IS NULL OR state = ?1)"                                                            \
  " AND (?2 IS NULL OR owner = ?2)"                                                            \
  " AND (?3 IS NULL OR customer = ?3)"                                                         \
  " AND (?4 IS NULL OR level = ?4)"                                                            \
  " AND (?5 = 0 OR state <> 'closed')"                                                         \
  " AND (?6 = 0 OR " PLAINT_BREACHED("?7") ")"                                                 \
  " AND (?8 IS NULL OR id IN (SELECT ticket FROM search WHERE search MATCH ?8))"               \
  " AND (?9 IS NULL OR id IN (SELECT ticket FROM search WHERE body LIKE ?9 ESCAPE '\\'))" \
  " AND id < ?10"                                                                              \
  " ORDER BY id DESC LIMIT ?11"

const char* const query_sql[q::count] = {
    // begin, commit, rollback, schema_version
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "PRAGMA user_version",
    // customer_by_id, customers_all, customer_put
    "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers WHERE id = ?1",
    "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers ORDER BY id",
    "INSERT INTO customers (" PLAINT_CUSTOMER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier, email = excluded.email, "
    "phone = excluded.phone, attributes = excluded.attributes, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at",
    // ticket_by_id, tickets_all, ticket_insert, ticket_update, ticket_update_listed
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE id = ?1",
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets ORDER BY id",
    "INSERT INTO tickets (" PLAINT_TICKET_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "
    "?31, ?32, ?33, ?34)",
    // Only what changes after intake, and none of the indexed or IN-checked
    // columns (see ticket_update_listed): SQLite then leaves every index
    // alone and builds no lookup table for the category and priority checks.
    "UPDATE tickets SET version = ?2, updated_at = ?3, "
    "resolution_started_at = ?4, first_response_at = ?5, first_response_warn_at = ?6, "
    "first_response_due = ?7, resolution_warn_at = ?8, resolution_due = ?9, paused_at = ?10, "
    "paused_seconds = ?11, resolved_at = ?12, follow_up_due = ?13, closed_at = ?14, fired = ?15, "
    "resolution_code = ?16, root_cause = ?17, csat = ?18, reopen_count = ?19, handoff_count = ?20, "
    "tags = ?21, last_event = ?22 WHERE id = ?1 AND version = ?23",
    "UPDATE tickets SET state = ?2, owner = ?3, level = ?4, category = ?5, priority = ?6 WHERE id = ?1",
    // list_tickets and its driven variants: one filter for every
    // combination. The breach test is engine::sla_of() in SQL; keep the two
    // in step.
    PLAINT_LIST_TICKETS("1"),
    PLAINT_LIST_TICKETS("customer = ?3"),
    PLAINT_LIST_TICKETS("owner = ?2"),
    PLAINT_LIST_TICKETS("id IN (SELECT ticket FROM search WHERE search MATCH ?8)"),
    PLAINT_LIST_TICKETS("state = ?1"),
    PLAINT_LIST_TICKETS("level = ?4"),
    // events_of_ticket: the ticket's history, walked from its newest event
    // back through ticket_prev (see engine::event_record). Each step must
    // stay on the ticket and go back in seq, so a damaged link ends the walk.
    "WITH RECURSIVE chain (seq) AS ("
    "  SELECT last_event FROM tickets WHERE id = ?1 AND last_event > 0"
    "  UNION"
    "  SELECT e.ticket_prev FROM events e JOIN chain ON e.seq = chain.seq"
    "  WHERE e.ticket = ?1 AND e.ticket_prev > 0 AND e.ticket_prev < e.seq)"
    " SELECT " PLAINT_EVENT_COLUMNS " FROM events WHERE seq IN chain AND ticket = ?1 ORDER BY seq",
    // events_after, event_last, event_insert, ticket_link

    "SELECT " PLAINT_EVENT_COLUMNS " FROM events WHERE seq > ?1 ORDER BY seq",
    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    "INSERT INTO events (" PLAINT_EVENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    "UPDATE tickets SET last_event = ?2 WHERE id = ?1",
    // timers_of_ticket, timers_all, timer_move, timer_arm, timer_cancel, timer_insert
    "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE ticket = ?1 ORDER BY id",
    "SELECT " PLAINT_TIMER_COLUMNS " FROM timers ORDER BY id",
    "UPDATE timers SET due_at = ?3 WHERE ticket = ?1 AND kind = ?2 AND status = 'pending'",
    "INSERT INTO timers (ticket, kind, due_at, status) VALUES (?1, ?2, ?3, 'pending')",
    "UPDATE timers SET status = 'cancelled' WHERE ticket = ?1 AND kind = ?2 AND status = 'pending'",
    "INSERT INTO timers (" PLAINT_TIMER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    // search_insert
    "INSERT INTO search (ticket, body) VALUES (?1, ?2)",
    // idempotency_by_key, idempotency_put
    "SELECT " PLAINT_IDEMPOTENCY_COLUMNS " FROM idempotency WHERE key = ?1",
    "INSERT INTO idempotency (" PLAINT_IDEMPOTENCY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (key) DO UPDATE SET scope = excluded.scope, fingerprint = excluded.fingerprint, "
    "ticket = excluded.ticket, created_at = excluded.created_at, response = excluded.response",
    // setting_get, setting_put
    "SELECT value FROM settings WHERE key = ?1",
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    // timers_due, timers_due_of_ticket, timer_next, timers_pending_count, timer_claim
    "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE status = 'pending' AND due_at <= ?1"
    " ORDER BY due_at, id LIMIT ?2",
    "SELECT " PLAINT_TIMER_COLUMNS " FROM timers INDEXED BY timers_one_pending"
    " WHERE ticket = ?1 AND status = 'pending' AND due_at <= ?2 ORDER BY due_at, id",
    "SELECT min(due_at) FROM timers WHERE status = 'pending'",
    "SELECT count(*) FROM timers WHERE status = 'pending'",
    "UPDATE timers SET status = 'fired', fired_at = ?2 WHERE id = ?1 AND status = 'pending'",
    // notification_insert, notifications_of_ticket
    "INSERT INTO notifications (" PLAINT_NOTIFICATION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "SELECT " PLAINT_NOTIFICATION_COLUMNS " FROM notifications WHERE ticket = ?1 ORDER BY id",
    // attention_board: escalated, breached (engine::sla_of) or past a warning.
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets"
    " WHERE state <> 'closed' AND closed_at IS NULL AND ("
    "   level > 1"
    "   OR " PLAINT_BREACHED("?1")
    "   OR (first_response_at IS NULL AND first_response_warn_at <= ?1)"
    "   OR (resolved_at IS NULL AND paused_at IS NULL AND resolution_warn_at <= ?1))"
    " ORDER BY created_at, id LIMIT ?2",
    // token_by_id, tokens_all, token_insert, tokens_revoke. A token is only
    // ever inserted: an id that collides fails rather than replacing a
    // live token's hash.
    "SELECT " PLAINT_TOKEN_COLUMNS " FROM tokens WHERE id = ?1",
    "SELECT " PLAINT_TOKEN_COLUMNS " FROM tokens ORDER BY created_at, id",
    "INSERT INTO tokens (" PLAINT_TOKEN_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "UPDATE tokens SET revoked_at = ?2 WHERE (id = ?1 OR name = ?1) AND revoked_at IS NULL",
    // idempotency_prune: the oldest keys first, through idempotency_created.
    "DELETE FROM idempotency WHERE key IN"
    " (SELECT key FROM idempotency WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
    // customer_change_last, customer_change_insert, customer_changes_of, customer_changes_all
    "SELECT seq, hash FROM customer_changes ORDER BY seq DESC LIMIT 1",
    "INSERT INTO customer_changes (" PLAINT_CUSTOMER_CHANGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "SELECT " PLAINT_CUSTOMER_CHANGE_COLUMNS " FROM customer_changes WHERE customer = ?1 ORDER BY seq DESC LIMIT ?2",
    "SELECT " PLAINT_CUSTOMER_CHANGE_COLUMNS " FROM customer_changes ORDER BY seq",
    // history_page: like events_of_ticket, but starting at the newest event
    // (?2 NULL) or at the one before event ?2, and going back at most ?3
    // steps, so a page costs ?3 lookups however long the history is.
    "WITH RECURSIVE chain (seq, n) AS ("
    "  SELECT CASE WHEN ?2 IS NULL THEN t.last_event"
    "         ELSE (SELECT e.ticket_prev FROM events e WHERE e.seq = ?2 AND e.ticket = ?1 AND e.ticket_prev < e.seq)"
    "         END, 1 FROM tickets t WHERE t.id = ?1"
    "  UNION ALL"
    "  SELECT e.ticket_prev, chain.n + 1 FROM events e JOIN chain ON e.seq = chain.seq"
    "  WHERE e.ticket = ?1 AND e.ticket_prev > 0 AND e.ticket_prev < e.seq AND chain.n < ?3)"
    " SELECT " PLAINT_EVENT_COLUMNS_OF("e") " FROM chain JOIN events e ON e.seq = chain.seq"
    " WHERE e.ticket = ?1 ORDER BY e.seq DESC LIMIT ?3",
    "SELECT 1 FROM events WHERE seq = ?1 AND ticket = ?2",
    // people_any, person_by_id, people_all, person_put
    "SELECT EXISTS (SELECT 1 FROM people)",
    "SELECT " PLAINT_PERSON_COLUMNS " FROM people WHERE id = ?1",
    "SELECT " PLAINT_PERSON_COLUMNS " FROM people ORDER BY id",
    "INSERT OR REPLACE INTO people (" PLAINT_PERSON_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    // session_by_id, session_put, session_delete, sessions_of_delete, sessions_prune
    "SELECT " PLAINT_SESSION_COLUMNS " FROM sessions WHERE id = ?1",
    "INSERT INTO sessions (" PLAINT_SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    "DELETE FROM sessions WHERE id = ?1",
    "DELETE FROM sessions WHERE person = ?1",
    "DELETE FROM sessions WHERE id IN"
    " (SELECT id FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
    "DELETE FROM sessions WHERE person = ?1 AND id NOT IN"
    " (SELECT id FROM sessions WHERE person = ?1 ORDER BY created_at DESC, id LIMIT ?2)",
    // mail_link_by_id, mail_link_insert, customer_by_email
    "SELECT " PLAINT_MAIL_LINK_COLUMNS " FROM mail_links WHERE message_id = ?1",
    "INSERT INTO mail_links (" PLAINT_MAIL_LINK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)",
    "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers WHERE email = ?1 COLLATE NOCASE"
    " ORDER BY created_at, id LIMIT 1",
    // attachment_insert, attachments_of_ticket, attachment_by_id
    "INSERT INTO attachments (" PLAINT_ATTACHMENT_COLUMNS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "SELECT " PLAINT_ATTACHMENT_HEAD " FROM attachments WHERE ticket = ?1 ORDER BY id",
    "SELECT " PLAINT_ATTACHMENT_COLUMNS " FROM attachments WHERE id = ?1",
    // webhooks_live, webhooks_all, webhook_by_id, webhook_insert
    "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks WHERE removed_at IS NULL ORDER BY id",
    "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks ORDER BY id",
    "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?1",
    "INSERT OR REPLACE INTO webhooks (" PLAINT_WEBHOOK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    // outbox_insert, outbox_claimable, outbox_hold, outbox_update
    "INSERT INTO outbox (" PLAINT_OUTBOX_COLUMNS ")"
    " VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    "SELECT " PLAINT_OUTBOX_COLUMNS " FROM outbox WHERE state = 'pending' AND next_at <= ?1"
    " AND (claimed_until IS NULL OR claimed_until <= ?1) AND (?3 = '' OR channel = ?3) ORDER BY next_at, id LIMIT ?2",
    "UPDATE outbox SET claimed_until = ?2 WHERE id = ?1",
    "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4, claimed_until = ?5, last_error = ?6,"
    " delivered_at = ?7, event_seq = ?8, last_seq = ?9, events = ?10 WHERE id = ?1",
    // outbox_list, outbox_counts, outbox_next_due
    "SELECT " PLAINT_OUTBOX_COLUMNS " FROM outbox WHERE (?1 = '' OR channel = ?1) AND (?2 = '' OR target = ?2)"
    " AND (?3 = '' OR state = ?3) ORDER BY id DESC LIMIT ?4",
    "SELECT channel, state, sum(events), min(created_at) FROM outbox GROUP BY channel, state ORDER BY channel, state",
    "SELECT min(next_at) FROM outbox WHERE state = 'pending'",
    // outbox_prune: among the oldest ?2 rows (by id: a bounded walk, no
    // index), those settled before ?1.
    "DELETE FROM outbox WHERE id IN (SELECT id FROM (SELECT id, state, created_at FROM outbox ORDER BY id LIMIT ?2)"
    " WHERE state != 'pending' AND created_at < ?1)",
};

q::id list_query_for(const engine::ticket_query& query, bool fts) {
  if (query.customer) return q::list_tickets_by_customer;
  if (query.owner) return q::list_tickets_by_owner;
  if (fts) return q::list_tickets_by_match;
  if (query.state) return q::list_tickets_by_state;
  if (query.level) return q::list_tickets_by_level;
  return q::list_tickets;
}

namespace {

// Optional ints of a narrower type (csat) go through int64.
std::optional<std::int64_t> widen(const std::optional<int>& v) {
  if (!v) return std::nullopt;
  return *v;
}

// The ids of an id-less row mean "let SQLite choose".
void bind_id(statement& s, int i, std::int64_t id) {
  if (id == 0)
    s.bind_null(i);
  else
    s.bind(i, id);
}

// False for malformed text; the caller names the column (formatting only on
// failure keeps reads free of needless allocations).
bool parse_json(std::string_view text, engine::json& out) {
  out = engine::json::parse(text.begin(), text.end(), nullptr, false);
  return !out.is_discarded();
}

}  // namespace

void bind_customer(statement& s, const engine::customer& c, std::string& json_buf) {
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

engine::Result<engine::customer> read_customer(const statement& s) {
  engine::customer c;
  c.id = s.text_at(0);
  c.name = s.text_at(1);
  c.tier = s.text_at(2);
  c.email = s.text_at(3);
  c.phone = s.text_at(4);
  if (!parse_json(s.view_at(5), c.attributes))
    return Error{errc::internal, fmt::format("customer '{}' has malformed JSON attributes", c.id)};
  c.created_at = s.int_at(6);
  c.updated_at = s.int_at(7);
  return c;
}

void bind_ticket(statement& s, const engine::ticket& t, std::string& json_buf) {
  if (t.tags.empty())
    json_buf = "[]";
  else
    json_buf = engine::json(t.tags).dump();
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
  s.bind(33, json_buf);
  s.bind(34, t.last_event);
}

void bind_ticket_update(statement& s, const engine::ticket& t, std::int64_t expected_version, std::string& json_buf) {
  if (t.tags.empty())
    json_buf = "[]";
  else
    json_buf = engine::json(t.tags).dump();
  s.bind(1, t.id);
  s.bind(2, t.version);
  s.bind(3, t.updated_at);
  s.bind(4, t.resolution_started_at);
  s.bind(5, t.first_response_at);
  s.bind(6, t.first_response_warn_at);
  s.bind(7, t.first_response_due);
  s.bind(8, t.resolution_warn_at);
  s.bind(9, t.resolution_due);
  s.bind(10, t.paused_at);
  s.bind(11, t.paused_seconds);
  s.bind(12, t.resolved_at);
  s.bind(13, t.follow_up_due);
  s.bind(14, t.closed_at);
  s.bind(15, std::int64_t{t.fired});
  s.bind(16, t.resolution_code);
  s.bind(17, t.root_cause);
  s.bind(18, widen(t.csat));
  s.bind(19, std::int64_t{t.reopen_count});
  s.bind(20, std::int64_t{t.handoff_count});
  s.bind(21, json_buf);
  s.bind(22, t.last_event);
  s.bind(23, expected_version);
}

engine::Result<engine::ticket> read_ticket(const statement& s) {
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
      return Error{errc::internal, fmt::format("ticket {} has malformed tags: not a JSON array", t.id)};
    for (const auto& tag : j) {
      if (!tag.is_string())
        return Error{errc::internal, fmt::format("ticket {} has a tag that is not a string", t.id)};
      t.tags.push_back(tag.get<std::string>());
    }
  }
  t.last_event = s.int_at(33);
  return t;
}

void bind_event(statement& s, const engine::event_record& e, std::string& json_buf) {
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

engine::Result<engine::event_record> read_event(const statement& s) {
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
    return Error{errc::internal, fmt::format("event {} has a malformed JSON payload", e.seq)};
  e.prev_hash = s.text_at(9);
  e.hash = s.text_at(10);
  e.ticket_prev = s.int_at(11);
  return e;
}

void bind_timer(statement& s, const engine::timer& t) {
  bind_id(s, 1, t.id);
  s.bind(2, t.ticket);
  s.bind(3, t.kind);
  s.bind(4, t.due_at);
  s.bind(5, t.status);
  s.bind(6, t.fired_at);
}

engine::timer read_timer(const statement& s) {
  engine::timer t;
  t.id = s.int_at(0);
  t.ticket = s.int_at(1);
  t.kind = s.text_at(2);
  t.due_at = s.int_at(3);
  t.status = s.text_at(4);
  t.fired_at = s.opt_int_at(5);
  return t;
}

void bind_idempotency(statement& s, const engine::idempotency_record& r) {
  s.bind(1, r.key);
  s.bind(2, r.scope);
  s.bind(3, r.fingerprint);
  s.bind(4, r.ticket);
  s.bind(5, r.created_at);
  s.bind(6, r.response);
}

engine::idempotency_record read_idempotency(const statement& s) {
  engine::idempotency_record r;
  r.key = s.text_at(0);
  r.scope = s.text_at(1);
  r.fingerprint = s.text_at(2);
  r.ticket = s.int_at(3);
  r.created_at = s.int_at(4);
  r.response = s.text_at(5);
  return r;
}

void bind_notification(statement& s, const engine::notification& n) {
  bind_id(s, 1, n.id);
  s.bind(2, n.ticket);
  s.bind(3, n.event_seq);
  s.bind(4, n.at);
  s.bind(5, n.recipient);
  s.bind(6, n.kind);
  s.bind(7, n.message);
}

engine::notification read_notification(const statement& s) {
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

void bind_customer_change(statement& s, const engine::customer_change& c, std::string& json_buf) {
  json_buf = c.changes.dump(-1, ' ', false, engine::json::error_handler_t::replace);
  s.bind(1, c.seq);
  s.bind(2, c.customer);
  s.bind(3, c.at);
  s.bind(4, c.actor);
  s.bind(5, json_buf);
  s.bind(6, c.prev_hash);
  s.bind(7, c.hash);
}

engine::Result<engine::customer_change> read_customer_change(const statement& s) {
  engine::customer_change c;
  c.seq = s.int_at(0);
  c.customer = s.text_at(1);
  c.at = s.int_at(2);
  c.actor = s.text_at(3);
  if (!parse_json(s.view_at(4), c.changes))
    return Error{errc::internal, fmt::format("customer change {} has malformed JSON", c.seq)};
  c.prev_hash = s.text_at(5);
  c.hash = s.text_at(6);
  return c;
}

void bind_token(statement& s, const engine::api_token& t) {
  s.bind(1, t.id);
  s.bind(2, t.name);
  s.bind(3, t.role);
  s.bind(4, t.salt);
  s.bind(5, t.hash);
  s.bind(6, t.created_at);
  s.bind(7, t.revoked_at);
}

engine::api_token read_token(const statement& s) {
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

void bind_person(statement& s, const engine::person& p) {
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

engine::person read_person(const statement& s) {
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

void bind_mail_link(statement& s, const engine::mail_link& m) {
  s.bind(1, m.message_id);
  s.bind(2, m.ticket);
  s.bind(3, m.direction);
  s.bind(4, m.event_seq);
  s.bind(5, m.at);
}

engine::mail_link read_mail_link(const statement& s) {
  engine::mail_link m;
  m.message_id = s.text_at(0);
  m.ticket = s.int_at(1);
  m.direction = s.text_at(2);
  m.event_seq = s.int_at(3);
  m.at = s.int_at(4);
  return m;
}

void bind_attachment(statement& s, const engine::attachment& a) {
  s.bind(2, a.ticket);
  s.bind(3, a.event_seq);
  s.bind(4, a.name);
  s.bind(5, a.content_type);
  s.bind(6, a.size);
  s.bind(7, a.sha256);
  s.bind(8, a.at);
  s.bind_blob(9, a.data);
}

engine::attachment read_attachment(const statement& s, bool with_data) {
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

void bind_webhook(statement& s, const engine::webhook& w, std::string& json_buf) {
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

engine::Result<engine::webhook> read_webhook(const statement& s) {
  engine::webhook w;
  w.id = s.int_at(0);
  w.url = s.text_at(1);
  auto events = engine::json::parse(s.view_at(2), nullptr, false);
  if (!events.is_array())
    return Error{errc::internal, fmt::format("webhook {} has an events list that is not a JSON array", w.id)};
  for (const auto& e : events)
    if (e.is_string()) w.events.push_back(e.get<std::string>());
  w.secret = s.text_at(3);
  w.created_by = s.text_at(4);
  w.created_at = s.int_at(5);
  w.removed_at = s.opt_int_at(6);
  return w;
}

void bind_outbox(statement& s, const engine::outbox_item& o) {
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

void bind_outbox_update(statement& s, const engine::outbox_item& o) {
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

engine::outbox_item read_outbox(const statement& s) {
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

void bind_session(statement& s, const engine::web_session& w) {
  s.bind(1, w.id);
  s.bind(2, w.person);
  s.bind(3, w.csrf);
  s.bind(4, w.created_at);
  s.bind(5, w.expires_at);
}

engine::web_session read_session(const statement& s) {
  engine::web_session w;
  w.id = s.text_at(0);
  w.person = s.text_at(1);
  w.csrf = s.text_at(2);
  w.created_at = s.int_at(3);
  w.expires_at = s.int_at(4);
  return w;
}

std::string fts5_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string like_contains(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 4);
  out.push_back('%');
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

}  // namespace plaint::storage
