// The write transaction of a sqlite_store (internal to storage/).
//
// Invariants:
//  - Holds the store's one transaction from BEGIN IMMEDIATE until a
//    successful commit() or its destruction, which rolls back. A committed
//    object accepts no more writes and no longer blocks begin().
//  - Every write first checks that SQLite still has the transaction open: an
//    I/O error may make SQLite roll back on its own, and a write after that
//    would otherwise commit by itself in autocommit mode.
//  - The audit chain's tail (last seq and hash) is read once per transaction
//    and then advanced by each append, so several appends chain correctly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/store.h"
#include "storage/sqlite_store.h"

namespace plaint::storage {

class sqlite_transaction final : public engine::store_transaction {
 public:
  // The store's BEGIN has already run or is about to; see sqlite_store::begin.
  explicit sqlite_transaction(sqlite_store& store);
  ~sqlite_transaction() override;

  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;

  engine::Result<std::optional<engine::ticket>> find_ticket(engine::ticket_id id) override;
  engine::Result<std::optional<engine::customer>> find_customer(std::string_view id) override;
  engine::Result<std::optional<engine::idempotency_record>> find_idempotency(std::string_view key) override;

  engine::Status put_customer(const engine::customer& c) override;
  engine::Result<engine::ticket_id> insert_ticket(const engine::ticket& t) override;
  engine::Status update_ticket(const engine::ticket& after, const engine::ticket& before) override;
  engine::Result<std::int64_t> next_event_seq() override;
  engine::Result<engine::event_record> append_event(engine::event_record e) override;
  engine::Status insert_event_verbatim(const engine::event_record& e) override;
  engine::Status schedule_timer(engine::ticket_id id, std::string_view kind, engine::timestamp due) override;
  engine::Status cancel_timer(engine::ticket_id id, std::string_view kind) override;
  engine::Status insert_timer_verbatim(const engine::timer& t) override;
  engine::Status index_text(engine::ticket_id id, std::int64_t slot, std::string_view text) override;
  engine::Status put_idempotency(const engine::idempotency_record& r) override;
  engine::Result<std::int64_t> prune_idempotency(engine::timestamp before, int limit) override;
  engine::Result<std::int64_t> prune_outbox(engine::timestamp before, int limit) override;
  engine::Result<engine::customer_change> append_customer_change(engine::customer_change c) override;
  engine::Status insert_customer_change_verbatim(const engine::customer_change& c) override;
  engine::Status put_setting(std::string_view key, std::string_view value) override;
  engine::Result<std::vector<engine::timer>> due_timers_of(engine::ticket_id id, engine::timestamp now) override;
  engine::Result<bool> claim_timer(std::int64_t timer_id, engine::timestamp at) override;
  engine::Status add_notification(const engine::notification& n) override;
  // Returns `internal` (SQLite's constraint message) if the id is taken.
  engine::Status put_token(const engine::api_token& t) override;
  engine::Result<int> revoke_tokens(std::string_view name_or_id, engine::timestamp at) override;
  engine::Result<bool> has_people() override;
  engine::Result<std::optional<engine::person>> find_person(std::string_view id) override;
  engine::Status put_person(const engine::person& p) override;
  // Returns `internal` (SQLite's constraint message) if the id is taken.
  engine::Status put_session(const engine::web_session& s) override;
  engine::Status delete_session(std::string_view id) override;
  engine::Result<int> delete_sessions_of(std::string_view person) override;
  engine::Result<int> prune_sessions(engine::timestamp now, int limit) override;
  engine::Result<int> trim_sessions_of(std::string_view person, int keep) override;

  engine::Result<std::optional<engine::mail_link>> find_mail_link(std::string_view message_id) override;
  engine::Status put_mail_link(const engine::mail_link& m) override;
  engine::Result<std::optional<engine::customer>> find_customer_by_email(std::string_view email) override;
  engine::Result<std::int64_t> add_attachment(const engine::attachment& a) override;
  engine::Result<std::shared_ptr<const std::vector<engine::webhook>>> live_webhooks() override;
  engine::Result<std::int64_t> put_webhook(const engine::webhook& w) override;
  engine::Status add_outbox(const engine::outbox_item& o) override;
  engine::Result<std::vector<engine::outbox_item>> claim_outbox(engine::timestamp now, engine::timestamp hold_until,
                                                                int limit, std::string_view channel) override;
  engine::Status update_outbox(const engine::outbox_item& o) override;
  engine::Status commit_writes() override;

 private:
  engine::Status live() const;
  engine::Status read_tail();

  sqlite_store& store_;
  bool committed_ = false;
  bool have_tail_ = false;
  std::int64_t last_seq_ = 0;
  std::string last_hash_;
  std::string json_buf_;  // reused by every write that serialises JSON
  // The texts this transaction wrote (index_text): after its commit the
  // store may hand the waiting texts to the search file.
  std::int64_t texts_ = 0;
  // The live webhooks, read once per transaction (every transition of a
  // batch asks) and forgotten when one is written.
  std::shared_ptr<const std::vector<engine::webhook>> webhooks_;
};

}  // namespace plaint::storage
