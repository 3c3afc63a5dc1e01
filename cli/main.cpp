// `plaint`: the command line of SPEC §5. Parses, calls the engine, prints.
// Exit codes: 0 ok · 1 internal error · 2 usage · 3 not found · 4 not allowed
// · 5 version conflict.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "cli/version.h"
#include "storage/schema_version.h"
#include "storage/sqlite_backup.h"

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--json") == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace plaint;
  // Every transaction allocates and frees SQLite's and the engine's buffers;
  // glibc would hand the heap top back to the kernel each time and fault it
  // in again on the next transaction. Keep it.
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  mallopt(M_TOP_PAD, 16 * 1024 * 1024);
  cli::global_options opts;
  CLI::App parser{"plaint — customer-complaint and service-ticket workflow engine", "plaint"};
  // Global options may be repeated; the last one counts (scripts prepend defaults).
  const auto last = CLI::MultiOptionPolicy::TakeLast;
  parser.add_option("--db", opts.db, "database: a SQLite file path or a postgresql:// URL (default $PLAINT_DB, else ./plaint.db)")
      ->multi_option_policy(last);
  parser.add_flag("--json", opts.json, "machine-readable output: one JSON document on stdout");
  parser.add_option("--actor", opts.actor, "who acts (default $PLAINT_ACTOR, else $USER)")->multi_option_policy(last);
  parser.add_option("--now", opts.now_text, "act as of this ISO 8601 time (tests, replays)")->multi_option_policy(last);
  parser
      .add_option("--busy-timeout", opts.busy_timeout_ms,
                  "milliseconds a write waits for another process's write before giving up")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000))
      ->multi_option_policy(last);
  // /etc/plaint/plaint.conf (or --config F, or $PLAINT_CONFIG): any option
  // of the command line, globals at the top and each command's under its
  // name ([serve]); the command line wins, and an unknown key is an error.
  // A file named by $PLAINT_CONFIG must exist; the default one may not.
  const std::string config_env = env_or("PLAINT_CONFIG", "");
  parser.set_config("--config", config_env.empty() ? "/etc/plaint/plaint.conf" : config_env,
                    "read options from this TOML file first (default $PLAINT_CONFIG, else /etc/plaint/plaint.conf "
                    "when it exists)",
                    !config_env.empty());
  parser.allow_config_extras(CLI::config_extras_mode::error);
  parser.set_version_flag("--version", [] {
    return fmt::format("plaint {} (commit {}), SQLite {}, schema {}", cli::plaint_version, cli::plaint_commit,
                       storage::sqlite_version(), storage::current_schema);
  });
  parser.fallthrough();
  parser.require_subcommand(1);

  cli::handler run;
  cli::add_ticket_commands(parser, run);
  cli::add_admin_commands(parser, run);
  cli::add_sla_commands(parser, run);
  cli::add_serve_commands(parser, run);
  cli::add_token_commands(parser, run);
  cli::add_people_commands(parser, run);
  cli::add_report_commands(parser, run);
  cli::add_channel_commands(parser, run);
  cli::add_ops_commands(parser, run);

  try {
    parser.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return parser.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return parser.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return parser.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.empty()) msg = "the command line is incomplete";
    return cli::print_error({engine::errc::invalid, msg + " (see plaint --help)"}, wants_json(argc, argv));
  }
  if (opts.db.empty()) opts.db = env_or("PLAINT_DB", "plaint.db");
  if (opts.actor.empty()) opts.actor = env_or("PLAINT_ACTOR", env_or("USER", "cli"));

  try {
    cli::app app(opts);
    engine::Status st = run(app);
    return st ? 0 : app.exit_code_for(st.error(), cli::print_error(st.error(), opts.json));
  } catch (const std::exception& e) {
    return cli::print_error({engine::errc::internal, std::string("internal error: ") + e.what()}, opts.json);
  }
}
