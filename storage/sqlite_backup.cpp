#include "storage/sqlite_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <sqlite3.h>

namespace plaint::storage {

namespace {

using engine::errc;
using engine::make_error;

// Closes a handle sqlite3_open_v2 gave, even a failed one.
struct db_handle {
  sqlite3* db = nullptr;
  ~db_handle() { sqlite3_close_v2(db); }
};

engine::Status open_handle(db_handle& h, const std::string& path, int flags, std::string_view role) {
  if (sqlite3_open_v2(path.c_str(), &h.db, flags, nullptr) != SQLITE_OK)
    return make_error(errc::invalid, fmt::format("the {} {} cannot be opened: {}", role, path,
                                                 h.db ? sqlite3_errmsg(h.db) : "out of memory"));
  sqlite3_busy_timeout(h.db, 5000);
  return {};
}

// fsync of a file or a directory; what a rename needs to survive a crash.
engine::Status sync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return make_error(errc::internal, fmt::format("{} cannot be opened to sync it", path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error(errc::internal, fmt::format("{} cannot be synced to disk", path));
  return {};
}

}  // namespace

bool sqlite_file_exists(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > 0) return true;
  return std::filesystem::exists(path + "-wal", ec);
}

std::string sqlite_version() { return sqlite3_libversion(); }

engine::Result<copy_result> copy_sqlite(const std::string& source, const std::string& destination) {
  std::error_code ec;
  if (std::filesystem::exists(destination, ec) || std::filesystem::exists(destination + "-wal", ec))
    return make_error(errc::invalid, fmt::format("{} exists; a copy is written to a new file only", destination));
  if (!std::filesystem::exists(source, ec))
    return make_error(errc::invalid, fmt::format("there is no database at {}", source));
  const std::string partial = destination + ".partial";
  std::filesystem::remove(partial, ec);  // a crashed copy's leftover
  std::filesystem::remove(partial + "-journal", ec);

  const auto started = std::chrono::steady_clock::now();
  {
    db_handle from, to;
    PLAINT_TRY(open_handle(from, source, SQLITE_OPEN_READONLY, "database"));
    PLAINT_TRY(open_handle(to, partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "copy"));
    sqlite3_backup* b = sqlite3_backup_init(to.db, "main", from.db, "main");
    if (!b) return make_error(errc::invalid, fmt::format("{} cannot be copied: {}", source, sqlite3_errmsg(to.db)));
    // All pages in one step: one read transaction, one consistent snapshot.
    int rc = sqlite3_backup_step(b, -1);
    const int finish = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) rc = finish;
    if (rc != SQLITE_OK) {
      const std::string why = sqlite3_errstr(rc);
      std::filesystem::remove(partial, ec);
      return make_error(rc == SQLITE_NOTADB ? errc::invalid : errc::internal,
                        fmt::format("{} could not be copied: {}", source, why));
    }
  }
  if (auto synced = sync_path(partial, false); !synced) {
    std::filesystem::remove(partial, ec);
    return synced.error();
  }
  std::filesystem::rename(partial, destination, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(partial, ec);
    return make_error(errc::internal, fmt::format("{} cannot be renamed to {}: {}", partial, destination, why));
  }
  const auto parent = std::filesystem::absolute(destination).parent_path().string();
  PLAINT_TRY(sync_path(parent, true));

  copy_result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.bytes = static_cast<std::int64_t>(std::filesystem::file_size(destination, ec));
  return r;
}

engine::Status check_integrity(const std::string& path) {
  db_handle h;
  PLAINT_TRY(open_handle(h, path, SQLITE_OPEN_READONLY, "database"));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h.db, "PRAGMA integrity_check(1)", -1, &st, nullptr) != SQLITE_OK)
    return make_error(errc::internal, fmt::format("{} cannot be checked: {}", path, sqlite3_errmsg(h.db)));
  std::string verdict;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(st, 0);
    verdict = text ? reinterpret_cast<const char*>(text) : "";
  } else {
    verdict = sqlite3_errmsg(h.db);
  }
  sqlite3_finalize(st);
  if (verdict != "ok")
    return make_error(errc::internal, fmt::format("{} fails SQLite's integrity check: {}", path, verdict));
  return {};
}

}  // namespace plaint::storage
