// Prometheus metrics of `plaint serve`: counters, histograms and gauges,
// rendered in the text exposition format (checked with `promtool check metrics`).
// Thread-safe: updated from the I/O threads and the writer thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace plaint::server {

class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends the _bucket/_sum/_count lines of `name`.
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class metrics {
 public:
  metrics();

  void request_done(const std::string& route, int status);
  void transition_committed(double seconds) { transition_latency_.observe(seconds); }
  void batch_committed(std::size_t size) { batch_size_.observe(static_cast<double>(size)); }
  void timer_fired(const std::string& event, int level);
  void sse_clients(int delta) { sse_clients_ += delta; }
  int sse_client_count() const { return sse_clients_.load(); }
  void connections(int delta) { connections_ += delta; }
  // A connection or stream the server closed to protect the others:
  // "idle_evicted", "over_capacity", "accept_failed", "stream_behind",
  // "stream_revoked", "streams_full", "reads_full", "writes_full".
  void dropped(const char* reason);

  // `pending_timers` is read at scrape time.
  std::string render(std::int64_t pending_timers) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, 4> escalations_by_level_{};
  std::uint64_t timers_fired_ = 0;
  std::uint64_t warnings_ = 0;
  std::atomic<int> sse_clients_{0};
  std::atomic<int> connections_{0};
  std::map<std::string, std::uint64_t> dropped_;
  histogram transition_latency_;
  histogram batch_size_;
};

}  // namespace plaint::server
