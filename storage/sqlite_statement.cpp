// RAII over the SQLite C API. Every error leaves here as an engine::Error
// carrying SQLite's own message after ": ".
#include "storage/sqlite_statement.h"

#include <cctype>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

namespace plaint::storage {

using engine::errc;
using engine::Error;

connection::connection(connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      busy_ms_(other.busy_ms_),
      deadline_(std::move(other.deadline_)) {}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    busy_ms_ = other.busy_ms_;
    deadline_ = std::move(other.deadline_);
  }
  return *this;
}

// close_v2 defers the close until the last statement is finalized, so the
// order in which an owner destroys its cache and its connection is harmless.
connection::~connection() {
  if (db_) sqlite3_close_v2(db_);
}

namespace {
// Once per process, before SQLite initializes itself: no global memory
// statistics, which would take one process-wide mutex on every allocation
// of every connection (plaint never reads them).
void configure_sqlite_once() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE if already initialized: harmless
    // No bulk page-cache allocation per pager. Every recursive CTE (a
    // ticket's history is one) opens an ephemeral table whose pager would
    // grab about 400 KiB up front; malloc serves that with mmap and frees it
    // with munmap, so a walk over thousands of histories spent most of its
    // time in page faults (17 s instead of 1.5 s for 38,000 histories).
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    return true;
  }();
  (void)configured;
}
}  // namespace

std::string file_uri(std::string_view path, std::string_view query) {
  // Every byte but letters, digits and "._-~" is percent-encoded, '/' too:
  // SQLite decodes the whole path, and with no '/' left an absolute path
  // ("//x") cannot be read as an authority.
  std::string uri = "file:";
  for (const unsigned char ch : path) {
    if (std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-' || ch == '~')
      uri += static_cast<char>(ch);
    else
      uri += fmt::format("%{:02X}", ch);
  }
  if (!query.empty()) uri.append("?").append(query);
  return uri;
}

engine::Result<connection> connection::open(const std::string& path, int busy_timeout_ms) {
  configure_sqlite_once();
  connection c;
  c.path_ = path;
  c.busy_ms_ = busy_timeout_ms;
  // NOMUTEX: a store is used by one thread at a time (see sqlite_store.h).
  // The path goes in as a URI (file_uri), so that ATTACH on this connection
  // takes URI options (attach_readonly) while any path still names itself.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  const int rc = sqlite3_open_v2(file_uri(path).c_str(), &c.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = c.db_ ? sqlite3_errmsg(c.db_) : sqlite3_errstr(rc);
    return Error{errc::internal, fmt::format("cannot open database {}: {}", path, msg)};
  }
  sqlite3_extended_result_codes(c.db_, 1);
  sqlite3_busy_timeout(c.db_, c.busy_ms_);
  sqlite3_db_config(c.db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // The first statement to read the file: this is where "file is not a
  // database" shows up.
  PLAINT_TRY(c.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                    fmt::format("cannot open database {}", path)));
  return c;
}

engine::Status connection::attach_readonly(const std::string& path, const char* name) const {
  const std::string sql = fmt::format("ATTACH ?1 AS {}", name);  // a name from the code, never from input
  auto st = statement::prepare(*this, sql.c_str());
  PLAINT_TRY(st);
  const std::string uri = file_uri(path, "mode=ro");
  st->bind(1, uri);
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return error(rc, fmt::format("cannot open database {} beside {}", path, path_));
  return {};
}

engine::Result<std::int64_t> query_int(const connection& db, const char* sql, std::string_view what) {
  auto st = statement::prepare(db, sql);
  PLAINT_TRY(st);
  if (const int rc = st->step(); rc != SQLITE_ROW) return db.error(rc, what);
  return st->int_at(0);
}

rollback_on_exit::~rollback_on_exit() {
  if (!db_.autocommit()) (void)db_.exec("ROLLBACK", "cannot roll back");
}

engine::Status connection::exec(const char* sql, std::string_view what) const {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return {};
}

engine::Error connection::error(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  const char* msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if (primary == SQLITE_INTERRUPT && deadline_)
    return Error{errc::unavailable,
                 fmt::format("{}: the read ran past the time the server allows one (--read-timeout); narrow it or retry",
                             what)};
  if (primary == SQLITE_BUSY)
    return Error{errc::unavailable,
                 fmt::format("the database {} is busy: another writer held it for more than {} ms ({}: {})",
                             path_, busy_ms_, what, msg)};
  return Error{errc::internal, fmt::format("{}: {}", what, msg)};
}

void connection::set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    deadline_.reset();
    return;
  }
  if (!deadline_) deadline_ = std::make_unique<std::chrono::steady_clock::time_point>();
  *deadline_ = *deadline;
  // Every few thousand virtual-machine steps: cheap next to the query.
  sqlite3_progress_handler(
      db_, 4096,
      [](void* at) -> int { return std::chrono::steady_clock::now() > *static_cast<std::chrono::steady_clock::time_point*>(at); },
      deadline_.get());
}

void connection::set_busy_timeout(int milliseconds) {
  busy_ms_ = milliseconds;
  sqlite3_busy_timeout(db_, milliseconds);
}

bool connection::autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

int connection::changes() const { return sqlite3_changes(db_); }

std::int64_t connection::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

statement::statement(statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

engine::Result<statement> statement::prepare(const connection& db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return db.error(rc, "cannot prepare a statement");
  }
  return statement(s);
}

namespace {
inline void keep_first(int& first, int rc) {
  if (rc != SQLITE_OK && first == SQLITE_OK) first = rc;
}
}  // namespace

void statement::bind(int i, std::int64_t v) { keep_first(bind_rc_, sqlite3_bind_int64(stmt_, i, v)); }

void statement::bind(int i, std::string_view v) {
  // A non-null pointer even for "", so that empty text binds as '' not NULL.
  const char* p = v.data() ? v.data() : "";
  keep_first(bind_rc_, sqlite3_bind_text64(stmt_, i, p, v.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void statement::bind(int i, const std::optional<std::int64_t>& v) {
  if (v)
    bind(i, *v);
  else
    bind_null(i);
}

void statement::bind(int i, const std::optional<std::string>& v) {
  if (v)
    bind(i, std::string_view(*v));
  else
    bind_null(i);
}

void statement::bind_null(int i) { keep_first(bind_rc_, sqlite3_bind_null(stmt_, i)); }

void statement::bind_blob(int i, std::string_view bytes) {
  keep_first(bind_rc_, sqlite3_bind_blob64(stmt_, i, bytes.data() ? bytes.data() : "", bytes.size(), SQLITE_STATIC));
}

std::string statement::blob_at(int c) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
}

int statement::step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

bool statement::is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

std::int64_t statement::int_at(int c) const { return sqlite3_column_int64(stmt_, c); }

std::optional<std::int64_t> statement::opt_int_at(int c) const {
  // NULL reads as 0, so only a 0 needs its type asked (reading an integer
  // converts nothing: sqlite3VdbeIntValue takes the value as const).
  const std::int64_t v = sqlite3_column_int64(stmt_, c);
  if (v == 0 && sqlite3_column_type(stmt_, c) == SQLITE_NULL) return std::nullopt;
  return v;
}

std::string_view statement::view_at(int c) const {
  // text before bytes: the order SQLite documents for a stable length.
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  if (!p) return {};
  return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

void statement::rewind() { sqlite3_reset(stmt_); }

statement_cache::statement_cache(const connection& db, const char* const* sql, std::size_t count)
    : db_(db), sql_(sql), stmts_(count), in_use_(new bool[count]()) {}

statement_cache::lease::lease(lease&& other) noexcept
    : shared_(std::exchange(other.shared_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(std::move(other.owned_)) {}

statement_cache::lease::~lease() {
  statement& s = **this;
  if (s.valid()) s.reset();
  if (in_use_) *in_use_ = false;
}

engine::Result<statement_cache::lease> statement_cache::acquire(std::size_t id) {
  if (in_use_[id]) {
    auto fresh = statement::prepare(db_, sql_[id]);
    PLAINT_TRY(fresh);
    return lease(std::move(*fresh));
  }
  if (!stmts_[id].valid()) {
    auto fresh = statement::prepare(db_, sql_[id]);
    PLAINT_TRY(fresh);
    stmts_[id] = std::move(*fresh);
  }
  in_use_[id] = true;
  return lease(&stmts_[id], &in_use_[id]);
}

}  // namespace plaint::storage
