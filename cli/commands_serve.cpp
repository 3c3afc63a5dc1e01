// `plaint serve`: the HTTP API on the database named by --db.
#include <array>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "server/outbox.h"
#include "server/server.h"
#include "storage/open_store.h"
#include "storage/sqlite_checkpointer.h"
#include "storage/sqlite_search.h"
#include "storage/sqlite_store.h"
#include "workflows/policy.h"
#include "workflows/policy_history.h"
#include "workflows/registry.h"

namespace plaint::cli {

namespace {

engine::Status cmd_serve(app& a, const server::options& opts, const delivery_options& d) {
  // The policy in force and a check that the database is initialised.
  auto s = a.store();
  PLAINT_TRY(s);
  auto stored = load_stored_policy(**s);
  PLAINT_TRY(stored);
  // A policy another process stores while the server runs (`plaint policy
  // load`) is read once and put in force; one that no longer parses is
  // reported once and the one in force stays.
  server::policy_loader reload = [seen = stored->text](engine::store& st) mutable
      -> engine::Result<std::optional<engine::sla_policy>> {
    auto text = st.get_setting("policy");
    PLAINT_TRY(text);
    if (text->value_or("") == seen) return std::optional<engine::sla_policy>();
    seen = text->value_or("");
    auto fresh = load_stored_policy(st);
    PLAINT_TRY(fresh);
    return std::optional<engine::sla_policy>(std::move(fresh->policy));
  };
  const std::string path = a.opts().db;
  const auto busy = a.busy_timeout();
  const bool shared = storage::is_postgresql_url(path);
  std::optional<storage::background_checkpointer> checkpoints;
  std::optional<storage::background_indexer> indexer;
  if (!shared) {
    auto background = storage::sqlite_store::open(path, busy);
    PLAINT_TRY(background);
    auto report = [](const engine::Error& e) { std::cerr << "plaint serve: " << e.message << '\n'; };
    checkpoints.emplace(std::move(*background), report);
    // The search file takes the texts in on a thread of its own; the
    // server's stores never do (set_search_batch(0) below).
    auto search = storage::search_file::open(path, static_cast<int>(busy.count()));
    PLAINT_TRY(search);
    indexer.emplace(std::move(*search), report);
  }
  auto settings = delivery_settings_of(d);
  PLAINT_TRY(settings);
  server::options with_delivery = opts;
  with_delivery.delivery = std::move(*settings);
  with_delivery.sla.history = [](engine::store& st) {
    return workflows::load_policy_timeline(st, workflows::builtin_workflows());
  };
  with_delivery.sla.parse = [](std::string_view text, std::string_view name) {
    return workflows::parse_policy(text, name, workflows::builtin_workflows());
  };
  if (shared) with_delivery.open_feed = [path] { return storage::open_commit_feed(path); };
  auto open_store = [path, busy, shared]() -> engine::Result<std::unique_ptr<engine::store>> {
    if (shared) return storage::open_store(path, busy);
    auto s = storage::sqlite_store::open(path, busy);
    PLAINT_TRY(s);
    PLAINT_TRY((*s)->manual_checkpoints());
    (*s)->set_search_batch(0);
    return std::unique_ptr<engine::store>(std::move(*s));
  };
  return server::run(
      with_delivery, open_store, workflows::builtin_workflows(), std::move(stored->policy),
      [&](const std::string& url) {
        std::cout << fmt::format("plaint serve: listening on {} (database {})", url, storage::printable_location(path)) << std::endl;
      },
      std::move(reload));
}

}  // namespace

void add_serve_commands(CLI::App& cli, handler& run) {
  auto opts = std::make_shared<server::options>();
  auto* sub = cli.add_subcommand("serve", "the HTTP API, event stream and live timers");
  sub->add_option("--listen", opts->listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 = any)");
  sub->add_option("--threads", opts->threads, "HTTP I/O threads (default 2)")->check(CLI::Range(1, 64));
  sub->add_option("--max-batch", opts->max_batch, "transitions per group commit (default 256)")
      ->check(CLI::Range(1, 10000));
  // The limits that bound what clients can make the server hold (README "Limits").
  sub->add_option("--read-threads", opts->read_threads, "threads that run reads: lists, reports, replays (default 2)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--max-connections", opts->max_connections,
                  "open HTTP connections, streams apart; the longest idle one makes room (default 1024)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--max-streams", opts->max_streams, "open event streams; 503 beyond (default 256)")
      ->check(CLI::Range(0, 100000));
  sub->add_option("--stream-backlog", opts->stream_backlog,
                  "bytes queued for one event stream before it is closed (default 1048576)")
      ->check(CLI::Range(4096, 1 << 30));
  sub->add_option("--max-queued-reads", opts->max_queued_reads, "reads waiting for a read thread; 503 beyond (default 256)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--max-queued-writes", opts->max_queued_writes,
                  "transitions waiting for the writer; 503 beyond (default 4096)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option_function<std::int64_t>(
         "--idempotency-retention",
         [opts](const std::int64_t& s) { opts->idempotency_retention = std::chrono::seconds(s); },
         "seconds an Idempotency-Key is honoured; older keys are new requests and are pruned (default 86400)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10} * 366 * 86400));
  // The web desk.
  sub->add_option_function<std::string>(
         "--log-level",
         [opts](const std::string& s) { opts->log = server::parse_log_level(s).value_or(server::log_level::info); },
         "stderr, one JSON line each: error, warn, info (requests, timer rounds that fired; the default) or debug "
         "(every timer round)")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
  sub->add_option("--web-dir", opts->web.web_dir,
                  "serve the web desk's pages from this directory instead of the built-in copy (for working on them)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--session-lifetime", opts->web.session_lifetime,
                  "seconds a web sign-in lasts before the person signs in again (default 43200)")
      ->check(CLI::Range(std::int64_t{60}, std::int64_t{30} * 86400));
  sub->add_flag("--secure-cookies", opts->web.secure_cookies,
                "mark the session cookie Secure (when a TLS proxy serves plaint over HTTPS)");
  auto seconds = std::make_shared<std::array<int, 3>>(std::array<int, 3>{
      static_cast<int>(opts->idle_timeout.count()), static_cast<int>(opts->request_timeout.count()),
      static_cast<int>(opts->read_timeout.count())});
  sub->add_option("--idle-timeout", (*seconds)[0],
                  "seconds a connection may wait between requests before it is closed (default 10)")
      ->check(CLI::Range(1, 3600));
  sub->add_option("--request-timeout", (*seconds)[1],
                  "seconds to receive a whole request once it began (default 30)")
      ->check(CLI::Range(1, 3600));
  sub->add_option("--read-timeout", (*seconds)[2],
                  "seconds one read (a report, a search, a replay page) may run before it is stopped (default 30)")
      ->check(CLI::Range(1, 3600));
  auto d = std::make_shared<delivery_options>();
  add_delivery_options(sub, *d);
  sub->callback([opts, seconds, d, &run] {
    opts->idle_timeout = std::chrono::seconds((*seconds)[0]);
    opts->request_timeout = std::chrono::seconds((*seconds)[1]);
    opts->read_timeout = std::chrono::seconds((*seconds)[2]);
    run = [opts, d](app& a) { return cmd_serve(a, *opts, *d); };
  });
}

}  // namespace plaint::cli
