// `plaint serve`: the HTTP API on the database named by --db.
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "server/server.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

namespace plaint::cli {

namespace {

// Copies the write-ahead log back into the database every quarter second
// from its own connection, so that no commit pays for a checkpoint.
class checkpointer {
 public:
  explicit checkpointer(std::unique_ptr<storage::sqlite_store> store)
      : store_(std::move(store)), thread_([this] { run(); }) {}
  ~checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    (void)store_->checkpoint();  // leave a short log behind
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
      lock.unlock();
      if (auto st = store_->checkpoint(); !st)
        std::cerr << "plaint serve: " << st.error().message << '\n';
      lock.lock();
    }
  }

  std::unique_ptr<storage::sqlite_store> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

engine::Status cmd_serve(app& a, const server::options& opts) {
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
  auto background = storage::sqlite_store::open(path, busy);
  PLAINT_TRY(background);
  checkpointer checkpoints(std::move(*background));
  auto open_store = [path, busy]() -> engine::Result<std::unique_ptr<engine::store>> {
    auto s = storage::sqlite_store::open(path, busy);
    PLAINT_TRY(s);
    PLAINT_TRY((*s)->manual_checkpoints());
    return std::unique_ptr<engine::store>(std::move(*s));
  };
  return server::run(
      opts, open_store, workflows::builtin_workflows(), std::move(stored->policy),
      [&](const std::string& url) {
        std::cout << fmt::format("plaint serve: listening on {} (database {})", url, path) << std::endl;
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
  sub->callback([opts, &run] { run = [opts](app& a) { return cmd_serve(a, *opts); }; });
}

}  // namespace plaint::cli
