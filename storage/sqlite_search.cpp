#include "storage/sqlite_search.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <sqlite3.h>

#include "storage/pairs.h"
#include "storage/sqlite_queries.h"

namespace plaint::storage {

using engine::errc;
using engine::Error;

namespace {

constexpr int search_file_version = 2;
constexpr std::int64_t search_application_id = 0x706c6e73;  // "plns"
constexpr const char* desk_last_text = "SELECT coalesce(max(rowid), 0) FROM desk.search_text";

// The search file's tables under schema `schema` ("main" in the file
// itself, search_schema for a desk's in-memory stand-in). The trigram
// index keeps the 1000-byte pages it had in the desk (schema 4).
std::string search_tables_sql(std::string_view schema) {
  return fmt::format(R"sql(
CREATE TABLE {0}.search_mark (
  one        INTEGER PRIMARY KEY CHECK (one = 1),
  indexed_to INTEGER NOT NULL,
  desk       TEXT NOT NULL,
  tip        INTEGER NOT NULL
);
INSERT INTO {0}.search_mark (one, indexed_to, desk, tip) VALUES (1, 0, '', 0);
CREATE VIRTUAL TABLE {0}.search USING fts5 (body, content = '', columnsize = 0, tokenize = 'trigram');
INSERT INTO {0}.search (search, rank) VALUES ('pgsz', 1000);
CREATE VIRTUAL TABLE {0}.search_pair USING fts5 (
  body, content = '', columnsize = 0, detail = 'none', tokenize = 'ascii');
)sql",
                     schema);
}

// The fingerprint of one desk text (FNV-1a over its key and body), kept for
// the text at the mark: a copy of the desk that went its own way since
// holds another text there, whatever its id and length.
std::int64_t text_tip(std::int64_t key, std::string_view body) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ull;
  };
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(static_cast<std::uint64_t>(key) >> (8 * i)));
  for (const char ch : body) mix(static_cast<unsigned char>(ch));
  return static_cast<std::int64_t>(h >> 1);  // fits SQLite's signed integer
}

// Whether the search file's mark still describes the desk: its id, a mark
// not past the desk's last text, and the text at the mark unchanged.
engine::Result<bool> mark_holds(const connection& db, std::int64_t indexed_to, std::string_view holder,
                                std::int64_t tip, std::string_view desk, std::int64_t last) {
  if (holder != desk || indexed_to > last) return false;
  if (indexed_to == 0) return true;
  auto at = statement::prepare(db, "SELECT key, body FROM desk.search_text WHERE rowid = ?1");
  PLAINT_TRY(at);
  at->bind(1, indexed_to);
  const int rc = at->step();
  if (rc == sqlite_done) return false;
  if (rc != sqlite_row) return db.error(rc, "cannot read the desk's text at the search index's mark");
  return text_tip(at->int_at(0), at->view_at(1)) == tip;
}

}  // namespace

std::string search_file_path(const std::string& desk_path) { return desk_path + "-search"; }

engine::Result<std::unique_ptr<search_file>> search_file::open(const std::string& desk_path, int busy_timeout_ms) {
  auto file = open_as_found(desk_path, busy_timeout_ms);
  if (file) return file;
  // The search file's own damage, named by SQLite for this path (not the
  // desk's: it is attached here too).
  const std::string path = search_file_path(desk_path), aside = path + ".damaged";
  const std::string& message = file.error().message;
  const bool damaged = message.find(path + ":") != std::string::npos &&
                       (message.find(sqlite3_errstr(SQLITE_NOTADB)) != std::string::npos ||
                        message.find(sqlite3_errstr(SQLITE_CORRUPT)) != std::string::npos);
  if (!damaged) return file;
  std::error_code ec;
  std::filesystem::rename(path, aside, ec);
  if (ec) return file;
  std::filesystem::rename(path + "-wal", aside + "-wal", ec);
  std::filesystem::remove(path + "-shm", ec);
  return open_as_found(desk_path, busy_timeout_ms);
}

engine::Result<std::unique_ptr<search_file>> search_file::open_as_found(const std::string& desk_path,
                                                                        int busy_timeout_ms) {
  const std::string path = search_file_path(desk_path);
  auto db = connection::open(path, busy_timeout_ms);
  PLAINT_TRY(db);
  PLAINT_TRY(db->exec("PRAGMA synchronous=NORMAL", fmt::format("cannot open the search index {}", path)));
  PLAINT_TRY(db->attach_readonly(desk_path, "desk"));
  // The desk is read here in rowid order, the newest texts: a small cache.
  PLAINT_TRY(db->exec("PRAGMA desk.cache_size = -512", fmt::format("cannot open the search index {}", path)));
  const std::string what = fmt::format("cannot prepare the search index {}", path);
  auto current = [&]() -> engine::Result<bool> {
    auto app = query_int(*db, "PRAGMA main.application_id", what);
    PLAINT_TRY(app);
    auto version = query_int(*db, "PRAGMA main.user_version", what);
    PLAINT_TRY(version);
    if (*app != 0 && *app != search_application_id)
      return Error{errc::invalid, fmt::format("{} is not a plaint search index; move it away, and plaint builds "
                                              "the desk's index there again",
                                              path)};
    return *app == search_application_id && *version == search_file_version;
  };
  auto ok = current();
  PLAINT_TRY(ok);
  if (*ok) return std::unique_ptr<search_file>(new search_file(std::move(*db), desk_path));
  // New, or of another build: (re)created under the write lock. The texts
  // are all taken in again from the desk.
  {
    rollback_on_exit guard(*db);
    PLAINT_TRY(db->exec("BEGIN IMMEDIATE", what));
    ok = current();
    PLAINT_TRY(ok);
    if (!*ok) {
      PLAINT_TRY(db->exec("DROP TABLE IF EXISTS main.search; DROP TABLE IF EXISTS main.search_pair; "
                          "DROP TABLE IF EXISTS main.search_mark;",
                          what));
      PLAINT_TRY(db->exec(search_tables_sql("main").c_str(), what));
      PLAINT_TRY(db->exec(fmt::format("PRAGMA main.application_id = {}; PRAGMA main.user_version = {};",
                                      search_application_id, search_file_version)
                              .c_str(),
                          what));
    }
    PLAINT_TRY(db->exec("COMMIT", what));
  }
  return std::unique_ptr<search_file>(new search_file(std::move(*db), desk_path));
}

engine::Result<std::pair<std::int64_t, std::int64_t>> search_file::reach() {
  auto mark = statement::prepare(db_, "SELECT indexed_to, desk, tip FROM main.search_mark");
  PLAINT_TRY(mark);
  if (const int rc = mark->step(); rc != sqlite_row) return db_.error(rc, "cannot read how far the search index reaches");
  std::int64_t indexed_to = mark->int_at(0);
  const std::string holder = mark->text_at(1);
  const std::int64_t tip = mark->int_at(2);
  auto id = statement::prepare(db_, "SELECT value FROM desk.settings WHERE key = 'search_index'");
  PLAINT_TRY(id);
  const int idrc = id->step();
  if (idrc == sqlite_done)
    return Error{errc::invalid,
                 fmt::format("database {} has no search index id; run plaint init to upgrade it", desk_path_)};
  if (idrc != sqlite_row) return db_.error(idrc, "cannot read the desk's search index id");
  const std::string desk = id->text_at(0);
  auto last = query_int(db_, desk_last_text, "cannot read the desk's texts");
  PLAINT_TRY(last);
  auto holds = mark_holds(db_, indexed_to, holder, tip, desk, *last);
  PLAINT_TRY(holds);
  if (!*holds) {
    PLAINT_TRY(db_.exec("INSERT INTO main.search (search) VALUES ('delete-all');"
                        "INSERT INTO main.search_pair (search_pair) VALUES ('delete-all');",
                        "cannot empty a stale search index"));
    auto reset = statement::prepare(db_, "UPDATE main.search_mark SET indexed_to = 0, desk = ?1, tip = 0");
    PLAINT_TRY(reset);
    reset->bind(1, desk);
    if (const int rc = reset->step(); rc != sqlite_done) return db_.error(rc, "cannot reset the search index");
    indexed_to = 0;
  }
  return std::pair{indexed_to, *last};
}

engine::Result<std::int64_t> search_file::take_in(std::int64_t at_least, std::int64_t at_most) {
  return take_in_to(at_least, at_most, std::numeric_limits<std::int64_t>::max());
}

engine::Result<std::int64_t> search_file::take_in_to(std::int64_t at_least, std::int64_t at_most,
                                                      std::int64_t up_to) {
  const std::string what = fmt::format("cannot take texts into the search index {}", db_.path());
  rollback_on_exit guard(db_);
  PLAINT_TRY(db_.exec("BEGIN IMMEDIATE", what));
  auto r = reach();
  PLAINT_TRY(r);
  const auto [indexed_to, last] = *r;
  const std::int64_t end = std::min({last, up_to, indexed_to + std::max<std::int64_t>(at_most, 1)});
  if (end - indexed_to < std::max<std::int64_t>(at_least, 1)) {
    PLAINT_TRY(db_.exec("COMMIT", what));  // keeps a reset
    return std::int64_t{0};
  }
  auto rows = statement::prepare(db_, "SELECT key, body, rowid FROM desk.search_text"
                                      " WHERE rowid > ?1 AND rowid <= ?2 ORDER BY key");
  PLAINT_TRY(rows);
  auto trigram = statement::prepare(db_, "INSERT INTO main.search (rowid, body) VALUES (?1, ?2)");
  PLAINT_TRY(trigram);
  auto pairs = statement::prepare(db_, "INSERT INTO main.search_pair (rowid, body) VALUES (?1, ?2)");
  PLAINT_TRY(pairs);
  auto write = [&](statement& s, std::int64_t key, std::string_view body) -> engine::Status {
    s.reset();
    s.bind(1, key);
    s.bind(2, body);
    if (const int rc = s.step(); rc != sqlite_done)
      return db_.error(rc, fmt::format("cannot index the text of ticket {}", key >> search_slot_bits));
    return {};
  };
  rows->bind(1, indexed_to);
  rows->bind(2, end);
  std::int64_t tip = 0;
  for (;;) {
    const int rc = rows->step();
    if (rc == sqlite_done) break;
    if (rc != sqlite_row) return db_.error(rc, "cannot read the texts waiting for the search index");
    const std::int64_t key = rows->int_at(0);
    const std::string_view text = rows->view_at(1);
    if (rows->int_at(2) == end) tip = text_tip(key, text);
    PLAINT_TRY(write(*trigram, key, text));
    const std::string terms = pair_terms(text);
    if (!terms.empty()) PLAINT_TRY(write(*pairs, key, terms));
  }
  auto mark = statement::prepare(db_, "UPDATE main.search_mark SET indexed_to = ?1, tip = ?2");
  PLAINT_TRY(mark);
  mark->bind(1, end);
  mark->bind(2, tip);
  if (const int rc = mark->step(); rc != sqlite_done)
    return db_.error(rc, "cannot record how far the search index reaches");
  PLAINT_TRY(db_.exec("COMMIT", what));
  return end - indexed_to;
}

engine::Status search_file::checkpoint() {
  return db_.exec("PRAGMA main.wal_checkpoint(RESTART)", "cannot checkpoint the search index's log");
}

engine::Result<std::int64_t> search_file::waiting() {
  return query_int(db_,
                  "SELECT (SELECT coalesce(max(rowid), 0) FROM desk.search_text) - (SELECT indexed_to FROM main.search_mark)",
                  "cannot read how far the search index reaches");
}

engine::Result<std::int64_t> search_file::take_in_all(std::int64_t at_least) {
  auto last = query_int(db_, desk_last_text, "cannot read the desk's texts");
  PLAINT_TRY(last);
  std::int64_t total = 0;
  for (;;) {
    auto n = take_in_to(at_least, chunk, *last);
    PLAINT_TRY(n);
    if (*n == 0) return total;
    total += *n;
  }
}

engine::Status attach_search_stand_in(const connection& desk) {
  PLAINT_TRY(desk.exec(fmt::format("ATTACH ':memory:' AS {}", search_schema).c_str(),
                       "cannot attach an empty search index"));
  return desk.exec(search_tables_sql(search_schema).c_str(), "cannot attach an empty search index");
}

engine::Result<std::unique_ptr<search_file>> attach_search(const connection& desk, const std::string& desk_path,
                                                           int busy_timeout_ms) {
  const std::string path = search_file_path(desk_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    PLAINT_TRY(attach_search_stand_in(desk));
    return std::unique_ptr<search_file>();
  }
  auto file = search_file::open(desk_path, busy_timeout_ms);
  PLAINT_TRY(file);
  PLAINT_TRY((*file)->check());
  PLAINT_TRY(desk.attach_readonly(path, search_schema));
  return std::move(*file);
}

engine::Status search_file::check() {
  const std::string what = fmt::format("cannot check the search index {}", db_.path());
  {
    rollback_on_exit guard(db_);
    PLAINT_TRY(db_.exec("BEGIN", what));
    auto mark = statement::prepare(
        db_,
        "SELECT m.indexed_to, m.desk, m.tip, coalesce((SELECT value FROM desk.settings WHERE key = 'search_index'), ''),"
        " (SELECT coalesce(max(rowid), 0) FROM desk.search_text) FROM main.search_mark m");
    PLAINT_TRY(mark);
    if (const int rc = mark->step(); rc != sqlite_row) return db_.error(rc, what);
    auto fresh = mark_holds(db_, mark->int_at(0), mark->view_at(1), mark->int_at(2), mark->view_at(3), mark->int_at(4));
    PLAINT_TRY(fresh);
    mark = statement();
    PLAINT_TRY(db_.exec("COMMIT", what));
    if (*fresh) return {};
  }
  rollback_on_exit guard(db_);
  PLAINT_TRY(db_.exec("BEGIN IMMEDIATE", what));
  PLAINT_TRY(reach());  // empties it under the write lock, if it is still stale
  return db_.exec("COMMIT", what);
}

background_indexer::background_indexer(std::unique_ptr<search_file> file, on_error_fn on_error,
                                       std::chrono::milliseconds every)
    : file_(std::move(file)), on_error_(std::move(on_error)), every_(every), thread_([this] { return round(); }) {}

background_indexer::~background_indexer() {
  thread_.stop();
  (void)file_->take_in(1, search_file::chunk);
}

std::chrono::milliseconds background_indexer::round() {
  auto n = file_->take_in(1, search_file::chunk);
  if (!n) {
    if (on_error_) on_error_(n.error());
    // After an error (the desk being restored under it, a full disk) the
    // next try comes ten rounds later.
    return every_ * 10;
  }
  if (*n > 0) (void)file_->checkpoint();  // busy readers: the next round's does it
  return *n == search_file::chunk ? std::chrono::milliseconds(0) : every_;  // more wait: at once
}

}  // namespace plaint::storage
