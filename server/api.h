// The HTTP/JSON API of SPEC §6, independent of the transport: a request in,
// a response out (possibly later, from the writer thread, once durable).
//
// Roles: agent < supervisor < admin. Every route but /healthz needs a valid
// bearer token (401); the wrong role gets 403. Errors are one JSON shape:
// {"error":{"code","message"}} with invalid → 400, not_found → 404,
// not_allowed → 422, conflict → 409 (+ "current_version" for tickets),
// unavailable → 503 with Retry-After: 1, internal → 500.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/time.h"
#include "engine/tokens.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/store_pool.h"
#include "server/writer.h"

namespace plaint::server {

struct route_info {
  std::string method;
  std::string pattern;  // "/api/v1/tickets/{id}"
  std::string role;     // "" = no token, "any", "agent", "supervisor", "admin"
  std::vector<std::string> query = {};  // the query parameters it takes; others are 400
};

class api {
 public:
  api(writer& w, store_pool& readers, metrics& m, const engine::clock& clock);

  // Answers one request; `respond` runs exactly once, maybe on another thread.
  void handle(const request& req, respond_fn respond);

  // The bearer token's identity, or the 401 response to send.
  engine::Result<engine::token_identity> authenticate(const request& req);

  // Every route this API serves, for the OpenAPI check and /metrics labels.
  static const std::vector<route_info>& routes();
  // The OpenAPI 3.0 document (server/openapi.json, embedded at build time).
  static const std::string& openapi_document();

  // `extra` members join the error object (e.g. "current_version").
  static response error_response(const engine::Error& e, const engine::json& extra = engine::json::object());
  static response json_response(int status, const engine::json& body);

 private:
  void dispatch(const request& req, const route_info& route, const std::vector<std::string>& params,
                const std::map<std::string, std::string>& query, const engine::token_identity& who,
                respond_fn respond);

  writer& writer_;
  store_pool& readers_;
  metrics& metrics_;
  const engine::clock& clock_;
};

}  // namespace plaint::server
