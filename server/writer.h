// The single writer of `plaint serve`: group commit and the live timers.
//
// Requests from every HTTP thread are queued here; one thread takes what has
// queued (up to `max_batch`) and applies it with `executor::apply_batch` in
// ONE transaction, then answers each request — only after the commit, so a
// response always means durable. While a batch is being fsynced, the next
// one queues up: under load batches grow by themselves, with no added wait
// when the server is idle (a lone request is committed at once).
//
// The live timer scheduler runs on the same thread, so timer firings and
// transitions never compete for the write lock inside one process.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <atomic>
#include <optional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/executor.h"
#include "engine/scheduler.h"
#include "server/hub.h"
#include "server/log.h"
#include "server/metrics.h"

namespace boost::asio {
class io_context;
}

namespace plaint::server {

class writer {
 public:
  using done_fn = std::function<void(engine::Result<engine::transition_result>)>;
  using customer_fn = std::function<void(engine::Result<engine::customer_result>)>;

  // Answers (`done` callbacks) run on `completions` (the HTTP io_context)
  // when given, so that building responses never holds up the next commit;
  // without it they run on the writer thread.
  // `reload` (may be empty) is asked every second for a policy stored by
  // another process; a new one is put in force for what follows (that
  // process has already recomputed the open tickets).
  writer(std::unique_ptr<engine::store> store, const engine::workflow_registry& workflows,
         engine::sla_policy policy, const engine::clock& clock, metrics& m, hub& h, std::size_t max_batch,
         boost::asio::io_context* completions = nullptr,
         std::function<engine::Result<std::optional<engine::sla_policy>>(engine::store&)> reload = {});
  ~writer();

  // Starts the thread and the scheduler (which first fires what is overdue).
  void start();
  // Commits and answers everything queued, stops the scheduler, joins.
  void stop();

  // Refuses with `shutting_down()` once stop() has begun, and with
  // `unavailable` while `max_queue` requests already wait.
  void submit(engine::batch_request r, done_fn done);
  void set_max_queue(std::size_t n) { max_queue_ = n; }
  // One line per timer round on `log` (info when timers fired, else
  // debug); before start().
  void set_log(const logger* log);

  // Whether the writer can write: false after a batch, a timer round or a
  // probe could not begin or commit (the reason says why), true again after
  // the next success. While it is false the writer probes the database every
  // second (begin, roll back).
  struct readiness {
    bool ready = true;
    std::string reason;
  };
  readiness ready() const;
  static const engine::Error& shutting_down();
  // Where committed events go instead of the hub (several nodes on one
  // database: server/cluster.h). Call before start().
  void set_publisher(std::function<void(const std::vector<engine::event_record>&)> publish) {
    publisher_ = std::move(publish);
  }
  // Another node changed tickets: the scheduler reads the next due time again.
  void poke_timers();
  // The SLA policy in force, for readers on any thread.
  std::shared_ptr<const engine::sla_policy> policy() const { return std::atomic_load(&policy_); }
  void submit_customer(engine::customer_update u, customer_fn done);

  // A small write of its own (a sign-in's session, a person): `work` runs
  // on the writer thread inside one transaction, committed when it
  // succeeds; `done` gets its result. Queued and bounded like customer writes.
  using task_fn = std::function<engine::Result<engine::json>(engine::store_transaction&)>;
  using task_done_fn = std::function<void(engine::Result<engine::json>)>;
  void submit_task(task_fn work, task_done_fn done);

  // Idempotency keys older than `retention` are expired: a retry with one
  // is a new request. They are deleted in the background, at start and then
  // every prune_interval, prune_chunk keys per transaction, each chunk
  // queued behind the batches waiting. Call before start().
  void set_idempotency_retention(std::chrono::seconds retention);
  static constexpr std::chrono::seconds prune_interval{60};
  static constexpr int prune_chunk = 1000;

 private:
  struct job {
    engine::batch_request request;
    done_fn done;
    std::chrono::steady_clock::time_point queued;
  };
  std::optional<engine::Error> post_small(std::function<void()> run);
  void flush();
  void publish(const std::vector<engine::event_record>& events);
  void watch_policy();
  void prune_idempotency();
  void mark(bool ok, const std::string& reason = {});

  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<engine::store> store_;
  engine::executor executor_;
  metrics& metrics_;
  hub& hub_;
  std::function<void(const std::vector<engine::event_record>&)> publisher_;
  std::size_t max_batch_;
  boost::asio::io_context* completions_;
  std::unique_ptr<engine::scheduler> scheduler_;
  std::function<engine::Result<std::optional<engine::sla_policy>>(engine::store&)> reload_;
  struct policy_watch;
  std::unique_ptr<policy_watch> watch_;
  std::shared_ptr<const engine::sla_policy> policy_;  // atomic_load/atomic_store
  struct prune_timer;
  std::unique_ptr<prune_timer> prune_;  // made by start()
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<job> queue_;
  std::size_t max_queue_ = 4096;          // transitions waiting, and small writes waiting
  std::size_t small_waiting_ = 0;         // customers, sessions, people (post_small)
  bool ready_ = true;
  std::string not_ready_reason_;
  bool flush_posted_ = false;
  bool running_ = false;
};

}  // namespace plaint::server
