// Online copies of a SQLite database (`plaint backup`, `plaint restore`).
//
// The copy is made by SQLite's backup API in one read transaction of the
// source: in WAL mode writers go on meanwhile (a checkpoint cannot pass the
// copy's snapshot until it ends), and the copy holds exactly the
// transactions committed before it began. It is written to DEST.partial,
// synced, and renamed to DEST only when whole, so a crash leaves either no
// DEST or a complete one.
#pragma once

#include <cstdint>
#include <string>

#include "engine/result.h"

namespace plaint::storage {

struct copy_result {
  std::int64_t bytes = 0;  // of the copy
  double seconds = 0;      // the copy itself, without the checks
};

// Refuses (invalid, one sentence) a destination that exists, whose
// directory cannot be written, or a source that is not a SQLite file.
engine::Result<copy_result> copy_sqlite(const std::string& source, const std::string& destination);

// PRAGMA integrity_check on the file: OK, or `internal` with SQLite's first
// complaint.
engine::Status check_integrity(const std::string& path);

// Whether a database exists at `path`: a non-empty file, or its WAL.
bool sqlite_file_exists(const std::string& path);

// The SQLite library's version ("3.40.1").
std::string sqlite_version();

}  // namespace plaint::storage
