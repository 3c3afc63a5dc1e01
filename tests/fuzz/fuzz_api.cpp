// libFuzzer harness: the HTTP API on plain request/response values
// (server/api.h), as `plaint serve` runs it without the transport: a real
// SQLite database, the group-commit writer and a pool of read stores.
//
// An input is a request as text:
//
//   POST /api/v1/tickets/1/events       method and target
//   authorization: Bearer $agent        headers, "name: value" (optional)
//                                       an empty line
//   {"event":"comment","note":"x"}      the body (the rest)
//
// "$agent", "$supervisor" and "$admin" in a header become those roles'
// tokens; without an authorization header the request carries the admin's.
// State carries over between inputs (tickets opened stay), as on a server.
//
// Properties: every request is answered exactly once, within seconds, and
// never with 500: bad input is a 4xx, whatever the body or target holds.
// PLAINT_FUZZ_VERBOSE=1 prints each request line and its answer.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/time.h"
#include "engine/tokens.h"
#include "server/api.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/store_pool.h"
#include "server/writer.h"
#include "storage/sqlite_store.h"
#include "tests/fuzz/fuzz_env.h"
#include "workflows/policy.h"
#include "workflows/registry.h"

using namespace plaint;

namespace {

std::unique_ptr<engine::store> open_store(const std::string& path) {
  auto s = storage::sqlite_store::open(path);
  if (!s) std::abort();
  return std::move(*s);
}

// One answer, waited for with a deadline: `respond` must run exactly once.
class answer {
 public:
  server::respond_fn callback() {
    return [self = state_](server::response r) {
      std::lock_guard<std::mutex> lock(self->mu);
      if (self->done) std::abort();  // answered twice
      self->r = std::move(r);
      self->done = true;
      self->cv.notify_all();
    };
  }
  server::response wait() {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!state_->cv.wait_for(lock, std::chrono::seconds(10), [this] { return state_->done; })) std::abort();
    return state_->r;
  }

 private:
  struct shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    server::response r;
  };
  std::shared_ptr<shared> state_ = std::make_shared<shared>();
};

// A migrated database with one token per role; returns the tokens.
std::map<std::string, std::string> initialise(const std::string& db, engine::timestamp now) {
  std::map<std::string, std::string> tokens;
  auto s = open_store(db);
  if (!s->migrate()) std::abort();
  auto tx = s->begin();
  if (!tx) std::abort();
  for (const char* role : {"agent", "supervisor", "admin"}) {
    auto t = engine::issue_token(role, role, now);
    if (!t || !(*tx)->put_token(t->record)) std::abort();
    tokens[role] = t->text;
  }
  if (!(*tx)->commit()) std::abort();
  return tokens;
}

struct environment {
  environment() {
    w.start();
    // A customer and a ticket to work on, made through the API itself.
    expect(send("POST", "/api/v1/customers", {}, R"({"id":"acme","name":"ACME","tier":"gold"})"), 201, 200);
    expect(send("POST", "/api/v1/tickets", {}, R"({"customer":"acme","subject":"Parcel crushed","priority":"P2"})"),
           201, 201);
  }
  ~environment() { w.stop(); }

  server::response send(std::string method, std::string target, std::map<std::string, std::string> headers,
                        std::string body) {
    server::request req{std::move(method), std::move(target), std::move(headers), std::move(body)};
    if (!req.headers.count("authorization")) req.headers["authorization"] = "Bearer " + tokens["admin"];
    answer a;
    handler.handle(req, a.callback());
    return a.wait();
  }
  static void expect(const server::response& r, int a, int b) {
    if (r.status != a && r.status != b) {
      std::fprintf(stderr, "fuzz_api setup: %d %s\n", r.status, r.body.c_str());
      std::abort();
    }
  }

  fuzz::scratch_dir dir;
  std::string db = dir.file("api.db");
  engine::fixed_clock clock{1795420800};  // 2026-11-23T08:00:00Z
  std::map<std::string, std::string> tokens = initialise(db, clock.now());
  server::metrics m;
  server::hub h;
  server::writer w{open_store(db), workflows::builtin_workflows(), workflows::default_policy(), clock, m, h, 64};
  server::store_pool readers{[this]() -> engine::Result<std::unique_ptr<engine::store>> { return open_store(db); }};
  server::api handler{w, readers, m, clock, workflows::builtin_workflows()};
};

// "$agent" → the agent's token, and so on.
std::string with_tokens(std::string value, const std::map<std::string, std::string>& tokens) {
  for (const auto& [role, token] : tokens)
    for (auto at = value.find("$" + role); at != std::string::npos; at = value.find("$" + role, at + token.size()))
      value.replace(at, role.size() + 1, token);
  return value;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static environment env;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto next_line = [&in]() {
    const auto nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return std::string(line);
  };
  const std::string first = next_line();
  const auto space = first.find(' ');
  if (space == std::string::npos) return 0;
  std::map<std::string, std::string> headers;
  for (std::string line = next_line(); !line.empty(); line = next_line()) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = line.find_first_not_of(' ', colon + 1);
    headers[lower(line.substr(0, colon))] =
        with_tokens(value == std::string::npos ? std::string() : line.substr(value), env.tokens);
  }
  const server::response r = env.send(first.substr(0, space), first.substr(space + 1), std::move(headers),
                                      std::string(in));
  static const bool verbose = std::getenv("PLAINT_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s -> %d %s\n", first.c_str(), r.status, r.body.substr(0, 300).c_str());
  if (r.status >= 500 && r.status != 503) {
    std::fprintf(stderr, "fuzz_api: %d %s\n", r.status, r.body.c_str());
    std::abort();
  }
  return 0;
}
