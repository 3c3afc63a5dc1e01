// A SQLite desk's full-text indexes, in a file of their own beside it
// ("<desk>-search"), so that indexing never holds the desk's write lock.
//
// The desk's transactions write each text once, to search_text (an
// append-only rowid table); that is all a transition pays. The search file
// takes the committed texts in later, many at a time, on a connection and a
// write lock of its own: the trigram index (`search`), the pair index
// (`search_pair`, storage/pairs.h) and `search_mark`, how far they reach
// (indexed_to: the last search_text rowid they hold) and whose they are
// (desk: the desk's `search_index` setting, a random id written by schema 15).
// A search reads the indexes up to the mark and the texts after it from
// search_text itself (sqlite_store::list_tickets), so every committed text
// is found, indexed or not.
//
// Invariants:
//  - The file is derived: everything in it can be rebuilt from search_text.
//    It is written with synchronous=NORMAL (a power cut may lose its last
//    take-ins, never its consistency: the mark commits with the rows).
//  - indexed_to <= the desk's last text, and the indexes hold exactly the
//    texts up to it. A file that is another desk's (its id differs) or
//    reaches past the desk's texts (an older copy of the desk was put in
//    its place) is emptied and taken in again from the start.
//  - Desk connections attach it read-only (connection::attach_readonly), so
//    the desk's writer never waits for an indexer, nor an indexer for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/result.h"
#include "storage/periodic_thread.h"
#include "storage/sqlite_statement.h"

namespace plaint::storage {

// "<desk>-search".
std::string search_file_path(const std::string& desk_path);

// The schema under which desk connections attach the search file.
inline constexpr const char* search_schema = "s";

class search_file;

// Attaches the search file of the desk at `desk_path` to `desk` read-only
// as search_schema, after checking (and, if it is stale, emptying) it, and
// returns it open for take-ins. A desk with no search file yet gets an
// empty stand-in in memory (and nullptr), so its searches read every text
// from search_text until one is built; nothing is created on disk (a
// backup's check opens its copy this way).
engine::Result<std::unique_ptr<search_file>> attach_search(const connection& desk, const std::string& desk_path,
                                                           int busy_timeout_ms);
// The stand-in alone: empty search tables in memory under search_schema.
engine::Status attach_search_stand_in(const connection& desk);

class search_file {
 public:
  // Opens the search file of the desk at `desk_path` (which must be at this
  // build's schema), creating it, or its tables when they are not this
  // build's. `busy_timeout_ms` bounds the wait for another indexer. A file
  // SQLite finds damaged (not a database, malformed) is derived from the
  // desk, so it is set aside as "<desk>-search.damaged" (its log beside
  // it) and made again, rather than locking the desk's users out; a
  // SQLite file of somebody else's is still refused.
  static engine::Result<std::unique_ptr<search_file>> open(const std::string& desk_path, int busy_timeout_ms);

  // In one transaction: if at least `at_least` (≥ 1) texts wait, takes in
  // up to `at_most` of them, in key order (FTS5 writes a new segment
  // whenever a rowid comes below the one before). Returns how many.
  // `unavailable` if another indexer held the file past the busy timeout.
  engine::Result<std::int64_t> take_in(std::int64_t at_least, std::int64_t at_most);

  // take_in by chunks until fewer than `at_least` of the texts that were
  // waiting when it began are left: what arrives meanwhile is not chased.
  engine::Result<std::int64_t> take_in_all(std::int64_t at_least);

  // How many of the desk's texts the indexes do not hold yet (a read).
  engine::Result<std::int64_t> waiting();

  // Empties the indexes if they are stale (see the invariants above); a
  // read only, when they are not.
  engine::Status check();

  // Copies the search file's log back and starts it again from the top
  // (RESTART, waiting up to the busy timeout for readers still on it).
  // Needed under load: every desk transaction holds a read snapshot of the
  // attached search file, so the passive checkpoints that commits run
  // rarely find a moment to restart the log, and it grows.
  engine::Status checkpoint();

  // How long a take-in waits for another indexer's transaction.
  void set_busy_timeout(int milliseconds) { db_.set_busy_timeout(milliseconds); }

  // The texts a take-in holds at most (memory: one chunk's texts).
  static constexpr std::int64_t chunk = 4096;

 private:
  static engine::Result<std::unique_ptr<search_file>> open_as_found(const std::string& desk_path,
                                                                    int busy_timeout_ms);
  search_file(connection db, std::string desk_path) : db_(std::move(db)), desk_path_(std::move(desk_path)) {}
  // take_in, stopping at the text `up_to`.
  engine::Result<std::int64_t> take_in_to(std::int64_t at_least, std::int64_t at_most, std::int64_t up_to);
  // Checks the file's identity and reach inside an IMMEDIATE transaction,
  // emptying it when stale. Returns (indexed_to, the desk's last text).
  engine::Result<std::pair<std::int64_t, std::int64_t>> reach();

  connection db_;  // the search file; the desk attached read-only as "desk"
  std::string desk_path_;
};

// Keeps a desk's search file up with its texts from a thread of its own
// (`plaint serve`): a take-in every `every`, and at once again while whole
// chunks wait; after a take-in, a checkpoint of the search file's log.
// Stopping takes in one last chunk.
class background_indexer {
 public:
  using on_error_fn = std::function<void(const engine::Error&)>;
  background_indexer(std::unique_ptr<search_file> file, on_error_fn on_error = {},
                     std::chrono::milliseconds every = std::chrono::milliseconds(100));
  ~background_indexer();

 private:
  std::chrono::milliseconds round();

  std::unique_ptr<search_file> file_;
  on_error_fn on_error_;
  std::chrono::milliseconds every_;
  periodic_thread thread_;  // last: its rounds use the members above
};
}  // namespace plaint::storage
