// The SQLite implementation of engine::store: one file, WAL journal,
// synchronous=FULL, every SQL statement prepared once per connection.
//
// Invariants (beyond those of engine/store.h):
//  - One connection per object, used by one thread at a time. For
//    concurrency open one sqlite_store per thread: WAL lets any number of
//    readers run beside the single writer, and writers queue on the file
//    lock for up to the busy timeout (5 s), then get `unavailable`.
//  - At most one transaction at a time per object; begin() refuses a second.
//    While it is open, this object's read methods run inside it and see its
//    uncommitted writes. A transaction must not outlive its store.
//  - open() never changes the schema; migrate() does. Every other method on
//    a file that is not at this build's schema returns `invalid`
//    ("database … is not initialised; run plaint init").
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "engine/store.h"
#include "storage/sqlite_statement.h"

namespace plaint::storage {

class sqlite_transaction;
class search_file;

class sqlite_store final : public engine::store {
 public:
  // Opens the database file at `path`, creating an empty one if absent.
  // Returns `internal` if the file cannot be opened or is not a database.
  // `busy_timeout`: see set_busy_timeout (it also bounds opening a file
  // that another process is writing).
  static constexpr std::chrono::milliseconds default_busy_timeout{5000};
  static engine::Result<std::unique_ptr<sqlite_store>> open(const std::string& path,
                                                            std::chrono::milliseconds busy_timeout = default_busy_timeout);

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;
  ~sqlite_store() override;

  // The path as given to open().
  std::string path() const;

  // How long begin() waits for another process's write transaction before
  // returning `unavailable` (default_busy_timeout unless open() was told).
  void set_busy_timeout(std::chrono::milliseconds timeout);

  // The search file (storage/sqlite_search.h) takes in the texts of many
  // transactions at once: after a commit that wrote texts, this store
  // takes in the texts then waiting (up to search_file::chunk) if at least
  // `texts` wait (written by any process since the last take-in); a search
  // reads the ones still waiting from the texts themselves, so every
  // committed text is found. 1 indexes every text right after its commit;
  // 0 leaves them to a background_indexer (`plaint serve`) but for the
  // backlog below. migrate() takes in everything.
  static constexpr std::int64_t default_search_batch = 256;
  void set_search_batch(std::int64_t texts);
  // With a search batch of 0, the bound on what waits: a commit that finds
  // more than `texts` waiting (the indexer falling behind, say under a
  // flood of 64 KiB notes) takes in twice as many texts as it wrote since
  // it last looked before it returns (one chunk at most, waiting 100 ms at
  // most for the indexer's lock), so the writer slows to the indexing rate
  // and the backlog, which every search reads, shrinks. It looks once per
  // `texts` / 4 texts written through this store, so the bound is about
  // 1.25 × `texts` plus one commit's texts.
  static constexpr std::int64_t default_search_backlog = 4096;
  void set_search_backlog(std::int64_t texts) { search_backlog_ = std::max<std::int64_t>(texts, 1); }

  // WAL checkpoints. By default a committing writer copies the WAL back into
  // the database itself every ~1000 pages, inside its commit. A server hands
  // that to a background connection instead: `manual_checkpoints()` on the
  // writer, `checkpoint()` (PASSIVE: never blocks readers or the writer)
  // from the other connection, periodically.
  engine::Status manual_checkpoints();
  engine::Status checkpoint();

  // Returns `invalid` for a file of a newer schema or one holding tables
  // that are not plaint's. Then builds the search file, or brings it up
  // with every text (the upgrade to schema 15 builds it from the start).
  engine::Status migrate() override;
  std::string describe() const override;
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) override {
    db_.set_deadline(deadline);
  }

  // Returns `unavailable` if another writer holds the file past the busy
  // timeout, `internal` if this object already has a transaction open or
  // the file's schema changed under it (a newer plaint upgraded it).
  engine::Result<std::unique_ptr<engine::store_transaction>> begin() override;

  engine::Result<engine::ticket> get_ticket(engine::ticket_id id) override;
  engine::Result<engine::customer> get_customer(std::string_view id) override;
  engine::Result<std::vector<engine::customer>> list_customers() override;
  // Newest first. `search` of 3+ characters uses the trigram index, of one
  // or two the pair index (storage/pairs.h). The limit is clamped to 1..1000.
  engine::Result<engine::ticket_page> list_tickets(const engine::ticket_query& q) override;
  engine::Result<std::vector<engine::event_record>> ticket_events(engine::ticket_id id) override;
  engine::Result<engine::event_page> ticket_history(engine::ticket_id id, std::optional<std::int64_t> before,
                                                    int limit) override;
  engine::Result<std::vector<engine::customer_change>> customer_history(std::string_view id, int limit) override;
  engine::Result<std::vector<engine::timer>> ticket_timers(engine::ticket_id id) override;
  engine::Result<std::optional<std::string>> get_setting(std::string_view key) override;
  engine::Result<std::vector<engine::notification>> ticket_notifications(engine::ticket_id id) override;
  engine::Result<std::vector<engine::attachment>> ticket_attachments(engine::ticket_id id) override;
  engine::Result<std::optional<engine::attachment>> get_attachment(std::int64_t id) override;
  engine::Result<std::vector<engine::webhook>> list_webhooks() override;
  engine::Result<std::optional<engine::webhook>> find_webhook(std::int64_t id) override;
  engine::Result<std::vector<engine::outbox_item>> list_outbox(std::string_view channel, std::string_view target,
                                                               std::string_view state, int limit) override;
  engine::Result<std::vector<engine::outbox_count>> count_outbox() override;
  engine::Result<std::optional<engine::timestamp>> next_outbox_due(std::string_view channel) override;
  engine::Result<std::optional<engine::api_token>> find_token(std::string_view id) override;
  // Oldest first, revoked tokens included.
  engine::Result<std::vector<engine::api_token>> list_tokens() override;
  engine::Result<std::optional<engine::person>> find_person(std::string_view id) override;
  engine::Result<std::vector<engine::person>> list_people() override;
  engine::Result<std::optional<engine::web_session>> find_session(std::string_view id) override;
  engine::Result<std::vector<engine::timer>> due_timers(engine::timestamp now, int limit) override;
  engine::Result<std::optional<engine::timestamp>> next_due() override;
  engine::Result<std::int64_t> count_pending_timers() override;
  engine::Result<std::int64_t> last_event_seq() override;
  engine::Result<std::vector<engine::ticket>> attention_board(engine::timestamp now, int limit) override;

  // Each scan reads one consistent snapshot (or the open transaction).
  engine::Status scan_customers(const std::function<bool(const engine::customer&)>& fn) override;
  engine::Status scan_tickets(const std::function<bool(const engine::ticket&)>& fn) override;
  engine::Status scan_tickets_active(engine::timestamp from, engine::timestamp to,
                                     const std::function<bool(const engine::ticket&)>& fn) override;
  engine::Status scan_period_figures(engine::timestamp from, engine::timestamp to,
                                     const std::function<bool(const engine::ticket_figures&)>& fn) override;
  engine::Status scan_events(std::int64_t after_seq,
                             const std::function<bool(const engine::event_record&)>& fn) override;
  engine::Status scan_timers(const std::function<bool(const engine::timer&)>& fn) override;
  engine::Status scan_customer_changes(const std::function<bool(const engine::customer_change&)>& fn) override;

 private:
  friend class sqlite_transaction;

  sqlite_store(connection db, int schema);

  // OK when the file is at this build's schema; re-reads the version only
  // when the cached one is not current (another process may have migrated).
  engine::Status ready();

  // Attaches the search file (storage/sqlite_search.h attach_search) in
  // place of whatever is attached; outside transactions only. If that
  // fails, the stand-in is attached (every search reads every text) and
  // the failure returned.
  engine::Status attach_search_file();
  // After a commit that wrote `texts` texts: see set_search_batch and
  // set_search_backlog. A failure leaves the texts waiting for the next
  // take-in; the commit stands.
  void take_in_texts(std::int64_t texts);

  // Shared by the store's get_* and the transaction's find_*.
  engine::Result<std::optional<engine::ticket>> load_ticket(engine::ticket_id id);
  engine::Result<std::optional<engine::customer>> load_customer(std::string_view id);
  engine::Result<std::optional<engine::idempotency_record>> load_idempotency(std::string_view key);
  engine::Result<std::optional<engine::person>> load_person(std::string_view id);
  engine::Result<std::vector<engine::webhook>> read_webhooks(std::size_t query);
  // The three parts of a period's tickets (scan_tickets_active): open, closed
  // in it, and spanning it, the last from whichever index holds fewer
  // candidates. `parts` lists open, closed-in, spanning-by-closed and
  // spanning-by-created; `step_row` reads the row a statement is on and
  // returns false to stop.
  engine::Status scan_period(engine::timestamp from, engine::timestamp to, const std::size_t (&parts)[4],
                             const std::function<engine::Result<bool>(const statement&)>& step_row);

  // Declared before the cache: the cache refers to the connection.
  connection db_;
  statement_cache stmts_;
  int schema_;
  bool in_transaction_ = false;
  std::int64_t search_batch_ = default_search_batch;
  std::int64_t search_backlog_ = default_search_backlog;
  std::int64_t texts_since_look_ = 0;  // written since the backlog was last looked at
  // What is attached as the search schema: nothing (a file below schema
  // 15), the search file, or an empty stand-in while it does not exist.
  enum class search_attachment { none, file, stand_in } search_attached_ = search_attachment::none;
  std::unique_ptr<search_file> search_;  // opened by attach_search_file or the first take-in
};

}  // namespace plaint::storage
