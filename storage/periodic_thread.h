// A thread of its own that runs one round of background work, waits as long
// as the round asks, and runs the next, until it is stopped: the WAL
// checkpointer and the search indexer of `plaint serve`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace plaint::storage {

class periodic_thread {
 public:
  // `round` runs at once, then again after the wait it returns (zero: at
  // once), on the thread. It must not throw.
  using round_fn = std::function<std::chrono::milliseconds()>;
  explicit periodic_thread(round_fn round);
  // Stops and joins (as stop()).
  ~periodic_thread();
  periodic_thread(const periodic_thread&) = delete;
  periodic_thread& operator=(const periodic_thread&) = delete;

  // Wakes the thread from its wait and joins it after the round under way,
  // if any; idempotent. After it returns no round runs again.
  void stop();

 private:
  void run();

  round_fn round_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace plaint::storage
