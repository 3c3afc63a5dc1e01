// Thin RAII over the SQLite C API: one connection, prepared statements, and
// a per-connection cache of them so the hot path never re-parses SQL.
//
// Invariants:
//  - The SQL reaching SQLite is fixed text written in this folder; input only
//    ever travels as bound parameters.
//  - A cached statement is leased to one user at a time. Returning the lease
//    resets it and clears its bindings, so once a lease is gone its statement
//    holds neither a read snapshot nor a pointer into the caller's memory.
//  - Text is bound without copying (SQLITE_STATIC): the bound string must
//    outlive the `step()` calls that use it.
//
// sqlite3.h stays out of this header so that users of `sqlite_store.h` do
// not see the C API.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace plaint::storage {

// Result codes callers compare against, so they need not include sqlite3.h.
inline constexpr int sqlite_row = 100;   // SQLITE_ROW
inline constexpr int sqlite_done = 101;  // SQLITE_DONE

// One open database connection, closed on destruction.
// `path` as an SQLite URI ("file:…", every byte but [A-Za-z0-9._~-]
// percent-encoded), with `query` ("mode=ro") after a '?' when given.
std::string file_uri(std::string_view path, std::string_view query = {});

class connection {
 public:
  connection() = default;
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // Opens or creates `path` and configures the connection: WAL journal,
  // synchronous=FULL, foreign keys on, the busy timeout, defensive mode.
  static engine::Result<connection> open(const std::string& path, int busy_timeout_ms);

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Attaches the database file at `path` read-only under schema `name`:
  // its tables are read in this connection's transactions, and a write
  // transaction here (BEGIN IMMEDIATE) takes no lock on it.
  engine::Status attach_readonly(const std::string& path, const char* name) const;

  // Runs fixed SQL (one or more statements whose rows are not wanted).
  engine::Status exec(const char* sql, std::string_view what) const;

  // The engine error for a call that failed with `rc`: `unavailable` when
  // the database stayed locked past the busy timeout, `internal` otherwise, the
  // message being "<what>: <SQLite's message>".
  engine::Error error(int rc, std::string_view what) const;

  // Statements that run past `deadline` stop (SQLite's progress handler)
  // and fail with `unavailable`; nullopt removes the bound.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline);

  // How long a writer waits for another writer before giving up.
  void set_busy_timeout(int milliseconds);
  int busy_timeout() const { return busy_ms_; }

  // True unless an explicit transaction is open.
  bool autocommit() const;
  // Rows changed by the last INSERT, UPDATE or DELETE; the last rowid inserted.
  int changes() const;
  std::int64_t last_insert_id() const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  int busy_ms_ = 0;
  // On the heap: the progress handler's argument must survive a move.
  std::unique_ptr<std::chrono::steady_clock::time_point> deadline_;
};

// One prepared statement, finalized on destruction.
class statement {
 public:
  statement() = default;
  explicit statement(sqlite3_stmt* s) : stmt_(s) {}
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Prepares `sql` once for repeated use (SQLITE_PREPARE_PERSISTENT).
  static engine::Result<statement> prepare(const connection& db, const char* sql);

  bool valid() const { return stmt_ != nullptr; }

  // Parameters are numbered from 1. A failed bind is reported by step().
  void bind(int i, std::int64_t v);
  void bind(int i, std::string_view v);  // not copied: see the invariant above
  void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
  void bind(int i, std::string&& v) = delete;  // the temporary would die before step()
  void bind(int i, const std::optional<std::int64_t>& v);
  void bind(int i, const std::optional<std::string>& v);
  void bind_null(int i);
  // Bytes, not text: no encoding is assumed (attachments).
  void bind_blob(int i, std::string_view bytes);

  // SQLITE_ROW (`sqlite_row`), SQLITE_DONE (`sqlite_done`) or an error code.
  int step();

  // Columns are numbered from 0 and valid until the next step() or reset().
  bool is_null(int c) const;
  std::int64_t int_at(int c) const;
  std::optional<std::int64_t> opt_int_at(int c) const;
  std::string_view view_at(int c) const;
  std::string text_at(int c) const { return std::string(view_at(c)); }
  std::string blob_at(int c) const;

  // Makes the statement ready to run again: resets it and clears bindings.
  void reset();
  // Makes the statement ready to run again with the same bindings.
  void rewind();

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = 0;  // first failed bind since the last reset
};

// The first column of the first row of `sql` as an integer (a PRAGMA, a
// count); `what` names the read in the error.
engine::Result<std::int64_t> query_int(const connection& db, const char* sql, std::string_view what);

// Rolls back the explicit transaction still open on `db` when it goes out of
// scope (an early return on error); does nothing after COMMIT.
class rollback_on_exit {
 public:
  explicit rollback_on_exit(const connection& db) : db_(db) {}
  ~rollback_on_exit();
  rollback_on_exit(const rollback_on_exit&) = delete;
  rollback_on_exit& operator=(const rollback_on_exit&) = delete;

 private:
  const connection& db_;
};

// Prepared statements of one connection, indexed by the caller's query ids
// and prepared on first use. Not thread-safe, like the connection.
class statement_cache {
 public:
  // `sql[i]` is the text of query id `i`; the array must outlive the cache.
  statement_cache(const connection& db, const char* const* sql, std::size_t count);

  // Exclusive use of one statement; resets it when destroyed.
  class lease {
   public:
    lease(statement* shared, bool* in_use) : shared_(shared), in_use_(in_use) {}
    explicit lease(statement owned) : owned_(std::move(owned)) {}
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease();

    statement& operator*() { return shared_ ? *shared_ : owned_; }
    statement* operator->() { return &**this; }

   private:
    statement* shared_ = nullptr;
    bool* in_use_ = nullptr;
    statement owned_;
  };

  // The statement of query `id`. If it is already leased (a scan callback
  // running the same query again) a private copy is prepared instead.
  engine::Result<lease> acquire(std::size_t id);

 private:
  const connection& db_;
  const char* const* sql_;
  std::vector<statement> stmts_;
  std::unique_ptr<bool[]> in_use_;
};

}  // namespace plaint::storage
