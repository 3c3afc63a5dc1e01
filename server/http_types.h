// Plain HTTP request/response values between the Beast transport
// (server.cpp) and the API (api.cpp), so the API compiles without Beast and
// can be tested without a socket.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace plaint::server {

struct request {
  std::string method;  // "GET", "POST", …
  std::string target;  // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string peer;  // the client's address ("127.0.0.1"), "" when unknown
  std::string id;    // the request id (server/log.h), echoed as X-Request-Id

  // "" when absent.
  const std::string& header(const std::string& lower_name) const {
    static const std::string none;
    auto it = headers.find(lower_name);
    return it == headers.end() ? none : it->second;
  }
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using respond_fn = std::function<void(response)>;

}  // namespace plaint::server
