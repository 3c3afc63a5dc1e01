// Several `plaint serve` nodes on one PostgreSQL database: every node's
// stream carries every node's events, in seq order, and every node's timer
// scheduler hears of tickets the others changed.
//
// The audit log is one gap-free chain whose appends are serialised and
// committed in seq order (storage/pg_store.h), so "the next seq" is all a
// node needs to remember. Events reach the hub from two sides:
//  - this node's writer, right after each commit (`committed`), so a
//    client that reacts to its answer by opening a stream never misses it:
//    if other nodes committed in between, their events are read from the
//    log first (a catch-up read by seq) and published before these;
//  - a thread that LISTENs for every node's commits (engine::commit_feed)
//    and, when told — and every `poll` anyway, since a notification can be
//    lost — reads the log after the last published seq.
// A catch-up read that fails publishes nothing: the next one starts from
// the same seq, so a stream sees a delay, never a gap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/store.h"
#include "server/hub.h"

namespace plaint::server {

class node_feed {
 public:
  // `reads`: a connection of its own; `foreign`: called (on the feed's
  // thread) when events of other nodes were published.
  node_feed(std::unique_ptr<engine::store> reads, std::unique_ptr<engine::commit_feed> feed, hub& h,
            std::function<void()> foreign, std::chrono::milliseconds poll = std::chrono::milliseconds(1000));
  ~node_feed();
  node_feed(const node_feed&) = delete;
  node_feed& operator=(const node_feed&) = delete;

  // Starts after the log's current end (streams replay older events
  // themselves, from Last-Event-ID).
  engine::Status start();
  void stop();

  // This node's writer, after a commit: its events in seq order.
  void committed(const std::vector<engine::event_record>& events);

 private:
  void run();
  // Publishes the log's events from next_ up to `until` (0: to its end);
  // mu_ held. False when the read failed (nothing published past the gap).
  bool catch_up(std::int64_t until);

  std::unique_ptr<engine::store> reads_;
  std::unique_ptr<engine::commit_feed> feed_;
  hub& hub_;
  std::function<void()> foreign_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::int64_t next_ = 1;  // the seq the hub hears next
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace plaint::server
