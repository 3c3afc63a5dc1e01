// The SQLite store: opening, migrating, beginning transactions and every
// read. Writes live in sqlite_transaction.cpp, the SQL in sqlite_queries.cpp.
#include "storage/sqlite_store.h"

#include <algorithm>
#include <limits>
#include <set>

#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "engine/utf8.h"
#include "storage/pairs.h"
#include "storage/sqlite_queries.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_search.h"
#include "storage/sqlite_transaction.h"

namespace plaint::storage {

using engine::errc;
using engine::Error;

namespace {

constexpr int max_page = 1000;

// Steps `s` to its end, reading each row with `read` and handing it to `fn`;
// stops early when `fn` returns false.
template <class Row, class Read, class Fn>
engine::Status scan_rows(const connection& db, statement& s, Read read, Fn&& fn, std::string_view what) {
  for (;;) {
    const int rc = s.step();
    if (rc == sqlite_done) return {};
    if (rc != sqlite_row) return db.error(rc, what);
    engine::Result<Row> row = read(s);
    PLAINT_TRY(row);
    if (!fn(*row)) return {};
  }
}

template <class Row>
auto append_to(std::vector<Row>& out) {
  return [&out](Row& row) {
    out.push_back(std::move(row));
    return true;
  };
}

}  // namespace

sqlite_store::sqlite_store(connection db, int schema)
    : db_(std::move(db)), stmts_(db_, query_sql, q::count), schema_(schema) {}

// Each file is closed last by a connection that may write it, which folds
// its log back and removes it: the search file by search_ (the desk lets
// go of its read-only attachment first), then the desk by db_ (search_'s
// read-only attachment of the desk is gone by then).
sqlite_store::~sqlite_store() {
  if (search_attached_ != search_attachment::none)
    (void)db_.exec(fmt::format("DETACH {}", search_schema).c_str(), "cannot detach the search index");
  search_.reset();
}

engine::Result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path,
                                                                 std::chrono::milliseconds busy_timeout) {
  auto db = connection::open(path, static_cast<int>(busy_timeout.count()));
  PLAINT_TRY(db);
  auto version = read_schema_version(*db);
  PLAINT_TRY(version);
  std::unique_ptr<sqlite_store> store(new sqlite_store(std::move(*db), *version));
  if (*version == current_schema) PLAINT_TRY(store->attach_search_file());
  return store;
}

engine::Status sqlite_store::attach_search_file() {
  if (search_attached_ != search_attachment::none) {
    PLAINT_TRY(db_.exec(fmt::format("DETACH {}", search_schema).c_str(), "cannot detach the search index"));
    search_attached_ = search_attachment::none;
  }
  auto file = attach_search(db_, db_.path(), db_.busy_timeout());
  if (!file) {
    // The desk stays usable: lists and searches read every text through
    // the stand-in, and the failure is reported.
    if (attach_search_stand_in(db_)) search_attached_ = search_attachment::stand_in;
    return file.error();
  }
  search_attached_ = *file ? search_attachment::file : search_attachment::stand_in;
  if (*file) search_ = std::move(*file);
  return {};
}

void sqlite_store::take_in_texts(std::int64_t texts) {
  if (!search_) {
    auto file = search_file::open(db_.path(), db_.busy_timeout());
    if (!file) return;
    search_ = std::move(*file);
    if (search_attached_ == search_attachment::stand_in) (void)attach_search_file();
  }
  // The commit stands and is answered whatever happens here: another
  // process's take-in under way (a server's indexer) is not waited for
  // longer than a short one takes; it takes these texts in itself. One
  // chunk at most: an import or a rebuild is plaint init's (migrate).
  constexpr int take_in_wait_ms = 100;
  if (search_batch_ <= 0) {
    // An indexer elsewhere takes them in. When more than the backlog wait,
    // this writer takes in twice what it wrote since it last looked, so a
    // flood slows to the indexing rate and the backlog shrinks; a whole
    // rebuild (a search file started afresh) is left to the indexer and
    // plaint init. Looked at once per quarter of the backlog written here:
    // the look is a read of both files, which every commit would pay for.
    texts_since_look_ += texts;
    if (texts_since_look_ < std::max<std::int64_t>(search_backlog_ / 4, 1)) return;
    const std::int64_t written = std::exchange(texts_since_look_, 0);
    auto waiting = search_->waiting();
    if (!waiting || *waiting <= search_backlog_) return;
    search_->set_busy_timeout(std::min(take_in_wait_ms, db_.busy_timeout()));
    (void)search_->take_in(1, std::min<std::int64_t>(2 * written, search_file::chunk));
    return;
  }
  // A read first: most commits find fewer than a batch waiting, and need
  // not queue for the search file's lock (a server's indexer may hold it).
  auto waiting = search_->waiting();
  if (!waiting || *waiting < search_batch_) return;
  search_->set_busy_timeout(std::min(take_in_wait_ms, db_.busy_timeout()));
  (void)search_->take_in(search_batch_, search_file::chunk);
}

std::string sqlite_store::path() const { return db_.path(); }

void sqlite_store::set_busy_timeout(std::chrono::milliseconds timeout) {
  db_.set_busy_timeout(static_cast<int>(timeout.count()));
}

engine::Status sqlite_store::manual_checkpoints() {
  return db_.exec("PRAGMA wal_autocheckpoint = 0", "cannot turn off automatic checkpoints");
}

engine::Status sqlite_store::checkpoint() {
  return db_.exec("PRAGMA main.wal_checkpoint(PASSIVE)", "cannot checkpoint the write-ahead log");
}

engine::Status sqlite_store::migrate() {
  if (in_transaction_)
    return Error{errc::internal, fmt::format("cannot migrate database {} while a transaction is open", db_.path())};
  PLAINT_TRY(migrate_schema(db_));
  auto version = read_schema_version(db_);
  PLAINT_TRY(version);
  schema_ = *version;
  if (!search_) {
    auto file = search_file::open(db_.path(), db_.busy_timeout());
    PLAINT_TRY(file);
    search_ = std::move(*file);
  }
  if (search_attached_ != search_attachment::file) PLAINT_TRY(attach_search_file());
  search_->set_busy_timeout(db_.busy_timeout());
  auto taken = search_->take_in_all(1);
  // A server's indexer holding the search file takes the texts in itself.
  if (!taken && taken.error().code != errc::unavailable) return taken.error();
  return {};
}

std::string sqlite_store::describe() const {
  auto version = read_schema_version(db_);
  return fmt::format("sqlite {}, schema {}, {}", sqlite3_libversion(), version.ok() ? *version : schema_,
                     db_.path());
}

engine::Status sqlite_store::ready() {
  if (schema_ == current_schema && search_attached_ != search_attachment::none) return {};
  auto version = read_schema_version(db_);
  PLAINT_TRY(version);
  schema_ = *version;
  if (schema_ == current_schema) {
    if (search_attached_ == search_attachment::none) PLAINT_TRY(attach_search_file());
    return {};
  }
  if (schema_ == 0)
    return Error{errc::invalid, fmt::format("database {} is not initialised; run plaint init", db_.path())};
  if (schema_ < current_schema)
    return Error{errc::invalid,
                 fmt::format("database {} is at schema {} but this build needs schema {}; run plaint init to upgrade it",
                             db_.path(), schema_, current_schema)};
  return Error{errc::invalid, fmt::format("database {} has schema {}, newer than this build's schema {}; "
                                          "use a newer plaint",
                                          db_.path(), schema_, current_schema)};
}

engine::Result<std::unique_ptr<engine::store_transaction>> sqlite_store::begin() {
  PLAINT_TRY(ready());
  if (in_transaction_)
    return Error{errc::internal,
                 fmt::format("a transaction is already open on database {}; finish it before beginning another",
                             db_.path())};
  // Constructed first so that its destructor cleans up whatever happens next.
  auto tx = std::make_unique<sqlite_transaction>(*this);
  auto st = stmts_.acquire(q::begin);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc != sqlite_done) return db_.error(rc, "cannot begin a transaction");
  // Checked again under the write lock (one read of the cached header page):
  // a newer plaint may have upgraded the file since this connection looked,
  // and rows of the old shape must not go into the new schema.
  auto v = stmts_.acquire(q::schema_version);
  PLAINT_TRY(v);
  if (const int vrc = (*v)->step(); vrc != sqlite_row) return db_.error(vrc, "cannot read the schema version");
  if (const auto now = (*v)->int_at(0); now != current_schema)
    return Error{errc::internal,
                 fmt::format("database {} was changed to schema {} while this process was using it at schema {}; "
                             "restart it with a plaint that matches the file",
                             db_.path(), now, current_schema)};
  return std::unique_ptr<engine::store_transaction>(std::move(tx));
}

engine::Result<std::optional<engine::ticket>> sqlite_store::load_ticket(engine::ticket_id id) {
  auto st = stmts_.acquire(q::ticket_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::ticket>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read ticket {}", id));
  auto t = read_ticket(**st);
  PLAINT_TRY(t);
  return std::optional<engine::ticket>(std::move(*t));
}

engine::Result<std::optional<engine::customer>> sqlite_store::load_customer(std::string_view id) {
  auto st = stmts_.acquire(q::customer_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::customer>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read customer '{}'", id));
  auto c = read_customer(**st);
  PLAINT_TRY(c);
  return std::optional<engine::customer>(std::move(*c));
}

engine::Result<std::optional<engine::idempotency_record>> sqlite_store::load_idempotency(std::string_view key) {
  auto st = stmts_.acquire(q::idempotency_by_key);
  PLAINT_TRY(st);
  (*st)->bind(1, key);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::idempotency_record>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read idempotency key '{}'", key));
  return std::optional<engine::idempotency_record>(read_idempotency(**st));
}

engine::Result<engine::ticket> sqlite_store::get_ticket(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto found = load_ticket(id);
  PLAINT_TRY(found);
  if (!*found) return Error{errc::not_found, fmt::format("ticket {} does not exist", id)};
  return std::move(**found);
}

engine::Result<engine::customer> sqlite_store::get_customer(std::string_view id) {
  PLAINT_TRY(ready());
  auto found = load_customer(id);
  PLAINT_TRY(found);
  if (!*found) return Error{errc::not_found, fmt::format("customer '{}' does not exist", id)};
  return std::move(**found);
}

engine::Result<std::vector<engine::customer>> sqlite_store::list_customers() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::customers_all);
  PLAINT_TRY(st);
  std::vector<engine::customer> out;
  PLAINT_TRY(scan_rows<engine::customer>(db_, **st, read_customer<statement>, append_to(out), "cannot read the customers"));
  return out;
}

void sqlite_store::set_search_batch(std::int64_t texts) { search_batch_ = std::max<std::int64_t>(texts, 0); }

engine::Result<engine::ticket_page> sqlite_store::list_tickets(const engine::ticket_query& query) {
  PLAINT_TRY(ready());
  const int limit = std::clamp(query.limit, 1, max_page);
  const std::size_t wanted = static_cast<std::size_t>(limit) + 1;  // one more: is there a next page?
  const search_kind kind = search_kind_of(query.search);
  const std::string pattern =  // the FTS5 query
      kind == search_kind::trigram ? fts5_literal(query.search)
      : kind == search_kind::pair  ? fts5_pair_literal(query.search)
                                   : std::string();
  const q::id variant = list_query_for(query, kind);
  const bool by_search = variant == q::ticket_if_listed;
  auto st = stmts_.acquire(variant);
  PLAINT_TRY(st);
  statement& s = **st;
  // The filter's parameters, with or without the search's.
  auto bind_filter = [&](statement& f, bool with_search) {
    f.bind(lp_state, query.state);
    f.bind(lp_owner, query.owner);
    f.bind(lp_customer, query.customer);
    if (query.level)
      f.bind(lp_level, std::int64_t{*query.level});
    else
      f.bind_null(lp_level);
    f.bind(lp_open_only, std::int64_t{query.open_only});
    f.bind(lp_breached_only, std::int64_t{query.breached_only});
    f.bind(lp_now, query.now);
    for (auto [param, its_kind] : {std::pair{lp_match, search_kind::trigram}, std::pair{lp_pair, search_kind::pair}}) {
      if (kind == its_kind && with_search)
        f.bind(param, pattern);
      else
        f.bind_null(param);
    }
  };
  bind_filter(s, !by_search);
  constexpr auto no_cursor = std::numeric_limits<std::int64_t>::max();
  const std::int64_t cursor = query.cursor.value_or(no_cursor);

  // The texts the full-text indexes have not taken in yet (fewer than one
  // search batch, see set_search_batch) are matched here, folded as the
  // indexes fold them: the tickets below the cursor with such a text,
  // merged into the page in id order.
  std::set<std::int64_t, std::greater<>> waiting;
  if (kind != search_kind::none) {
    auto tail = stmts_.acquire(q::search_tail_texts);
    PLAINT_TRY(tail);
    const std::string needle = fold_case(query.search);
    for (;;) {
      const int rc = (*tail)->step();
      if (rc == sqlite_done) break;
      if (rc != sqlite_row) return db_.error(rc, "cannot search the tickets");
      const std::int64_t id = (*tail)->int_at(0) >> search_slot_bits;
      if (id < cursor && fold_case((*tail)->view_at(1)).find(needle) != std::string::npos) waiting.insert(id);
    }
  }

  engine::ticket_page page;
  auto keep = append_to(page.tickets);
  // ticket_if_listed: the ticket, if it passes the rest of the filter.
  // When the list is driven by the search, that is `s` itself.
  statement* listed = by_search ? &s : nullptr;
  std::optional<statement_cache::lease> listed_handle;
  if (!listed && !waiting.empty()) {
    auto h = stmts_.acquire(q::ticket_if_listed);
    PLAINT_TRY(h);
    listed_handle.emplace(std::move(*h));
    listed = &**listed_handle;
    bind_filter(*listed, false);
    listed->bind(lp_cursor, no_cursor);
    listed->bind(lp_limit, std::int64_t{1});
  }
  auto check = [&](std::int64_t id) -> engine::Status {
    listed->rewind();
    listed->bind(lp_id, id);
    return scan_rows<engine::ticket>(db_, *listed, read_ticket<statement>, keep, "cannot list tickets");
  };
  // The waiting tickets above `floor`, highest first, while the page has room.
  auto check_waiting_above = [&](std::int64_t floor) -> engine::Status {
    while (!waiting.empty() && *waiting.begin() > floor && page.tickets.size() < wanted) {
      const std::int64_t id = *waiting.begin();
      waiting.erase(waiting.begin());
      PLAINT_TRY(check(id));
    }
    return {};
  };
  if (!by_search) {
    s.bind(lp_cursor, cursor);
    s.bind(lp_limit, static_cast<std::int64_t>(wanted));
    engine::Status failed;
    PLAINT_TRY(scan_rows<engine::ticket>(
        db_, s, read_ticket<statement>,
        [&](engine::ticket& t) {
          if (!waiting.empty()) {
            failed = check_waiting_above(t.id);
            if (!failed.ok()) return false;
            waiting.erase(t.id);
          }
          if (page.tickets.size() < wanted) keep(t);
          return page.tickets.size() < wanted;
        },
        "cannot list tickets"));
    PLAINT_TRY(failed);
    PLAINT_TRY(check_waiting_above(-1));  // the query ended below them, or found fewer than a page
  } else {
    // The matching texts newest ticket first; each ticket once.
    s.bind(lp_cursor, no_cursor);
    s.bind(lp_limit, std::int64_t{1});
    auto rows = stmts_.acquire(kind == search_kind::trigram ? q::search_rows_match : q::search_rows_pair);
    PLAINT_TRY(rows);
    statement& r = **rows;
    r.bind(1, pattern);
    r.bind(2, cursor > search_max_ticket ? no_cursor : std::max<std::int64_t>(cursor, 0) << search_slot_bits);
    std::int64_t previous = -1;
    while (page.tickets.size() < wanted) {
      const int rc = r.step();
      if (rc == sqlite_done) break;
      if (rc != sqlite_row) return db_.error(rc, "cannot search the tickets");
      const std::int64_t id = r.int_at(0);
      if (id == previous) continue;
      previous = id;
      PLAINT_TRY(check_waiting_above(id));
      if (page.tickets.size() >= wanted) break;
      waiting.erase(id);
      PLAINT_TRY(check(id));
    }
    PLAINT_TRY(check_waiting_above(-1));
  }
  if (page.tickets.size() > static_cast<std::size_t>(limit)) {
    page.tickets.pop_back();
    page.next_cursor = page.tickets.back().id;
  }
  return page;
}

engine::Result<std::vector<engine::event_record>> sqlite_store::ticket_events(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::events_of_ticket);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  std::vector<engine::event_record> out;
  PLAINT_TRY(scan_rows<engine::event_record>(db_, **st, read_event<statement>, append_to(out),
                                             fmt::format("cannot read the history of ticket {}", id)));
  return out;
}

engine::Result<engine::event_page> sqlite_store::ticket_history(engine::ticket_id id, std::optional<std::int64_t> before,
                                                                int limit) {
  PLAINT_TRY(ready());
  if (before) {
    auto st = stmts_.acquire(q::event_of_ticket);
    PLAINT_TRY(st);
    (*st)->bind(1, *before);
    (*st)->bind(2, id);
    const int rc = (*st)->step();
    if (rc == sqlite_done)
      return Error{errc::invalid, fmt::format("cursor {} is not an event of ticket {}", *before, id)};
    if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read the history of ticket {}", id));
  }
  const int n = std::clamp(limit, 1, max_page);
  auto st = stmts_.acquire(q::history_page);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  if (before)
    (*st)->bind(2, *before);
  else
    (*st)->bind_null(2);
  (*st)->bind(3, std::int64_t{n} + 1);  // one more, to learn whether older events exist
  engine::event_page page;
  PLAINT_TRY(scan_rows<engine::event_record>(db_, **st, read_event<statement>, append_to(page.events),
                                             fmt::format("cannot read the history of ticket {}", id)));
  if (page.events.size() > static_cast<std::size_t>(n)) {
    page.events.pop_back();
    page.next_cursor = page.events.back().seq;
  }
  std::reverse(page.events.begin(), page.events.end());
  return page;
}

engine::Result<std::vector<engine::customer_change>> sqlite_store::customer_history(std::string_view id, int limit) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::customer_changes_of);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  (*st)->bind(2, std::int64_t{std::clamp(limit, 1, max_page)});
  std::vector<engine::customer_change> out;
  PLAINT_TRY(scan_rows<engine::customer_change>(db_, **st, read_customer_change<statement>, append_to(out),
                                                fmt::format("cannot read the changes of customer '{}'", id)));
  std::reverse(out.begin(), out.end());
  return out;
}

engine::Result<std::vector<engine::timer>> sqlite_store::ticket_timers(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::timers_of_ticket);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  std::vector<engine::timer> out;
  PLAINT_TRY(scan_rows<engine::timer>(db_, **st, read_timer<statement>, append_to(out),
                                      fmt::format("cannot read the timers of ticket {}", id)));
  return out;
}

engine::Result<std::optional<std::string>> sqlite_store::get_setting(std::string_view key) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::setting_get);
  PLAINT_TRY(st);
  (*st)->bind(1, key);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<std::string>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read setting '{}'", key));
  return std::optional<std::string>((*st)->text_at(0));
}

engine::Result<std::vector<engine::notification>> sqlite_store::ticket_notifications(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::notifications_of_ticket);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  std::vector<engine::notification> out;
  PLAINT_TRY(scan_rows<engine::notification>(db_, **st, read_notification<statement>, append_to(out),
                                             fmt::format("cannot read the notifications of ticket {}", id)));
  return out;
}

engine::Result<std::optional<engine::api_token>> sqlite_store::find_token(std::string_view id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::token_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::api_token>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read token '{}'", id));
  return std::optional<engine::api_token>(read_token(**st));
}

engine::Result<std::optional<engine::person>> sqlite_store::load_person(std::string_view id) {
  auto st = stmts_.acquire(q::person_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::person>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read person '{}'", id));
  return std::optional<engine::person>(read_person(**st));
}

engine::Result<std::optional<engine::person>> sqlite_store::find_person(std::string_view id) {
  PLAINT_TRY(ready());
  return load_person(id);
}

engine::Result<std::vector<engine::person>> sqlite_store::list_people() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::people_all);
  PLAINT_TRY(st);
  std::vector<engine::person> out;
  PLAINT_TRY(scan_rows<engine::person>(db_, **st, read_person<statement>, append_to(out), "cannot read the people"));
  return out;
}

engine::Result<std::optional<engine::web_session>> sqlite_store::find_session(std::string_view id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::session_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::web_session>();
  if (rc != sqlite_row) return db_.error(rc, "cannot read a session");
  return std::optional<engine::web_session>(read_session(**st));
}

engine::Result<std::vector<engine::api_token>> sqlite_store::list_tokens() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::tokens_all);
  PLAINT_TRY(st);
  std::vector<engine::api_token> out;
  PLAINT_TRY(scan_rows<engine::api_token>(db_, **st, read_token<statement>, append_to(out), "cannot read the tokens"));
  return out;
}

engine::Result<std::vector<engine::timer>> sqlite_store::due_timers(engine::timestamp now, int limit) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::timers_due);
  PLAINT_TRY(st);
  (*st)->bind(1, now);
  (*st)->bind(2, std::int64_t{limit});
  std::vector<engine::timer> out;
  PLAINT_TRY(scan_rows<engine::timer>(db_, **st, read_timer<statement>, append_to(out), "cannot read the due timers"));
  return out;
}

engine::Result<std::optional<engine::timestamp>> sqlite_store::next_due() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::timer_next);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc != sqlite_row) return db_.error(rc, "cannot read the next due timer");
  return (*st)->opt_int_at(0);
}

engine::Result<std::int64_t> sqlite_store::count_pending_timers() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::timers_pending_count);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc != sqlite_row) return db_.error(rc, "cannot count the pending timers");
  return (*st)->int_at(0);
}

engine::Result<std::int64_t> sqlite_store::last_event_seq() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::event_last);
  PLAINT_TRY(st);
  const int rc = (*st)->step();
  if (rc == sqlite_row) return (*st)->int_at(0);
  if (rc == sqlite_done) return std::int64_t{0};
  return db_.error(rc, "cannot read the end of the audit log");
}

engine::Result<std::vector<engine::ticket>> sqlite_store::attention_board(engine::timestamp now, int limit) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::attention_board);
  PLAINT_TRY(st);
  (*st)->bind(1, now);
  (*st)->bind(2, std::int64_t{limit});
  std::vector<engine::ticket> out;
  PLAINT_TRY(scan_rows<engine::ticket>(db_, **st, read_ticket<statement>, append_to(out), "cannot read the escalation board"));
  return out;
}

engine::Status sqlite_store::scan_customers(const std::function<bool(const engine::customer&)>& fn) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::customers_all);
  PLAINT_TRY(st);
  return scan_rows<engine::customer>(db_, **st, read_customer<statement>, fn, "cannot read the customers");
}

engine::Status sqlite_store::scan_tickets(const std::function<bool(const engine::ticket&)>& fn) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::tickets_all);
  PLAINT_TRY(st);
  return scan_rows<engine::ticket>(db_, **st, read_ticket<statement>, fn, "cannot read the tickets");
}

engine::Status sqlite_store::scan_period(engine::timestamp from, engine::timestamp to, const std::size_t (&parts)[4],
                                         const std::function<engine::Result<bool>(const statement&)>& step_row) {
  PLAINT_TRY(ready());
  const std::string what = "cannot read the tickets of the period";
  // Up to this many index entries per probe (index only, well under a ms).
  constexpr std::int64_t probe_cap = 4096;
  auto probe = [&](q::id query, engine::timestamp at) -> engine::Result<std::int64_t> {
    auto st = stmts_.acquire(query);
    PLAINT_TRY(st);
    (*st)->bind(1, at);
    (*st)->bind(2, probe_cap);
    const int rc = (*st)->step();
    if (rc != sqlite_row) return db_.error(rc, what);
    return (*st)->int_at(0);
  };
  // Tickets closed after the period but opened before its end: from the
  // side with fewer candidates — the closing times after `to` for a recent
  // period, the opening times before `to` for an early one.
  auto after = probe(q::probe_closed_from, to);
  PLAINT_TRY(after);
  auto before = probe(q::probe_created_before, to);
  PLAINT_TRY(before);
  const std::size_t spanning = *after <= *before ? parts[2] : parts[3];
  for (const std::size_t part : {parts[0], parts[1], spanning}) {
    auto st = stmts_.acquire(part);
    PLAINT_TRY(st);
    (*st)->bind(1, from);
    (*st)->bind(2, to);
    for (;;) {
      const int rc = (*st)->step();
      if (rc == sqlite_done) break;
      if (rc != sqlite_row) return db_.error(rc, what);
      auto more = step_row(**st);
      PLAINT_TRY(more);
      if (!*more) return {};
    }
  }
  return {};
}

engine::Status sqlite_store::scan_tickets_active(engine::timestamp from, engine::timestamp to,
                                                const std::function<bool(const engine::ticket&)>& fn) {
  static constexpr std::size_t parts[4] = {q::tickets_active_open, q::tickets_active_closed_in,
                                           q::tickets_spanning_by_closed, q::tickets_spanning_by_created};
  return scan_period(from, to, parts, [&](const statement& st) -> engine::Result<bool> {
    auto t = read_ticket(st);
    PLAINT_TRY(t);
    return fn(*t);
  });
}

engine::Status sqlite_store::scan_period_figures(engine::timestamp from, engine::timestamp to,
                                                const std::function<bool(const engine::ticket_figures&)>& fn) {
  static constexpr std::size_t parts[4] = {q::figures_active_open, q::figures_active_closed_in,
                                           q::figures_spanning_by_closed, q::figures_spanning_by_created};
  return scan_period(from, to, parts, [&](const statement& st) -> engine::Result<bool> { return fn(read_figures(st)); });
}

engine::Status sqlite_store::scan_events(std::int64_t after_seq,
                                         const std::function<bool(const engine::event_record&)>& fn) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::events_after);
  PLAINT_TRY(st);
  (*st)->bind(1, after_seq);
  return scan_rows<engine::event_record>(db_, **st, read_event<statement>, fn, "cannot read the audit log");
}

engine::Status sqlite_store::scan_timers(const std::function<bool(const engine::timer&)>& fn) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::timers_all);
  PLAINT_TRY(st);
  return scan_rows<engine::timer>(db_, **st, read_timer<statement>, fn, "cannot read the timers");
}

engine::Status sqlite_store::scan_customer_changes(const std::function<bool(const engine::customer_change&)>& fn) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::customer_changes_all);
  PLAINT_TRY(st);
  return scan_rows<engine::customer_change>(db_, **st, read_customer_change<statement>, fn, "cannot read the customer log");
}

// ---- channels (schema 7) ---------------------------------------------------

engine::Result<std::vector<engine::webhook>> sqlite_store::read_webhooks(std::size_t query) {
  auto st = stmts_.acquire(query);
  PLAINT_TRY(st);
  std::vector<engine::webhook> out;
  PLAINT_TRY(scan_rows<engine::webhook>(db_, **st, read_webhook<statement>, append_to(out), "cannot read the webhooks"));
  return out;
}

engine::Result<std::vector<engine::attachment>> sqlite_store::ticket_attachments(engine::ticket_id id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::attachments_of_ticket);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  std::vector<engine::attachment> out;
  auto read = [](const statement& s) -> engine::Result<engine::attachment> { return read_attachment(s, false); };
  PLAINT_TRY(scan_rows<engine::attachment>(db_, **st, read, append_to(out),
                                           fmt::format("cannot read the attachments of ticket {}", id)));
  return out;
}

engine::Result<std::optional<engine::attachment>> sqlite_store::get_attachment(std::int64_t id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::attachment_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::attachment>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read attachment {}", id));
  return std::optional<engine::attachment>(read_attachment(**st, true));
}

engine::Result<std::vector<engine::webhook>> sqlite_store::list_webhooks() {
  PLAINT_TRY(ready());
  return read_webhooks(q::webhooks_all);
}

engine::Result<std::optional<engine::webhook>> sqlite_store::find_webhook(std::int64_t id) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::webhook_by_id);
  PLAINT_TRY(st);
  (*st)->bind(1, id);
  const int rc = (*st)->step();
  if (rc == sqlite_done) return std::optional<engine::webhook>();
  if (rc != sqlite_row) return db_.error(rc, fmt::format("cannot read webhook {}", id));
  auto w = read_webhook(**st);
  PLAINT_TRY(w);
  return std::optional<engine::webhook>(std::move(*w));
}

engine::Result<std::vector<engine::outbox_item>> sqlite_store::list_outbox(std::string_view channel,
                                                                           std::string_view target,
                                                                           std::string_view state, int limit) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::outbox_list);
  PLAINT_TRY(st);
  (*st)->bind(1, channel);
  (*st)->bind(2, target);
  (*st)->bind(3, state);
  (*st)->bind(4, static_cast<std::int64_t>(std::clamp(limit, 1, max_page)));
  std::vector<engine::outbox_item> out;
  auto read = [](const statement& s) -> engine::Result<engine::outbox_item> { return read_outbox(s); };
  PLAINT_TRY(scan_rows<engine::outbox_item>(db_, **st, read, append_to(out), "cannot read the outbox"));
  return out;
}

engine::Result<std::vector<engine::outbox_count>> sqlite_store::count_outbox() {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(q::outbox_counts);
  PLAINT_TRY(st);
  std::vector<engine::outbox_count> out;
  auto read = [](const statement& s) -> engine::Result<engine::outbox_count> {
    return engine::outbox_count{s.text_at(0), s.text_at(1), s.int_at(2), s.opt_int_at(3)};
  };
  PLAINT_TRY(scan_rows<engine::outbox_count>(db_, **st, read, append_to(out), "cannot count the outbox"));
  return out;
}

engine::Result<std::optional<engine::timestamp>> sqlite_store::next_outbox_due(std::string_view channel) {
  PLAINT_TRY(ready());
  auto st = stmts_.acquire(channel.empty() ? q::outbox_next_due : q::outbox_next_due_of);
  PLAINT_TRY(st);
  if (!channel.empty()) (*st)->bind(1, channel);
  const int rc = (*st)->step();
  if (rc != sqlite_row) return db_.error(rc, "cannot read the outbox");
  return (*st)->opt_int_at(0);
}

}  // namespace plaint::storage
