// The column lists of every table, the single source of column order for
// the SELECTs and INSERTs of each back end and for storage/rows.h; and the
// SLA breach test in SQL (engine::sla_of()'s; keep the two in step).
#pragma once

#define PLAINT_CUSTOMER_COLUMNS "id, name, tier, email, phone, attributes, created_at, updated_at"
#define PLAINT_TICKET_COLUMNS                                                                          \
  "id, workflow, customer, tier, channel, category, priority, subject, description, state, owner, "  \
  "level, version, created_at, updated_at, resolution_started_at, first_response_at, "              \
  "first_response_warn_at, first_response_due, resolution_warn_at, resolution_due, paused_at, "     \
  "paused_seconds, resolved_at, follow_up_due, closed_at, fired, resolution_code, root_cause, csat, " \
  "reopen_count, handoff_count, tags, last_event"
// What the KPIs read of a ticket (engine::ticket_figures), every column of
// which SQLite's tickets_kpi_closed index carries.
#define PLAINT_FIGURES_COLUMNS                                                                          \
  "id, created_at, first_response_at, first_response_due, resolution_due, paused_at, resolved_at, "    \
  "closed_at, level, handoff_count, reopen_count, csat, customer, tier, category, owner, root_cause"
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
