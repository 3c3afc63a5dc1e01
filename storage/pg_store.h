// The PostgreSQL store: engine::store (engine/store.h, its contract) on one
// libpq connection (pg_connection.h), the schema of pg_schema.h.
//
// Several nodes on one database:
//  - The audit log and the customer log stay single gap-free chains, and
//    ticket writes never race: a transaction's first touch of a ticket,
//    timer or customer takes a transaction-level advisory lock and reads
//    the audit chain's end under it, so those transactions from all nodes
//    run one at a time, each reading what the last one committed. The lock
//    is always first, row locks after it: nodes cannot deadlock.
//  - update_ticket still checks the version (UPDATE … WHERE version = $v,
//    `conflict` when it moved), the contract's guard against a lost update.
//  - A timer is claimed by UPDATE of the row picked by SELECT … FOR UPDATE
//    SKIP LOCKED WHERE status = 'pending' (a timer fired or being fired
//    elsewhere is not claimed again); outbox rows likewise in the claiming
//    transaction.
//  - Writes the engine expects to fail now and then (a Message-ID or token
//    id taken) use ON CONFLICT DO NOTHING, so they leave the transaction
//    usable, as the contract asks.
// Search is substring ILIKE over the texts, through the pg_trgm index for
// three characters or more.
#pragma once

#include <memory>
#include <string>

#include "engine/store.h"
#include "storage/pg_connection.h"

// The channel every commit that logged events NOTIFYs (payload: its last seq).
#define PLAINT_PG_COMMIT_CHANNEL "plaint_commits"

namespace plaint::storage {

class pg_transaction;

// LISTENs on its own connection for the commits of every node.
class pg_commit_feed final : public engine::commit_feed {
 public:
  static engine::Result<std::unique_ptr<pg_commit_feed>> open(const std::string& url);
  ~pg_commit_feed() override;
  engine::Result<std::int64_t> wait(std::chrono::milliseconds timeout) override;

 private:
  explicit pg_commit_feed(std::unique_ptr<pg::connection> c) : db_(std::move(c)) {}
  engine::Status listen();
  std::unique_ptr<pg::connection> db_;
  bool listening_ = false;
};

class pg_store final : public engine::store {
 public:
  // Connects to `url` (postgresql://…); the schema is checked by every call
  // but migrate() ("not initialised; run plaint init" until it is).
  static engine::Result<std::unique_ptr<pg_store>> open(const std::string& url);
  ~pg_store() override;
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  engine::Status migrate() override;
  std::string describe() const override;
  engine::Result<std::unique_ptr<engine::store_transaction>> begin() override;

  engine::Result<engine::ticket> get_ticket(engine::ticket_id id) override;
  engine::Result<engine::customer> get_customer(std::string_view id) override;
  engine::Result<std::vector<engine::customer>> list_customers() override;
  engine::Result<engine::ticket_page> list_tickets(const engine::ticket_query& q) override;
  engine::Result<std::vector<engine::event_record>> ticket_events(engine::ticket_id id) override;
  engine::Result<engine::event_page> ticket_history(engine::ticket_id id, std::optional<std::int64_t> before,
                                                    int limit) override;
  engine::Result<std::vector<engine::customer_change>> customer_history(std::string_view id, int limit) override;
  engine::Result<std::vector<engine::timer>> ticket_timers(engine::ticket_id id) override;
  engine::Result<std::optional<std::string>> get_setting(std::string_view key) override;
  engine::Result<std::vector<engine::notification>> ticket_notifications(engine::ticket_id id) override;
  engine::Result<std::optional<engine::api_token>> find_token(std::string_view id) override;
  engine::Result<std::vector<engine::api_token>> list_tokens() override;
  engine::Result<std::optional<engine::person>> find_person(std::string_view id) override;
  engine::Result<std::vector<engine::person>> list_people() override;
  engine::Result<std::optional<engine::web_session>> find_session(std::string_view id) override;
  engine::Result<std::vector<engine::attachment>> ticket_attachments(engine::ticket_id id) override;
  engine::Result<std::optional<engine::attachment>> get_attachment(std::int64_t id) override;
  engine::Result<std::vector<engine::webhook>> list_webhooks() override;
  engine::Result<std::optional<engine::webhook>> find_webhook(std::int64_t id) override;
  engine::Result<std::vector<engine::outbox_item>> list_outbox(std::string_view channel, std::string_view target,
                                                               std::string_view state, int limit) override;
  engine::Result<std::vector<engine::outbox_count>> count_outbox() override;
  engine::Result<std::optional<engine::timestamp>> next_outbox_due(std::string_view channel) override;
  engine::Result<std::vector<engine::timer>> due_timers(engine::timestamp now, int limit) override;
  engine::Result<std::optional<engine::timestamp>> next_due() override;
  engine::Result<std::int64_t> count_pending_timers() override;
  engine::Result<std::int64_t> last_event_seq() override;
  engine::Result<std::vector<engine::ticket>> attention_board(engine::timestamp now, int limit) override;

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
  friend class pg_transaction;
  explicit pg_store(std::unique_ptr<pg::connection> c) : db_(std::move(c)) {}

  // Every call but migrate(): the schema is the current one.
  engine::Status ready();
  // Runs a prepared statement; a lost connection is retried once on a new
  // one when no transaction is open.
  engine::Result<pg::result> run(const char* name, const char* sql, const pg::params& p, std::string_view what);
  // The open tickets of a period, then those closed in or after it, one
  // snapshot (scan_tickets_active); the queries select `columns` (which
  // begin with id and hold closed_at at `closed_at_column`) and
  // `read_row` returns false to stop.
  struct period_queries {
    const char* open_name;
    const char* open_sql;
    const char* closed_sql;
    int created_at_column;
    int closed_at_column;
  };
  engine::Status scan_period(engine::timestamp from, engine::timestamp to, const period_queries& queries,
                             const std::function<engine::Result<bool>(const pg::row&)>& read_row);

  std::unique_ptr<pg::connection> db_;
  int schema_ = -1;  // unknown until read
  bool in_transaction_ = false;
};

}  // namespace plaint::storage
