// Read connections for the HTTP threads. Each lease is one store used by one
// thread at a time; with SQLite's WAL they read beside the single writer.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/result.h"
#include "engine/store.h"

namespace plaint::server {

using store_factory = std::function<engine::Result<std::unique_ptr<engine::store>>()>;

class store_pool {
 public:
  // Every read made through a lease stops after `read_timeout` (0: unbounded).
  explicit store_pool(store_factory open, std::chrono::milliseconds read_timeout = {})
      : open_(std::move(open)), read_timeout_(read_timeout) {}

  class lease {
   public:
    lease(store_pool& pool, std::unique_ptr<engine::store> s) : pool_(&pool), store_(std::move(s)) {}
    lease(lease&&) = default;
    lease& operator=(lease&&) = default;
    ~lease() {
      if (!store_) return;
      store_->set_deadline(std::nullopt);
      pool_->give_back(std::move(store_));
    }
    engine::store& operator*() { return *store_; }
    engine::store* operator->() { return store_.get(); }

   private:
    store_pool* pool_;
    std::unique_ptr<engine::store> store_;
  };

  engine::Result<lease> acquire() {
    std::unique_ptr<engine::store> s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        s = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!s) {
      auto opened = open_();
      PLAINT_TRY(opened);
      s = std::move(*opened);
    }
    if (read_timeout_.count() > 0) s->set_deadline(std::chrono::steady_clock::now() + read_timeout_);
    return lease(*this, std::move(s));
  }

 private:
  void give_back(std::unique_ptr<engine::store> s) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(s));
  }

  store_factory open_;
  std::chrono::milliseconds read_timeout_;
  std::mutex mu_;
  std::vector<std::unique_ptr<engine::store>> idle_;
};

}  // namespace plaint::server
