#include "storage/pg_store.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "engine/utf8.h"
#include "storage/columns.h"
#include "storage/pairs.h"
#include "storage/pg_schema.h"
#include "storage/rows.h"

namespace plaint::storage {

namespace {

// `%text%` for ILIKE, with %, _ and \ escaped by a backslash (PostgreSQL's default escape).
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

using engine::errc;
using engine::Error;

constexpr int max_page = 1000;
constexpr int scan_page = 500;
// Advisory lock keys: the audit log's end (pg_schema.h), the customer log's end.
using pg::events_lock;
constexpr std::int64_t changes_lock = 0x706c6e7463;

template <class T, class Read>
std::vector<T> all_rows(const pg::result& r, Read read) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read(pg::row(r, i)));
  return out;
}

// As all_rows, for readers that may refuse a malformed row.
template <class T, class Read>
engine::Result<std::vector<T>> checked_rows(const pg::result& r, Read read) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    auto v = read(pg::row(r, i));
    PLAINT_TRY(v);
    out.push_back(std::move(*v));
  }
  return out;
}

#define PLAINT_PG_LIST_FILTER                                                   \
  " ($1::text IS NULL OR state = $1::text)"                                      \
  " AND ($2::text IS NULL OR owner = $2::text)"                                  \
  " AND ($3::text IS NULL OR customer = $3::text)"                               \
  " AND ($4::bigint IS NULL OR level = $4::bigint)"                              \
  " AND ($5::bigint = 0 OR state <> 'closed')"                                   \
  " AND ($6::bigint = 0 OR " PLAINT_BREACHED("$7::bigint") ")"                   \
  " AND id < $8::bigint"

}  // namespace

// ---- the transaction ----------------------------------------------------------

class pg_transaction final : public engine::store_transaction {
 public:
  explicit pg_transaction(pg_store& s) : s_(s) { s_.in_transaction_ = true; }
  ~pg_transaction() override {
    if (!done_) (void)s_.db_->exec("ROLLBACK", "roll back");
    s_.in_transaction_ = false;
  }

  engine::Result<std::optional<engine::ticket>> find_ticket(engine::ticket_id id) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    auto r = run("ticket_by_id", "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE id = $1",
                 pg::params().add(id), fmt::format("cannot read ticket {}", id));
    PLAINT_TRY(r);
    if (r->rows() == 0) return std::optional<engine::ticket>();
    auto t = read_ticket(pg::row(*r, 0));
    PLAINT_TRY(t);
    return std::optional<engine::ticket>(std::move(*t));
  }

  engine::Result<std::optional<engine::customer>> find_customer(std::string_view id) override {
    PLAINT_TRY(live());
    auto r = run("customer_by_id", "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers WHERE id = $1",
                 pg::params().add(id), fmt::format("cannot read customer '{}'", id));
    PLAINT_TRY(r);
    if (r->rows() == 0) return std::optional<engine::customer>();
    auto c = read_customer(pg::row(*r, 0));
    PLAINT_TRY(c);
    return std::optional<engine::customer>(std::move(*c));
  }

  engine::Result<std::optional<engine::idempotency_record>> find_idempotency(std::string_view key) override {
    PLAINT_TRY(live());
    auto r = run("idempotency_by_key", "SELECT " PLAINT_IDEMPOTENCY_COLUMNS " FROM idempotency WHERE key = $1",
                 pg::params().add(key), fmt::format("cannot read idempotency key '{}'", key));
    PLAINT_TRY(r);
    if (r->rows() == 0) return std::optional<engine::idempotency_record>();
    return std::optional<engine::idempotency_record>(read_idempotency(pg::row(*r, 0)));
  }

  engine::Status put_customer(const engine::customer& c) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    pg::params p;
    bind_customer(p, c, json_);
    return done(run("customer_put",
                    "INSERT INTO customers (" PLAINT_CUSTOMER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier, email = excluded.email, "
                    "phone = excluded.phone, attributes = excluded.attributes, created_at = excluded.created_at, "
                    "updated_at = excluded.updated_at",
                    p, fmt::format("cannot save customer '{}'", c.id)));
  }

  engine::Result<engine::ticket_id> insert_ticket(const engine::ticket& t) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    pg::params p;
    bind_ticket(p, t, json_);
    auto r = run("ticket_insert",
                 "INSERT INTO tickets (" PLAINT_TICKET_COLUMNS ") VALUES (COALESCE($1::bigint, "
                 "nextval('tickets_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
                 "$18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34) RETURNING id",
                 p,
                 t.id == 0 ? fmt::format("cannot add a ticket for customer '{}'", t.customer)
                           : fmt::format("cannot add ticket {}", t.id));
    PLAINT_TRY(r);
    if (t.id != 0)  // an id given (import): new ids continue after it
      PLAINT_TRY(done(run("tickets_seq", "SELECT setval('tickets_id_seq', GREATEST($1::bigint, "
                                         "(SELECT last_value FROM tickets_id_seq)))",
                          pg::params().add(t.id), "cannot move the ticket numbers on")));
    return r->integer(0, 0);
  }

  engine::Status update_ticket(const engine::ticket& t, const engine::ticket& before) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    pg::params p;
    bind_ticket_update(p, t, before.version);  // $1–$12
    bind_ticket_figures(p, t, 13, json_);     // $13–$23
    p.bind(24, t.state);
    p.bind(25, t.owner);
    p.bind(26, std::int64_t{t.level});
    p.bind(27, t.category);
    p.bind(28, t.priority);
    auto r = run("ticket_update",
                 "UPDATE tickets SET version = $2, updated_at = $3, resolution_started_at = $4, "
                 "first_response_warn_at = $5, resolution_warn_at = $6, paused_seconds = $7, follow_up_due = $8, "
                 "fired = $9, resolution_code = $10, last_event = $11, first_response_at = $13, "
                 "first_response_due = $14, resolution_due = $15, paused_at = $16, resolved_at = $17, "
                 "closed_at = $18, root_cause = $19, csat = $20, reopen_count = $21, handoff_count = $22, "
                 "tags = $23, state = $24, owner = $25, level = $26, category = $27, priority = $28 "
                 "WHERE id = $1 AND version = $12",
                 p, fmt::format("cannot update ticket {}", t.id));
    PLAINT_TRY(r);
    if (r->affected() == 1) return {};
    auto found = find_ticket(t.id);
    PLAINT_TRY(found);
    if (!*found) return Error{errc::not_found, fmt::format("ticket {} does not exist", t.id)};
    return Error{errc::conflict, fmt::format("ticket {} was changed by someone else; it is no longer at version {}",
                                             t.id, before.version)};
  }

  engine::Result<std::int64_t> next_event_seq() override {
    PLAINT_TRY(live());
    PLAINT_TRY(read_tail());
    return last_seq_ + 1;
  }

  engine::Result<engine::event_record> append_event(engine::event_record e) override {
    PLAINT_TRY(live());
    PLAINT_TRY(read_tail());
    e.seq = last_seq_ + 1;
    e.prev_hash = last_hash_;
    e.hash = engine::audit_hash(e.prev_hash, e);
    PLAINT_TRY(insert_event(e, e.ticket_prev,
                            fmt::format("cannot append event {} of ticket {} to the audit log", e.seq, e.ticket)));
    last_seq_ = e.seq;
    last_hash_ = e.hash;
    appended_ = true;
    return e;
  }

  engine::Status insert_event_verbatim(const engine::event_record& e) override {
    PLAINT_TRY(live());
    auto found = find_ticket(e.ticket);
    PLAINT_TRY(found);
    if (!*found)
      return Error{errc::invalid, fmt::format("event {} names ticket {}, which is not in the file", e.seq, e.ticket)};
    PLAINT_TRY(done(run("ticket_link", "UPDATE tickets SET last_event = $2 WHERE id = $1",
                        pg::params().add(e.ticket).add(e.seq), fmt::format("cannot import event {}", e.seq))));
    PLAINT_TRY(insert_event(e, (*found)->last_event, fmt::format("cannot import event {}", e.seq)));
    if (e.seq > last_seq_) {  // the chain's end moved (find_ticket read it under the lock)
      last_seq_ = e.seq;
      last_hash_ = e.hash;
    }
    return {};
  }

  engine::Status schedule_timer(engine::ticket_id id, std::string_view kind, engine::timestamp due) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    const auto what = fmt::format("cannot schedule the {} timer of ticket {}", kind, id);
    auto moved = run("timer_move", "UPDATE timers SET due_at = $3 WHERE ticket = $1 AND kind = $2 AND status = 'pending'",
                     pg::params().add(id).add(kind).add(due), what);
    PLAINT_TRY(moved);
    if (moved->affected() > 0) return {};
    return done(run("timer_arm", "INSERT INTO timers (ticket, kind, due_at, status) VALUES ($1, $2, $3, 'pending')",
                    pg::params().add(id).add(kind).add(due), what));
  }

  engine::Status cancel_timer(engine::ticket_id id, std::string_view kind) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    return done(run("timer_cancel",
                    "UPDATE timers SET status = 'cancelled' WHERE ticket = $1 AND kind = $2 AND status = 'pending'",
                    pg::params().add(id).add(kind), fmt::format("cannot cancel the {} timer of ticket {}", kind, id)));
  }

  engine::Status insert_timer_verbatim(const engine::timer& t) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_timer(p, t);
    PLAINT_TRY(done(run("timer_insert", "INSERT INTO timers (" PLAINT_TIMER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6)",
                        p, fmt::format("cannot import timer {} of ticket {}", t.id, t.ticket))));
    return done(run("timers_seq", "SELECT setval('timers_id_seq', GREATEST($1::bigint, "
                                  "(SELECT last_value FROM timers_id_seq)))",
                    pg::params().add(t.id), "cannot move the timer numbers on"));
  }

  engine::Status index_text(engine::ticket_id id, std::int64_t /*slot*/, std::string_view text) override {
    PLAINT_TRY(live());
    return done(run("search_insert", "INSERT INTO search (ticket, body, pairs) VALUES ($1, $2, $3::text[])",
                    pg::params().add(id).add(text).add(pair_terms_array(text)),
                    fmt::format("cannot index the text of ticket {}", id)));
  }

  engine::Status put_idempotency(const engine::idempotency_record& r) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_idempotency(p, r);
    return done(run("idempotency_put",
                    "INSERT INTO idempotency (" PLAINT_IDEMPOTENCY_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (key) DO UPDATE SET scope = excluded.scope, fingerprint = excluded.fingerprint, "
                    "ticket = excluded.ticket, created_at = excluded.created_at, response = excluded.response",
                    p, fmt::format("cannot save idempotency key '{}'", r.key)));
  }

  engine::Result<std::int64_t> prune_idempotency(engine::timestamp before, int limit) override {
    PLAINT_TRY(live());
    return affected(run("idempotency_prune",
                        "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at < $1 "
                        "ORDER BY created_at LIMIT $2)",
                        pg::params().add(before).add(std::int64_t{limit}), "cannot prune expired idempotency keys"));
  }

  engine::Result<std::int64_t> prune_outbox(engine::timestamp before, int limit) override {
    PLAINT_TRY(live());
    return affected(run("outbox_prune",
                        "DELETE FROM outbox WHERE id IN (SELECT id FROM (SELECT id, state, created_at FROM outbox "
                        "ORDER BY id LIMIT $2) oldest WHERE state <> 'pending' AND created_at < $1)",
                        pg::params().add(before).add(std::int64_t{limit}), "cannot prune the outbox"));
  }

  engine::Result<engine::customer_change> append_customer_change(engine::customer_change c) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    PLAINT_TRY(done(run("changes_lock", "SELECT pg_advisory_xact_lock($1)", pg::params().add(changes_lock),
                        "cannot wait for the customer log")));
    auto last = run("customer_change_last", "SELECT seq, hash FROM customer_changes ORDER BY seq DESC LIMIT 1",
                    pg::params(), "cannot read the end of the customer log");
    PLAINT_TRY(last);
    c.seq = last->rows() ? last->integer(0, 0) + 1 : 1;
    c.prev_hash = last->rows() ? last->text(0, 1) : std::string(engine::genesis_hash);
    c.hash = engine::customer_change_hash(c.prev_hash, c);
    PLAINT_TRY(insert_customer_change_verbatim(c));
    return c;
  }

  engine::Status insert_customer_change_verbatim(const engine::customer_change& c) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_customer_change(p, c, json_);
    return done(run("customer_change_insert",
                    "INSERT INTO customer_changes (" PLAINT_CUSTOMER_CHANGE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    p, fmt::format("cannot log change {} of customer '{}'", c.seq, c.customer)));
  }

  engine::Status put_setting(std::string_view key, std::string_view value) override {
    PLAINT_TRY(live());
    return done(run("setting_put",
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    pg::params().add(key).add(value), fmt::format("cannot save setting '{}'", key)));
  }

  engine::Result<std::vector<engine::timer>> due_timers_of(engine::ticket_id id, engine::timestamp now) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    auto r = run("timers_due_of_ticket",
                 "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE ticket = $1 AND status = 'pending' AND due_at <= $2 "
                 "ORDER BY due_at, id FOR UPDATE SKIP LOCKED",
                 pg::params().add(id).add(now), fmt::format("cannot read the due timers of ticket {}", id));
    PLAINT_TRY(r);
    return all_rows<engine::timer>(*r, read_timer<pg::row>);
  }

  engine::Result<bool> claim_timer(std::int64_t timer_id, engine::timestamp at) override {
    PLAINT_TRY(live());
    PLAINT_TRY(serialise());
    auto n = affected(run("timer_claim", "UPDATE timers SET status = 'fired', fired_at = $2 WHERE id = (SELECT id FROM timers "
                          "WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED)",
                          pg::params().add(timer_id).add(at), fmt::format("cannot fire timer {}", timer_id)));
    PLAINT_TRY(n);
    return *n == 1;
  }

  engine::Status add_notification(const engine::notification& n) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_notification(p, n);
    return done(run("notification_insert",
                    "INSERT INTO notifications (" PLAINT_NOTIFICATION_COLUMNS ") VALUES (COALESCE($1::bigint, "
                    "nextval('notifications_id_seq')), $2, $3, $4, $5, $6, $7)",
                    p, fmt::format("cannot record a notification for ticket {}", n.ticket)));
  }

  engine::Status put_token(const engine::api_token& t) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_token(p, t);
    auto n = affected(run("token_insert",
                          "INSERT INTO tokens (" PLAINT_TOKEN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
                          "ON CONFLICT (id) DO NOTHING",
                          p, fmt::format("cannot save token '{}' of {}", t.id, t.name)));
    PLAINT_TRY(n);
    if (*n == 0) return Error{errc::conflict, fmt::format("cannot save token '{}' of {}: its id is taken", t.id, t.name)};
    return {};
  }

  engine::Result<int> revoke_tokens(std::string_view name_or_id, engine::timestamp at) override {
    PLAINT_TRY(live());
    auto n = affected(run("tokens_revoke",
                          "UPDATE tokens SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL",
                          pg::params().add(name_or_id).add(at), fmt::format("cannot revoke the tokens of '{}'", name_or_id)));
    PLAINT_TRY(n);
    return static_cast<int>(*n);
  }

  engine::Result<bool> has_people() override {
    PLAINT_TRY(live());
    auto r = run("people_any", "SELECT EXISTS (SELECT 1 FROM people)", pg::params(), "cannot read the people");
    PLAINT_TRY(r);
    return r->boolean(0, 0);
  }

  engine::Result<std::optional<engine::person>> find_person(std::string_view id) override {
    PLAINT_TRY(live());
    return s_.find_person(id);
  }

  engine::Status put_person(const engine::person& p) override {
    PLAINT_TRY(live());
    pg::params b;
    bind_person(b, p);
    return done(run("person_put",
                    "INSERT INTO people (" PLAINT_PERSON_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, "
                    "team = excluded.team, disabled = excluded.disabled, password_hash = excluded.password_hash, "
                    "created_at = excluded.created_at, updated_at = excluded.updated_at, lang = excluded.lang",
                    b, fmt::format("cannot save person '{}'", p.id)));
  }

  engine::Status put_session(const engine::web_session& w) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_session(p, w);
    return done(run("session_put", "INSERT INTO sessions (" PLAINT_SESSION_COLUMNS ") VALUES ($1, $2, $3, $4, $5)", p,
                    fmt::format("cannot save a session of '{}'", w.person)));
  }

  engine::Status delete_session(std::string_view id) override {
    PLAINT_TRY(live());
    return done(run("session_delete", "DELETE FROM sessions WHERE id = $1", pg::params().add(id),
                    "cannot delete a session"));
  }

  engine::Result<int> delete_sessions_of(std::string_view person) override {
    PLAINT_TRY(live());
    return count(run("sessions_of_delete", "DELETE FROM sessions WHERE person = $1", pg::params().add(person),
                     fmt::format("cannot end the sessions of '{}'", person)));
  }

  engine::Result<int> prune_sessions(engine::timestamp now, int limit) override {
    PLAINT_TRY(live());
    return count(run("sessions_prune",
                     "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= $1 "
                     "ORDER BY expires_at LIMIT $2)",
                     pg::params().add(now).add(std::int64_t{limit}), "cannot delete expired sessions"));
  }

  engine::Result<int> trim_sessions_of(std::string_view person, int keep) override {
    PLAINT_TRY(live());
    return count(run("sessions_trim",
                     "DELETE FROM sessions WHERE person = $1 AND id NOT IN (SELECT id FROM sessions WHERE person = $1 "
                     "ORDER BY created_at DESC, id LIMIT $2)",
                     pg::params().add(person).add(std::int64_t{keep}),
                     fmt::format("cannot trim the sessions of '{}'", person)));
  }

  engine::Result<std::optional<engine::mail_link>> find_mail_link(std::string_view message_id) override {
    PLAINT_TRY(live());
    auto r = run("mail_link_by_id", "SELECT " PLAINT_MAIL_LINK_COLUMNS " FROM mail_links WHERE message_id = $1",
                 pg::params().add(message_id), "cannot look up a message id");
    PLAINT_TRY(r);
    if (r->rows() == 0) return std::optional<engine::mail_link>();
    return std::optional<engine::mail_link>(read_mail_link(pg::row(*r, 0)));
  }

  engine::Status put_mail_link(const engine::mail_link& m) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_mail_link(p, m);
    auto n = affected(run("mail_link_insert",
                          "INSERT INTO mail_links (" PLAINT_MAIL_LINK_COLUMNS ") VALUES ($1, $2, $3, $4, $5) "
                          "ON CONFLICT (message_id) DO NOTHING",
                          p, fmt::format("cannot record message <{}>", m.message_id)));
    PLAINT_TRY(n);
    if (*n == 0) return Error{errc::conflict, fmt::format("message <{}> was already taken", m.message_id)};
    return {};
  }

  engine::Result<std::optional<engine::customer>> find_customer_by_email(std::string_view email) override {
    PLAINT_TRY(live());
    auto r = run("customer_by_email",
                 "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers WHERE lower(email) = lower($1) "
                 "ORDER BY created_at, id LIMIT 1",
                 pg::params().add(email), "cannot look up a customer by email");
    PLAINT_TRY(r);
    if (r->rows() == 0) return std::optional<engine::customer>();
    auto c = read_customer(pg::row(*r, 0));
    PLAINT_TRY(c);
    return std::optional<engine::customer>(std::move(*c));
  }

  engine::Result<std::int64_t> add_attachment(const engine::attachment& a) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_attachment(p, a);
    p.bind_null(1);
    auto r = run("attachment_insert",
                 "INSERT INTO attachments (" PLAINT_ATTACHMENT_COLUMNS ") VALUES (COALESCE($1::bigint, "
                 "nextval('attachments_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                 p, fmt::format("cannot store attachment '{}' of ticket {}", a.name, a.ticket));
    PLAINT_TRY(r);
    return r->integer(0, 0);
  }

  engine::Result<std::shared_ptr<const std::vector<engine::webhook>>> live_webhooks() override {
    PLAINT_TRY(live());
    if (!webhooks_) {
      auto r = run("webhooks_live", "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks WHERE removed_at IS NULL ORDER BY id",
                   pg::params(), "cannot read the webhooks");
      PLAINT_TRY(r);
      auto hooks = checked_rows<engine::webhook>(*r, read_webhook<pg::row>);
      PLAINT_TRY(hooks);
      webhooks_ = std::make_shared<const std::vector<engine::webhook>>(std::move(*hooks));
    }
    return webhooks_;
  }

  engine::Result<std::int64_t> put_webhook(const engine::webhook& w) override {
    PLAINT_TRY(live());
    webhooks_.reset();
    pg::params p;
    bind_webhook(p, w, json_);
    auto r = run("webhook_put",
                 "INSERT INTO webhooks (" PLAINT_WEBHOOK_COLUMNS ") VALUES (COALESCE($1::bigint, "
                 "nextval('webhooks_id_seq')), $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET url = excluded.url, "
                 "events = excluded.events, secret = excluded.secret, created_by = excluded.created_by, "
                 "created_at = excluded.created_at, removed_at = excluded.removed_at RETURNING id",
                 p, fmt::format("cannot save the webhook to {}", w.url));
    PLAINT_TRY(r);
    return r->integer(0, 0);
  }

  engine::Status add_outbox(const engine::outbox_item& o) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_outbox(p, o);
    p.bind_null(1);
    return done(run("outbox_insert",
                    "INSERT INTO outbox (" PLAINT_OUTBOX_COLUMNS ") VALUES (COALESCE($1::bigint, nextval('outbox_id_seq')), "
                    "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    p, fmt::format("cannot queue a {} delivery for ticket {}", o.channel, o.ticket)));
  }

  engine::Result<std::vector<engine::outbox_item>> claim_outbox(engine::timestamp now, engine::timestamp hold_until,
                                                                int limit, std::string_view channel) override {
    PLAINT_TRY(live());
    // Rows another worker is claiming right now are skipped, not waited for.
    // One channel's rows through outbox_pending_channel (schema 12).
    auto r = channel.empty()
                 ? run("outbox_claim",
                       "UPDATE outbox SET claimed_until = $4 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' "
                       "AND next_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) AND $3 = '' "
                       "ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING " PLAINT_OUTBOX_COLUMNS,
                       pg::params().add(now).add(std::int64_t{limit}).add(channel).add(hold_until),
                       "cannot claim the outbox")
                 : run("outbox_claim_of",
                       "UPDATE outbox SET claimed_until = $4 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' "
                       "AND channel = $3 AND next_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) "
                       "ORDER BY channel, next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING " PLAINT_OUTBOX_COLUMNS,
                       pg::params().add(now).add(std::int64_t{limit}).add(channel).add(hold_until),
                       "cannot claim the outbox");
    PLAINT_TRY(r);
    auto rows = all_rows<engine::outbox_item>(*r, read_outbox<pg::row>);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.next_at != b.next_at ? a.next_at < b.next_at : a.id < b.id;
    });
    return rows;
  }

  engine::Status update_outbox(const engine::outbox_item& o) override {
    PLAINT_TRY(live());
    pg::params p;
    bind_outbox_update(p, o);
    return done(run("outbox_update",
                    "UPDATE outbox SET state = $2, attempts = $3, next_at = $4, claimed_until = $5, last_error = $6, "
                    "delivered_at = $7, event_seq = $8, last_seq = $9, events = $10 WHERE id = $1",
                    p, fmt::format("cannot update outbox row {}", o.id)));
  }

  engine::Status commit_writes() override {
    PLAINT_TRY(live());
    if (failed_)
      return Error{errc::internal, fmt::format("the transaction on database {} was rolled back after an earlier failure",
                                               s_.db_->describe())};
    // Every node's stream and timers hear of the new events: NOTIFY is
    // delivered when (and only if) the transaction commits.
    if (appended_)
      PLAINT_TRY(done(run("commit_notify", "SELECT pg_notify('" PLAINT_PG_COMMIT_CHANNEL "', $1)",
                          pg::params().add(std::to_string(last_seq_)), "cannot announce the commit")));
    auto r = s_.db_->exec("COMMIT", "cannot commit");
    done_ = true;
    s_.in_transaction_ = false;
    PLAINT_TRY(r);
    // PostgreSQL answers COMMIT of a transaction it had to abort with ROLLBACK.
    if (r->command() != "COMMIT")
      return Error{errc::conflict, fmt::format("the transaction on database {} was rolled back", s_.db_->describe())};
    return {};
  }

 private:
  engine::Status live() const {
    if (done_) return Error{errc::internal, "the transaction was already committed"};
    return {};
  }

  // A failed statement aborts a PostgreSQL transaction: from then on it is
  // only good for rolling back (the contract's rule), which commit enforces.
  engine::Result<pg::result> run(const char* name, const char* sql, const pg::params& p, std::string_view what) {
    auto r = s_.db_->run(name, sql, p, what);
    if (!r) failed_ = true;
    return r;
  }

  static engine::Status done(engine::Result<pg::result> r) {
    PLAINT_TRY(r);
    return {};
  }
  static engine::Result<std::int64_t> affected(engine::Result<pg::result> r) {
    PLAINT_TRY(r);
    return r->affected();
  }
  static engine::Result<int> count(engine::Result<pg::result> r) {
    PLAINT_TRY(r);
    return static_cast<int>(r->affected());
  }

  // Every transaction that touches tickets, timers or customers takes the
  // audit log's lock first, and holds it until it ends: ticket writes from
  // all nodes are serialised, so a ticket read in a transaction is the last
  // committed one (no stale read, so no version conflict to retry), and
  // the row locks taken afterwards (tickets, timers, customers, the customer
  // log's lock) are always taken in this order, so nodes cannot deadlock.
  engine::Status serialise() { return read_tail(); }

  // The audit log's end, read once per transaction under the lock that
  // serialises appends from every node until this transaction ends.
  engine::Status read_tail() {
    if (have_tail_) return {};
    PLAINT_TRY(done(run("events_lock", "SELECT pg_advisory_xact_lock($1)", pg::params().add(events_lock),
                        "cannot wait for the audit log")));
    // With the schema version, under the same lock as the migrations: a
    // newer plaint may have upgraded the database since this store looked,
    // and rows of the old shape must not go into the new schema.
    auto r = run("event_tail",
                 "SELECT s.version, e.seq, e.hash FROM plaint_schema s"
                 " LEFT JOIN LATERAL (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) e ON true",
                 pg::params(), "cannot read the end of the audit log");
    PLAINT_TRY(r);
    if (r->rows() != 1) {
      failed_ = true;
      return Error{errc::internal, "the schema version of the database is missing"};
    }
    if (const auto now = r->integer(0, 0); now != current_schema) {
      failed_ = true;  // commit() refuses: nothing of the old shape is written
      return Error{errc::internal,
                   fmt::format("database {} was changed to schema {} while this process was using it at schema {}; "
                               "restart it with a plaint that matches the database",
                               s_.db_->describe(), now, current_schema)};
    }
    const auto seq = r->opt_integer(0, 1);
    last_seq_ = seq.value_or(0);
    last_hash_ = seq ? r->text(0, 2) : std::string(engine::genesis_hash);
    have_tail_ = true;
    return {};
  }

  engine::Status insert_event(const engine::event_record& e, std::int64_t ticket_prev, std::string what) {
    pg::params p;
    bind_event(p, e, json_);
    p.bind(12, ticket_prev);
    return done(run("event_insert",
                    "INSERT INTO events (" PLAINT_EVENT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    p, what));
  }

  pg_store& s_;
  bool done_ = false;
  bool failed_ = false;
  bool have_tail_ = false;
  bool appended_ = false;
  std::int64_t last_seq_ = 0;
  std::string last_hash_;
  std::string json_;
  std::shared_ptr<const std::vector<engine::webhook>> webhooks_;
};

// ---- the store ------------------------------------------------------------------

// ---- the commit feed ------------------------------------------------------------

engine::Result<std::unique_ptr<pg_commit_feed>> pg_commit_feed::open(const std::string& url) {
  auto c = pg::connection::open(url);
  PLAINT_TRY(c);
  std::unique_ptr<pg_commit_feed> feed(new pg_commit_feed(std::move(*c)));
  PLAINT_TRY(feed->listen());
  return feed;
}

pg_commit_feed::~pg_commit_feed() = default;

engine::Status pg_commit_feed::listen() {
  listening_ = false;
  if (!db_->ok()) PLAINT_TRY(db_->reconnect());
  PLAINT_TRY(db_->exec("LISTEN " PLAINT_PG_COMMIT_CHANNEL, "cannot listen for commits"));
  listening_ = true;
  return {};
}

engine::Result<std::int64_t> pg_commit_feed::wait(std::chrono::milliseconds timeout) {
  if (!listening_) {
    // Back after a loss: what was announced meanwhile is lost, so the
    // caller is told to read the log again.
    PLAINT_TRY(listen());
    return anything;
  }
  auto r = db_->wait_notification(timeout);
  if (!r) {
    listening_ = false;
    return r.error();
  }
  return r->value_or(0);
}

engine::Result<std::unique_ptr<pg_store>> pg_store::open(const std::string& url) {
  auto c = pg::connection::open(url);
  PLAINT_TRY(c);
  return std::unique_ptr<pg_store>(new pg_store(std::move(*c)));
}

pg_store::~pg_store() = default;

engine::Status pg_store::migrate() {
  PLAINT_TRY(pg::migrate_schema(*db_));
  schema_ = current_schema;
  return {};
}

std::string pg_store::describe() const {
  const std::string conn = db_->describe();  // "postgresql 15.18, user@host:port/db"
  const auto comma = conn.find(", ");
  return fmt::format("{}, schema {}, {}", conn.substr(0, comma), std::max(schema_, 0), conn.substr(comma + 2));
}

engine::Status pg_store::ready() {
  if (schema_ != current_schema) {
    if (!db_->ok()) PLAINT_TRY(db_->reconnect());
    auto v = pg::read_schema_version(*db_);
    PLAINT_TRY(v);
    schema_ = *v;
  }
  if (schema_ == current_schema) return {};
  if (schema_ == 0)
    return Error{errc::invalid, fmt::format("database {} is not initialised; run plaint init", db_->describe())};
  if (schema_ < current_schema)
    return Error{errc::invalid, fmt::format("database {} is at schema {} but this build needs schema {}; run plaint "
                                            "init to upgrade it",
                                            db_->describe(), schema_, current_schema)};
  return Error{errc::invalid, fmt::format("database {} has schema {}, newer than this build's schema {}; use a newer "
                                          "plaint",
                                          db_->describe(), schema_, current_schema)};
}

engine::Result<pg::result> pg_store::run(const char* name, const char* sql, const pg::params& p,
                                         std::string_view what) {
  auto r = db_->run(name, sql, p, what);
  if (!r && !in_transaction_ && !db_->ok() && db_->reconnect().ok()) return db_->run(name, sql, p, what);
  return r;
}

engine::Result<std::unique_ptr<engine::store_transaction>> pg_store::begin() {
  PLAINT_TRY(ready());
  if (in_transaction_)
    return Error{errc::internal, fmt::format("a transaction is already open on database {}; finish it before "
                                             "beginning another",
                                             db_->describe())};
  if (!db_->ok()) PLAINT_TRY(db_->reconnect());
  PLAINT_TRY(db_->exec("BEGIN", "cannot begin a transaction"));
  return std::unique_ptr<engine::store_transaction>(std::make_unique<pg_transaction>(*this));
}

engine::Result<engine::ticket> pg_store::get_ticket(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto r = run("ticket_by_id", "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE id = $1", pg::params().add(id),
               fmt::format("cannot read ticket {}", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return Error{errc::not_found, fmt::format("ticket {} does not exist", id)};
  return read_ticket(pg::row(*r, 0));
}

engine::Result<engine::customer> pg_store::get_customer(std::string_view id) {
  PLAINT_TRY(ready());
  auto r = run("customer_by_id", "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers WHERE id = $1", pg::params().add(id),
               fmt::format("cannot read customer '{}'", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return Error{errc::not_found, fmt::format("customer '{}' does not exist", id)};
  return read_customer(pg::row(*r, 0));
}

engine::Result<std::vector<engine::customer>> pg_store::list_customers() {
  PLAINT_TRY(ready());
  auto r = run("customers_all", "SELECT " PLAINT_CUSTOMER_COLUMNS " FROM customers ORDER BY id", pg::params(),
               "cannot read the customers");
  PLAINT_TRY(r);
  return checked_rows<engine::customer>(*r, read_customer<pg::row>);
}

engine::Result<engine::ticket_page> pg_store::list_tickets(const engine::ticket_query& query) {
  PLAINT_TRY(ready());
  const int limit = std::clamp(query.limit, 1, max_page);
  pg::params p;
  p.bind(1, query.state);
  p.bind(2, query.owner);
  p.bind(3, query.customer);
  if (query.level)
    p.bind(4, std::int64_t{*query.level});
  else
    p.bind_null(4);
  p.bind(5, std::int64_t{query.open_only});
  p.bind(6, std::int64_t{query.breached_only});
  p.bind(7, query.now);
  p.bind(8, query.cursor.value_or(std::numeric_limits<std::int64_t>::max()));
  p.bind(9, std::int64_t{limit} + 1);  // one more, to learn whether a next page exists
  // Unprepared, so that PostgreSQL plans it for these values: the filters
  // not given fold away, and a search term's frequency (its statistics)
  // decides between walking the newest tickets and its index. The search
  // is a condition of its own, never inside an OR: only then does the
  // planner make it a join it can stop early (as a subplan beside an OR it
  // read every match, 0.9 s for a term in every ticket of 200,000).
  std::string sql = "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE" PLAINT_PG_LIST_FILTER;
  switch (search_kind_of(query.search)) {
    case search_kind::none: break;
    case search_kind::trigram:  // three characters or more: the trigram index
      sql += " AND id IN (SELECT ticket FROM search WHERE body ILIKE $10::text)";
      p.bind(10, like_contains(query.search));
      break;
    case search_kind::pair:  // one or two: the pair index (schema 16)
      sql += " AND id IN (SELECT ticket FROM search WHERE pairs @> ARRAY[$10::text])";
      p.bind(10, pair_term(query.search));
      break;
  }
  sql += " ORDER BY id DESC LIMIT $9";
  auto r = run("", sql.c_str(), p, "cannot list tickets");
  PLAINT_TRY(r);
  engine::ticket_page page;
  auto tickets = checked_rows<engine::ticket>(*r, read_ticket<pg::row>);
  PLAINT_TRY(tickets);
  page.tickets = std::move(*tickets);
  if (page.tickets.size() > static_cast<std::size_t>(limit)) {
    page.tickets.pop_back();
    page.next_cursor = page.tickets.back().id;
  }
  return page;
}

engine::Result<std::vector<engine::event_record>> pg_store::ticket_events(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto r = run("events_of_ticket",
               "WITH RECURSIVE chain (seq) AS ("
               "  SELECT last_event FROM tickets WHERE id = $1 AND last_event > 0"
               "  UNION"
               "  SELECT e.ticket_prev FROM events e JOIN chain ON e.seq = chain.seq"
               "  WHERE e.ticket = $1 AND e.ticket_prev > 0 AND e.ticket_prev < e.seq)"
               " SELECT " PLAINT_EVENT_COLUMNS " FROM events WHERE seq IN (SELECT seq FROM chain) AND ticket = $1 "
               "ORDER BY seq",
               pg::params().add(id), fmt::format("cannot read the history of ticket {}", id));
  PLAINT_TRY(r);
  return checked_rows<engine::event_record>(*r, read_event<pg::row>);
}

engine::Result<engine::event_page> pg_store::ticket_history(engine::ticket_id id, std::optional<std::int64_t> before,
                                                            int limit) {
  PLAINT_TRY(ready());
  if (before) {
    auto r = run("event_of_ticket", "SELECT 1 FROM events WHERE seq = $1 AND ticket = $2",
                 pg::params().add(*before).add(id), fmt::format("cannot read the history of ticket {}", id));
    PLAINT_TRY(r);
    if (r->rows() == 0) return Error{errc::invalid, fmt::format("cursor {} is not an event of ticket {}", *before, id)};
  }
  const int n = std::clamp(limit, 1, max_page);
  auto r = run("history_page",
               "WITH RECURSIVE chain (seq, n) AS ("
               "  SELECT CASE WHEN $2::bigint IS NULL THEN t.last_event"
               "         ELSE (SELECT e.ticket_prev FROM events e WHERE e.seq = $2::bigint AND e.ticket = $1"
               "               AND e.ticket_prev < e.seq)"
               "         END, 1 FROM tickets t WHERE t.id = $1"
               "  UNION ALL"
               "  SELECT e.ticket_prev, chain.n + 1 FROM events e JOIN chain ON e.seq = chain.seq"
               "  WHERE e.ticket = $1 AND e.ticket_prev > 0 AND e.ticket_prev < e.seq AND chain.n < $3)"
               " SELECT e.seq, e.ticket, e.at, e.actor, e.event, e.from_state, e.to_state, e.version, e.payload,"
               " e.prev_hash, e.hash, e.ticket_prev FROM chain JOIN events e ON e.seq = chain.seq"
               " WHERE e.ticket = $1 ORDER BY e.seq DESC LIMIT $3",
               pg::params().add(id).add(before).add(std::int64_t{n} + 1),
               fmt::format("cannot read the history of ticket {}", id));
  PLAINT_TRY(r);
  auto events = checked_rows<engine::event_record>(*r, read_event<pg::row>);
  PLAINT_TRY(events);
  engine::event_page page;
  page.events = std::move(*events);
  if (page.events.size() > static_cast<std::size_t>(n)) {
    page.events.pop_back();
    page.next_cursor = page.events.back().seq;
  }
  std::reverse(page.events.begin(), page.events.end());
  return page;
}

engine::Result<std::vector<engine::customer_change>> pg_store::customer_history(std::string_view id, int limit) {
  PLAINT_TRY(ready());
  auto r = run("customer_changes_of",
               "SELECT " PLAINT_CUSTOMER_CHANGE_COLUMNS " FROM customer_changes WHERE customer = $1 ORDER BY seq DESC "
               "LIMIT $2",
               pg::params().add(id).add(std::int64_t{std::clamp(limit, 1, max_page)}),
               fmt::format("cannot read the changes of customer '{}'", id));
  PLAINT_TRY(r);
  auto out = checked_rows<engine::customer_change>(*r, read_customer_change<pg::row>);
  PLAINT_TRY(out);
  std::reverse(out->begin(), out->end());
  return out;
}

engine::Result<std::vector<engine::timer>> pg_store::ticket_timers(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto r = run("timers_of_ticket", "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE ticket = $1 ORDER BY id",
               pg::params().add(id), fmt::format("cannot read the timers of ticket {}", id));
  PLAINT_TRY(r);
  return all_rows<engine::timer>(*r, read_timer<pg::row>);
}

engine::Result<std::optional<std::string>> pg_store::get_setting(std::string_view key) {
  PLAINT_TRY(ready());
  auto r = run("setting_get", "SELECT value FROM settings WHERE key = $1", pg::params().add(key),
               fmt::format("cannot read setting '{}'", key));
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->text(0, 0));
}

engine::Result<std::vector<engine::notification>> pg_store::ticket_notifications(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto r = run("notifications_of_ticket",
               "SELECT " PLAINT_NOTIFICATION_COLUMNS " FROM notifications WHERE ticket = $1 ORDER BY id",
               pg::params().add(id), fmt::format("cannot read the notifications of ticket {}", id));
  PLAINT_TRY(r);
  return all_rows<engine::notification>(*r, read_notification<pg::row>);
}

engine::Result<std::optional<engine::api_token>> pg_store::find_token(std::string_view id) {
  PLAINT_TRY(ready());
  auto r = run("token_by_id", "SELECT " PLAINT_TOKEN_COLUMNS " FROM tokens WHERE id = $1", pg::params().add(id),
               fmt::format("cannot read token '{}'", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<engine::api_token>();
  return std::optional<engine::api_token>(read_token(pg::row(*r, 0)));
}

engine::Result<std::vector<engine::api_token>> pg_store::list_tokens() {
  PLAINT_TRY(ready());
  auto r = run("tokens_all", "SELECT " PLAINT_TOKEN_COLUMNS " FROM tokens ORDER BY created_at, id", pg::params(),
               "cannot read the tokens");
  PLAINT_TRY(r);
  return all_rows<engine::api_token>(*r, read_token<pg::row>);
}

engine::Result<std::optional<engine::person>> pg_store::find_person(std::string_view id) {
  PLAINT_TRY(ready());
  auto r = run("person_by_id", "SELECT " PLAINT_PERSON_COLUMNS " FROM people WHERE id = $1", pg::params().add(id),
               fmt::format("cannot read person '{}'", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<engine::person>();
  return std::optional<engine::person>(read_person(pg::row(*r, 0)));
}

engine::Result<std::vector<engine::person>> pg_store::list_people() {
  PLAINT_TRY(ready());
  auto r = run("people_all", "SELECT " PLAINT_PERSON_COLUMNS " FROM people ORDER BY id", pg::params(),
               "cannot read the people");
  PLAINT_TRY(r);
  return all_rows<engine::person>(*r, read_person<pg::row>);
}

engine::Result<std::optional<engine::web_session>> pg_store::find_session(std::string_view id) {
  PLAINT_TRY(ready());
  auto r = run("session_by_id", "SELECT " PLAINT_SESSION_COLUMNS " FROM sessions WHERE id = $1", pg::params().add(id),
               "cannot read a session");
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<engine::web_session>();
  return std::optional<engine::web_session>(read_session(pg::row(*r, 0)));
}

engine::Result<std::vector<engine::attachment>> pg_store::ticket_attachments(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto r = run("attachments_of_ticket",
               "SELECT " PLAINT_ATTACHMENT_HEAD " FROM attachments WHERE ticket = $1 ORDER BY id", pg::params().add(id),
               fmt::format("cannot read the attachments of ticket {}", id));
  PLAINT_TRY(r);
  return all_rows<engine::attachment>(*r, [](const pg::row& row) { return read_attachment(row, false); });
}

engine::Result<std::optional<engine::attachment>> pg_store::get_attachment(std::int64_t id) {
  PLAINT_TRY(ready());
  auto r = run("attachment_by_id", "SELECT " PLAINT_ATTACHMENT_COLUMNS " FROM attachments WHERE id = $1",
               pg::params().add(id), fmt::format("cannot read attachment {}", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<engine::attachment>();
  return std::optional<engine::attachment>(read_attachment(pg::row(*r, 0), true));
}

engine::Result<std::vector<engine::webhook>> pg_store::list_webhooks() {
  PLAINT_TRY(ready());
  auto r = run("webhooks_all", "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks ORDER BY id", pg::params(),
               "cannot read the webhooks");
  PLAINT_TRY(r);
  return checked_rows<engine::webhook>(*r, read_webhook<pg::row>);
}

engine::Result<std::optional<engine::webhook>> pg_store::find_webhook(std::int64_t id) {
  PLAINT_TRY(ready());
  auto r = run("webhook_by_id", "SELECT " PLAINT_WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1", pg::params().add(id),
               fmt::format("cannot read webhook {}", id));
  PLAINT_TRY(r);
  if (r->rows() == 0) return std::optional<engine::webhook>();
  auto w = read_webhook(pg::row(*r, 0));
  PLAINT_TRY(w);
  return std::optional<engine::webhook>(std::move(*w));
}

engine::Result<std::vector<engine::outbox_item>> pg_store::list_outbox(std::string_view channel, std::string_view target,
                                                                       std::string_view state, int limit) {
  PLAINT_TRY(ready());
  auto r = run("outbox_list",
               "SELECT " PLAINT_OUTBOX_COLUMNS " FROM outbox WHERE ($1 = '' OR channel = $1) AND ($2 = '' OR target = $2)"
               " AND ($3 = '' OR state = $3) ORDER BY id DESC LIMIT $4",
               pg::params().add(channel).add(target).add(state).add(std::int64_t{std::clamp(limit, 1, max_page)}),
               "cannot read the outbox");
  PLAINT_TRY(r);
  return all_rows<engine::outbox_item>(*r, read_outbox<pg::row>);
}

engine::Result<std::vector<engine::outbox_count>> pg_store::count_outbox() {
  PLAINT_TRY(ready());
  auto r = run("outbox_counts",
               "SELECT channel, state, sum(events), min(created_at) FROM outbox GROUP BY channel, state "
               "ORDER BY channel, state",
               pg::params(), "cannot count the outbox");
  PLAINT_TRY(r);
  return all_rows<engine::outbox_count>(*r, [](const pg::row& row) {
    return engine::outbox_count{row.text_at(0), row.text_at(1), row.int_at(2), row.opt_int_at(3)};
  });
}

engine::Result<std::optional<engine::timestamp>> pg_store::next_outbox_due(std::string_view channel) {
  PLAINT_TRY(ready());
  auto r = channel.empty()
               ? run("outbox_next_due", "SELECT min(next_at) FROM outbox WHERE state = 'pending'", pg::params(),
                     "cannot read the outbox")
               : run("outbox_next_due_of", "SELECT min(next_at) FROM outbox WHERE state = 'pending' AND channel = $1",
                     pg::params().add(channel), "cannot read the outbox");
  PLAINT_TRY(r);
  return r->opt_integer(0, 0);
}

engine::Result<std::vector<engine::timer>> pg_store::due_timers(engine::timestamp now, int limit) {
  PLAINT_TRY(ready());
  auto r = run("timers_due",
               "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE status = 'pending' AND due_at <= $1 "
               "ORDER BY due_at, id LIMIT $2",
               pg::params().add(now).add(std::int64_t{limit}), "cannot read the due timers");
  PLAINT_TRY(r);
  return all_rows<engine::timer>(*r, read_timer<pg::row>);
}

engine::Result<std::optional<engine::timestamp>> pg_store::next_due() {
  PLAINT_TRY(ready());
  auto r = run("timer_next", "SELECT min(due_at) FROM timers WHERE status = 'pending'", pg::params(),
               "cannot read the next due timer");
  PLAINT_TRY(r);
  return r->opt_integer(0, 0);
}

engine::Result<std::int64_t> pg_store::count_pending_timers() {
  PLAINT_TRY(ready());
  auto r = run("timers_pending_count", "SELECT count(*) FROM timers WHERE status = 'pending'", pg::params(),
               "cannot count the pending timers");
  PLAINT_TRY(r);
  return r->integer(0, 0);
}

engine::Result<std::int64_t> pg_store::last_event_seq() {
  PLAINT_TRY(ready());
  auto r = run("event_last", "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", pg::params(),
               "cannot read the end of the audit log");
  PLAINT_TRY(r);
  return r->rows() ? r->integer(0, 0) : std::int64_t{0};
}

engine::Result<std::vector<engine::ticket>> pg_store::attention_board(engine::timestamp now, int limit) {
  PLAINT_TRY(ready());
  auto r = run("attention_board",
               "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets"
               " WHERE state <> 'closed' AND closed_at IS NULL AND ("
               "   level > 1"
               "   OR " PLAINT_BREACHED("$1::bigint")
               "   OR (first_response_at IS NULL AND first_response_warn_at <= $1::bigint)"
               "   OR (resolved_at IS NULL AND paused_at IS NULL AND resolution_warn_at <= $1::bigint))"
               " ORDER BY created_at, id LIMIT $2",
               pg::params().add(now).add(std::int64_t{limit}), "cannot read the escalation board");
  PLAINT_TRY(r);
  return checked_rows<engine::ticket>(*r, read_ticket<pg::row>);
}

// The walks read a page at a time (by key, after the last one seen), so a
// callback may use this store, and memory stays bounded on any table.
namespace {

template <class T, class Read, class Key>
engine::Status walk(pg_store& s, std::int64_t after, const char* name, const char* sql, Read read, Key key,
                    const std::function<bool(const T&)>& fn, engine::Result<pg::result> (pg_store::*run)(
                        const char*, const char*, const pg::params&, std::string_view)) {
  for (;;) {
    auto r = (s.*run)(name, sql, pg::params().add(after).add(std::int64_t{scan_page}), "cannot walk a table");
    PLAINT_TRY(r);
    for (int i = 0; i < r->rows(); ++i) {
      auto v = read(pg::row(*r, i));
      PLAINT_TRY(v);
      after = key(*v);
      if (!fn(*v)) return {};
    }
    if (r->rows() < scan_page) return {};
  }
}

template <class T>
engine::Result<T> ok_value(T v) {
  return v;
}

}  // namespace

engine::Status pg_store::scan_customers(const std::function<bool(const engine::customer&)>& fn) {
  PLAINT_TRY(ready());
  // Customers are keyed by text: one read (a desk has thousands, not millions).
  auto all = list_customers();
  PLAINT_TRY(all);
  for (const auto& c : *all)
    if (!fn(c)) break;
  return {};
}

engine::Status pg_store::scan_tickets(const std::function<bool(const engine::ticket&)>& fn) {
  PLAINT_TRY(ready());
  return walk<engine::ticket>(
      *this, 0, "scan_tickets", "SELECT " PLAINT_TICKET_COLUMNS " FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
      [](const pg::row& r) { return read_ticket(r); }, [](const engine::ticket& t) { return t.id; }, fn, &pg_store::run);
}

engine::Status pg_store::scan_period(engine::timestamp from, engine::timestamp to, const period_queries& queries,
                                     const std::function<engine::Result<bool>(const pg::row&)>& read_row) {
  PLAINT_TRY(ready());
  // Both walks read one snapshot (a ticket closed or reopened meanwhile
  // is seen once, in one of them), in a read-only transaction of its own
  // unless the caller has one open.
  bool own = false;
  if (!in_transaction_) {
    if (!db_->ok()) PLAINT_TRY(db_->reconnect());
    PLAINT_TRY(db_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot begin a read"));
    own = in_transaction_ = true;
  }
  struct end_read {
    pg_store& s;
    bool own;
    ~end_read() {
      if (!own) return;
      (void)s.db_->exec("COMMIT", "end a read");
      s.in_transaction_ = false;
    }
  } finish{*this, own};
  const char* what = "cannot read the tickets of the period";
  // The open tickets by (created_at, id) up to `to`, then the closed ones
  // by (closed_at, id) from `from` on, a page at a time: the indexes on the
  // instants (tickets_created, tickets_closed) drive both, so a period
  // before the first ticket reads nothing (by id, the open walk read every
  // open ticket to find none: 0.1 s on a 200,000-ticket desk).
  std::int64_t created_after = std::numeric_limits<std::int64_t>::min(), after = 0;
  for (;;) {
    auto r = run(queries.open_name, queries.open_sql,
                 pg::params().add(created_after).add(after).add(to).add(std::int64_t{scan_page}), what);
    PLAINT_TRY(r);
    for (int i = 0; i < r->rows(); ++i) {
      const pg::row row(*r, i);
      created_after = row.int_at(queries.created_at_column);
      after = row.int_at(0);
      auto more = read_row(row);
      PLAINT_TRY(more);
      if (!*more) return {};
    }
    if (r->rows() < scan_page) break;
  }
  std::int64_t closed_after = from, id_after = 0;
  for (;;) {
    // Unprepared: planned for this period, the planner walks tickets_closed
    // from `from` on, or, early in the history, the few tickets created
    // before `to` (tickets_opened, schema 16).
    auto r = run("", queries.closed_sql,
                 pg::params().add(closed_after).add(id_after).add(to).add(std::int64_t{scan_page}), what);
    PLAINT_TRY(r);
    for (int i = 0; i < r->rows(); ++i) {
      const pg::row row(*r, i);
      closed_after = row.opt_int_at(queries.closed_at_column).value_or(closed_after);
      id_after = row.int_at(0);
      auto more = read_row(row);
      PLAINT_TRY(more);
      if (!*more) return {};
    }
    if (r->rows() < scan_page) return {};
  }
}

// The open part selects by (created_at, id) after ($1, $2), created before
// $3, $4 rows; the closed part
// by (closed_at, id) after ($1, $2), created before $3, $4 rows.
#define PLAINT_PERIOD_OPEN(columns)                                                                  \
  "SELECT " columns " FROM tickets WHERE state <> 'closed' AND closed_at IS NULL AND created_at < $3"   \
  " AND (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $4"
#define PLAINT_PERIOD_CLOSED(columns)                                                          \
  "SELECT " columns " FROM tickets WHERE closed_at >= $1 AND (closed_at, id) > ($1, $2)"         \
  " AND created_at < $3 ORDER BY closed_at, id LIMIT $4"

engine::Status pg_store::scan_tickets_active(engine::timestamp from, engine::timestamp to,
                                            const std::function<bool(const engine::ticket&)>& fn) {
  static const period_queries queries{"tickets_active_open", PLAINT_PERIOD_OPEN(PLAINT_TICKET_COLUMNS),
                                      PLAINT_PERIOD_CLOSED(PLAINT_TICKET_COLUMNS), 13, 25};
  return scan_period(from, to, queries, [&](const pg::row& row) -> engine::Result<bool> {
    auto t = read_ticket(row);
    PLAINT_TRY(t);
    return fn(*t);
  });
}

engine::Status pg_store::scan_period_figures(engine::timestamp from, engine::timestamp to,
                                            const std::function<bool(const engine::ticket_figures&)>& fn) {
  static const period_queries queries{"figures_active_open", PLAINT_PERIOD_OPEN(PLAINT_FIGURES_COLUMNS),
                                      PLAINT_PERIOD_CLOSED(PLAINT_FIGURES_COLUMNS), 1, 7};
  return scan_period(from, to, queries, [&](const pg::row& row) -> engine::Result<bool> { return fn(read_figures(row)); });
}

engine::Status pg_store::scan_events(std::int64_t after_seq, const std::function<bool(const engine::event_record&)>& fn) {
  PLAINT_TRY(ready());
  return walk<engine::event_record>(
      *this, after_seq, "scan_events", "SELECT " PLAINT_EVENT_COLUMNS " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
      [](const pg::row& r) { return read_event(r); }, [](const engine::event_record& e) { return e.seq; }, fn,
      &pg_store::run);
}

engine::Status pg_store::scan_timers(const std::function<bool(const engine::timer&)>& fn) {
  PLAINT_TRY(ready());
  return walk<engine::timer>(
      *this, 0, "scan_timers", "SELECT " PLAINT_TIMER_COLUMNS " FROM timers WHERE id > $1 ORDER BY id LIMIT $2",
      [](const pg::row& r) { return ok_value(read_timer(r)); }, [](const engine::timer& t) { return t.id; }, fn,
      &pg_store::run);
}

engine::Status pg_store::scan_customer_changes(const std::function<bool(const engine::customer_change&)>& fn) {
  PLAINT_TRY(ready());
  return walk<engine::customer_change>(
      *this, 0, "scan_customer_changes",
      "SELECT " PLAINT_CUSTOMER_CHANGE_COLUMNS " FROM customer_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
      [](const pg::row& r) { return read_customer_change(r); }, [](const engine::customer_change& c) { return c.seq; },
      fn, &pg_store::run);
}

}  // namespace plaint::storage
