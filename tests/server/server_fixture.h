// A real `plaint serve` on loopback for integration tests: a database in a
// temp directory with customers and tokens, the server as a child process
// on an ephemeral port, and helpers that speak HTTP to it.
//
// Invariant: a server_process is always reaped — SIGTERM on destruction,
// SIGKILL if it has not exited within the grace period.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/run.h"
#include "tests/server/http_client.h"
#include "tests/temp_dir.h"

namespace plaint::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

class server_process {
 public:
  // `prefix` runs the server under another program (`prlimit --nofile=…`).
  server_process(const std::string& db, std::string err_file, const std::vector<std::string>& extra = {},
                 const std::vector<std::string>& prefix = {})
      : err_file_(std::move(err_file)) {
    std::signal(SIGPIPE, SIG_IGN);
    int out[2];
    REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, err_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    std::vector<std::string> args = prefix;
    for (std::string a : {PLAINT_BINARY, "--db", db.c_str(), "serve", "--listen", "127.0.0.1:0"}) args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_fd_ = out[0];
    REQUIRE_MESSAGE(rc == 0, "cannot start " PLAINT_BINARY);
    read_banner();
  }
  ~server_process() {
    if (pid_ > 0) stop();
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& banner() const { return banner_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM, then wait; the exit code, or -1 if it needed a SIGKILL.
  int stop(std::chrono::milliseconds grace = 5s) {
    if (pid_ <= 0) return code_;
    ::kill(pid_, SIGTERM);
    if (!reap(grace)) {
      kill();
      return code_ = -1;
    }
    return code_;
  }

  // SIGKILL, as a crash would; reaped.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap(10s);
  }

  std::string errors() const {
    std::ifstream in(err_file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  // The first stdout line: "plaint serve: listening on http://127.0.0.1:PORT (database …)".
  void read_banner() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (banner_.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      banner_.append(buf, static_cast<std::size_t>(n));
    }
    static const std::regex shape(R"(plaint serve: listening on http://127\.0\.0\.1:(\d+) \(database .+\)\n)");
    std::smatch m;
    if (!std::regex_match(banner_, m, shape)) {
      kill();
      FAIL("plaint serve did not announce its port; stdout: '" << banner_ << "' stderr: '" << errors() << "'");
    }
    port_ = std::stoi(m[1].str());
  }

  bool reap(std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = 0;
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

  std::string err_file_;
  pid_t pid_ = 0;
  int out_fd_ = -1;
  int port_ = 0;
  int code_ = -1;
  std::string banner_;
};

// "<the code>" of an error body {"error":{"code","message"}} with a
// non-empty message and nothing else; otherwise the body itself, so a
// failed CHECK shows what came back.
inline std::string error_code(const http_response& r) {
  const json j = r.json();
  if (!j.is_object() || j.size() != 1 || !j.contains("error") || !j["error"].is_object()) return "bad shape: " + r.body;
  const json& e = j["error"];
  if (!e.contains("code") || !e["code"].is_string() || !e.contains("message") || !e["message"].is_string() ||
      e["message"].get<std::string>().empty())
    return "bad shape: " + r.body;
  return e["code"];
}

inline std::string error_message(const http_response& r) {
  const json j = r.json();
  if (!j.is_object() || !j.contains("error") || !j["error"].contains("message")) return "bad shape: " + r.body;
  return j["error"]["message"];
}

// A desk: a database with customers acme (gold) and wang (platinum) and a
// token per role — ann and bob are agents, sue a supervisor, root an admin.
struct server_desk {
  temp_dir dir;
  std::string db;
  std::string ann, bob, sue, root;
  std::unique_ptr<server_process> server;
  std::unique_ptr<http_client> http;  // the test thread's kept-alive connection

  explicit server_desk(bool start_now = true) : server_desk(start_now, "") {}
  // On `database` (a postgresql:// URL, say) instead of a file of its own.
  server_desk(bool start_now, const std::string& database) : db(database.empty() ? dir.file("plaint.db") : database) {
    auto init = plaint({"init"});
    REQUIRE_MESSAGE(init.code == 0, init.err);
    REQUIRE(plaint({"customer", "add", "--id", "acme", "--name", "ACME Ltd", "--tier", "gold"}).code == 0);
    REQUIRE(plaint({"customer", "add", "--id", "wang", "--name", "王芳", "--tier", "platinum"}).code == 0);
    ann = token("ann", "agent");
    bob = token("bob", "agent");
    sue = token("sue", "supervisor");
    root = token("root", "admin");
    if (start_now) start();
  }
  ~server_desk() {
    http.reset();
    if (server && server->running()) {
      const int code = server->stop();
      CHECK_MESSAGE(code == 0, "plaint serve exited with " << code << "; stderr: " << server->errors());
    }
  }

  run_result plaint(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"--db", db});
    return run_plaint(args, input);
  }

  std::string token(const std::string& name, const std::string& role) const {
    auto r = plaint({"--json", "token", "create", "--name", name, "--role", role});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.json()["token"];
  }

  // Starts `plaint serve` (again), with any extra serve options.
  void start(const std::vector<std::string>& serve_options = {}, const std::vector<std::string>& prefix = {}) {
    http.reset();
    server = std::make_unique<server_process>(db, dir.file("serve.err"), serve_options, prefix);
    http = std::make_unique<http_client>(server->port());
  }
  int port() const { return server->port(); }

  static header_list auth(const std::string& token, header_list more = {}) {
    more.emplace_back("Authorization", "Bearer " + token);
    return more;
  }

  http_response get(const std::string& target, const std::string& token) {
    return http->request("GET", target, "", auth(token));
  }
  http_response post(const std::string& target, const std::string& token, const std::string& body,
                     header_list more = {}) {
    return http->request("POST", target, body, auth(token, std::move(more)));
  }
  http_response post(const std::string& target, const std::string& token, const json& body, header_list more = {}) {
    return post(target, token, body.dump(), std::move(more));
  }

  // Opens a complaint through the API and returns the ticket.
  json open(const std::string& subject, const std::string& customer = "acme", json extra = json::object()) {
    extra["customer"] = customer;
    extra["subject"] = subject;
    auto r = post("/api/v1/tickets", ann, extra);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return r.json();
  }

  // Fires an event that must succeed and returns the ticket after it.
  json fire(std::int64_t id, const std::string& token, const json& body) {
    auto r = post("/api/v1/tickets/" + std::to_string(id) + "/events", token, body);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }

  // The ticket with its whole history, as a supervisor sees it: GET
  // /tickets/{id} embeds the newest 50 events, the older ones are read
  // page by page through /events (history_test.cpp checks the pages).
  json ticket(std::int64_t id) {
    auto r = get("/api/v1/tickets/" + std::to_string(id), sue);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    json t = r.json();
    for (json cursor = t["history_next_cursor"]; cursor.is_string();) {
      auto page = get("/api/v1/tickets/" + std::to_string(id) + "/events?limit=1000&cursor=" +
                          cursor.get<std::string>(), sue);
      REQUIRE_MESSAGE(page.status == 200, page.body);
      const json older = page.json();
      t["history"].insert(t["history"].begin(), older.begin(), older.end());
      const std::string next = page.header("x-next-cursor");
      cursor = next.empty() ? json(nullptr) : json(next);
    }
    return t;
  }

  // The browser tests' seconds-level policy (tests/web/fast-p1-policy.toml)
  // with the P1 first response due 3 s after intake, its warning at half
  // of it, put in force.
  void load_fast_p1_policy() {
    std::ifstream in(std::string(PLAINT_SOURCE_DIR) + "/tests/web/fast-p1-policy.toml");
    std::stringstream text;
    text << in.rdbuf();
    std::string policy = text.str();
    policy.replace(policy.find("first_response = \"6s\""), 21, "first_response = \"3s\"");
    const std::string file = dir.file("policy.toml");
    std::ofstream(file) << policy;
    auto loaded = plaint({"policy", "load", file});
    REQUIRE_MESSAGE(loaded.code == 0, loaded.err);
  }

  // Everything in the database, for "nothing was written" checks.
  std::string exported() const {
    auto r = plaint({"export"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.out;
  }
};

// Percent-encodes everything but RFC 3986's unreserved characters.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// "intake -triage-> triage -start-> remediation" from a ticket's history.
inline std::string story(const json& ticket) {
  std::string out;
  for (const auto& e : ticket["history"]) {
    if (out.empty()) {
      out = e["to"].get<std::string>();
      continue;
    }
    out += " -" + e["event"].get<std::string>() + "-> " + e["to"].get<std::string>();
  }
  return out;
}

}  // namespace plaint::testing
