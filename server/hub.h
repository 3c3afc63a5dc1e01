// Fan-out of committed audit events to the live event streams (SSE).
//
// The writer publishes every event after its transaction committed, in seq
// order; each subscriber gets the formatted messages through its sink (which
// must not block: sessions queue and write on their own strand).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/model.h"

namespace plaint::server {

struct stream_message {
  std::int64_t seq = 0;
  std::string text;  // "id: 7\nevent: triage\ndata: {...}\n\n"
};
using stream_batch = std::shared_ptr<const std::vector<stream_message>>;

class hub {
 public:
  using sink = std::function<void(const stream_batch&)>;

  std::uint64_t subscribe(sink s);
  void unsubscribe(std::uint64_t id);
  void publish(const std::vector<engine::event_record>& events);

  // SPEC §9 SSE: event = name, id = seq, data = {seq, ticket, event, from, to, at, actor, version}.
  static stream_message format(const engine::event_record& e);

 private:
  std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, sink> sinks_;
};

}  // namespace plaint::server
