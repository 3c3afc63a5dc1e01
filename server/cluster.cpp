#include "server/cluster.h"

#include <iostream>

namespace plaint::server {

node_feed::node_feed(std::unique_ptr<engine::store> reads, std::unique_ptr<engine::commit_feed> feed, hub& h,
                     std::function<void()> foreign, std::chrono::milliseconds poll)
    : reads_(std::move(reads)), feed_(std::move(feed)), hub_(h), foreign_(std::move(foreign)), poll_(poll) {}

node_feed::~node_feed() { stop(); }

engine::Status node_feed::start() {
  auto last = reads_->last_event_seq();
  PLAINT_TRY(last);
  next_ = *last + 1;
  thread_ = std::thread([this] { run(); });
  return {};
}

void node_feed::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void node_feed::committed(const std::vector<engine::event_record>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t first = 0;
  while (first < events.size() && events[first].seq < next_) ++first;  // the feed was quicker
  if (first == events.size()) return;
  if (events[first].seq > next_ && !catch_up(events[first].seq - 1)) return;  // the feed publishes them later
  if (events[first].seq != next_) return;
  hub_.publish(first == 0 ? events : std::vector<engine::event_record>(events.begin() + first, events.end()));
  next_ = events.back().seq + 1;
}

bool node_feed::catch_up(std::int64_t until) {
  std::vector<engine::event_record> found;
  constexpr std::size_t page = 1000;
  for (;;) {
    found.clear();
    const std::int64_t after = next_ - 1;
    auto read = reads_->scan_events(after, [&](const engine::event_record& e) {
      if (until && e.seq > until) return false;
      found.push_back(e);
      return found.size() < page;
    });
    if (!read) {
      std::cerr << "plaint serve: the event stream waits for the database: " << read.error().message << '\n';
      return false;
    }
    if (found.empty() || found.front().seq != next_) return found.empty();
    hub_.publish(found);
    next_ = found.back().seq + 1;
    if (found.size() < page || (until && next_ > until)) return true;
  }
}

void node_feed::run() {
  auto last_poll = std::chrono::steady_clock::now();
  while (!stop_) {
    // Short waits, so that stop() is prompt; a catch-up read on news or
    // every `poll_`.
    auto heard = feed_->wait(std::chrono::milliseconds(200));
    const auto now = std::chrono::steady_clock::now();
    if (!heard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the database is away; try again
      continue;
    }
    const bool polling = now - last_poll >= poll_;
    if (*heard == 0 && !polling) continue;
    std::int64_t before = 0, after = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // This node's own commits were published by its writer: no read.
      if (*heard < next_ && !polling) continue;
      last_poll = now;
      before = next_;
      catch_up(0);
      after = next_;
    }
    if (after != before && foreign_) foreign_();
  }
}

}  // namespace plaint::server
