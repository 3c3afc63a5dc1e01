// `plaint serve`: HTTP/1.1 (keep-alive) on Boost.Beast, the API, the live
// event stream, the group-commit writer and the timer scheduler.
//
// Shutdown (SIGTERM, SIGINT or stop()): stop accepting, let in-flight
// requests finish — the writer commits and answers what is queued — close
// the event streams, then close the database.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "engine/result.h"
#include "engine/sla.h"
#include "engine/workflow.h"
#include "server/api.h"
#include "server/log.h"
#include "server/outbox.h"
#include "server/store_pool.h"

namespace plaint::server {

// Every resource a client can make the server hold is bounded by one of
// these (README "Limits" lists them with their options).
struct options {
  std::string listen = "127.0.0.1:8080";
  int threads = 2;                                  // HTTP I/O threads
  int read_threads = 2;                             // threads that run reads (lists, reports, replays)
  std::size_t max_body = 1024 * 1024;               // 413 above
  std::size_t max_header = 16 * 1024;               // 431 above
  std::chrono::seconds request_timeout{30};         // to read one request once its first byte came
  std::chrono::seconds idle_timeout{10};            // a connection waiting for a request is closed after
  std::size_t max_connections = 1024;              // HTTP connections (streams apart); the longest idle
                                                    // one is closed to admit a new one, else it is refused
  std::size_t max_streams = 256;                    // event streams; 503 above
  std::size_t stream_backlog = 1024 * 1024;         // bytes queued for one stream before it is closed
  std::size_t replay_page = 500;                    // events per storage read of a Last-Event-ID replay
  std::chrono::seconds stream_auth_check{2};        // a stream whose token was revoked ends within this
  std::chrono::seconds write_timeout{30};           // a client that stops reading is dropped after
  std::size_t max_queued_reads = 256;               // reads waiting for a read thread; 503 above
  std::chrono::seconds read_timeout{30};            // one read (a report, a search) stops after; 503
  std::size_t max_queued_writes = 4096;             // transitions waiting for the writer; 503 above
  std::size_t max_batch = 256;                      // transitions per group commit
  std::chrono::seconds stream_ping{15};             // ": ping" on idle streams
  std::chrono::seconds idempotency_retention{24 * 3600};  // a key older than this is a new request; pruned
  web_options web;                                  // the web desk: --web-dir, session lifetime, Secure cookies
  policy_tools sla;                                 // SLA explain and what-if (the policy history, the parser)
  delivery_settings delivery;                       // the outbox: SMTP for mail; webhooks always (server/outbox.h)
  log_level log = log_level::info;                  // stderr: requests and timer rounds at info (server/log.h)
  // Several nodes on one database (PostgreSQL): news of every node's
  // commits, for the stream and the timers (server/cluster.h). Empty: this
  // server is the database's only writer.
  std::function<engine::Result<std::unique_ptr<engine::commit_feed>>()> open_feed;
};

// Reads the SLA policy stored in the database and returns it when it is not
// the one it last returned (nullopt when unchanged). `plaint serve` calls it
// every second, so a `plaint policy load` beside it takes effect here too.
using policy_loader = std::function<engine::Result<std::optional<engine::sla_policy>>(engine::store&)>;

// Runs until a signal or a fatal error. `open_store` opens one connection
// (the writer's first, then read connections on demand). `on_listening`
// gets the bound "http://host:port". `reload` may be empty (the policy then
// stays as given).
engine::Status run(const options& opts, store_factory open_store, const engine::workflow_registry& workflows,
                   engine::sla_policy policy, const std::function<void(const std::string&)>& on_listening,
                   policy_loader reload = {});

}  // namespace plaint::server
