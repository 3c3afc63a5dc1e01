// Copies a SQLite desk's write-ahead log back into the database every
// second from a connection of its own, so that no commit pays for a
// checkpoint (the writer's store runs with manual_checkpoints()). Stopping
// checkpoints once more, leaving a short log behind. Every second rather
// than every quarter: a page written many times in between is copied once,
// and the checkpoint's fsync of the database file, which waits beside the
// writer's fdatasync of the log, comes a quarter as often (the server's
// p99 at 64 connections fell by 1.5–2.5 ms; docs/design.md).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "engine/result.h"
#include "storage/periodic_thread.h"
#include "storage/sqlite_store.h"

namespace plaint::storage {

class background_checkpointer {
 public:
  using on_error_fn = std::function<void(const engine::Error&)>;
  explicit background_checkpointer(std::unique_ptr<sqlite_store> store, on_error_fn on_error = {},
                                   std::chrono::milliseconds every = std::chrono::milliseconds(1000));
  ~background_checkpointer();

 private:
  std::unique_ptr<sqlite_store> store_;
  on_error_fn on_error_;
  periodic_thread thread_;  // last: its rounds use the members above
};
}  // namespace plaint::storage
