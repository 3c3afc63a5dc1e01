// Helpers shared by the API's routing (api.cpp) and handlers
// (api_handlers.cpp): typed reading of JSON bodies, status mapping.
#pragma once

#include <charconv>
#include <map>
#include <utility>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/json_limits.h"
#include "engine/sla.h"
#include "engine/time.h"
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

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding ('+' is a space in queries and forms); nullopt for a bad escape.
inline std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// "a=1&b=x+y" (a query string, or a form body) as a map; `what` names it
// in the error for a bad escape or invalid UTF-8.
inline engine::Result<std::map<std::string, std::string>> parse_pairs(std::string_view q, std::string_view what) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto key = url_decode(item.substr(0, eq), true);
    auto value = url_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!key || !value || !engine::valid_utf8(*key) || !engine::valid_utf8(*value))
      return make_error(errc::invalid, fmt::format("{} is not valid percent-encoded UTF-8", what));
    out[*key] = *value;
  }
  return out;
}

// The value of cookie `name` in a Cookie header, "" when absent.
inline std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return item.substr(name.size() + 1);
  }
  return {};
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
  std::optional<bool> opt_bool(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
      fail(fmt::format("field '{}' must be true or false", key));
      return std::nullopt;
    }
    return it->get<bool>();
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

// The SLA clocks of an open ticket in business time, for a page that
// counts down: {"working_now", "first_response_business_left",
// "resolution_business_left"} (seconds of working time; negative when
// overdue; null when the clock does not run).
inline json business_clock(const engine::sla_policy& policy, const engine::ticket& t, engine::timestamp now) {
  const auto& cal = policy.calendar;
  auto left = [&](const std::optional<engine::timestamp>& due, engine::timestamp from) -> json {
    if (!due) return nullptr;
    return *due >= from ? cal.between(from, *due) : -cal.between(*due, from);
  };
  const bool open = !t.closed_at;
  return json{
      {"working_now", cal.is_working(now)},
      {"first_response_business_left", open && !t.first_response_at ? left(t.first_response_due, now) : json(nullptr)},
      {"resolution_business_left",
       open && !t.resolved_at ? left(t.resolution_due, t.paused_at.value_or(now)) : json(nullptr)},
      {"paused", t.paused_at.has_value()}};
}

// The report period of ?from=&to= (ISO 8601): [to − 30 days, now) unless given.
inline engine::Result<std::pair<engine::timestamp, engine::timestamp>> report_period(
    const std::map<std::string, std::string>& q, engine::timestamp now) {
  auto when = [&](const char* key, engine::timestamp fallback) -> engine::Result<engine::timestamp> {
    auto it = q.find(key);
    if (it == q.end() || it->second.empty()) return fallback;
    auto t = engine::parse_iso(it->second);
    if (!t) return make_error(errc::invalid, fmt::format("{} '{}' is not an ISO 8601 time", key, it->second));
    return *t;
  };
  auto to = when("to", now);
  PLAINT_TRY(to);
  auto from = when("from", *to - 30 * 86400);
  PLAINT_TRY(from);
  return std::make_pair(*from, *to);
}

}  // namespace plaint::server::detail
