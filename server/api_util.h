// Helpers shared by the API's routing (api.cpp) and handlers
// (api_handlers.cpp): typed reading of JSON bodies, status mapping.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/json_limits.h"
#include "engine/store.h"
#include "engine/utf8.h"
#include "engine/workflow.h"

namespace plaint::server::detail {

using engine::errc;
using engine::json;
using engine::make_error;

inline std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// A JSON object body whose members are checked one by one; the first
// problem becomes the 400 message.
class body {
 public:
  static engine::Result<body> parse(const std::string& text, std::set<std::string> allowed) {
    if (!engine::valid_utf8(text))
      return make_error(errc::invalid, "the request body is not valid UTF-8");
    PLAINT_TRY(engine::check_json_depth("the request body", text));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(errc::invalid, "the request body is not valid JSON");
    if (!j.is_object()) return make_error(errc::invalid, "the request body must be a JSON object");
    for (const auto& [key, value] : j.items()) {
      (void)value;
      if (!allowed.count(key)) return make_error(errc::invalid, fmt::format("unknown field '{}'", key));
    }
    return body(std::move(j));
  }

  std::string str(const char* key, bool required = false) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) fail(fmt::format("field '{}' is required", key));
      return {};
    }
    if (!it->is_string()) {
      fail(fmt::format("field '{}' must be a string", key));
      return {};
    }
    return it->get<std::string>();
  }
  // A whole number from `lo` to `hi`; one out of range (beyond 64 bits
  // too) is refused, never wrapped.
  std::optional<std::int64_t> integer(const char* key, std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    const bool in_range = it->is_number_unsigned()
                              ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
                              : it->is_number_integer() && it->get<std::int64_t>() >= lo && it->get<std::int64_t>() <= hi;
    if (!in_range) {
      fail(fmt::format("field '{}' must be a whole number from {} to {}", key, lo, hi));
      return std::nullopt;
    }
    return it->get<std::int64_t>();
  }
  // Absent or null: nullopt (for updates, where that means "keep").
  std::optional<std::string> opt_str(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    return str(key);
  }
  std::optional<json> opt_object(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    return object(key);
  }
  json object(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return json::object();
    if (!it->is_object()) {
      fail(fmt::format("field '{}' must be an object", key));
      return json::object();
    }
    return *it;
  }
  // Event fields: strings, whole numbers and booleans, all carried as text.
  engine::field_map fields(const char* key) {
    engine::field_map out;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return out;
    if (!it->is_object()) {
      fail(fmt::format("field '{}' must be an object", key));
      return out;
    }
    for (const auto& [k, v] : it->items()) {
      if (v.is_string())
        out[k] = v.get<std::string>();
      else if (v.is_number_integer())
        out[k] = v.dump();  // the digits as sent: a number beyond 64 bits is not wrapped
      else if (v.is_boolean())
        out[k] = v.get<bool>() ? "true" : "false";
      else
        fail(fmt::format("fields.{} must be a string, a whole number or a boolean", k));
    }
    return out;
  }
  engine::Status status() const { return ok_ ? engine::Status() : engine::Status(make_error(errc::invalid, error_)); }

 private:
  explicit body(json j) : j_(std::move(j)) {}
  void fail(std::string why) {
    if (ok_) error_ = std::move(why);
    ok_ = false;
  }
  json j_;
  bool ok_ = true;
  std::string error_;
};

inline int status_of(errc code) {
  switch (code) {
    case errc::invalid: return 400;
    case errc::not_found: return 404;
    case errc::not_allowed: return 422;
    case errc::conflict: return 409;
    case errc::unavailable: return 503;
    case errc::forbidden: return 403;
    case errc::internal: break;
  }
  return 500;
}

// GET /tickets/{id} embeds the newest events of the history; the rest are
// paged through GET /tickets/{id}/events?cursor=history_next_cursor.
inline constexpr int history_embedded = 50;

inline json ticket_with_history(engine::store& s, const engine::ticket& t, engine::timestamp now) {
  json j = engine::to_json(t, now);
  auto page = s.ticket_history(t.id, std::nullopt, history_embedded);
  if (page) {
    json h = json::array();
    for (const auto& e : page->events)
      h.push_back({{"seq", e.seq}, {"at", engine::format_iso(e.at)}, {"actor", e.actor}, {"event", e.event},
                   {"from", e.from_state.empty() ? json(nullptr) : json(e.from_state)}, {"to", e.to_state},
                   {"version", e.version}, {"payload", e.payload}});
    j["history"] = std::move(h);
    j["history_next_cursor"] = page->next_cursor ? json(std::to_string(*page->next_cursor)) : json(nullptr);
  }
  return j;
}

}  // namespace plaint::server::detail
