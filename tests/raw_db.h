// A raw sqlite3 connection to a plaint database file, to look and reach
// behind the store's back as an attacker, an operator or a second process
// would: tamper with rows, hold the write lock, inject a storage fault.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <sqlite3.h>

namespace plaint::testing {

class raw_db {
 public:
  // A desk's search file ("<path>-search"), when it has one, is attached as
  // `s`, as the store attaches it: its tables are seen by their plain names
  // once the desk has none of its own (schema 15), or as s.search etc.
  explicit raw_db(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    if (std::filesystem::exists(path + "-search")) REQUIRE(exec("ATTACH '" + path + "-search' AS s") == "");
  }
  ~raw_db() { sqlite3_close(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  // "" on success, else SQLite's message.
  std::string exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return "";
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return msg;
  }

  // The details of SQLite's plan for `sql`, one line per step.
  std::string plan(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    REQUIRE_MESSAGE(sqlite3_prepare_v2(db_, explain.c_str(), -1, &st, nullptr) == SQLITE_OK, sqlite3_errmsg(db_));
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW)
      out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "\n";
    sqlite3_finalize(st);
    return out;
  }

  // The first column of the first row, as text ("" for NULL).
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const unsigned char* v = sqlite3_column_text(st, 0);
    std::string out = v ? reinterpret_cast<const char*>(v) : "";
    sqlite3_finalize(st);
    return out;
  }

  // The first column of the first row, as an integer.
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const std::int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace plaint::testing
