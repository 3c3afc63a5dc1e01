// Opening the store named by `--db`: a file path is SQLite, a
// postgresql:// (or postgres://) URL is PostgreSQL. The one place that
// chooses a back end.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/store.h"

namespace plaint::storage {

bool is_postgresql_url(std::string_view where);

// `where` fit to print or log: a URL's password (and its query, which may
// carry one) left out.
std::string printable_location(std::string_view where);

// A SQLite file that does not exist, refused as `not_found` in one sentence
// ("run plaint init"), so that a command that needs a desk does not leave
// an empty file behind by opening it; a PostgreSQL URL passes (its server
// says). `mail ingest` answers it with EX_TEMPFAIL, as for any database it
// cannot reach: the mail server tries again.
engine::Status require_existing(const std::string& where);

// `busy_timeout` is how long SQLite waits for another process's write lock
// (PostgreSQL waits for its locks as long as they are held).
engine::Result<std::unique_ptr<engine::store>> open_store(const std::string& where,
                                                          std::chrono::milliseconds busy_timeout);

// News of other processes' commits: a feed on PostgreSQL, nullptr on
// SQLite (one server per database file; nothing to hear).
engine::Result<std::unique_ptr<engine::commit_feed>> open_commit_feed(const std::string& where);

}  // namespace plaint::storage
