// Slows down password guessing: failed sign-ins are counted per account and
// per client address; past a free allowance each further failure doubles
// the wait before the next attempt is even checked (1 s, 2 s, 4 s … at most
// 15 min). A success clears the account's count. Entries are forgotten 15
// minutes after their last failure, and the table holds at most
// `max_entries` (the oldest is dropped to admit a new one), so a flood of
// made-up names cannot grow it. In memory, per process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace plaint::server {

class signin_guard {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr int free_account_failures = 5;
  static constexpr int free_address_failures = 20;
  static constexpr std::chrono::seconds max_wait{15 * 60};
  static constexpr std::chrono::seconds forget_after{15 * 60};
  static constexpr std::size_t max_entries = 10000;

  // Seconds to wait before this account may try again from this address
  // (0: go ahead).
  std::int64_t wait(const std::string& account, const std::string& address, time_point now);
  void failed(const std::string& account, const std::string& address, time_point now);
  void succeeded(const std::string& account);

 private:
  struct entry {
    int failures = 0;
    time_point until{};  // no attempt is checked before this
    time_point last{};
  };
  std::int64_t wait_of(const std::string& key, time_point now) const;
  void count(const std::string& key, int free, time_point now);

  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace plaint::server
