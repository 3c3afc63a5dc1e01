// The fixed SQL of every statement the SQLite store runs, and the mapping
// between rows and the engine's structs.
//
// Invariants:
//  - No SQL text is ever assembled at run time; every statement is one of
//    `query_sql`, and input reaches it only as bound parameters.
//  - A row reader reads columns in the order of its table's column list, and
//    every statement that returns or writes a whole row names exactly that
//    list (see sqlite_queries.cpp).
#pragma once

#include <cstddef>
#include <string>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"
#include "storage/rows.h"
#include "storage/pairs.h"
#include "storage/sqlite_statement.h"

namespace plaint::storage {

namespace q {
enum id : std::size_t {
  begin,
  commit,
  rollback,
  schema_version,
  customer_by_id,
  customers_all,
  customer_put,
  ticket_by_id,
  tickets_all,
  ticket_insert,
  ticket_update,         // see bind_ticket_update
  ticket_update_figures, // see bind_ticket_figures
  ticket_update_listed,  // ?1 id, ?2 state, ?3 owner, ?4 level, ?5 category, ?6 priority
  list_tickets,   // parameters: see `list_param`
  // The same filter and parameters, each led by the condition it is driven
  // by (the index on customer, owner, state or level, or the search index),
  // so that a rare value is found without walking every ticket.
  list_tickets_by_customer,
  list_tickets_by_owner,
  list_tickets_by_state,
  list_tickets_by_level,
  ticket_if_listed,   // the same filter for one ticket, ?12 its id
  search_rows_match,  // ?1 FTS5 query, ?2 rowid bound: the tickets of the rows, newest first
  search_rows_pair,
  events_of_ticket,
  events_after,
  event_last,
  event_insert,
  ticket_link,   // ?1 ticket, ?2 its newest event
  timers_of_ticket,
  timers_all,
  timer_move,  // ?1 ticket, ?2 kind, ?3 due
  timer_arm,   // ?1 ticket, ?2 kind, ?3 due
  timer_cancel,
  timer_insert,
  search_text_insert,  // ?1 key, ?2 text
  search_tail_texts,   // the texts after the indexed ones, with their keys
  idempotency_by_key,
  idempotency_put,
  setting_get,
  setting_put,
  timers_due,    // ?1 now, ?2 limit
  timers_due_of_ticket,  // ?1 ticket, ?2 now
  timer_next,
  timers_pending_count,
  timer_claim,   // ?1 id, ?2 fired_at
  notification_insert,
  notifications_of_ticket,
  attention_board,  // ?1 now, ?2 limit
  token_by_id,
  tokens_all,
  token_insert,
  tokens_revoke,  // ?1 name or id, ?2 revoked_at
  idempotency_prune,    // ?1 created before, ?2 limit
  customer_change_last,
  customer_change_insert,
  customer_changes_of,  // ?1 customer, ?2 limit: newest first
  customer_changes_all,
  history_page,         // ?1 ticket, ?2 before seq or NULL, ?3 limit
  event_of_ticket,      // ?1 seq, ?2 ticket: is it one of the ticket's events
  people_any,
  person_by_id,
  people_all,
  person_put,
  session_by_id,
  session_put,
  session_delete,        // ?1 id
  sessions_of_delete,    // ?1 person
  sessions_prune,        // ?1 now, ?2 limit
  sessions_of_trim,      // ?1 person, ?2 how many of the newest to keep
  mail_link_by_id,
  mail_link_insert,
  customer_by_email,
  attachment_insert,
  attachments_of_ticket,  // without data
  attachment_by_id,
  webhooks_live,
  webhooks_all,
  webhook_by_id,
  webhook_insert,         // id NULL: the next id
  outbox_insert,
  outbox_claimable,       // ?1 now, ?2 limit: any channel
  outbox_claimable_of,    // ?1 now, ?2 limit, ?3 channel (outbox_pending_channel, schema 12)
  outbox_hold,            // ?1 id, ?2 claimed_until
  outbox_update,          // see bind_outbox_update
  outbox_list,            // ?1 channel, ?2 target, ?3 state ('' = any), ?4 limit
  outbox_counts,
  outbox_next_due,
  outbox_next_due_of,     // ?1 channel
  outbox_prune,           // ?1 before, ?2 how many of the oldest rows to look at
  // The tickets active in [?1, ?2) (store::scan_tickets_active), in three
  // disjoint parts: open ones created before ?2; those closed in the
  // period; those closed after it but created before its end ("spanning"),
  // read from whichever index holds fewer candidates (the probes count up
  // to ?3 entries of each, index only).
  tickets_active_open,
  tickets_active_closed_in,
  tickets_spanning_by_closed,
  tickets_spanning_by_created,
  // The same four parts, only engine::ticket_figures' columns, the first
  // three from the covering tickets_kpi_closed alone (schema 11).
  figures_active_open,
  figures_active_closed_in,
  figures_spanning_by_closed,
  figures_spanning_by_created,
  probe_closed_from,      // ?1 instant, ?2 cap
  probe_created_before,   // ?1 instant, ?2 cap
  count
};
}  // namespace q

extern const char* const query_sql[q::count];

// The list_tickets variant for `query`: driven by the filter likely to match
// fewest tickets (a customer has few; most tickets sit at level 1 and in
// `closed`). A search is driven by its matches (ticket_if_listed: the
// matching texts newest ticket first, each ticket checked against the rest
// of the filter, so the first page of a word found in every ticket reads
// one page's worth), unless a customer is given.
q::id list_query_for(const engine::ticket_query& query, search_kind kind);

// Search keys: the key of a ticket's text in slot n (engine::store::
// index_text) is (id << search_slot_bits) + n. The full-text rowid is the
// key, so matches come newest ticket first and a ticket's texts are one
// rowid range.
inline constexpr int search_slot_bits = 32;
inline constexpr std::int64_t search_max_slot = (std::int64_t{1} << search_slot_bits) - 1;
inline constexpr std::int64_t search_max_ticket = (std::int64_t{1} << (62 - search_slot_bits)) - 1;

// Parameters of q::list_tickets and its variants. A NULL filter (or 0 flag)
// matches everything.
enum list_param : int {
  lp_state = 1,
  lp_owner,
  lp_customer,
  lp_level,
  lp_open_only,
  lp_breached_only,
  lp_now,
  lp_match,   // an FTS5 string literal for the trigram index (search_kind::trigram)
  lp_pair,    // an FTS5 string literal for the pair index (search_kind::pair)
  lp_cursor,  // only ids below this; INT64_MAX for the first page
  lp_limit,
  lp_id,      // ticket_if_listed: the ticket
};

// The search text as the pair index's FTS5 query: its term (pair_term) as
// one string literal.
std::string fts5_pair_literal(std::string_view text);
// The query text as one FTS5 string literal: "..." with inner quotes doubled,
// so FTS5 operators (OR, NEAR, *, ^, :) are plain text.
std::string fts5_literal(std::string_view text);

}  // namespace plaint::storage
