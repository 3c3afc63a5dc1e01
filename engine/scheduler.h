// The live timer scheduler: fires SLA timers as they fall due, on a
// Boost.Asio io_context.
//
// It never holds the timers in memory: one steady_timer is armed for the
// earliest pending due time only, read from storage. On start it first fires
// everything that fell due while the process was down (in due order), so a
// restart loses no timer; exactly-once comes from the executor's claim.
// Call `poke()` after a commit that may have armed an earlier timer. Timers
// other processes arm (a `plaint open` or `plaint policy load` beside a
// running server) are seen within `rescan`: the steady timer never sleeps
// longer than that, and a wake-up with nothing due costs one index read.
//
// A failed round (the database locked past the busy timeout, a storage
// error) is reported once and tried again after `rescan`, not at once: an
// overdue timer must not turn a lasting failure into a busy loop.
//
// Thread model: every call and every handler runs on the io_context's
// thread(s) serially (the store is single-connection); `poke()` from another
// thread must go through `boost::asio::post`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/executor.h"

namespace boost::asio {
class io_context;
}

namespace plaint::engine {

class scheduler {
 public:
  using on_fired_fn = std::function<void(const fired_timer&)>;
  using on_error_fn = std::function<void(const Error&)>;

  scheduler(boost::asio::io_context& io, executor& ex, store& s, on_fired_fn on_fired = {},
            on_error_fn on_error = {}, std::chrono::milliseconds rescan = std::chrono::seconds(1));
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  void start();
  void poke();
  void stop();

  // Called after each round that read the due timers: how many fired and
  // how long the round took (a failed round goes to on_error instead).
  void on_round(std::function<void(std::size_t fired, std::chrono::steady_clock::duration took)> f) {
    on_round_ = std::move(f);
  }

  std::uint64_t fired() const { return fired_; }
  // The due time the steady timer is armed for, if any.
  std::optional<timestamp> armed_for() const { return armed_for_; }

 private:
  struct impl;
  void run_due();
  void arm();
  void wait_then_run(std::chrono::milliseconds wait);

  std::unique_ptr<impl> impl_;
  executor& ex_;
  store& store_;
  on_fired_fn on_fired_;
  on_error_fn on_error_;
  std::function<void(std::size_t, std::chrono::steady_clock::duration)> on_round_;
  std::chrono::milliseconds rescan_;
  bool backing_off_ = false;  // after a failed round, until the next one
  std::uint64_t fired_ = 0;
  std::optional<timestamp> armed_for_;
  bool stopped_ = true;
};

}  // namespace plaint::engine
