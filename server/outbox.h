// Delivers the outbox (engine/channels.h): notification mail over SMTP and
// webhook POSTs over HTTP, both with libcurl.
//
// One round: claim up to `batch` due rows in a write transaction (holding
// them for `hold`), deliver each outside any transaction, then record every
// outcome in one more transaction. Another worker — a second `plaint serve`
// or a `plaint notify run` — skips rows held by this one, so a row is sent
// once unless this worker dies between sending and recording, when the
// hold runs out and it is sent again (at least once; the receiver dedupes
// by X-Plaint-Delivery / Message-ID).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/channels.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/time.h"

namespace plaint::server {

struct delivery_settings {
  // smtp://host:port (STARTTLS when the server offers it) or smtps://…;
  // empty: mail is not sent (it waits in the outbox), webhooks still are.
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password;
  bool smtp_require_tls = false;  // refuse to send in clear (always with a user)
  std::string smtp_ca;            // PEM file of CAs to verify the server by; "" the system's
  std::string mail_from;          // plaint's own address (From, Message-ID domain)
  std::int64_t retry_period = engine::default_retry_period;
  std::int64_t retry_base = engine::default_retry_base;  // seconds before the first retry
  std::chrono::seconds timeout{10};  // per delivery: connect and answer
  int batch = 128;
  // Delivered and failed rows are deleted this long after they were queued
  // (at most 1,000 per minute).
  std::int64_t retention = engine::default_outbox_retention;
  std::chrono::seconds hold{120};    // a claimed row is this worker's for so long
};

// What a webhook receiver needs to check a delivery: hex HMAC-SHA256 of
// `body` with `secret`.
std::string webhook_signature(std::string_view secret, std::string_view body);

// One mail as sent: headers and a base64 text/plain UTF-8 body.
std::string compose_mail(const std::string& from, const std::vector<std::string>& to, const std::string& subject,
                         const std::string& text, const std::string& message_id, engine::timestamp at);

// Runs `work` inside one write transaction and commits it when `work`
// succeeds. `plaint notify run` begins and commits on its own connection
// (direct_writes); `plaint serve` hands it to its writer thread, so the
// outbox's two small transactions per round queue with the transitions
// instead of contending with them for SQLite's write lock.
using write_work = std::function<engine::Status(engine::store_transaction&)>;
using write_runner = std::function<engine::Status(const write_work&)>;
write_runner direct_writes(engine::store& s);

class outbox_worker {
 public:
  // `reads` is a connection of the worker's own (webhooks, people,
  // tickets), `writes` runs its transactions; `c` is its clock.
  outbox_worker(engine::store& reads, write_runner writes, const engine::clock& c, delivery_settings settings);
  ~outbox_worker();
  outbox_worker(const outbox_worker&) = delete;
  outbox_worker& operator=(const outbox_worker&) = delete;

  // Deliveries (events to a webhook, notifications) of one round.
  struct round {
    int delivered = 0;
    int retried = 0;
    int failed = 0;  // for good
    int attempted() const { return delivered + retried + failed; }
  };
  // One round (see the top of this file). Once `cancel` reads true, the
  // rows not yet sent are left to their hold (sent again when it runs out).
  engine::Result<round> run_once(const std::atomic<bool>* cancel = nullptr);
  // Deletes up to 1,000 settled rows older than the retention; how many.
  engine::Result<std::int64_t> prune();
  // When the next row it would send falls due (nullopt: none pending).
  engine::Result<std::optional<engine::timestamp>> next_due();
  // The channel it sends: "webhook" without SMTP (mail waits), else "" (all).
  std::string_view channel() const;

  const delivery_settings& settings() const { return settings_; }

 private:
  // Sends the events of a webhook row in seq order: an error for a row that
  // cannot be sent at all (not_found: never; else retried whole).
  engine::Result<engine::webhook_attempt> deliver_webhook(const engine::outbox_item& o,
                                                          const std::atomic<bool>* cancel);
  // One POST of one event's body; an error says why it did not arrive.
  // `reached`: the receiver answered (a refusal), as opposed to not at all.
  engine::Status post_event(const engine::webhook& w, const std::string& delivery, const std::string& event,
                            const std::string& body, bool& reached);
  engine::Status deliver_email(const engine::outbox_item& o, std::vector<std::string>& message_ids);
  engine::Status send_mail(const std::vector<std::string>& to, const std::string& mail);

  engine::store& store_;
  write_runner writes_;
  // One HTTP client kept across deliveries, so that its connections to a
  // receiver are kept alive and reused.
  std::unique_ptr<void, void (*)(void*)> http_;
  const engine::clock& clock_;
  delivery_settings settings_;
  std::uint64_t jitter_state_;
};

// Runs rounds on its own thread until stopped: again at once while rows are
// due, else at the next due time, and at least every `poll` (rows written
// by other processes). A failing round is reported on stderr (at most once
// a minute) and retried after `poll`.
class outbox_runner {
 public:
  outbox_runner(std::unique_ptr<engine::store> reads, write_runner writes, const engine::clock& c,
                delivery_settings settings, std::chrono::milliseconds poll = std::chrono::milliseconds(1000));
  ~outbox_runner();  // stops and joins
  outbox_runner(const outbox_runner&) = delete;
  outbox_runner& operator=(const outbox_runner&) = delete;

  // Stops and joins: a delivery under way finishes (at most the timeout).
  void stop();
  std::int64_t delivered() const { return delivered_.load(); }

 private:
  void loop();

  std::unique_ptr<engine::store> store_;
  outbox_worker worker_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::atomic<std::int64_t> delivered_{0};
  std::thread thread_;
};

}  // namespace plaint::server
