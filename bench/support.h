// What the benchmark programs share: dying with a message, and a migrated
// store. Benchmarks are programs, not tests: any failure ends the run.
#pragma once

#include <errno.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "storage/sqlite_store.h"

namespace plaint::bench {

[[noreturn]] inline void die(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", program_invocation_short_name, message);
  std::exit(1);
}

template <class T>
T must(engine::Result<T> r, const std::string& what) {
  if (!r) die(fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

inline void must(const engine::Status& s, const std::string& what) {
  if (!s) die(fmt::format("{}: {}", what, s.error().message));
}

// Opens (creating if needed) and migrates the database at `path`.
inline std::unique_ptr<storage::sqlite_store> open_store(const std::string& path) {
  auto store = must(storage::sqlite_store::open(path), "open " + path);
  must(store->migrate(), "migrate " + path);
  return store;
}

}  // namespace plaint::bench
