// The store's SQL and its row mapping. The column lists below are the single
// source of column order for SELECTs, INSERTs and the bind_/read_ functions.
#include "storage/sqlite_queries.h"

#include "storage/pairs.h"
#include "storage/columns.h"

#include <fmt/format.h>

namespace plaint::storage {

using engine::errc;
using engine::Error;

// A ticket's search rows are the rowids id << 32 .. (id << 32) + 0xFFFFFFFF
// (search_slot_bits), so "one of its texts matches" is a rowid range of the
// full-text index.
static_assert(search_slot_bits == 32, "PLAINT_SEARCH_ROWS_OF_TICKET and the search_rows_* queries shift by 32");
#define PLAINT_SEARCH_ROWS_OF_TICKET(table) \
  table ".rowid BETWEEN tickets.id * 4294967296 AND tickets.id * 4294967296 + 4294967295"

#define PLAINT_LIST_TICKETS(driver)                                                 \
  "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets"                                    \
  " WHERE " driver                                                                  \
  " AND (?1 IS NULL OR state = ?1)"                                                  \
  " AND (?2 IS NULL OR owner = ?2)"                                                  \
  " AND (?3 IS NULL OR customer = ?3)"                                               \
  " AND (?4 IS NULL OR level = ?4)"                                                  \
  " AND (?5 = 0 OR state <> 'closed')"                                               \
  " AND (?6 = 0 OR " PLAINT_BREACHED("?7") ")"                                       \
  " AND (?8 IS NULL OR EXISTS (SELECT 1 FROM s.search WHERE search MATCH ?8"           \
  " AND " PLAINT_SEARCH_ROWS_OF_TICKET("search") "))"                                  \
  " AND (?9 IS NULL OR EXISTS (SELECT 1 FROM s.search_pair WHERE search_pair MATCH ?9" \
  " AND " PLAINT_SEARCH_ROWS_OF_TICKET("search_pair") "))"                             \
  " AND id < ?10"                                                                    \
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
    // ticket_by_id, tickets_all, ticket_insert, ticket_update, ticket_update_figures, ticket_update_listed
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE id = ?1",
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets ORDER BY id",
    "INSERT INTO tickets (" PLAINT_TICKET_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, "
    "?31, ?32, ?33, ?34)",
    // What changes on most events, and none of the indexed or checked
    // columns (see ticket_update_figures and ticket_update_listed): SQLite
    // rewrites every index entry of a column in the SET list, value changed
    // or not, and evaluates every CHECK on one.
    "UPDATE tickets SET version = ?2, updated_at = ?3, resolution_started_at = ?4, "
    "first_response_warn_at = ?5, resolution_warn_at = ?6, paused_seconds = ?7, follow_up_due = ?8, "
    "fired = ?9, resolution_code = ?10, last_event = ?11 WHERE id = ?1 AND version = ?12",
    // ticket_update_figures: the columns of tickets_kpi_closed and the
    // checked csat and tags, only when one of them moved.
    "UPDATE tickets SET first_response_at = ?2, first_response_due = ?3, resolution_due = ?4, paused_at = ?5, "
    "resolved_at = ?6, closed_at = ?7, root_cause = ?8, csat = ?9, reopen_count = ?10, handoff_count = ?11, "
    "tags = ?12 WHERE id = ?1",
    "UPDATE tickets SET state = ?2, owner = ?3, level = ?4, category = ?5, priority = ?6 WHERE id = ?1",
    // list_tickets and its driven variants: one filter for every
    // combination. The breach test is engine::sla_of() in SQL; keep the two
    // in step.
    PLAINT_LIST_TICKETS("1"),
    PLAINT_LIST_TICKETS("customer = ?3"),
    PLAINT_LIST_TICKETS("owner = ?2"),
    PLAINT_LIST_TICKETS("state = ?1"),
    PLAINT_LIST_TICKETS("level = ?4"),
    // ticket_if_listed: one ticket, if it passes the filter (?12 its id)
    PLAINT_LIST_TICKETS("id = ?12"),
    // search_rows_match, search_rows_pair: the tickets of the rows that match
    // ?1, newest ticket first, below the rowid ?2; a ticket's rows are
    // consecutive (search_slot_bits). The indexes live in the search file,
    // attached as `s` (storage/sqlite_search.h).
    "SELECT rowid >> 32 FROM s.search WHERE search MATCH ?1 AND rowid < ?2 ORDER BY rowid DESC",
    "SELECT rowid >> 32 FROM s.search_pair WHERE search_pair MATCH ?1 AND rowid < ?2 ORDER BY rowid DESC",
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
    // search_text_insert, search_tail_texts: the texts written since the
    // search file last took them in
    "INSERT INTO search_text (key, body) VALUES (?1, ?2)",
    "SELECT key, body FROM search_text WHERE rowid > (SELECT indexed_to FROM s.search_mark)",
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
    " AND (claimed_until IS NULL OR claimed_until <= ?1) ORDER BY next_at, id LIMIT ?2",
    // One channel's rows from its own index: mail that waits for an SMTP
    // server never stands in the way of the webhooks.
    "SELECT " PLAINT_OUTBOX_COLUMNS " FROM outbox INDEXED BY outbox_pending_channel WHERE state = 'pending'"
    " AND channel = ?3 AND next_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1) ORDER BY next_at, id"
    " LIMIT ?2",
    "UPDATE outbox SET claimed_until = ?2 WHERE id = ?1",
    "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4, claimed_until = ?5, last_error = ?6,"
    " delivered_at = ?7, event_seq = ?8, last_seq = ?9, events = ?10 WHERE id = ?1",
    // outbox_list, outbox_counts, outbox_next_due, outbox_next_due_of
    "SELECT " PLAINT_OUTBOX_COLUMNS " FROM outbox WHERE (?1 = '' OR channel = ?1) AND (?2 = '' OR target = ?2)"
    " AND (?3 = '' OR state = ?3) ORDER BY id DESC LIMIT ?4",
    "SELECT channel, state, sum(events), min(created_at) FROM outbox GROUP BY channel, state ORDER BY channel, state",
    "SELECT min(next_at) FROM outbox WHERE state = 'pending'",
    "SELECT min(next_at) FROM outbox INDEXED BY outbox_pending_channel WHERE state = 'pending' AND channel = ?1",
    // outbox_prune: among the oldest ?2 rows (by id: a bounded walk, no
    // index), those settled before ?1.
    "DELETE FROM outbox WHERE id IN (SELECT id FROM (SELECT id, state, created_at FROM outbox ORDER BY id LIMIT ?2)"
    " WHERE state != 'pending' AND created_at < ?1)",
    // tickets_active_open (tickets_created), tickets_active_closed_in,
    // tickets_spanning_by_closed (tickets_kpi_closed, covering the
    // created_at test), tickets_spanning_by_created (tickets_opened); the
    // same for the figures, covered by tickets_kpi_closed (the earliest
    // periods' few spanning tickets are read from the table);
    // probe_closed_from, probe_created_before (index only).
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE state <> 'closed' AND closed_at IS NULL AND created_at < ?2",
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at >= ?1 AND closed_at < ?2",
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at >= ?2 AND created_at < ?2",
    "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets INDEXED BY tickets_opened"
    " WHERE created_at < ?2 AND closed_at >= ?2",
    "SELECT " PLAINT_FIGURES_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at IS NULL AND created_at < ?2",
    "SELECT " PLAINT_FIGURES_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at >= ?1 AND closed_at < ?2",
    "SELECT " PLAINT_FIGURES_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at >= ?2 AND created_at < ?2",
    "SELECT " PLAINT_FIGURES_COLUMNS " FROM tickets INDEXED BY tickets_opened"
    " WHERE created_at < ?2 AND closed_at >= ?2",
    "SELECT count(*) FROM (SELECT 1 FROM tickets INDEXED BY tickets_kpi_closed"
    " WHERE closed_at >= ?1 LIMIT ?2)",
    "SELECT count(*) FROM (SELECT 1 FROM tickets INDEXED BY tickets_opened WHERE created_at < ?1 LIMIT ?2)",
};

q::id list_query_for(const engine::ticket_query& query, search_kind kind) {
  if (query.customer) return q::list_tickets_by_customer;
  if (kind != search_kind::none) return q::ticket_if_listed;  // driven by the search rows, newest first
  if (query.owner) return q::list_tickets_by_owner;
  if (query.state) return q::list_tickets_by_state;
  if (query.level) return q::list_tickets_by_level;
  return q::list_tickets;
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

std::string fts5_pair_literal(std::string_view text) { return fts5_literal(pair_term(text)); }

}  // namespace plaint::storage
