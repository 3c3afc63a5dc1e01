// The storage interface the engine owns; `storage/` implements it (SQLite
// now, PostgreSQL as a sibling). All SQL lives behind it. What follows is
// the contract every implementation keeps; tests/storage/conformance_test.cpp
// checks it against each back end.
//
// OBJECTS AND THREADS
//  - A `store` is one connection to one database. It is used by one thread
//    at a time (the caller serialises; nothing inside locks). Any number of
//    `store` objects — in one process or many — may work on one database at
//    once: `plaint serve` has a writer, read connections and timer and
//    outbox connections; a CLI command beside it has its own.
//  - A `store_transaction` belongs to the `store` that began it and must
//    not outlive it. At most one is open per `store`.
//
// WRITES
//  - `begin()` starts the one write transaction of this store object. It
//    waits for other writers up to the store's busy timeout, then returns
//    `unavailable` (nothing written; try again later — HTTP 503, exit 75).
//  - Everything written through a transaction commits together at
//    `commit()` or not at all: destruction without commit rolls back. A
//    write that fails leaves the transaction good only for destruction
//    (PostgreSQL aborts it; its commit() then refuses); the engine never
//    commits after a failed write. Writes whose failure is an expected
//    outcome (`conflict` where a method says so) leave it usable.
//  - `commit()` returns ok only once the write is durable: it survives a
//    crash of the process or the machine that follows (SQLite: WAL with
//    synchronous=FULL; PostgreSQL: fsync and synchronous_commit on). On an
//    error nothing is visible to others — except that a connection lost
//    during COMMIT (`unavailable`) leaves the outcome unknown to the caller,
//    which therefore acknowledges nothing; a client retrying with an
//    idempotency key gets the first outcome if there was one.
//  - Conflicts between writers on several nodes surface as `conflict` from
//    the write that lost (update_ticket's version check) or from commit().
//
// READS
//  - A transaction's own reads (`find_*`, `due_timers_of`, …) see its
//    writes. So do the `store`'s read methods on the same object while the
//    transaction is open: the executor reads through both.
//  - Reads on another `store` object see committed transactions only; one
//    call sees one consistent snapshot (a scan_* walk: see there), and a
//    later call sees at least what an earlier one saw.
//  - `set_deadline` bounds the reads that follow on this object (the
//    server's read connections): one still running at the deadline stops
//    with `unavailable`.
//
// ERRORS (engine/result.h): `not_found` only where a method says so (most
// lookups return nullopt instead); `conflict` as above and for a duplicate
// unique key where a method says so; `unavailable` when the database cannot
// be reached, is busy past the timeout, or a deadline passed (retrying
// later may succeed); for a value the schema refuses that the engine should
// have refused first (a CHECK, a foreign key), `invalid` (PostgreSQL) or
// `internal` (SQLite, which does not tell constraints apart cheaply);
// `internal` for I/O failure, corruption or a schema from another version.
// Every message is one sentence naming what could not be done.
//
// VALUES. Times are Unix seconds. Text is stored and returned byte for byte
// (UTF-8 in, the same UTF-8 out; no collation folds it except where a
// method says "without case"). Ids: tickets, events, timers, outbox rows
// and attachments get increasing ids; event seqs are 1, 2, 3, … with no
// gaps across all writers (the audit chain); other ids may skip.
//
// INVARIANTS
//  - The audit log is append-only: `append_event` assigns the next `seq`,
//    sets `prev_hash` to the hash of the previous event and `hash` to
//    `audit_hash(prev_hash, event)`. Two transactions on several nodes
//    never get the same seq: appends are serialised until commit.
//  - `update_ticket` writes only if the stored version equals the expected
//    one; otherwise it returns `conflict` and writes nothing.
//  - At most one pending timer per (ticket, kind); a timer is claimed once.
//  - Outbox rows and timers are claimed inside the claiming transaction, so
//    two workers on any nodes never hold the same row at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"

namespace plaint::engine {

struct ticket_query {
  std::optional<std::string> state;
  std::optional<std::string> owner;
  std::optional<std::string> customer;
  std::optional<int> level;
  bool open_only = false;      // every state but `closed`
  bool breached_only = false;  // an SLA clock breached as of `now`
  std::string search;          // full-text over subject, description and notes
  std::optional<ticket_id> cursor;  // only tickets with id < cursor
  int limit = 50;
  timestamp now = 0;
};

struct ticket_page {
  std::vector<ticket> tickets;               // newest first
  std::optional<ticket_id> next_cursor;      // set when more tickets match
};

// A page of one ticket's history: the newest events older than a cursor.
struct event_page {
  std::vector<event_record> events;         // oldest first (seq order)
  std::optional<std::int64_t> next_cursor;  // the page's oldest seq, when older events exist
};

// What a retried request with an idempotency key gets back.
struct idempotency_record {
  std::string key;
  std::string scope;        // "open", or "event"
  std::string fingerprint;  // hash of the request that first used the key
  ticket_id ticket = 0;
  timestamp created_at = 0;
  std::string response;     // events: the first response (ticket JSON) to replay
};

// An API token. Only a salted hash of the secret is stored; the secret is
// shown once, when the token is created.
struct api_token {
  std::string id;    // public part of the token, unique
  std::string name;  // who acts with it (the API's actor)
  std::string role;  // agent | supervisor | admin
  std::string salt;  // hex
  std::string hash;  // hex SHA-256 of salt + secret
  timestamp created_at = 0;
  std::optional<timestamp> revoked_at;
};

// A person of the directory (engine/people.h): who may sign in to the web
// desk and own tickets. Only an Argon2id hash of the password is stored
// ("" = none set: the person cannot sign in).
struct person {
  std::string id;     // "li.na": the actor and owner name
  std::string name;   // "李娜"
  std::string email;  // "" when unknown
  std::string role;   // agent | supervisor | admin
  std::string team;   // "", "L1", "L2" or "L3"
  std::string lang;   // "", "en" or "zh": the language of the mail plaint sends them ("" = en)
  bool disabled = false;
  std::string password_hash;  // libsodium crypto_pwhash_str (Argon2id)
  timestamp created_at = 0;
  timestamp updated_at = 0;
};

// A signed-in browser. The cookie carries a random secret; only its SHA-256
// is stored (`id`), so a copy of the database signs nobody in.
struct web_session {
  std::string id;      // hex SHA-256 of the cookie's secret
  std::string person;  // person id
  std::string csrf;    // the token state-changing requests must echo
  timestamp created_at = 0;
  timestamp expires_at = 0;
};

// Channels (schema 7): mail in, notifications and webhooks out.

// A message plaint took in or sent, by its Message-ID: the same message
// delivered twice logs once, and a reply naming a message plaint sent finds
// that message's ticket.
struct mail_link {
  std::string message_id;  // as in the header, without the angle brackets
  ticket_id ticket = 0;
  std::string direction;   // "in" | "out"
  std::int64_t event_seq = 0;
  timestamp at = 0;
};

// A file that came with a message, kept with the ticket as bytes, never
// interpreted.
struct attachment {
  std::int64_t id = 0;
  ticket_id ticket = 0;
  std::int64_t event_seq = 0;  // the event that logged the message
  std::string name;            // the sender's file name, cleaned
  std::string content_type;    // as declared, lower case
  std::int64_t size = 0;
  std::string sha256;          // hex, of the bytes
  std::string data;            // the bytes; empty in lists
  timestamp at = 0;
};

// Where events are POSTed (SPEC §11). The secret signs each delivery, so
// it is stored as given (it cannot be a hash).
struct webhook {
  std::int64_t id = 0;
  std::string url;
  std::vector<std::string> events;  // empty: every event
  std::string secret;
  std::string created_by;
  timestamp created_at = 0;
  std::optional<timestamp> removed_at;
};

// One message to deliver: written in the transaction of the event that
// caused it, claimed by one worker at a time, delivered at least once.
struct outbox_item {
  std::int64_t id = 0;
  std::string channel;     // "email" | "webhook"
  ticket_id ticket = 0;
  std::int64_t event_seq = 0;
  std::string target;      // email: "owner:ann", "team_lead", "supervisor"; webhook: its id
  std::string kind;        // email: the notification's kind; webhook: the event
  std::string payload;     // JSON text
  std::string state = "pending";  // pending | delivered | failed
  int attempts = 0;
  timestamp created_at = 0;
  timestamp next_at = 0;   // not before
  std::optional<timestamp> claimed_until;  // a worker holds it until then
  std::string last_error;
  std::optional<timestamp> delivered_at;
  // A webhook row delivers the events of one transaction that its webhook
  // wants: seqs event_seq..last_seq, `events` of them. A mail row is one
  // notification (last_seq = event_seq, events = 1).
  std::int64_t last_seq = 0;
  int events = 1;
};

// The webhook deliveries a transaction owes, one per webhook that wants any
// of its events: gathered while events are logged (engine/channels.h) and
// written as one outbox row each when the transaction commits, so a batch
// of transitions costs each webhook one row, not one per event.
struct owed_delivery {
  std::int64_t hook = 0;
  ticket_id ticket = 0;  // of the first event
  std::string kind;      // the first event's name
  std::int64_t first_seq = 0, last_seq = 0;
  int events = 0;
  timestamp at = 0;
};

// How many outbox rows are in each state, per channel.
struct outbox_count {
  std::string channel;
  std::string state;
  std::int64_t count = 0;
  std::optional<timestamp> oldest;  // created_at of the oldest
};

// What the KPIs (engine/kpi.h) and what-if's choice of tickets read of a
// ticket: its instants, figures and grouping keys. The strings view the
// store's row and live only during the scan's callback.
struct ticket_figures {
  ticket_id id = 0;
  timestamp created_at = 0;
  std::optional<timestamp> first_response_at, first_response_due, resolution_due, paused_at, resolved_at, closed_at;
  int level = 1, handoff_count = 0, reopen_count = 0;
  std::optional<int> csat;
  std::string_view customer, tier, category, owner, root_cause;
};

class store_transaction {
 public:
  virtual ~store_transaction() = default;

  // Returns nullopt when absent; errors only for storage failures.
  virtual Result<std::optional<ticket>> find_ticket(ticket_id id) = 0;
  virtual Result<std::optional<customer>> find_customer(std::string_view id) = 0;
  virtual Result<std::optional<idempotency_record>> find_idempotency(std::string_view key) = 0;

  // Inserts or replaces by id, every field as given; merging updates and
  // logging them is the engine's (engine/customers.h).
  virtual Status put_customer(const customer& c) = 0;
  // Inserts a new ticket; `t.id == 0` assigns the next id, otherwise keeps it.
  virtual Result<ticket_id> insert_ticket(const ticket& t) = 0;
  // Writes the fields that change after intake (everything but workflow,
  // customer, tier, channel, subject, description, created_at) of `after`.
  // Returns `conflict` if the stored version is not `before.version`.
  // `before` is the ticket as read: columns that did not move (the indexed
  // state, owner and level; the checked category and priority) are left
  // alone, so SQLite rewrites no index entry and runs no check for them.
  virtual Status update_ticket(const ticket& after, const ticket& before) = 0;
  // The seq the next append_event will assign.
  virtual Result<std::int64_t> next_event_seq() = 0;
  // Appends to the audit chain; fills seq, prev_hash and hash. `ticket_prev`
  // is stored as given (the caller links the event to the ticket's history).
  virtual Result<event_record> append_event(event_record e) = 0;
  // Writes an event exactly as given (import), linking it after its ticket's
  // newest event and making it the ticket's newest; the chain is checked
  // afterwards.
  virtual Status insert_event_verbatim(const event_record& e) = 0;
  // Arms the pending timer of this kind (moving its due time if one exists).
  virtual Status schedule_timer(ticket_id id, std::string_view kind, timestamp due) = 0;
  // Cancels the pending timer of this kind, if any.
  virtual Status cancel_timer(ticket_id id, std::string_view kind) = 0;
  // Writes a timer exactly as given, pending or fired (import).
  virtual Status insert_timer_verbatim(const timer& t) = 0;
  // Makes `text` findable by full-text search for this ticket. `slot` is 0
  // for the ticket's opening text (subject and description), else the
  // version of the event whose note it is: one text per slot and ticket.
  virtual Status index_text(ticket_id id, std::int64_t slot, std::string_view text) = 0;
  // Records the first use of an idempotency key; `conflict` when the key is
  // recorded already (two requests with one key: the second loses).
  virtual Status put_idempotency(const idempotency_record& r) = 0;
  // Deletes at most `limit` idempotency records created before `before`,
  // oldest first; returns how many. Bounded so that a long backlog is worked
  // off in short transactions.
  virtual Result<std::int64_t> prune_idempotency(timestamp before, int limit) = 0;
  // Appends to the customer log (engine/customers.h); fills seq (1, 2, 3, …
  // with no gaps), prev_hash and hash. The customer row must exist.
  virtual Result<customer_change> append_customer_change(customer_change c) = 0;
  // Writes a customer change exactly as given (import); checked afterwards.
  virtual Status insert_customer_change_verbatim(const customer_change& c) = 0;
  // The ticket's pending timers due at or before `now`, earliest first
  // (ties by id); empty when none.
  virtual Result<std::vector<timer>> due_timers_of(ticket_id id, timestamp now) = 0;
  // Marks a pending timer fired at `at`. Returns false (writing nothing) if
  // it is no longer pending: another process fired or cancelled it first.
  // This is what makes a timer fire exactly once.
  virtual Result<bool> claim_timer(std::int64_t timer_id, timestamp at) = 0;
  // Appends to the ticket's notifications (what the ladder decided).
  virtual Status add_notification(const notification& n) = 0;
  // Inserts a token; `conflict` when its id exists.
  virtual Status put_token(const api_token& t) = 0;
  // Revokes every live token whose id or name is `name_or_id`; returns how many.
  virtual Result<int> revoke_tokens(std::string_view name_or_id, timestamp at) = 0;
  // Inserts or replaces the setting (the policy in force, its history).
  virtual Status put_setting(std::string_view key, std::string_view value) = 0;

  // The directory of people, read inside the transaction: whether anyone is
  // in it, and one person (nullopt when absent).
  virtual Result<bool> has_people() = 0;
  virtual Result<std::optional<person>> find_person(std::string_view id) = 0;
  // Inserts or replaces by id, every field as given.
  virtual Status put_person(const person& p) = 0;
  // Inserts a session; the person must exist.
  virtual Status put_session(const web_session& s) = 0;
  // Deletes the session with this id (no error when absent).
  virtual Status delete_session(std::string_view id) = 0;
  // Deletes every session of the person; returns how many.
  virtual Result<int> delete_sessions_of(std::string_view person) = 0;
  // Deletes the person's sessions but the `keep` newest; returns how many.
  virtual Result<int> trim_sessions_of(std::string_view person, int keep) = 0;
  // Deletes at most `limit` sessions that expired before `now`; returns how many.
  virtual Result<int> prune_sessions(timestamp now, int limit) = 0;

  // Channels (schema 7).
  // The mail link of this Message-ID; nullopt when none.
  virtual Result<std::optional<mail_link>> find_mail_link(std::string_view message_id) = 0;
  // Returns `conflict` when the Message-ID is already recorded.
  virtual Status put_mail_link(const mail_link& m) = 0;
  // The customer with this email address, compared without case (the
  // oldest if several); nullopt when none.
  virtual Result<std::optional<customer>> find_customer_by_email(std::string_view email) = 0;
  // Stores the bytes; returns the attachment's id.
  virtual Result<std::int64_t> add_attachment(const attachment& a) = 0;
  // The webhooks not removed, by id: read by every transition that may
  // owe them a delivery, so a store keeps them for the transaction (a
  // put_webhook reads them afresh; a list handed out stays as it was).
  virtual Result<std::shared_ptr<const std::vector<webhook>>> live_webhooks() = 0;
  // Inserts (id 0: the next id, returned) or replaces by id.
  virtual Result<std::int64_t> put_webhook(const webhook& w) = 0;
  // Inserts a row (its id is assigned; `o.id` is ignored).
  virtual Status add_outbox(const outbox_item& o) = 0;
  // Takes up to `limit` pending rows (of `channel`, "" for any) due by
  // `now` that no worker holds (or
  // whose hold ran out), oldest due first, and holds them until
  // `hold_until`: within this transaction, so two workers never take the
  // same row while a hold lasts.
  virtual Result<std::vector<outbox_item>> claim_outbox(timestamp now, timestamp hold_until, int limit,
                                                        std::string_view channel) = 0;
  // Deletes delivered and failed rows queued before `before`, looking only
  // at the oldest `limit` rows; returns how many went.
  virtual Result<std::int64_t> prune_outbox(timestamp before, int limit) = 0;
  // Writes state, attempts, next_at, claimed_until, last_error,
  // delivered_at, event_seq and events of the row `o.id`.
  virtual Status update_outbox(const outbox_item& o) = 0;

  // Durable on success: first the rows the engine writes last (the webhook
  // deliveries owed, engine/channels.cpp), then the back end's commit.
  // Returns `conflict` if another writer got in between (multi-node back
  // ends), `internal` on I/O failure.
  Status commit();
  // What commit() will write as outbox rows (engine/channels.h).
  std::vector<owed_delivery>& owed_deliveries() { return owed_; }

 protected:
  // The back end's commit of everything written through this transaction.
  virtual Status commit_writes() = 0;

 private:
  std::vector<owed_delivery> owed_;
};

class store {
 public:
  virtual ~store() = default;

  // Creates the schema or upgrades it to the current version; idempotent.
  // Every other method may assume the current version: a store opened on
  // an older or newer schema refuses with `internal`, naming `plaint init`.
  virtual Status migrate() = 0;
  // "sqlite 3.40.1, schema 1, /path/to/plaint.db" (no password, ever).
  virtual std::string describe() const = 0;

  // Starts the one write transaction; waits for other writers (bounded).
  virtual Result<std::unique_ptr<store_transaction>> begin() = 0;

  // Bounds the reads that follow: one still running at `deadline` stops and
  // returns `unavailable`; nullopt lifts the bound. For reads a client
  // asks for (the server's read connections); a store may ignore it.
  virtual void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) { (void)deadline; }

  // One ticket or customer; `not_found` when absent.
  virtual Result<ticket> get_ticket(ticket_id id) = 0;
  virtual Result<customer> get_customer(std::string_view id) = 0;
  // Every customer, by id.
  virtual Result<std::vector<customer>> list_customers() = 0;
  // One page of tickets matching every filter of `q`, newest (highest id)
  // first, at most q.limit (clamped to 1..1000); `search` matches subject,
  // description and notes as substrings (case-insensitive for ASCII; a
  // Chinese word of two characters or more is found), and `breached_only`
  // judges the clocks as of q.now.
  virtual Result<ticket_page> list_tickets(const ticket_query& q) = 0;
  // The ticket's whole history, oldest first; empty for an unknown ticket.
  virtual Result<std::vector<event_record>> ticket_events(ticket_id id) = 0;
  // One page of the ticket's history without reading the rest: its newest
  // `limit` (clamped to 1..1000) events older than the event `before`
  // (nullopt: the newest events). Returns `invalid` when `before` is not
  // the seq of one of this ticket's events; an empty page for an unknown
  // ticket.
  virtual Result<event_page> ticket_history(ticket_id id, std::optional<std::int64_t> before, int limit) = 0;
  // The customer's newest `limit` (clamped to 1..1000) changes, oldest first;
  // empty for an unknown customer.
  virtual Result<std::vector<customer_change>> customer_history(std::string_view id, int limit) = 0;
  // The ticket's timers, pending and fired, by id; empty when unknown.
  virtual Result<std::vector<timer>> ticket_timers(ticket_id id) = 0;
  // nullopt when the setting was never written.
  virtual Result<std::optional<std::string>> get_setting(std::string_view key) = 0;
  // The ticket's notifications, oldest first; empty when unknown.
  virtual Result<std::vector<notification>> ticket_notifications(ticket_id id) = 0;
  // A token by its public id, revoked ones too; nullopt when absent.
  virtual Result<std::optional<api_token>> find_token(std::string_view id) = 0;
  // Every token, revoked ones too, oldest first.
  virtual Result<std::vector<api_token>> list_tokens() = 0;
  // nullopt when absent.
  virtual Result<std::optional<person>> find_person(std::string_view id) = 0;
  // Every person, by id.
  virtual Result<std::vector<person>> list_people() = 0;
  // nullopt when absent (expired ones are returned: the caller compares).
  virtual Result<std::optional<web_session>> find_session(std::string_view id) = 0;

  // Channels (schema 7). A ticket's attachments without their bytes, oldest
  // first; one attachment with its bytes (nullopt when absent).
  virtual Result<std::vector<attachment>> ticket_attachments(ticket_id id) = 0;
  virtual Result<std::optional<attachment>> get_attachment(std::int64_t id) = 0;
  // Every webhook, removed ones too, by id; nullopt when absent.
  virtual Result<std::vector<webhook>> list_webhooks() = 0;
  virtual Result<std::optional<webhook>> find_webhook(std::int64_t id) = 0;
  // Outbox rows newest first: of one channel and target ("" for any), in
  // one state ("" for any), at most `limit` (clamped to 1..1000).
  virtual Result<std::vector<outbox_item>> list_outbox(std::string_view channel, std::string_view target,
                                                       std::string_view state, int limit) = 0;
  // Deliveries (the rows' `events`) per channel and state, with the oldest
  // created_at of each.
  virtual Result<std::vector<outbox_count>> count_outbox() = 0;
  // The earliest next_at of a pending row of `channel` ("" for any);
  // nullopt when none is pending.
  virtual Result<std::optional<timestamp>> next_outbox_due(std::string_view channel) = 0;

  // Pending timers due at or before `now`, earliest first (ties by id).
  virtual Result<std::vector<timer>> due_timers(timestamp now, int limit) = 0;
  // The earliest due time of any pending timer; nullopt when none.
  virtual Result<std::optional<timestamp>> next_due() = 0;
  // How many timers are pending (for /metrics).
  virtual Result<std::int64_t> count_pending_timers() = 0;
  // The seq of the audit log's last committed event; 0 when it is empty.
  virtual Result<std::int64_t> last_event_seq() = 0;
  // The supervisor's board: open tickets that are escalated (level > 1),
  // breached, or at risk (past a warning threshold) as of `now`; oldest first.
  virtual Result<std::vector<ticket>> attention_board(timestamp now, int limit) = 0;

  // Whole-table walks in key order (customers by id, tickets by id, events
  // by seq from after_seq + 1, timers by id, customer changes by seq), for
  // export, audit and deliveries; each stops when `fn` returns false, and
  // `fn` may read through this store. A walk sees every row committed
  // before it began (rows written meanwhile may or may not be seen).
  virtual Status scan_customers(const std::function<bool(const customer&)>& fn) = 0;
  virtual Status scan_tickets(const std::function<bool(const ticket&)>& fn) = 0;
  virtual Status scan_events(std::int64_t after_seq,
                             const std::function<bool(const event_record&)>& fn) = 0;
  virtual Status scan_timers(const std::function<bool(const timer&)>& fn) = 0;
  virtual Status scan_customer_changes(const std::function<bool(const customer_change&)>& fn) = 0;
  // Every ticket active in [from, to): created before `to` and not closed
  // before `from` (open now, or closed at or after `from`), in no
  // particular order; through indexes on the instants, so the cost follows
  // the tickets that touch the period, not the whole history. Stops when
  // `fn` returns false; `fn` may read through this store.
  virtual Status scan_tickets_active(timestamp from, timestamp to, const std::function<bool(const ticket&)>& fn) = 0;
  // The same tickets as scan_tickets_active, only what the KPIs read of
  // each (ticket_figures): from indexes that carry those columns, so a
  // report reads no ticket row at all.
  virtual Status scan_period_figures(timestamp from, timestamp to,
                                     const std::function<bool(const ticket_figures&)>& fn) = 0;
};

// News of commits by other processes on a shared database (PostgreSQL's
// LISTEN/NOTIFY). A node reads the audit log after the last seq it has seen
// when told, and every so often anyway, since news can be lost.
class commit_feed {
 public:
  virtual ~commit_feed() = default;
  // Waits up to `timeout`: the highest seq that commits announced, 0 when
  // none came in the time, `anything` when the feed was re-established
  // after a loss (some may have been missed); `unavailable` while the
  // database cannot be reached.
  static constexpr std::int64_t anything = std::numeric_limits<std::int64_t>::max();
  virtual Result<std::int64_t> wait(std::chrono::milliseconds timeout) = 0;
};

}  // namespace plaint::engine
