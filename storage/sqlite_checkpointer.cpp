#include "storage/sqlite_checkpointer.h"

namespace plaint::storage {

background_checkpointer::background_checkpointer(std::unique_ptr<sqlite_store> store, on_error_fn on_error,
                                                 std::chrono::milliseconds every)
    : store_(std::move(store)), on_error_(std::move(on_error)), every_(every), thread_([this] { run(); }) {}

background_checkpointer::~background_checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  (void)store_->checkpoint();  // leave a short log behind
}

void background_checkpointer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, every_, [this] { return stop_; })) {
    lock.unlock();
    if (auto st = store_->checkpoint(); !st && on_error_) on_error_(st.error());
    lock.lock();
  }
}

}  // namespace plaint::storage
