#include "server/metrics.h"

#include <fmt/format.h>

namespace plaint::server {

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}

void histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) ++counts_[i];
  sum_ += v;
  ++count_;
}

void histogram::render(std::string& out, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], counts_[i]);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

metrics::metrics()
    : transition_latency_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      batch_size_({1, 2, 4, 8, 16, 32, 64, 128, 256}) {}

void metrics::request_done(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void metrics::timer_fired(const std::string& event, int level) {
  std::lock_guard<std::mutex> lock(mu_);
  ++timers_fired_;
  if (event == "escalate" && level >= 1 && level <= 3) ++escalations_by_level_[static_cast<std::size_t>(level)];
  if (event == "sla_warning") ++warnings_;
}

void metrics::dropped(const char* reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++dropped_[reason];
}

std::string metrics::render(std::int64_t pending_timers) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out += "# HELP plaint_http_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE plaint_http_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out += fmt::format("plaint_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    out += fmt::format(
        "# HELP plaint_timers_fired_total SLA timers fired.\n# TYPE plaint_timers_fired_total counter\n"
        "plaint_timers_fired_total {}\n"
        "# HELP plaint_sla_warnings_total SLA warnings raised by timers.\n# TYPE plaint_sla_warnings_total counter\n"
        "plaint_sla_warnings_total {}\n"
        "# HELP plaint_escalations_total Escalations by timers, by the level reached.\n"
        "# TYPE plaint_escalations_total counter\n",
        timers_fired_, warnings_);
    for (int level = 1; level <= 3; ++level)
      out += fmt::format("plaint_escalations_total{{level=\"{}\"}} {}\n", level,
                         escalations_by_level_[static_cast<std::size_t>(level)]);
    out += "# HELP plaint_shed_total Connections, streams and requests refused or closed to protect the rest, by reason.\n"
           "# TYPE plaint_shed_total counter\n";
    for (const auto& [reason, n] : dropped_) out += fmt::format("plaint_shed_total{{reason=\"{}\"}} {}\n", reason, n);
  }
  out += fmt::format(
      "# HELP plaint_timers_pending SLA timers waiting to fire.\n# TYPE plaint_timers_pending gauge\n"
      "plaint_timers_pending {}\n"
      "# HELP plaint_stream_clients Open event-stream connections.\n# TYPE plaint_stream_clients gauge\n"
      "plaint_stream_clients {}\n"
      "# HELP plaint_connections Open HTTP connections (streams not included).\n# TYPE plaint_connections gauge\n"
      "plaint_connections {}\n",
      pending_timers, sse_clients_.load(), connections_.load());
  out += "# HELP plaint_transition_seconds Time from request to durable commit of a transition.\n"
         "# TYPE plaint_transition_seconds histogram\n";
  transition_latency_.render(out, "plaint_transition_seconds");
  out += "# HELP plaint_commit_batch_size Transitions committed together in one transaction.\n"
         "# TYPE plaint_commit_batch_size histogram\n";
  batch_size_.render(out, "plaint_commit_batch_size");
  return out;
}

}  // namespace plaint::server
