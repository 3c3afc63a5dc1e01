// The server's structured log: one JSON object per line on stderr (for
// journald), written with one write(2) so lines from several threads never
// interleave. Every line has "time" (UTC, milliseconds), "level" and "msg";
// a request line adds method, route (the pattern, never the path or its
// query), status, duration_ms, actor, ticket and request_id; a timer round
// adds fired and duration_ms. No header, body, query or token is ever
// written: what a line holds is chosen field by field, here and at the
// call sites.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/model.h"

namespace plaint::server {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

// "error", "warn", "info" or "debug"; nullopt otherwise.
std::optional<log_level> parse_log_level(std::string_view text);

class logger {
 public:
  explicit logger(log_level level = log_level::info, int fd = 2) : level_(level), fd_(fd) {}

  bool enabled(log_level l) const { return l <= level_; }
  // `fields` (an object) joins time, level and msg; nothing if `l` is off.
  void write(log_level l, std::string_view msg, const engine::json& fields = engine::json::object()) const;

  // The request line (at info), written field by field without building a
  // JSON object: it is on the path of every request.
  struct request_line {
    std::string_view method, route, actor, request_id;  // actor "" is null
    int status = 0;
    double duration_ms = 0;
    std::optional<std::int64_t> ticket;
  };
  void request(const request_line& r) const;

 private:
  log_level level_;
  int fd_;
};

// A request's id: the client's X-Request-Id when it is 1–64 characters of
// [A-Za-z0-9._:-], else 16 random hex digits. Echoed in the response.
std::string request_id_for(const std::string& offered);

}  // namespace plaint::server
