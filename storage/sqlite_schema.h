// The SQLite schema's version and its migrations (see sqlite_schema.cpp for
// the schema itself).
//
// Invariant: PRAGMA user_version is the number of the last migration step
// applied; every step commits together with its new user_version, so a file
// is always exactly at one version.
#pragma once

#include "engine/result.h"
#include "storage/schema_version.h"
#include "storage/sqlite_statement.h"

namespace plaint::storage {

// PRAGMA user_version of the open file; 0 for a file never initialised.
engine::Result<int> read_schema_version(const connection& db);

// Brings the file up to `current_schema`, one transaction per step; a no-op
// when it is already there. Refuses files of a newer schema and files that
// hold somebody else's tables.
engine::Status migrate_schema(const connection& db);

}  // namespace plaint::storage
