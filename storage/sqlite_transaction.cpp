// Writes of the SQLite store. This is the executor's hot path (one
// transaction per transition), so statements come from the connection's
// cache, JSON goes through one reused buffer, and error messages are
// formatted only when something failed.
#include "storage/sqlite_transaction.h"

#include <algorithm>

#include <fmt/format.h>
#include <sqlite3.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "storage/pairs.h"
#include "storage/sqlite_queries.h"

namespace plaint::storage {

using engine::errc;
using engine::Error;

namespace {

// Runs a statement that returns no rows; `what` names it if it fails.
template <class What>
engine::Status run(const connection& db, statement& s, What&& what) {
  const int rc = s.step();
  if (rc != sqlite_done) return db.error(rc, what());
  return {};
}

}  // namespace

sqlite_transaction::sqlite_transaction(sqlite_store& store) : store_(store) {
  store_.in_transaction_ = true;
}

// After commit() the store is already free and may hold a newer transaction,
// which this destructor must leave alone.
sqlite_transaction::~sqlite_transaction() {
  if (committed_) return;
  if (!store_.db_.autocommit()) {
    auto st = store_.stmts_.acquire(q::rollback);
    if (!st.ok() || (*st)->step() != sqlite_done) (void)store_.db_.exec("ROLLBACK", "cannot roll back");
  }
  store_.in_transaction_ = false;
}

engine::Status sqlite_transaction::live() const {
  if (committed_)
    return Error{errc::internal,
                 fmt::format("the transaction on database {} was already committed", store_.db_.path())};
  if (store_.db_.autocommit())
    return Error{errc::internal,
                 fmt::format("the transaction on database {} was rolled back after an earlier failure",
                             store_.db_.path())};
  return {};
}

engine::Result<std::optional<engine::ticket>> sqlite_transaction::find_ticket(engine::ticket_id id) {
  PLAINT_TRY(live());
  return store_.load_ticket(id);
}

engine::Result<std::optional<engine::customer>> sqlite_transaction::find_customer(std::string_view id) {
  PLAINT_TRY(live());
  return store_.load_customer(id);
}

engine::Result<std::optional<engine::idempotency_record>> sqlite_transaction::find_idempotency(
    std::string_view key) {
  PLAINT_TRY(live());
  return store_.load_idempotency(key);
}

engine::Status sqlite_transaction::put_customer(const engine::customer& c) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::customer_put);
  PLAINT_TRY(st);
  bind_customer(**st, c, json_buf_);
  return run(store_.db_, **st, [&] { return fmt::format("cannot save customer '{}'", c.id); });
}

engine::Result<engine::ticket_id> sqlite_transaction::insert_ticket(const engine::ticket& t) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::ticket_insert);
  PLAINT_TRY(st);
  bind_ticket(**st, t, json_buf_);
  PLAINT_TRY(run(store_.db_, **st, [&] {
    return t.id == 0 ? fmt::format("cannot add a ticket for customer '{}'", t.customer)
                     : fmt::format("cannot add ticket {}", t.id);
  }));
  return t.id != 0 ? t.id : store_.db_.last_insert_id();
}

engine::Status sqlite_transaction::update_ticket(const engine::ticket& t, const engine::ticket& before) {
  PLAINT_TRY(live());
  {
    auto st = store_.stmts_.acquire(q::ticket_update);
    PLAINT_TRY(st);
    bind_ticket_update(**st, t, before.version);
    PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot update ticket {}", t.id); }));
    if (store_.db_.changes() == 1) {
      if (figures_moved(t, before)) {
        // The KPI index's columns and the checked ones, in a statement of
        // their own so that most events leave that index alone.
        auto figures = store_.stmts_.acquire(q::ticket_update_figures);
        PLAINT_TRY(figures);
        (*figures)->bind(1, t.id);
        bind_ticket_figures(**figures, t, 2, json_buf_);
        PLAINT_TRY(run(store_.db_, **figures, [&] { return fmt::format("cannot update ticket {}", t.id); }));
      }
      if (t.state == before.state && t.owner == before.owner && t.level == before.level &&
          t.category == before.category && t.priority == before.priority)
        return {};
      // A separate statement so that SQLite rewrites the state, owner and
      // level index entries, and checks category and priority, only when
      // one of them moved.
      auto moved = store_.stmts_.acquire(q::ticket_update_listed);
      PLAINT_TRY(moved);
      (*moved)->bind(1, t.id);
      (*moved)->bind(2, t.state);
      (*moved)->bind(3, t.owner);
      (*moved)->bind(4, std::int64_t{t.level});
      (*moved)->bind(5, t.category);
      (*moved)->bind(6, t.priority);
      return run(store_.db_, **moved, [&] { return fmt::format("cannot update ticket {}", t.id); });
    }
  }
  // Nothing matched: tell a missing ticket from a stale version.
  auto found = store_.load_ticket(t.id);
  PLAINT_TRY(found);
  if (!*found) return Error{errc::not_found, fmt::format("ticket {} does not exist", t.id)};
  return Error{errc::conflict, fmt::format("ticket {} was changed by someone else; it is no longer at version {}",
                                           t.id, before.version)};
}

engine::Status sqlite_transaction::read_tail() {
  auto st = store_.stmts_.acquire(q::event_last);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc == sqlite_row) {
    last_seq_ = (*st)->int_at(0);
    last_hash_.assign((*st)->view_at(1));
  } else if (rc == sqlite_done) {
    last_seq_ = 0;
    last_hash_ = engine::genesis_hash;
  } else {
    return store_.db_.error(rc, "cannot read the end of the audit log");
  }
  have_tail_ = true;
  return {};
}

engine::Result<std::int64_t> sqlite_transaction::next_event_seq() {
  PLAINT_TRY(live());
  if (!have_tail_) PLAINT_TRY(read_tail());
  return last_seq_ + 1;
}

engine::Result<engine::event_record> sqlite_transaction::append_event(engine::event_record e) {
  PLAINT_TRY(live());
  if (!have_tail_) PLAINT_TRY(read_tail());
  e.seq = last_seq_ + 1;
  e.prev_hash = last_hash_;
  e.hash = engine::audit_hash(e.prev_hash, e);
  auto st = store_.stmts_.acquire(q::event_insert);
  PLAINT_TRY(st);
  bind_event(**st, e, json_buf_);
  (*st)->bind(12, e.ticket_prev);
  PLAINT_TRY(run(store_.db_, **st, [&] {
    return fmt::format("cannot append event {} of ticket {} to the audit log", e.seq, e.ticket);
  }));
  last_seq_ = e.seq;
  last_hash_ = e.hash;
  return e;
}

engine::Status sqlite_transaction::insert_event_verbatim(const engine::event_record& e) {
  PLAINT_TRY(live());
  have_tail_ = false;  // the log's end may have moved
  auto found = store_.load_ticket(e.ticket);
  PLAINT_TRY(found);
  if (!*found) return Error{errc::invalid, fmt::format("event {} names ticket {}, which is not in the file", e.seq, e.ticket)};
  // Linked as the executor links: the ticket names its newest event, the
  // event the ticket's previous one.
  auto link = store_.stmts_.acquire(q::ticket_link);
  PLAINT_TRY(link);
  (*link)->bind(1, e.ticket);
  (*link)->bind(2, e.seq);
  PLAINT_TRY(run(store_.db_, **link, [&] { return fmt::format("cannot import event {}", e.seq); }));
  auto st = store_.stmts_.acquire(q::event_insert);
  PLAINT_TRY(st);
  bind_event(**st, e, json_buf_);
  (*st)->bind(12, (*found)->last_event);
  return run(store_.db_, **st, [&] { return fmt::format("cannot import event {}", e.seq); });
}

engine::Status sqlite_transaction::schedule_timer(engine::ticket_id id, std::string_view kind,
                                                  engine::timestamp due) {
  PLAINT_TRY(live());
  auto what = [&] { return fmt::format("cannot schedule the {} timer of ticket {}", kind, id); };
  for (const q::id query : {q::timer_move, q::timer_arm}) {
    auto st = store_.stmts_.acquire(query);
    PLAINT_TRY(st);
    (*st)->bind(1, id);
    (*st)->bind(2, kind);
    (*st)->bind(3, due);
    PLAINT_TRY(run(store_.db_, **st, what));
    if (store_.db_.changes() > 0) return {};
  }
  return Error{errc::internal, what() + ": no row was written"};
}

engine::Status sqlite_transaction::cancel_timer(engine::ticket_id id, std::string_view kind) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::timer_cancel);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  (*st)->bind(2, kind);
  return run(store_.db_, **st, [&] { return fmt::format("cannot cancel the {} timer of ticket {}", kind, id); });
}

engine::Status sqlite_transaction::insert_timer_verbatim(const engine::timer& t) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::timer_insert);
  PLAINT_TRY(st);
  bind_timer(**st, t);
  return run(store_.db_, **st, [&] { return fmt::format("cannot import timer {} of ticket {}", t.id, t.ticket); });
}

engine::Status sqlite_transaction::index_text(engine::ticket_id id, std::int64_t slot, std::string_view text) {
  PLAINT_TRY(live());
  if (id < 0 || id > search_max_ticket || slot < 0 || slot > search_max_slot)
    return Error{errc::invalid, fmt::format("cannot index text {} of ticket {}: the search index holds ticket ids up "
                                             "to {} and {} texts per ticket",
                                             slot, id, search_max_ticket, search_max_slot + 1)};
  const std::int64_t key = (id << search_slot_bits) | slot;
  auto st = store_.stmts_.acquire(q::search_text_insert);
  PLAINT_TRY(st);
  (*st)->bind(1, key);
  (*st)->bind(2, text);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot index the text of ticket {}", id); }));
  // The search file takes the text in after the commit, with others
  // (storage/sqlite_search.h); until then a search reads it here.
  ++texts_;
  return {};
}

engine::Status sqlite_transaction::put_idempotency(const engine::idempotency_record& r) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::idempotency_put);
  PLAINT_TRY(st);
  bind_idempotency(**st, r);
  return run(store_.db_, **st, [&] { return fmt::format("cannot save idempotency key '{}'", r.key); });
}

engine::Result<std::int64_t> sqlite_transaction::prune_idempotency(engine::timestamp before, int limit) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::idempotency_prune);
  PLAINT_TRY(st);
  (*st)->bind(1, before);
  (*st)->bind(2, std::int64_t{limit});
  PLAINT_TRY(run(store_.db_, **st, [] { return std::string("cannot prune expired idempotency keys"); }));
  return std::int64_t{store_.db_.changes()};
}

engine::Result<std::int64_t> sqlite_transaction::prune_outbox(engine::timestamp before, int limit) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::outbox_prune);
  PLAINT_TRY(st);
  (*st)->bind(1, before);
  (*st)->bind(2, std::int64_t{limit});
  PLAINT_TRY(run(store_.db_, **st, [] { return std::string("cannot prune the outbox"); }));
  return std::int64_t{store_.db_.changes()};
}

// Customer changes are rare (beside transitions), so the log's end is read
// afresh for each one instead of being cached like the events' tail.
engine::Result<engine::customer_change> sqlite_transaction::append_customer_change(engine::customer_change c) {
  PLAINT_TRY(live());
  {
    auto last = store_.stmts_.acquire(q::customer_change_last);
    PLAINT_TRY(last);
    const int rc = (*last)->step();
    if (rc != sqlite_row && rc != sqlite_done) return store_.db_.error(rc, "cannot read the end of the customer log");
    c.seq = rc == sqlite_row ? (*last)->int_at(0) + 1 : 1;
    c.prev_hash = rc == sqlite_row ? (*last)->text_at(1) : engine::genesis_hash;
  }
  c.hash = engine::customer_change_hash(c.prev_hash, c);
  PLAINT_TRY(insert_customer_change_verbatim(c));
  return c;
}

engine::Status sqlite_transaction::insert_customer_change_verbatim(const engine::customer_change& c) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::customer_change_insert);
  PLAINT_TRY(st);
  bind_customer_change(**st, c, json_buf_);
  return run(store_.db_, **st, [&] { return fmt::format("cannot log change {} of customer '{}'", c.seq, c.customer); });
}

engine::Status sqlite_transaction::put_setting(std::string_view key, std::string_view value) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::setting_put);
  PLAINT_TRY(st);
  (*st)->bind(1, key);
  (*st)->bind(2, value);
  return run(store_.db_, **st, [&] { return fmt::format("cannot save setting '{}'", key); });
}

engine::Result<std::vector<engine::timer>> sqlite_transaction::due_timers_of(engine::ticket_id id,
                                                                             engine::timestamp now) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::timers_due_of_ticket);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  (*st)->bind(2, now);
  std::vector<engine::timer> out;
  for (;;) {
    const int rc = (*st)->step();
    if (rc == sqlite_done) return out;
    if (rc != sqlite_row) return store_.db_.error(rc, fmt::format("cannot read the due timers of ticket {}", id));
    out.push_back(read_timer(**st));
  }
}

engine::Result<bool> sqlite_transaction::claim_timer(std::int64_t timer_id, engine::timestamp at) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::timer_claim);
  PLAINT_TRY(st);
  (*st)->bind(1, timer_id);
  (*st)->bind(2, at);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot fire timer {}", timer_id); }));
  return store_.db_.changes() == 1;
}

engine::Status sqlite_transaction::add_notification(const engine::notification& n) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::notification_insert);
  PLAINT_TRY(st);
  bind_notification(**st, n);
  return run(store_.db_, **st, [&] { return fmt::format("cannot record a notification for ticket {}", n.ticket); });
}

engine::Status sqlite_transaction::put_token(const engine::api_token& t) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::token_insert);
  PLAINT_TRY(st);
  bind_token(**st, t);
  const int rc = (*st)->step();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return Error{errc::conflict, fmt::format("cannot save token '{}' of {}: its id is taken", t.id, t.name)};
  if (rc != sqlite_done) return store_.db_.error(rc, fmt::format("cannot save token '{}' of {}", t.id, t.name));
  return {};
}

engine::Result<int> sqlite_transaction::revoke_tokens(std::string_view name_or_id, engine::timestamp at) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::tokens_revoke);
  PLAINT_TRY(st);
  (*st)->bind(1, name_or_id);
  (*st)->bind(2, at);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot revoke the tokens of '{}'", name_or_id); }));
  return store_.db_.changes();
}

engine::Result<bool> sqlite_transaction::has_people() {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::people_any);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc != sqlite_row) return store_.db_.error(rc, "cannot read the people");
  return (*st)->int_at(0) != 0;
}

engine::Result<std::optional<engine::person>> sqlite_transaction::find_person(std::string_view id) {
  PLAINT_TRY(live());
  return store_.load_person(id);
}

engine::Status sqlite_transaction::put_person(const engine::person& p) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::person_put);
  PLAINT_TRY(st);
  bind_person(**st, p);
  return run(store_.db_, **st, [&] { return fmt::format("cannot save person '{}'", p.id); });
}

engine::Status sqlite_transaction::put_session(const engine::web_session& s) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::session_put);
  PLAINT_TRY(st);
  bind_session(**st, s);
  return run(store_.db_, **st, [&] { return fmt::format("cannot save a session of '{}'", s.person); });
}

engine::Status sqlite_transaction::delete_session(std::string_view id) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::session_delete);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  return run(store_.db_, **st, [&] { return std::string("cannot delete a session"); });
}

engine::Result<int> sqlite_transaction::delete_sessions_of(std::string_view person) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::sessions_of_delete);
  PLAINT_TRY(st);
  (*st)->bind(1, person);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot end the sessions of '{}'", person); }));
  return store_.db_.changes();
}

engine::Result<int> sqlite_transaction::prune_sessions(engine::timestamp now, int limit) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::sessions_prune);
  PLAINT_TRY(st);
  (*st)->bind(1, now);
  (*st)->bind(2, static_cast<std::int64_t>(limit));
  PLAINT_TRY(run(store_.db_, **st, [&] { return std::string("cannot delete expired sessions"); }));
  return store_.db_.changes();
}

engine::Result<int> sqlite_transaction::trim_sessions_of(std::string_view person, int keep) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::sessions_of_trim);
  PLAINT_TRY(st);
  (*st)->bind(1, person);
  (*st)->bind(2, static_cast<std::int64_t>(keep));
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot trim the sessions of '{}'", person); }));
  return store_.db_.changes();
}

engine::Status sqlite_transaction::commit_writes() {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::commit);
  PLAINT_TRY(st);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot commit to database {}", store_.db_.path()); }));
  committed_ = true;
  store_.in_transaction_ = false;
  if (texts_ > 0) store_.take_in_texts(texts_);
  return {};
}

// ---- channels (schema 7) ---------------------------------------------------

engine::Result<std::optional<engine::mail_link>> sqlite_transaction::find_mail_link(std::string_view message_id) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::mail_link_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, message_id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::mail_link>();
  if (rc != sqlite_row) return store_.db_.error(rc, "cannot look up a message id");
  return std::optional<engine::mail_link>(read_mail_link(**st));
}

engine::Status sqlite_transaction::put_mail_link(const engine::mail_link& m) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::mail_link_insert);
  PLAINT_TRY(st);
  bind_mail_link(**st, m);
  const int rc = (*st)->step();
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return Error{errc::conflict, fmt::format("message <{}> was already taken", m.message_id)};
  if (rc != sqlite_done) return store_.db_.error(rc, fmt::format("cannot record message <{}>", m.message_id));
  return {};
}

engine::Result<std::optional<engine::customer>> sqlite_transaction::find_customer_by_email(std::string_view email) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::customer_by_email);
  PLAINT_TRY(st);
  (*st)->bind(1, email);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::customer>();
  if (rc != sqlite_row) return store_.db_.error(rc, "cannot look up a customer by email");
  auto c = read_customer(**st);
  PLAINT_TRY(c);
  return std::optional<engine::customer>(std::move(*c));
}

engine::Result<std::int64_t> sqlite_transaction::add_attachment(const engine::attachment& a) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::attachment_insert);
  PLAINT_TRY(st);
  bind_attachment(**st, a);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot store attachment '{}' of ticket {}", a.name, a.ticket); }));
  return store_.db_.last_insert_id();
}

engine::Result<std::shared_ptr<const std::vector<engine::webhook>>> sqlite_transaction::live_webhooks() {
  PLAINT_TRY(live());
  if (!webhooks_) {
    auto read = store_.read_webhooks(q::webhooks_live);
    PLAINT_TRY(read);
    webhooks_ = std::make_shared<const std::vector<engine::webhook>>(std::move(*read));
  }
  return webhooks_;
}

engine::Result<std::int64_t> sqlite_transaction::put_webhook(const engine::webhook& w) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::webhook_insert);
  PLAINT_TRY(st);
  webhooks_.reset();
  bind_webhook(**st, w, json_buf_);
  PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot save the webhook to {}", w.url); }));
  return w.id > 0 ? w.id : store_.db_.last_insert_id();
}

engine::Status sqlite_transaction::add_outbox(const engine::outbox_item& o) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::outbox_insert);
  PLAINT_TRY(st);
  bind_outbox(**st, o);
  return run(store_.db_, **st, [&] { return fmt::format("cannot queue a {} delivery for ticket {}", o.channel, o.ticket); });
}

engine::Result<std::vector<engine::outbox_item>> sqlite_transaction::claim_outbox(engine::timestamp now,
                                                                                   engine::timestamp hold_until,
                                                                                   int limit, std::string_view channel) {
  PLAINT_TRY(live());
  std::vector<engine::outbox_item> out;
  {
    auto st = store_.stmts_.acquire(channel.empty() ? q::outbox_claimable : q::outbox_claimable_of);
    PLAINT_TRY(st);
    (*st)->bind(1, now);
    (*st)->bind(2, static_cast<std::int64_t>(limit));
    if (!channel.empty()) (*st)->bind(3, channel);
    for (;;) {
      const int rc = (*st)->step();
      if (rc == sqlite_done) break;
      if (rc != sqlite_row) return store_.db_.error(rc, "cannot read the outbox");
      out.push_back(read_outbox(**st));
    }
  }
  for (auto& o : out) {
    auto st = store_.stmts_.acquire(q::outbox_hold);
    PLAINT_TRY(st);
    (*st)->bind(1, o.id);
    (*st)->bind(2, hold_until);
    PLAINT_TRY(run(store_.db_, **st, [&] { return fmt::format("cannot claim outbox row {}", o.id); }));
    o.claimed_until = hold_until;
  }
  return out;
}

engine::Status sqlite_transaction::update_outbox(const engine::outbox_item& o) {
  PLAINT_TRY(live());
  auto st = store_.stmts_.acquire(q::outbox_update);
  PLAINT_TRY(st);
  bind_outbox_update(**st, o);
  return run(store_.db_, **st, [&] { return fmt::format("cannot update outbox row {}", o.id); });
}

}  // namespace plaint::storage
