// What every `plaint` command shares: the global options, the store and the
// executor built from them, and the one way results and errors are printed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/executor.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/time.h"
#include "server/outbox.h"
#include "storage/sqlite_store.h"

namespace CLI {
class App;
}

namespace plaint::cli {

struct global_options {
  std::string db;        // --db, else $PLAINT_DB, else ./plaint.db
  bool json = false;     // --json
  std::string actor;     // --actor, else $PLAINT_ACTOR, else $USER, else "cli"
  std::string now_text;  // --now
  // --busy-timeout: how long a write waits for another process's write.
  int busy_timeout_ms = static_cast<int>(storage::sqlite_store::default_busy_timeout.count());
};

class app {
 public:
  explicit app(global_options opts) : opts_(std::move(opts)) {}

  const global_options& opts() const { return opts_; }
  std::chrono::milliseconds busy_timeout() const { return std::chrono::milliseconds(opts_.busy_timeout_ms); }
  bool json() const { return opts_.json; }

  // The instant commands act at: --now, else the system clock.
  engine::Result<engine::timestamp> now();
  // Opens the store named by --db; `migrate` only for `plaint init` and
  // `plaint import`, the commands that may `create` a SQLite file.
  engine::Result<engine::store*> store(bool create = false);
  engine::Result<engine::executor*> executor();
  const engine::clock& clock() const { return *clock_; }
  // Parses `text` (errors name `name` and the line), stores it as the policy
  // in force and recomputes open tickets. Returns how many changed.
  engine::Result<std::int64_t> apply_policy(const std::string& text, const std::string& name);
  // A command whose exit codes are not the SPEC's usual ones (`mail ingest`
  // speaks sysexits to an MTA) says how an error maps to one.
  void map_exit_code(std::function<int(const engine::Error&)> f) { exit_code_ = std::move(f); }
  int exit_code_for(const engine::Error& e, int usual) const { return exit_code_ ? exit_code_(e) : usual; }

 private:
  engine::Status make_clock();

  global_options opts_;
  std::unique_ptr<engine::clock> clock_;
  std::unique_ptr<engine::store> store_;
  std::unique_ptr<engine::executor> executor_;
  std::function<int(const engine::Error&)> exit_code_;
};

// Where notification mail and webhook deliveries go: the options `serve`
// and `notify run` share (--smtp, --smtp-user, --smtp-password-file,
// --mail-from, --retry-period; $PLAINT_SMTP and $PLAINT_MAIL_FROM).
struct delivery_options {
  std::string smtp;
  std::string smtp_user;
  std::string smtp_password_file;
  std::string smtp_ca;
  bool smtp_require_tls = false;
  std::string mail_from;
  std::int64_t retry_period = 24 * 3600;
  std::int64_t retry_base = 30;
};
void add_delivery_options(CLI::App* sub, delivery_options& d);
engine::Result<server::delivery_settings> delivery_settings_of(const delivery_options& d);

// A period [from, to) from --from/--to texts (ISO 8601): `to` defaults to
// now, `from` to 30 days before `to`. `invalid` names the option at fault.
engine::Result<std::pair<engine::timestamp, engine::timestamp>> period_of(app& a, const std::string& from,
                                                                          const std::string& to);

// Registers the subcommands on `cli`; each sets `run` to its handler.
using handler = std::function<engine::Status(app&)>;
void add_ticket_commands(CLI::App& cli, handler& run);
void add_admin_commands(CLI::App& cli, handler& run);
void add_sla_commands(CLI::App& cli, handler& run);
// `plaint sla explain` and `plaint policy whatif` (`policy` is the policy command).
void add_explain_commands(CLI::App& cli, CLI::App& policy, handler& run);
void add_serve_commands(CLI::App& cli, handler& run);
void add_token_commands(CLI::App& cli, handler& run);
void add_people_commands(CLI::App& cli, handler& run);
void add_report_commands(CLI::App& cli, handler& run);
void add_channel_commands(CLI::App& cli, handler& run);
// `plaint backup`, `plaint restore`.
void add_ops_commands(CLI::App& cli, handler& run);
// `plaint policy load F` and `plaint init --policy F`.
engine::Status load_policy_file(app& a, const std::string& path);

// The policy stored in the database (the built-in default when none is) and
// the text it was parsed from ("" for the default).
struct stored_policy {
  std::string text;
  engine::sla_policy policy;
};
engine::Result<stored_policy> load_stored_policy(engine::store& s);

// Reads a text option given inline or as a file ("-" = stdin).
engine::Result<std::string> read_text(const std::string& inline_value, const std::string& file);

}  // namespace plaint::cli
