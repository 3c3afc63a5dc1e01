// The PostgreSQL server of the tests: the one $PLAINT_TEST_PG names
// (tests/run.sh starts one for the whole run), else one this process starts
// with tests/pg/server.sh on first use and stops at exit. Each test gets a
// database of its own.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "storage/pg_connection.h"

namespace plaint::testing {

namespace pg_detail {

inline std::string& started_dir() {
  static std::string dir;
  return dir;
}

inline void stop_started() {
  if (started_dir().empty()) return;
  const std::string cmd = std::string("'") + PLAINT_SOURCE_DIR + "/tests/pg/server.sh' stop '" + started_dir() + "'";
  (void)std::system(cmd.c_str());
  std::filesystem::remove_all(started_dir());
}

inline std::string start() {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("plaint-pg-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  const std::string cmd = std::string("'") + PLAINT_SOURCE_DIR + "/tests/pg/server.sh' start '" + dir + "'";
  FILE* out = ::popen(cmd.c_str(), "r");
  REQUIRE(out != nullptr);
  char line[512] = {};
  const bool read = std::fgets(line, sizeof line, out) != nullptr;
  const int rc = ::pclose(out);
  REQUIRE_MESSAGE((read && rc == 0), "tests/pg/server.sh could not start PostgreSQL");
  started_dir() = dir;
  std::atexit(stop_started);
  std::string url = line;
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  return url;
}

}  // namespace pg_detail

// postgresql://user@host:port/postgres of the tests' server.
inline const std::string& pg_server_url() {
  static const std::string url = [] {
    const char* given = std::getenv("PLAINT_TEST_PG");
    return given && *given ? std::string(given) : pg_detail::start();
  }();
  return url;
}

// `url` with its database replaced by `db`.
inline std::string pg_url_of(const std::string& url, const std::string& db) {
  const auto query = url.find('?');
  const auto slash = url.rfind('/', query == std::string::npos ? url.size() : query);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

// A fresh database, dropped when the test is done.
struct pg_database {
  std::string name;
  std::string url;
  pg_database() {
    static std::atomic<int> n{0};
    name = "plaint_t" + std::to_string(::getpid()) + "_" + std::to_string(++n);
    url = pg_url_of(pg_server_url(), name);
    auto admin = storage::pg::connection::open(pg_server_url());
    REQUIRE_MESSAGE(admin.ok(), (admin.ok() ? "" : admin.error().message));
    auto made = (*admin)->exec("CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0", "create a test database");
    REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error().message));
  }
  ~pg_database() {
    auto admin = storage::pg::connection::open(pg_server_url());
    if (admin.ok()) (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "drop a test database");
  }
};

}  // namespace plaint::testing
