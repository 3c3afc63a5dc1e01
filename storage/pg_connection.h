// One libpq connection to PostgreSQL, as the PostgreSQL store uses it:
// statements prepared once per connection by name (or, unnamed, planned
// for their values each time) and run with parameters (never SQL built
// from values), text results read by row and
// column, and every failure mapped to the engine's error codes by its
// SQLSTATE. libpq appears nowhere else.
//
// Errors: the server unreachable, the connection lost, a shutdown, a
// statement timeout or a lack of resources → `unavailable` (try again
// later); a unique key taken, a serialisation failure or a deadlock →
// `conflict`; a value a CHECK, NOT NULL, foreign key or type refuses →
// `invalid`; anything else → `internal`. Messages name what was being done
// and PostgreSQL's own primary message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

struct pg_conn;
struct pg_result;

namespace plaint::storage::pg {

// The parameters of one statement, $1, $2, … in order.
class params {
 public:
  params& add(std::int64_t v);
  params& add(std::string_view v);
  params& add(const char* v) { return add(std::string_view(v)); }
  params& add(const std::string& v) { return add(std::string_view(v)); }
  params& add(const std::optional<std::int64_t>& v);
  params& add(const std::optional<std::string>& v);
  params& add_null();
  // Raw bytes (a bytea column), sent in binary so nothing is escaped.
  params& add_bytes(std::string_view bytes);

  // By position, as storage::statement binds (storage/rows.h): $i.
  void bind(int i, std::int64_t v) { set(i, std::to_string(v), 0); }
  void bind(int i, std::string_view v) { set(i, std::string(v), 0); }
  void bind(int i, const std::string& v) { set(i, v, 0); }
  void bind(int i, const std::optional<std::int64_t>& v) {
    set(i, v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt, 0);
  }
  void bind(int i, const std::optional<std::string>& v) { set(i, v, 0); }
  void bind_null(int i) { set(i, std::nullopt, 0); }
  void bind_blob(int i, std::string_view bytes) { set(i, std::string(bytes), 1); }

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void push(std::optional<std::string> v, int format);
  void set(int i, std::optional<std::string> v, int format);
  void refresh();
  std::vector<std::optional<std::string>> values_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A result set: text values by row and column.
class result {
 public:
  explicit result(pg_result* r);
  result(result&&) noexcept;
  result& operator=(result&&) noexcept;
  ~result();

  int rows() const;
  int columns() const;
  bool null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t integer(int row, int col) const;  // 0 for NULL
  std::optional<std::int64_t> opt_integer(int row, int col) const;
  std::optional<std::string> opt_text(int row, int col) const;
  bool boolean(int row, int col) const;  // PostgreSQL's 't'
  std::string bytes(int row, int col) const;  // a bytea column, decoded from its hex text
  // Rows changed by an INSERT, UPDATE or DELETE.
  std::int64_t affected() const;
  pg_result* get() const { return r_; }
  // The command tag: "COMMIT", "ROLLBACK", "INSERT 0 1", …
  std::string command() const;
  // The text of a value, valid while this result lives.
  std::string_view view(int row, int col) const;

 private:
  pg_result* r_;
};

// One row of a result, read as storage::statement reads (storage/rows.h).
class row {
 public:
  row(const result& r, int i) : r_(r), i_(i) {}
  bool is_null(int c) const { return r_.null(i_, c); }
  std::int64_t int_at(int c) const { return r_.integer(i_, c); }
  std::optional<std::int64_t> opt_int_at(int c) const { return r_.opt_integer(i_, c); }
  std::string_view view_at(int c) const { return r_.view(i_, c); }
  std::string text_at(int c) const { return r_.text(i_, c); }
  std::string blob_at(int c) const { return r_.bytes(i_, c); }

 private:
  const result& r_;
  int i_;
};

class connection {
 public:
  // Connects to `url` (postgresql://user[:password]@host[:port]/db?…);
  // `unavailable` when the server does not answer within `timeout`.
  static engine::Result<std::unique_ptr<connection>> open(const std::string& url,
                                                          std::chrono::seconds timeout = std::chrono::seconds(10));
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // A statement without parameters (DDL, BEGIN, COMMIT); several may be
  // separated by semicolons.
  engine::Result<result> exec(std::string_view sql, std::string_view what);
  // Runs `sql` as the prepared statement `name`, preparing it on this
  // connection the first time; with an empty name, unprepared, so that
  // PostgreSQL plans it for these parameters (a search term's frequency
  // decides its plan). `what` names the work for the error.
  engine::Result<result> run(const std::string& name, const std::string& sql, const params& p,
                             std::string_view what);
  // Whether the connection still works (a lost one needs reconnect()).
  bool ok() const;
  // Connects again to the same server; forgets every prepared statement.
  engine::Status reconnect();
  // Waits up to `timeout` for a NOTIFY on a channel this connection LISTENs
  // to (exec("LISTEN …") first): the highest payload read as a number (0
  // for one that is not) when one or more arrived, nullopt when the time
  // passed; `unavailable` when the connection was lost.
  engine::Result<std::optional<std::int64_t>> wait_notification(std::chrono::milliseconds timeout);
  // "postgresql 15.18, plaint@127.0.0.1:5432/desk": never a password.
  std::string describe() const;
  int server_version() const;

 private:
  connection(std::string url, std::chrono::seconds timeout) : url_(std::move(url)), timeout_(timeout) {}
  engine::Status connect();
  engine::Error failure(pg_result* r, std::string_view what) const;
  // `r` when it succeeded, else its error.
  engine::Result<result> checked(result r, std::string_view what) const;

  std::string url_;
  std::chrono::seconds timeout_;
  pg_conn* conn_ = nullptr;
  std::vector<std::string> prepared_;  // names prepared on this connection
};

}  // namespace plaint::storage::pg
