// Operations (SPEC §13): `plaint backup DEST`, `plaint restore SRC`.
//
// Both copy SQLite files with the online backup API (storage/sqlite_backup.h)
// and check what they wrote: SQLite's integrity check, then the audit chain
// (engine::verify_audit), and report the chain head the copy ends at as an
// anchor (`SEQ:HASH`, as `plaint audit anchor` prints it).
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/audit.h"
#include "storage/open_store.h"
#include "storage/sqlite_backup.h"

namespace plaint::cli {

namespace {

using engine::errc;
using engine::make_error;
using engine::Status;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Status sqlite_only(const std::string& where, std::string_view what) {
  if (!storage::is_postgresql_url(where)) return {};
  return make_error(errc::invalid,
                    fmt::format("plaint {} copies SQLite files; back up PostgreSQL with pg_dump (or pg_basebackup for "
                                "the whole server), or copy the desk into a SQLite file with plaint migrate",
                                what));
}

// What a copy was checked to hold.
struct checked {
  engine::audit_report audit;
  engine::chain_head head;
  double seconds = 0;
};

// SQLite's integrity check, then the audit chain, on the file at `path`.
engine::Result<checked> check_copy(const std::string& path, std::chrono::milliseconds busy_timeout) {
  const auto started = std::chrono::steady_clock::now();
  PLAINT_TRY(storage::check_integrity(path));
  auto s = storage::open_store(path, busy_timeout);
  PLAINT_TRY(s);
  auto report = engine::verify_audit(**s);
  PLAINT_TRY(report);
  if (!report->ok)
    return make_error(errc::internal, fmt::format("the audit chain of {} is broken: {}", path, report->message));
  auto head = engine::audit_head(**s);
  PLAINT_TRY(head);
  return checked{*report, *head, since(started)};
}

void print_copy(app& a, std::string_view verb, const std::string& from, const std::string& to,
                const storage::copy_result& copy, const checked& c) {
  if (a.json()) {
    print_json({{"from", from},
                {"to", to},
                {"bytes", copy.bytes},
                {"copy_seconds", copy.seconds},
                {"check_seconds", c.seconds},
                {"integrity", "ok"},
                {"events", c.audit.events},
                {"tickets", c.audit.tickets},
                {"head", {{"seq", c.head.seq}, {"hash", c.head.hash}, {"at", engine::format_iso(c.head.at)}}},
                {"anchor", engine::format_anchor(c.head)}});
    return;
  }
  std::cout << fmt::format("{} {} to {}: {} bytes in {:.1f} s\n", verb, printable(from), printable(to), copy.bytes,
                           copy.seconds);
  std::cout << fmt::format("checked in {:.1f} s: integrity ok; {}\n", c.seconds, c.audit.message);
  std::cout << fmt::format("chain head: event {} at {}; anchor {}\n", c.head.seq, engine::format_iso(c.head.at),
                           engine::format_anchor(c.head));
}

// A copy reads and writes the whole file: it yields the CPU and the disk
// to the server it runs beside (nice 10, the idle I/O class).
void yield_to_the_desk() {
  (void)::setpriority(PRIO_PROCESS, 0, 10);
  constexpr int ioprio_class_idle = 3, ioprio_class_shift = 13, ioprio_who_process = 1;
  (void)::syscall(SYS_ioprio_set, ioprio_who_process, 0, ioprio_class_idle << ioprio_class_shift);
}

Status cmd_backup(app& a, const std::string& destination) {
  const std::string& db = a.opts().db;
  PLAINT_TRY(sqlite_only(db, "backup"));
  PLAINT_TRY(sqlite_only(destination, "backup"));
  if (!storage::sqlite_file_exists(db)) return make_error(errc::not_found, fmt::format("there is no database at {}", db));
  yield_to_the_desk();
  auto copy = storage::copy_sqlite(db, destination);
  PLAINT_TRY(copy);
  auto c = check_copy(destination, a.busy_timeout());
  PLAINT_TRY(c);
  print_copy(a, "backed up", db, destination, *copy, *c);
  return {};
}

Status cmd_restore(app& a, const std::string& source) {
  const std::string& db = a.opts().db;
  PLAINT_TRY(sqlite_only(db, "restore"));
  PLAINT_TRY(sqlite_only(source, "restore"));
  if (storage::sqlite_file_exists(db))
    return make_error(errc::invalid, fmt::format("{} already holds a database; restore writes a new one only (move the "
                                                 "old one away, or name another with --db)",
                                                 db));
  if (!storage::sqlite_file_exists(source))
    return make_error(errc::not_found, fmt::format("there is no backup at {}", source));
  // The backup is checked before anything is written, and the restored
  // file after: both must end at the same chain head.
  auto before = check_copy(source, a.busy_timeout());
  PLAINT_TRY(before);
  auto copy = storage::copy_sqlite(source, db);
  PLAINT_TRY(copy);
  auto after = check_copy(db, a.busy_timeout());
  PLAINT_TRY(after);
  if (after->head.seq != before->head.seq || after->head.hash != before->head.hash)
    return make_error(errc::internal, fmt::format("the restored {} ends at {}, the backup at {}", db,
                                                  engine::format_anchor(after->head),
                                                  engine::format_anchor(before->head)));
  // A backup holds the desk, not its search file (which is derived): the
  // restored desk's is built here from its texts, so its searches are fast
  // from the first.
  auto restored = storage::open_store(db, a.busy_timeout());
  PLAINT_TRY(restored);
  PLAINT_TRY((*restored)->migrate());
  print_copy(a, "restored", source, db, *copy, *after);
  return {};
}

}  // namespace

void add_ops_commands(CLI::App& cli, handler& run) {
  {
    auto destination = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand(
        "backup", "copy the database to a new file while it runs, then check the copy and print its chain head");
    sub->add_option("destination", *destination, "the new file")->required();
    sub->callback([destination, &run] { run = [destination](app& a) { return cmd_backup(a, *destination); }; });
  }
  {
    auto source = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand("restore", "check a backup and copy it to --db, which must not exist yet");
    sub->add_option("source", *source, "the backup file")->required();
    sub->callback([source, &run] { run = [source](app& a) { return cmd_restore(a, *source); }; });
  }
}

}  // namespace plaint::cli
