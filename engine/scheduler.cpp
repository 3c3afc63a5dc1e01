#include "engine/scheduler.h"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace plaint::engine {

namespace asio = boost::asio;

struct scheduler::impl {
  explicit impl(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

scheduler::scheduler(asio::io_context& io, executor& ex, store& s, on_fired_fn on_fired, on_error_fn on_error,
                     std::chrono::milliseconds rescan)
    : impl_(std::make_unique<impl>(io)),
      ex_(ex),
      store_(s),
      on_fired_(std::move(on_fired)),
      on_error_(std::move(on_error)),
      rescan_(rescan) {}

scheduler::~scheduler() = default;

void scheduler::start() {
  stopped_ = false;
  run_due();
}

void scheduler::stop() {
  stopped_ = true;
  armed_for_.reset();
  impl_->timer.cancel();
}

void scheduler::poke() {
  if (stopped_ || backing_off_) return;
  auto next = store_.next_due();
  if (!next) {
    if (on_error_) on_error_(next.error());
    return;
  }
  // Only an earlier due time needs a re-arm; later ones wait their turn.
  if (*next && (!armed_for_ || **next < *armed_for_)) arm();
}

void scheduler::run_due() {
  if (stopped_) return;
  // One transaction per round: its timers are published as soon as it
  // commits, and write batches run between rounds.
  constexpr int round = 256;
  const auto started = std::chrono::steady_clock::now();
  auto fired = ex_.fire_due(ex_.time_source().now(), round, round);
  backing_off_ = !fired;
  if (!fired) {
    if (on_error_) on_error_(fired.error());
    armed_for_.reset();
    wait_then_run(rescan_);
    return;
  }
  for (const auto& f : *fired) {
    ++fired_;
    if (on_fired_) on_fired_(f);
  }
  if (on_round_) on_round_(fired->size(), std::chrono::steady_clock::now() - started);
  // A backlog is worked off one bounded round at a time, letting other
  // work on the io_context (new transitions) in between.
  if (fired->size() == static_cast<std::size_t>(round)) {
    boost::asio::post(impl_->timer.get_executor(), [this] { run_due(); });
    return;
  }
  arm();
}

void scheduler::arm() {
  if (stopped_) return;
  auto next = store_.next_due();
  // Nothing pending, or a storage error: look again after `rescan`.
  std::chrono::milliseconds wait = rescan_;
  armed_for_.reset();
  if (next && *next) {
    armed_for_ = **next;
    const std::int64_t now_ms = ex_.time_source().now_ms();
    wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, **next * 1000 - now_ms)));
  } else if (!next && on_error_) {
    on_error_(next.error());
  }
  wait_then_run(wait);
}

void scheduler::wait_then_run(std::chrono::milliseconds wait) {
  impl_->timer.expires_after(wait);
  impl_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    run_due();
  });
}

}  // namespace plaint::engine
