// Read connections for the HTTP threads. Each lease is one store used by one
// thread at a time; with SQLite's WAL they read beside the single writer.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/result.h"
#include "engine/store.h"

namespace plaint::server {

using store_factory = std::function<engine::Result<std::unique_ptr<engine::store>>()>;

class store_pool {
 public:
  explicit store_pool(store_factory open) : open_(std::move(open)) {}

  class lease {
   public:
    lease(store_pool& pool, std::unique_ptr<engine::store> s) : pool_(&pool), store_(std::move(s)) {}
    lease(lease&&) = default;
    lease& operator=(lease&&) = default;
    ~lease() {
      if (store_) pool_->give_back(std::move(store_));
    }
    engine::store& operator*() { return *store_; }
    engine::store* operator->() { return store_.get(); }

   private:
    store_pool* pool_;
    std::unique_ptr<engine::store> store_;
  };

  engine::Result<lease> acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return lease(*this, std::move(s));
      }
    }
    auto s = open_();
    PLAINT_TRY(s);
    return lease(*this, std::move(*s));
  }

 private:
  void give_back(std::unique_ptr<engine::store> s) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(s));
  }

  store_factory open_;
  std::mutex mu_;
  std::vector<std::unique_ptr<engine::store>> idle_;
};

}  // namespace plaint::server
