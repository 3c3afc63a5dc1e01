#include "server/signin_guard.h"

#include <algorithm>

namespace plaint::server {

std::int64_t signin_guard::wait_of(const std::string& key, time_point now) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.until <= now) return 0;
  // Rounded up: "wait 0 s" would invite an attempt that is then refused.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.until - now).count();
  return (left + 999) / 1000;
}

std::int64_t signin_guard::wait(const std::string& account, const std::string& address, time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(wait_of("u:" + account, now), wait_of("a:" + address, now));
}

void signin_guard::count(const std::string& key, int free, time_point now) {
  auto it = entries_.find(key);
  if (it != entries_.end() && now - it->second.last > forget_after) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries) {
      for (auto e = entries_.begin(); e != entries_.end();)
        e = now - e->second.last > forget_after ? entries_.erase(e) : std::next(e);
      if (entries_.size() >= max_entries)
        entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                        [](const auto& a, const auto& b) { return a.second.last < b.second.last; }));
    }
    it = entries_.emplace(key, entry{}).first;
  }
  entry& e = it->second;
  e.failures += 1;
  e.last = now;
  if (e.failures > free) {
    const int doublings = std::min(e.failures - free - 1, 10);  // 2^10 s > 15 min
    e.until = now + std::min<std::chrono::seconds>(std::chrono::seconds(std::int64_t{1} << doublings), max_wait);
  }
}

void signin_guard::failed(const std::string& account, const std::string& address, time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  count("u:" + account, free_account_failures, now);
  count("a:" + address, free_address_failures, now);
}

void signin_guard::succeeded(const std::string& account) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase("u:" + account);
}

}  // namespace plaint::server
