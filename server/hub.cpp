#include "server/hub.h"

#include <fmt/format.h>

namespace plaint::server {

std::uint64_t hub::subscribe(sink s) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto id = next_id_++;
  sinks_.emplace(id, std::move(s));
  return id;
}

void hub::unsubscribe(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  sinks_.erase(id);
}

stream_message hub::format(const engine::event_record& e) {
  const engine::json data{{"seq", e.seq},
                          {"ticket", e.ticket},
                          {"event", e.event},
                          {"from", e.from_state.empty() ? engine::json(nullptr) : engine::json(e.from_state)},
                          {"to", e.to_state},
                          {"at", engine::format_iso(e.at)},
                          {"actor", e.actor},
                          {"version", e.version}};
  return {e.seq, fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.seq, e.event, data.dump())};
}

void hub::publish(const std::vector<engine::event_record>& events) {
  if (events.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sinks_.empty()) return;  // nobody listens: skip the formatting
  }
  auto batch = std::make_shared<std::vector<stream_message>>();
  batch->reserve(events.size());
  for (const auto& e : events) batch->push_back(format(e));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, s] : sinks_) s(batch);
}

}  // namespace plaint::server
