#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "engine/utf8.h"
#include "server/api_util.h"
#include "server/openapi_text.h"

namespace plaint::server {

using namespace detail;
using engine::errc;
using engine::Error;
using engine::json;
using engine::make_error;

namespace {

// ------------------------------------------------------------ request parsing

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding ('+' is a space in queries); nullopt for a bad escape.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
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

struct parsed_target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

engine::Result<parsed_target> parse_target(const std::string& target) {
  parsed_target p;
  const auto qpos = target.find('?');
  std::string_view path(target.data(), qpos == std::string::npos ? target.size() : qpos);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    auto seg = url_decode(path.substr(0, slash), false);
    if (!seg || !engine::valid_utf8(*seg)) return make_error(errc::invalid, "the path is not valid percent-encoded UTF-8");
    p.segments.push_back(std::move(*seg));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  if (qpos != std::string::npos) {
    std::string_view q(target.data() + qpos + 1, target.size() - qpos - 1);
    while (!q.empty()) {
      const auto amp = q.find('&');
      std::string_view item = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      auto key = url_decode(item.substr(0, eq), true);
      auto value = url_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
      if (!key || !value || !engine::valid_utf8(*key) || !engine::valid_utf8(*value))
        return make_error(errc::invalid, "the query string is not valid percent-encoded UTF-8");
      p.query[*key] = *value;
    }
  }
  return p;
}

// Matches "/api/v1/tickets/{id}" against segments; captures the {…} parts.
// A route pattern split once into segments; "{…}" segments capture.
std::vector<std::string_view> split_pattern(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    if (p.front() == '/') {
      p.remove_prefix(1);
      continue;
    }
    const auto slash = p.find('/');
    out.push_back(p.substr(0, slash));
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
  }
  return out;
}

bool match(const std::vector<std::string_view>& pat, const std::vector<std::string>& segs,
           std::vector<std::string>& params) {
  if (pat.size() != segs.size()) return false;
  for (std::size_t i = 0; i < pat.size(); ++i)
    if (pat[i].empty() || pat[i].front() != '{') {
      if (pat[i] != segs[i]) return false;
    }
  params.clear();
  for (std::size_t i = 0; i < pat.size(); ++i)
    if (!pat[i].empty() && pat[i].front() == '{') params.push_back(segs[i]);
  return true;
}

// The patterns of api::routes(), split, in the same order.
const std::vector<std::vector<std::string_view>>& split_routes();

}  // namespace

// ------------------------------------------------------------------- routes

const std::vector<route_info>& api::routes() {
  static const std::vector<route_info> r = {
      {"GET", "/healthz", ""},
      {"GET", "/readyz", ""},
      {"GET", "/metrics", "supervisor"},
      {"GET", "/api/v1/openapi.json", "any"},
      {"POST", "/api/v1/customers", "agent"},
      {"GET", "/api/v1/customers/{id}", "agent"},
      {"POST", "/api/v1/tickets", "agent"},
      {"GET", "/api/v1/tickets", "agent",
       {"state", "owner", "customer", "level", "breached", "open", "q", "limit", "cursor"}},
      {"GET", "/api/v1/tickets/{id}", "agent"},
      {"POST", "/api/v1/tickets/{id}/events", "agent"},
      {"GET", "/api/v1/tickets/{id}/events", "agent", {"limit", "cursor"}},
      {"GET", "/api/v1/escalations", "supervisor"},
      {"GET", "/api/v1/reports/kpi", "supervisor", {"from", "to", "by"}},
      {"GET", "/api/v1/stream", "any"},
  };
  return r;
}

namespace {
const std::vector<std::vector<std::string_view>>& split_routes() {
  static const auto split = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const auto& r : api::routes()) out.push_back(split_pattern(r.pattern));
    return out;
  }();
  return split;
}
}  // namespace

const std::string& api::openapi_document() {
  static const std::string doc = openapi_text;
  return doc;
}

api::api(writer& w, store_pool& readers, metrics& m, const engine::clock& clock)
    : writer_(w), readers_(readers), metrics_(m), clock_(clock) {}

response api::json_response(int status, const json& body) {
  response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

response api::error_response(const Error& e, const json& extra) {
  json error = extra;
  error["code"] = engine::errc_name(e.code);
  error["message"] = e.message;
  response r = json_response(status_of(e.code), {{"error", std::move(error)}});
  if (e.code == errc::unavailable) r.headers.emplace_back("Retry-After", "1");
  return r;
}

engine::Result<engine::token_identity> api::authenticate(const request& req) {
  // RFC 7235: the scheme is case-insensitive, and one or more spaces
  // separate it from the credentials.
  std::string_view auth = req.header("authorization");
  constexpr std::string_view bearer = "bearer";
  const bool is_bearer =
      auth.size() > bearer.size() && auth[bearer.size()] == ' ' &&
      std::equal(bearer.begin(), bearer.end(), auth.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      });
  if (!is_bearer) return make_error(errc::not_found, "an Authorization: Bearer token is required");
  auth.remove_prefix(bearer.size());
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  // Checked against storage on every request, so a revocation holds from
  // the next request on (a primary-key read and one SHA-256).
  auto s = readers_.acquire();
  PLAINT_TRY(s);
  return engine::check_token(**s, auth);
}

void api::handle(const request& req, respond_fn respond) {
  auto target = parse_target(req.target);
  auto finish = [this, respond](const std::string& route, response r) {
    metrics_.request_done(route, r.status);
    respond(std::move(r));
  };
  if (!target) return finish("bad_request", error_response(target.error()));
  const route_info* route = nullptr;
  std::set<std::string> allowed;  // methods of a known path
  std::vector<std::string> params;
  const auto& patterns = split_routes();
  std::vector<std::string> caught;
  // HEAD is GET without the body (the transport drops it).
  const bool head = req.method == "HEAD";
  const std::string& method = head ? std::string("GET") : req.method;
  for (std::size_t i = 0; i < routes().size(); ++i) {
    const auto& r = routes()[i];
    if (!match(patterns[i], target->segments, caught)) continue;
    allowed.insert(r.method);
    if (r.method == "GET") allowed.insert("HEAD");
    if (r.method == method) {
      route = &r;
      params = std::move(caught);
    }
  }
  if (!route) {
    if (allowed.empty())
      return finish("not_found", error_response({errc::not_found, fmt::format("there is no {}", req.target)}));
    response r = json_response(405, {{"error",
                                       {{"code", "method_not_allowed"},
                                        {"message", fmt::format("{} is not allowed on {}", req.method, req.target)}}}});
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    r.headers.emplace_back("Allow", allow);
    return finish("method_not_allowed", std::move(r));
  }
  const std::string label = req.method + " " + route->pattern;
  for (const auto& [key, value] : target->query) {
    (void)value;
    if (std::find(route->query.begin(), route->query.end(), key) == route->query.end())
      return finish(label, error_response({errc::invalid, fmt::format("unknown query parameter '{}'", key)}));
  }
  // Liveness: the process answers. Readiness: it can also write.
  if (route->pattern == "/healthz") return finish(label, json_response(200, {{"status", "ok"}}));
  if (route->pattern == "/readyz") {
    const auto r = writer_.ready();
    if (r.ready) return finish(label, json_response(200, {{"status", "ready"}}));
    response out = json_response(503, {{"status", "not_ready"}, {"reason", r.reason}});
    out.headers.emplace_back("Retry-After", "1");
    return finish(label, std::move(out));
  }

  auto who = authenticate(req);
  if (!who) {
    if (who.error().code != errc::not_found) return finish(label, error_response(who.error()));
    response r = json_response(401, {{"error", {{"code", "unauthorized"}, {"message", who.error().message}}}});
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return finish(label, std::move(r));
  }
  if (route->role != "any" && !engine::role_at_least(who->role, route->role))
    return finish(label, json_response(403, {{"error",
                                              {{"code", "forbidden"},
                                               {"message", fmt::format("{} needs the {} role; {} is {}", label,
                                                                       route->role, who->name, who->role)}}}}));
  if (route->pattern == "/api/v1/stream") {  // only HEAD gets here; the transport serves GET
    response r;
    r.content_type = "text/event-stream; charset=utf-8";
    return finish(label, std::move(r));
  }
  dispatch(req, *route, params, target->query, *who,
           [finish, label](response r) { finish(label, std::move(r)); });
}

}  // namespace plaint::server
