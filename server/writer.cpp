#include "server/writer.h"

#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace plaint::server {

namespace asio = boost::asio;

struct writer::policy_watch {
  explicit policy_watch(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

writer::writer(std::unique_ptr<engine::store> store, const engine::workflow_registry& workflows,
               engine::sla_policy policy, const engine::clock& clock, metrics& m, hub& h, std::size_t max_batch,
               asio::io_context* completions,
               std::function<engine::Result<std::optional<engine::sla_policy>>(engine::store&)> reload)
    : io_(std::make_unique<asio::io_context>(1)),
      store_(std::move(store)),
      executor_(*store_, workflows, clock, policy),
      metrics_(m),
      hub_(h),
      max_batch_(max_batch),
      completions_(completions),
      reload_(std::move(reload)),
      watch_(std::make_unique<policy_watch>(*io_)),
      policy_(std::make_shared<const engine::sla_policy>(std::move(policy))) {
  scheduler_ = std::make_unique<engine::scheduler>(
      *io_, executor_, *store_,
      [this](const engine::fired_timer& f) {
        metrics_.timer_fired(f.event.event, f.ticket_after.level);
        publish({f.event});
      },
      [this](const engine::Error& e) {
        std::cerr << "plaint serve: timer scheduler: " << e.message << '\n';
        mark(false, "the timer scheduler cannot write: " + e.message);
      });
}

writer::~writer() { stop(); }

void writer::start() {
  running_ = true;
  prune_ = std::make_unique<prune_timer>(*io_);
  asio::post(*io_, [this] {
    scheduler_->start();
    watch_policy();
  });
  asio::post(*io_, [this] { prune_idempotency(); });
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(*io_);
    io_->run();
  });
}

void writer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    running_ = false;
  }
  asio::post(*io_, [this] {
    // Whatever is still queued is committed and answered, batch by batch.
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) break;
      }
      flush();
    }
    scheduler_->stop();
    watch_->timer.cancel();
    io_->stop();
  });
  if (thread_.joinable()) thread_.join();
  // Nothing can be left (submissions stop before the final flush), but a
  // job must never be dropped without an answer.
  std::vector<job> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& j : left) j.done(shutting_down());
}

const engine::Error& writer::shutting_down() {
  static const engine::Error e{engine::errc::unavailable, "the server is shutting down; retry against another node or later"};
  return e;
}

void writer::submit(engine::batch_request r, done_fn done) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) {
    done(shutting_down());
    return;
  }
  if (queue_.size() >= max_queue_) {
    metrics_.dropped("writes_full");
    done(engine::make_error(engine::errc::unavailable,
                            fmt::format("the server has {} writes waiting; retry shortly", queue_.size())));
    return;
  }
  queue_.push_back({std::move(r), std::move(done), std::chrono::steady_clock::now()});
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(*io_, [this] { flush(); });
  }
}

// Queues a small write (a customer, a session, a person) behind the batches
// waiting; the error instead when stopping or when max_queue of them wait.
std::optional<engine::Error> writer::post_small(std::function<void()> run) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return shutting_down();
  if (small_waiting_ >= max_queue_) {
    metrics_.dropped("writes_full");
    return engine::Error{engine::errc::unavailable,
                         fmt::format("the server has {} small writes waiting; retry shortly", small_waiting_)};
  }
  ++small_waiting_;
  asio::post(*io_, [this, run = std::move(run)] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --small_waiting_;
    }
    run();
  });
  return std::nullopt;
}

void writer::submit_customer(engine::customer_update u, customer_fn done) {
  if (auto refused = post_small([this, u = std::move(u), done] { done(executor_.put_customer(u)); })) done(*refused);
}

void writer::submit_task(task_fn work, task_done_fn done) {
  auto run = [this, work = std::move(work), done]() -> engine::Result<engine::json> {
    auto tx = store_->begin();
    PLAINT_TRY(tx);
    auto out = work(**tx);
    PLAINT_TRY(out);
    PLAINT_TRY((*tx)->commit());
    return out;
  };
  if (auto refused = post_small([run, done] { done(run()); })) done(*refused);
}

void writer::flush() {
  std::vector<job> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::size_t n = std::min(queue_.size(), max_batch_);
    jobs.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
    queue_.erase(queue_.begin(), queue_.begin() + n);
    flush_posted_ = !queue_.empty();
    if (flush_posted_) asio::post(*io_, [this] { flush(); });
  }
  if (jobs.empty()) return;
  std::vector<engine::batch_request> requests;
  requests.reserve(jobs.size());
  for (auto& j : jobs) requests.push_back(std::move(j.request));
  auto results = executor_.apply_batch(requests);
  const auto now = std::chrono::steady_clock::now();
  if (!results) {
    mark(false, "the last batch could not be written: " + results.error().message);
    for (auto& j : jobs) j.done(results.error());
    return;
  }
  mark(true);
  metrics_.batch_committed(jobs.size());
  // Streams hear of the events before any client hears its answer, so a
  // client that reacts to a response by opening a stream never sees it twice.
  std::vector<engine::event_record> committed;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& r = (*results)[i];
    if (r && r->created) {
      for (const auto& f : r->fired_first) {
        metrics_.timer_fired(f.event.event, f.ticket_after.level);
        committed.push_back(f.event);
      }
      committed.push_back(r->event);
      metrics_.transition_committed(std::chrono::duration<double>(now - jobs[i].queued).count());
    }
  }
  publish(committed);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!completions_) {
      jobs[i].done(std::move((*results)[i]));
      continue;
    }
    asio::post(*completions_, [done = std::move(jobs[i].done), r = std::move((*results)[i])]() mutable {
      done(std::move(r));
    });
  }
  scheduler_->poke();  // a new ticket may be due before what the timer waits for
}

struct writer::prune_timer {
  explicit prune_timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

void writer::set_log(const logger* log) {
  if (!log) return scheduler_->on_round({});
  scheduler_->on_round([log](std::size_t fired, std::chrono::steady_clock::duration took) {
    const log_level level = fired > 0 ? log_level::info : log_level::debug;
    if (!log->enabled(level)) return;
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    log->write(level, "timer round", {{"fired", fired}, {"duration_ms", std::round(ms * 100) / 100}});
  });
}

void writer::set_idempotency_retention(std::chrono::seconds retention) {
  executor_.set_idempotency_retention(retention.count());
}

void writer::prune_idempotency() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
  }
  auto pruned = executor_.prune_idempotency(prune_chunk);
  if (!pruned)
    std::cerr << "plaint serve: " << pruned.error().message << "; expired idempotency keys are pruned later\n";
  if (pruned && *pruned == prune_chunk) {  // more left: the next chunk after what queued meanwhile
    asio::post(*io_, [this] { prune_idempotency(); });
    return;
  }
  prune_->timer.expires_after(prune_interval);
  prune_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) prune_idempotency();
  });
}

void writer::publish(const std::vector<engine::event_record>& events) {
  if (events.empty()) return;
  if (publisher_) return publisher_(events);
  hub_.publish(events);
}

void writer::poke_timers() {
  asio::post(*io_, [this] { scheduler_->poke(); });
}

writer::readiness writer::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return {false, "the server is shutting down"};
  return {ready_, not_ready_reason_};
}

void writer::mark(bool ok, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ok == ready_) return;
  ready_ = ok;
  not_ready_reason_ = ok ? std::string() : reason;
  if (ok) std::cerr << "plaint serve: the database takes writes again\n";
}

// Every second: the policy another process may have stored, and — while
// the writer is not ready — a probe of the write path.
void writer::watch_policy() {
  watch_->timer.expires_after(std::chrono::seconds(1));
  watch_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!running_) return;
    }
    if (!ready().ready) {
      auto probe = store_->begin();  // rolled back at once
      if (probe) mark(true);
    }
    if (reload_) {
      auto fresh = reload_(*store_);
      if (!fresh) {
        std::cerr << "plaint serve: " << fresh.error().message << "; the policy in force stays\n";
      } else if (*fresh) {
        std::cerr << "plaint serve: policy '" << (*fresh)->source_name << "' is now in force\n";
        executor_.set_policy(**fresh);
        std::atomic_store(&policy_, std::make_shared<const engine::sla_policy>(std::move(**fresh)));
        scheduler_->poke();
      }
    }
    watch_policy();
  });
}

}  // namespace plaint::server
