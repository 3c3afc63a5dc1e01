#include "storage/periodic_thread.h"

namespace plaint::storage {

periodic_thread::periodic_thread(round_fn round) : round_(std::move(round)), thread_([this] { run(); }) {}

periodic_thread::~periodic_thread() { stop(); }

void periodic_thread::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void periodic_thread::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    const std::chrono::milliseconds wait = round_();
    lock.lock();
    cv_.wait_for(lock, wait, [this] { return stop_; });
  }
}

}  // namespace plaint::storage
