#include "server/writer.h"

#include <iostream>

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
      [](const engine::Error& e) { std::cerr << "plaint serve: timer scheduler: " << e.message << '\n'; });
}

writer::~writer() { stop(); }

void writer::start() {
  running_ = true;
  asio::post(*io_, [this] {
    scheduler_->start();
    watch_policy();
  });
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
  queue_.push_back({std::move(r), std::move(done), std::chrono::steady_clock::now()});
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(*io_, [this] { flush(); });
  }
}

void writer::submit_customer(engine::customer c, customer_fn done) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) {
    done(shutting_down());
    return;
  }
  asio::post(*io_, [this, c = std::move(c), done = std::move(done)]() mutable {
    done(executor_.put_customer(std::move(c)));
  });
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
    for (auto& j : jobs) j.done(results.error());
    return;
  }
  metrics_.batch_committed(jobs.size());
  // Streams hear of the events before any client hears its answer, so a
  // client that reacts to a response by opening a stream never sees it twice.
  std::vector<engine::event_record> committed;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& r = (*results)[i];
    if (r && r->created) {
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

void writer::publish(const std::vector<engine::event_record>& events) { hub_.publish(events); }

void writer::watch_policy() {
  if (!reload_) return;
  watch_->timer.expires_after(std::chrono::seconds(1));
  watch_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!running_) return;
    }
    auto fresh = reload_(*store_);
    if (!fresh) {
      std::cerr << "plaint serve: " << fresh.error().message << "; the policy in force stays\n";
    } else if (*fresh) {
      std::cerr << "plaint serve: policy '" << (*fresh)->source_name << "' is now in force\n";
      executor_.set_policy(**fresh);
      std::atomic_store(&policy_, std::make_shared<const engine::sla_policy>(std::move(**fresh)));
      scheduler_->poke();
    }
    watch_policy();
  });
}

}  // namespace plaint::server
