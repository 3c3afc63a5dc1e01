// Channels: complaints that arrive by email, and the durable outbox through
// which notifications and webhook deliveries leave (SPEC §11).
//
// Mail in. A parser (server/mail.h, GMime) turns one RFC 5322 message into
// an `inbound_mail`; `ingest_mail` decides what it is and writes it in ONE
// transaction: the customer (found by address, or created), the ticket
// opened or the reply logged on its ticket, the attachments, and the
// Message-ID (so the same message delivered twice logs once).
//
// Out. Every event a webhook asks for, and every notification the escalation
// ladder records, becomes an outbox row in the transaction of the event
// (executor::persist and fire_in call `queue_webhooks` / `queue_email`).
// Workers (server/outbox.h) claim rows, deliver them and record the outcome:
// at least once, with exponential backoff and jitter, until the retry period
// ends and the row is marked failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/executor.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"

namespace plaint::engine {

// ---- mail in ----------------------------------------------------------------

struct mail_attachment {
  std::string name;          // as the sender named it (RFC 2231/2047 decoded)
  std::string content_type;  // "image/jpeg"
  std::string data;          // the decoded bytes
};

// One message, decoded: every text is UTF-8 whatever charset it came in.
struct inbound_mail {
  std::string message_id;    // without <>; "" when the message has none
  std::string from_address;  // lower case; "" when there is no usable From
  std::string from_name;
  std::string subject;
  std::string text;          // text/plain, else the text of text/html
  std::vector<std::string> references;  // In-Reply-To, then References, without <>
  std::vector<mail_attachment> attachments;
  // What marks noise (RFC 3834 auto-replies, lists, bounces), as found.
  std::string auto_submitted;  // the header's value, lower case; "" when absent
  std::string precedence;      // lower case
  bool list_message = false;   // List-Id or List-Unsubscribe present
  bool autoreply_header = false;  // X-Autoreply, X-Autorespond
  bool null_return_path = false;  // Return-Path: <>
  bool delivery_report = false;   // multipart/report, message/delivery-status
  std::string fingerprint;        // hex SHA-256 of the raw message (a Message-ID stand-in)
};

struct mail_options {
  std::string own_address;  // plaint's own address: mail from it is a loop
  std::size_t max_attachment_bytes = 10 * 1024 * 1024;
  std::size_t max_attachments = 20;
};

struct ingest_outcome {
  ticket_id ticket = 0;
  bool created = false;    // a new ticket
  bool duplicate = false;  // this Message-ID was taken before: nothing written
  std::string event;       // "open", "comment" or "customer_replied"
  std::string customer;
  bool new_customer = false;
  std::string noise;       // why it was not taken (auto-reply, bounce, …); "" when taken
  std::vector<attachment> attachments;  // kept (without their bytes)
  std::vector<std::string> dropped;     // attachments not kept, each with the reason
};

// "an auto-reply (Auto-Submitted: auto-replied)", or "" when `m` is not noise.
std::string noise_reason(const inbound_mail& m, std::string_view own_address);

// The message's new text without the quoted earlier message: lines quoted
// with ">", an "On … wrote:" / "… 写道：" attribution, an Outlook
// "-----Original Message-----" or "From:/Sent:" block, and the signature
// after "-- ". Returns the text unchanged when nothing new would be left.
std::string trim_quoted(std::string_view text);

// The ticket a reply names: "[plaint #12]" in the subject, or a reference
// to a message plaint sent (recorded in mail_links, or of plaint's own form
// "plaint.<ticket>.<seq>.<n>@<own domain>"). nullopt when none does.
std::optional<ticket_id> reply_ticket(store_transaction& tx, const inbound_mail& m, std::string_view own_address);

// Takes one message (see the top of this file). Noise returns an outcome
// with `noise` set and writes nothing. Returns `invalid` for a message with
// no usable sender or no text at all, `unavailable` when the database is
// busy; nothing is written on any error.
Result<ingest_outcome> ingest_mail(executor& ex, const inbound_mail& m, const mail_options& o);

// Cleans a sender's file name: no directories, no control characters, at
// most 200 bytes of UTF-8; "attachment" when nothing is left.
std::string clean_file_name(std::string_view name);

// ---- out --------------------------------------------------------------------

// The retry schedule: after the n-th failed attempt (n ≥ 1) wait
// base × 2^(n-1) seconds (base 30 s by default), at most 1 h, ±20 % jitter
// from `jitter` in [0, 1).
inline constexpr std::int64_t default_retry_base = 30;
std::int64_t retry_delay(int attempts, double jitter, std::int64_t base = default_retry_base);
inline constexpr std::int64_t default_retry_period = 24 * 3600;
// How long settled (delivered, failed) outbox rows are kept.
inline constexpr std::int64_t default_outbox_retention = 30 * 86400;

// Whether a webhook that lists `events` (empty: all) wants `event`.
bool webhook_wants(const webhook& w, std::string_view event);

// The JSON body of a webhook delivery: the stream's fields (seq, ticket,
// event, from, to, at, actor, version) and the ticket's summary (as it is
// when the delivery is made).
json webhook_body(const event_record& e, const ticket& t);

// Notes `e` as owed to every live webhook that wants it: at commit, each
// such webhook gets one outbox row for all of the transaction's events it
// wants (their bodies are made when they are delivered, from the events:
// the row stays small, and a batch of transitions pays for one row per
// webhook). `queue_email` writes one row for a notification; `not_before`
// holds it until then (working hours), else it is due at `now`.
Status queue_webhooks(store_transaction& tx, const event_record& e, const ticket& t, timestamp now);
Status queue_email(store_transaction& tx, const notification& n, const ticket& t, timestamp now,
                   timestamp not_before);

// The outcome of one attempt at `o` (a row this worker claimed): delivered,
// or failed and retried after retry_delay, or failed for good once
// `retry_period` has passed since it was queued.
outbox_item after_attempt(outbox_item o, bool delivered, std::string error, timestamp now,
                          std::int64_t retry_period, double jitter, std::int64_t retry_base = default_retry_base);

// What one attempt at a webhook row did: `delivered` of its events went;
// the receiver refused each of `refused` (seq, its answer); and when it
// could not be reached, or the worker stopped, at `stopped_at` (0: never),
// `left` events from there on were not tried (`cancelled`: because the
// worker stopped, which is no failed attempt).
struct webhook_attempt {
  int delivered = 0;
  std::vector<std::pair<std::int64_t, std::string>> refused;
  std::int64_t stopped_at = 0;
  int left = 0;
  std::string error;  // why it stopped
  bool cancelled = false;
};

// The rows that record `a`, an attempt at the webhook row `o`: `o` itself
// (by its id) holds the delivered events when there are any; the events
// not tried stay one pending row (retried as after_attempt says, `o`'s id
// when nothing was delivered); each refused event becomes a row of its own,
// so one event a receiver rejects does not hold back the others. Rows
// with id 0 are new.
std::vector<outbox_item> after_webhook_attempt(const outbox_item& o, const webhook_attempt& a, timestamp now,
                                               std::int64_t retry_period, double jitter,
                                               std::int64_t retry_base = default_retry_base);

// A new webhook from what a user gave (CLI or API): `invalid` for a URL
// that is not http(s)://, an event list that is not comma-separated event
// names, a secret not of 16–200 characters; a random secret when `secret`
// is empty (the caller shows it once).
Result<webhook> new_webhook(std::string url, std::string_view events_csv, std::string secret, std::string actor,
                            timestamp now);

// Every transaction writes a row per live webhook that wants one of its
// events, so their number is bounded.
inline constexpr std::size_t max_live_webhooks = 20;

// Stores a new webhook (from new_webhook) in `tx`; returns its id.
// `invalid` when max_live_webhooks are live already.
Result<std::int64_t> add_webhook(store_transaction& tx, const webhook& w);

// {"counts": [{channel, state, count, oldest}], "failed": [rows]}: what
// `notify status` and GET /api/v1/notifications/status show.
json outbox_status_json(const std::vector<outbox_count>& counts, const std::vector<outbox_item>& failed);

json to_json(const outbox_item& o);
json to_json(const webhook& w);  // the secret is never shown
json to_json(const attachment& a);

}  // namespace plaint::engine
