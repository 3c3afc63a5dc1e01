// The PostgreSQL schema and its migrations (pg_schema.cpp has the SQL).
//
// The same tables, columns and constraints as the SQLite schema at the same
// version, in PostgreSQL's dialect: BIGINT for integers and instants, BYTEA
// for attachments, JSON checked by a cast, the append-only logs guarded by
// triggers, and full-text search as trigram (pg_trgm) GIN indexes over the
// texts. A PostgreSQL database starts at version 8; later versions append
// steps to both lists.
//
// Invariant: table plaint_schema holds the number of the last step
// applied, written in the step's transaction; steps run under a
// transaction-level advisory lock, so nodes starting together migrate once.
#pragma once

#include <cstdint>

#include "engine/result.h"
#include "storage/pg_connection.h"
#include "storage/schema_version.h"

namespace plaint::storage::pg {

// The advisory lock on the audit log's end: every write transaction takes
// it and then reads the chain's end and the schema version
// (pg_store's read_tail); a migration step holds it too, so no write is
// between its check and its commit while the schema changes.
inline constexpr std::int64_t events_lock = 0x706c6e7465;

// The schema version of the database; 0 when it was never initialised.
// `internal` for a database that holds tables but no plaint_schema
// (somebody else's).
engine::Result<int> read_schema_version(connection& c);

// Brings the database up to current_schema; a no-op when it is there.
// Refuses a newer schema and a database holding somebody else's tables.
engine::Status migrate_schema(connection& c);

}  // namespace plaint::storage::pg
