// The HTTP/JSON API of SPEC §6, independent of the transport: a request in,
// a response out (possibly later, from the writer thread, once durable).
//
// Roles: agent < supervisor < admin. Every route but the probes and the web
// desk's public pages needs a valid bearer token or a session cookie (401);
// the wrong role gets 403, and so does a request made with the cookie that
// changes state without the session's CSRF token. Errors are one JSON shape:
// {"error":{"code","message"}} with invalid → 400, not_found → 404,
// not_allowed → 422, conflict → 409 (+ "current_version" for tickets),
// unavailable → 503 with Retry-After: 1, internal → 500.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/replay.h"
#include "engine/time.h"
#include "engine/tokens.h"
#include "engine/workflow.h"
#include "server/http_types.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/store_pool.h"
#include "server/writer.h"

namespace plaint::server {

class api;
class signin_guard;

// One request on its route, as its handler sees it.
struct call {
  const request& req;
  const std::vector<std::string>& params;  // the {…} parts of the pattern, in order
  const std::map<std::string, std::string>& query;
  const engine::token_identity& who;       // empty for public routes
  respond_fn respond;
  engine::timestamp now;
};
using handler_fn = void (*)(api&, call&);

struct route_info {
  std::string method;
  std::string pattern;  // "/api/v1/tickets/{id}"
  std::string role;     // "" = public, "any", "agent", "supervisor", "admin"
  std::vector<std::string> query = {};  // the query parameters it takes; others are 400
  handler_fn handler = nullptr;
};

// The web desk (docs/web.md).
struct web_options {
  std::string web_dir;                       // serve the pages from here instead of the built-in copy
  std::int64_t session_lifetime = 12 * 3600;  // seconds a sign-in lasts
  bool secure_cookies = false;               // add Secure (behind TLS)
};

// What `GET /tickets/{id}/sla` and `POST /reports/whatif` need from the
// workflows module, which parses policies (the server does not link it).
// Empty: those routes answer 503.
struct policy_tools {
  std::function<engine::Result<engine::policy_timeline>(engine::store&)> history;
  std::function<engine::Result<engine::sla_policy>(std::string_view text, std::string_view name)> parse;
};

class api {
 public:
  api(writer& w, store_pool& readers, metrics& m, const engine::clock& clock,
      const engine::workflow_registry& workflows, web_options web = {}, policy_tools sla = {});
  ~api();

  // Answers one request; `respond` runs exactly once, maybe on another thread.
  void handle(const request& req, respond_fn respond);

  // The identity behind the request's bearer token or session cookie, or
  // `not_found` (→ 401) when there is none or it is not valid.
  engine::Result<engine::token_identity> authenticate(const request& req);

  // Every route this API serves, for the OpenAPI check and /metrics labels.
  static const std::vector<route_info>& routes();
  // The OpenAPI 3.0 document (server/openapi.json, embedded at build time).
  static const std::string& openapi_document();
  // Requests whose handler blocks (a password check): the transport runs
  // them on the read pool, not on an I/O thread.
  static bool blocking(const request& req);

  // The one shape of every error: {"error":{"code","message", …extra}}.
  static response error_body(int status, std::string_view code, std::string_view message,
                             const engine::json& extra = engine::json::object());
  // `extra` members join the error object (e.g. "current_version").
  static response error_response(const engine::Error& e, const engine::json& extra = engine::json::object());
  static response json_response(int status, const engine::json& body);

  // What the handlers work with.
  writer& writes() { return writer_; }
  store_pool& readers() { return readers_; }
  metrics& stats() { return metrics_; }
  const engine::clock& clock() const { return clock_; }
  const engine::workflow_registry& workflows() const { return workflows_; }
  const web_options& web() const { return web_; }
  const policy_tools& sla() const { return sla_; }
  signin_guard& guard() { return *guard_; }
  // Where each answered request is logged (info); none when null.
  void set_log(const logger* log) { log_ = log; }

 private:
  writer& writer_;
  store_pool& readers_;
  metrics& metrics_;
  const engine::clock& clock_;
  const engine::workflow_registry& workflows_;
  web_options web_;
  policy_tools sla_;
  std::unique_ptr<signin_guard> guard_;
  const logger* log_ = nullptr;
};

}  // namespace plaint::server
