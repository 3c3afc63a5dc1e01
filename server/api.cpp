#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <openssl/crypto.h>
#include <set>

#include <fmt/format.h>

#include "engine/utf8.h"
#include "server/api_util.h"
#include "server/handlers.h"
#include "server/openapi_text.h"
#include "server/signin_guard.h"
#include "engine/people.h"

namespace plaint::server {

using namespace detail;
using engine::errc;
using engine::Error;
using engine::json;
using engine::make_error;

namespace {

// ------------------------------------------------------------ request parsing

std::string_view path_only(std::string_view target) { return target.substr(0, target.find('?')); }

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
    auto q = parse_pairs(std::string_view(target).substr(qpos + 1), "the query string");
    PLAINT_TRY(q);
    p.query = std::move(*q);
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
  namespace h = handlers;
  static const std::vector<route_info> r = {
      {"GET", "/healthz", "", {}, h::healthz},
      {"GET", "/readyz", "", {}, h::readyz},
      {"GET", "/metrics", "supervisor", {}, h::metrics_text},
      {"GET", "/api/v1/openapi.json", "any", {}, h::openapi},
      {"POST", "/api/v1/customers", "agent", {}, h::put_customer},
      {"GET", "/api/v1/customers/{id}", "agent", {}, h::get_customer},
      {"POST", "/api/v1/tickets", "agent", {}, h::open_ticket},
      {"GET", "/api/v1/tickets", "agent",
       {"state", "owner", "customer", "level", "breached", "open", "q", "limit", "cursor"}, h::list_tickets},
      {"GET", "/api/v1/tickets/{id}", "agent", {}, h::get_ticket},
      {"POST", "/api/v1/tickets/{id}/events", "agent", {}, h::post_event},
      {"GET", "/api/v1/tickets/{id}/events", "agent", {"limit", "cursor"}, h::ticket_events},
      {"GET", "/api/v1/tickets/{id}/sla", "agent", {}, h::sla_explain},
      {"GET", "/api/v1/tickets/{id}/attachments/{attachment}", "agent", {}, h::get_attachment},
      {"GET", "/api/v1/webhooks", "admin", {}, h::list_webhooks},
      {"POST", "/api/v1/webhooks", "admin", {}, h::add_webhook},
      {"DELETE", "/api/v1/webhooks/{id}", "admin", {}, h::remove_webhook},
      {"GET", "/api/v1/webhooks/{id}/deliveries", "admin", {"state", "limit"}, h::webhook_deliveries},
      {"GET", "/api/v1/notifications/status", "supervisor", {}, h::notification_status},
      {"GET", "/api/v1/escalations", "supervisor", {}, h::escalations},
      {"GET", "/api/v1/reports/kpi", "supervisor", {"from", "to", "by"}, h::kpi},
      {"GET", "/api/v1/reports/kpi/series", "supervisor", {"from", "to", "step"}, h::kpi_series},
      {"POST", "/api/v1/reports/whatif", "supervisor", {"from", "to", "by", "examples"}, h::whatif},
      {"GET", "/api/v1/stream", "any", {}, h::stream_head},
      {"GET", "/api/v1/me", "any", {}, h::me},
      {"GET", "/api/v1/users", "agent", {}, h::list_people},
      {"POST", "/api/v1/users", "admin", {}, h::put_person},
      {"GET", "/api/v1/workflows", "any", {}, h::workflows},
      {"GET", "/api/v1/sla/preview", "agent", {"customer", "priority", "workflow"}, h::sla_preview},
      {"GET", "/", "", {}, h::page_index},
      {"GET", "/signin", "", {"next", "error", "seconds"}, h::page_signin},
      {"POST", "/signin", "", {}, h::signin},
      {"POST", "/signout", "any", {}, h::signout},
      {"GET", "/assets/{hash}/{file}", "", {}, h::asset},
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

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A request from a page of another site: its Origin (sent by browsers with
// every POST) names another host than the one it was sent to.
bool cross_site(const request& req) {
  const std::string& origin = req.header("origin");
  if (origin.empty()) return false;
  const std::string& host = req.header("host");
  return origin != "http://" + host && origin != "https://" + host;
}
}  // namespace

const std::string& api::openapi_document() {
  static const std::string doc = openapi_text;
  return doc;
}

bool api::blocking(const request& req) {
  if (req.method != "POST") return false;
  const auto path = path_only(req.target);
  return path == "/signin" || path == "/api/v1/users" || path == "/api/v1/reports/whatif";
}

api::api(writer& w, store_pool& readers, metrics& m, const engine::clock& clock,
         const engine::workflow_registry& workflows, web_options web, policy_tools sla)
    : writer_(w),
      readers_(readers),
      metrics_(m),
      clock_(clock),
      workflows_(workflows),
      web_(std::move(web)),
      sla_(std::move(sla)),
      guard_(std::make_unique<signin_guard>()) {}

api::~api() = default;

response api::json_response(int status, const json& body) {
  response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

response api::error_body(int status, std::string_view code, std::string_view message, const json& extra) {
  json error = extra;
  error["code"] = code;
  error["message"] = message;
  response r = json_response(status, {{"error", std::move(error)}});
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

response api::error_response(const Error& e, const json& extra) {
  return error_body(status_of(e.code), engine::errc_name(e.code), e.message, extra);
}

engine::Result<engine::token_identity> api::authenticate(const request& req) {
  std::string_view auth = req.header("authorization");
  if (auth.empty()) {
    // A browser signed in to the web desk.
    const std::string_view cookie = cookie_value(req.header("cookie"), session_cookie);
    if (cookie.empty())
      return make_error(errc::not_found, "sign in, or send an Authorization: Bearer token");
    auto s = readers_.acquire();
    PLAINT_TRY(s);
    return engine::check_session(**s, cookie, clock_.now());
  }
  // RFC 7235: the scheme is case-insensitive, and one or more spaces
  // separate it from the credentials.
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
  // Who asked and about which ticket, for the log line; set as they become known.
  struct asked {
    std::string actor;
    std::optional<std::int64_t> ticket;
  };
  auto who_asked = std::make_shared<asked>();
  const auto started = std::chrono::steady_clock::now();
  auto finish = [this, respond, who_asked, started, method = req.method, id = req.id](const std::string& route,
                                                                                       response r) {
    metrics_.request_done(route, r.status);
    if (log_ && log_->enabled(log_level::info)) {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      log_->request({method, route, who_asked->actor, id, r.status, ms, who_asked->ticket});
    }
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
    response r =
        error_body(405, "method_not_allowed", fmt::format("{} is not allowed on {}", req.method, req.target));
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    r.headers.emplace_back("Allow", allow);
    return finish("method_not_allowed", std::move(r));
  }
  const std::string label = req.method + " " + route->pattern;
  if (route->pattern.rfind("/api/v1/tickets/{id}", 0) == 0 && !params.empty())
    who_asked->ticket = detail::to_int(params.front());
  for (const auto& [key, value] : target->query) {
    (void)value;
    if (std::find(route->query.begin(), route->query.end(), key) == route->query.end())
      return finish(label, error_response({errc::invalid, fmt::format("unknown query parameter '{}'", key)}));
  }
  const bool changes_state = method != "GET";
  engine::token_identity who;
  if (!route->role.empty()) {
    auto found = authenticate(req);
    if (!found) {
      if (found.error().code != errc::not_found) return finish(label, error_response(found.error()));
      return finish(label, error_body(401, "unauthorized", found.error().message));
    }
    who = std::move(*found);
    who_asked->actor = who.name;
    if (route->role != "any" && !engine::role_at_least(who.role, route->role))
      return finish(label, error_body(403, "forbidden",
                                      fmt::format("{} needs the {} role; {} is {}", label, route->role, who.name,
                                                  who.role)));
    // A signed-in browser's writes must carry the page's CSRF token and
    // come from this site; bearer requests carry no ambient credential.
    if (changes_state && !who.csrf.empty() &&
        (cross_site(req) || !same_text(req.header("x-csrf-token"), who.csrf)))
      return finish(label, error_body(403, "forbidden",
                                      "this request needs the page's CSRF token (X-CSRF-Token) and must come from "
                                      "this site"));
  } else if (changes_state && cross_site(req)) {
    return finish(label, error_body(403, "forbidden", "a sign-in must come from this site's own form"));
  }
  call c{req, params, target->query, who, [finish, label](response r) { finish(label, std::move(r)); },
         clock_.now()};
  route->handler(*this, c);
}

}  // namespace plaint::server
