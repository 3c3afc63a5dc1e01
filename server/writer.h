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
#include "server/metrics.h"

namespace boost::asio {
class io_context;
}

namespace plaint::server {

class writer {
 public:
  using done_fn = std::function<void(engine::Result<engine::transition_result>)>;
  using customer_fn = std::function<void(engine::Result<engine::customer>)>;

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

  // Refuses with `shutting_down()` once stop() has begun.
  void submit(engine::batch_request r, done_fn done);
  static const engine::Error& shutting_down();
  // The SLA policy in force, for readers on any thread.
  std::shared_ptr<const engine::sla_policy> policy() const { return std::atomic_load(&policy_); }
  void submit_customer(engine::customer c, customer_fn done);

 private:
  struct job {
    engine::batch_request request;
    done_fn done;
    std::chrono::steady_clock::time_point queued;
  };
  void flush();
  void publish(const std::vector<engine::event_record>& events);
  void watch_policy();

  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<engine::store> store_;
  engine::executor executor_;
  metrics& metrics_;
  hub& hub_;
  std::size_t max_batch_;
  boost::asio::io_context* completions_;
  std::unique_ptr<engine::scheduler> scheduler_;
  std::function<engine::Result<std::optional<engine::sla_policy>>(engine::store&)> reload_;
  struct policy_watch;
  std::unique_ptr<policy_watch> watch_;
  std::shared_ptr<const engine::sla_policy> policy_;  // atomic_load/atomic_store
  std::thread thread_;

  std::mutex mu_;
  std::vector<job> queue_;
  bool flush_posted_ = false;
  bool running_ = false;
};

}  // namespace plaint::server
