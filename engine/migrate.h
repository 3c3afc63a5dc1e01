// Moving a desk from one database to another (SQLite ⇄ PostgreSQL): what
// `plaint migrate --from SRC --to DEST` runs.
//
// The records of export/import (engine/transfer.h: customers, tickets, the
// audit log, timers, the customer log) go through a temporary JSON Lines
// file into the destination's one import transaction, which re-checks the
// chain; the rest a desk keeps is written in that same transaction: the
// policy in force, people, API tokens, webhooks, the ladder's
// notifications, attachments, and deliveries still
// pending. Left behind, on purpose: web sessions (people sign in again),
// idempotency keys (a retry after the move is a new request), the record
// of mail plaint sent (a reply still threads by the [plaint #ID] in its
// subject), and outbox rows already delivered or failed.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/store.h"
#include "engine/transfer.h"
#include "engine/workflow.h"

namespace plaint::engine {

struct migrate_counts {
  transfer_counts records;
  std::int64_t people = 0;
  std::int64_t tokens = 0;
  std::int64_t webhooks = 0;
  std::int64_t notifications = 0;
  std::int64_t attachments = 0;
  std::int64_t deliveries = 0;  // pending outbox rows
};

// `progress(done, total)` is called now and then with records imported of
// those exported. Any failure writes nothing to the destination. `conflict` when the destination holds data; `invalid`
// when the source has more pending deliveries than one move carries
// (max_pending_deliveries: deliver them first, `plaint notify run --once`).
inline constexpr int max_pending_deliveries = 1000;
Result<migrate_counts> migrate_database(store& from, store& to, const workflow_registry& workflows,
                                        const std::function<void(std::int64_t, std::int64_t)>& progress);

}  // namespace plaint::engine
