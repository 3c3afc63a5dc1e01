// Versioned migrations of the SQLite schema. Invariant: steps are only ever
// appended; a released step is never edited, since files in the field have
// already run it.
//
// THE SCHEMA (versions 1 to 9)
//
// Times are INTEGER Unix seconds (UTC); optional times are NULL when unset.
// Lists and free-form data are JSON text, checked with json_valid().
// Enumerations are stored as the SPEC's strings, checked where the SPEC fixes
// the list (tier, channel, category, priority, timer status).
//
//   customers   id TEXT PK · name · tier · email · phone · attributes (JSON
//               object) · created_at · updated_at.
//
//   tickets     id INTEGER PK (the rowid: new ids count up, and "newest
//               first" is rowid order) · every field of engine::ticket, one
//               column each · tags (JSON array) · customer → customers.
//               Indexed by state, owner, customer and level.
//
//   events      The audit log. seq INTEGER PK (1, 2, 3, … assigned by
//               append_event, never by SQLite) · ticket → tickets · at ·
//               actor · event · from_state (NULL for `open`) · to_state ·
//               version · payload (JSON) · prev_hash · hash. Triggers abort
//               any UPDATE or DELETE: the log is append-only, and the hash
//               chain (engine/audit.h) detects what bypasses the triggers.
//
//   timers      id INTEGER PK · ticket → tickets · kind · due_at · status
//               (pending | fired | cancelled) · fired_at. A partial UNIQUE
//               index keeps at most one pending timer per (ticket, kind); a
//               partial index on due_at serves the scheduler's "what is due".
//
//   search      FTS5, trigram tokenizer (case-insensitive, works for Chinese,
//               which has no spaces to split words on): one row per
//               index_text() call — (ticket UNINDEXED, body). Insert-only.
//
//   idempotency key PK · scope · fingerprint · ticket → tickets · created_at.
//   settings    key PK · value (the SLA policy in force is key 'policy').
//
// Version 2 adds:
//   notifications  id PK · ticket → tickets · event_seq → events · at ·
//               recipient ("owner:ann", "team_lead", "supervisor") · kind ·
//               message. Written in the transaction of the event that
//               caused them (SLA warnings and breaches).
//   tickets_created  open tickets oldest first, for the escalation board.
//   tickets_closed   (v9, replaced in v11) closed tickets by closing time,
//                    and tickets_opened every ticket by opening time, each
//                    carrying the other instant: with tickets_created, the
//                    tickets active in a period without reading the others.
//
// Version 3 adds:
//   tokens      API tokens (engine/tokens.h). id TEXT PK (the public part
//               of `plt_<id>_<secret>`) · name (the API's actor) · role
//               (agent | supervisor | admin) · salt · hash (hex SHA-256 of
//               salt + secret; the secret itself is never stored) ·
//               created_at · revoked_at (NULL while live). Indexed by name,
//               for revoking by name.
//   idempotency.response  the first response of an event request, replayed
//               to a retry with the same key ('' for `open`).
//
// Version 4 replaces the events (ticket, seq) index by a chain:
//   tickets.last_event  seq of the ticket's newest event (0 = none).
//   events.ticket_prev  seq of the same ticket's previous event (0 = first).
//   search pgsz 1000  smaller FTS5 leaves, smaller merge bursts.
//
// Version 5 adds:
//   customer_changes  The customer log (engine/customers.h). seq INTEGER PK
//               (1, 2, 3, … assigned by append_customer_change) · customer
//               → customers · at · actor · changes (JSON: field → {from,
//               to}) · prev_hash · hash. Append-only like events (triggers
//               abort UPDATE and DELETE); indexed by (customer, seq) for a
//               customer's history. The upgrade logs every existing
//               customer once, as found (actor "schema upgrade"), in the
//               same transaction, so every customer row has a log.
//   idempotency_created  index on idempotency (created_at): pruning keys
//               past their retention reads the oldest first.
//
// Version 6 adds the directory of people and the web desk's sessions
// (engine/people.h):
//   people      id TEXT PK (the actor and owner name) · name · email ·
//               role (agent | supervisor | admin) · team ('' or L1–L3) ·
//               disabled (0/1) · password_hash (Argon2id string, '' = none)
//               · created_at · updated_at.
//   sessions    id TEXT PK (hex SHA-256 of the cookie's secret) · person →
//               people · csrf · created_at · expires_at. Indexed by person
//               (disabling ends them) and by expires_at (pruning).
//
// Version 7 adds the channels (engine/channels.h):
//   mail_links  message_id TEXT PK (without <>) · ticket → tickets ·
//               direction (in | out) · event_seq · at. Inbound messages are
//               taken once; replies find the ticket of a message sent.
//   attachments id PK · ticket → tickets · event_seq · name · content_type
//               · size · sha256 · data BLOB · at. Indexed by (ticket, id).
//   webhooks    id PK · url · events (JSON array, [] = all) · secret ·
//               created_by · created_at · removed_at (NULL while live).
//   outbox      id PK · channel (email | webhook) · ticket · event_seq ·
//               target · kind · payload (JSON) · state (pending | delivered
//               | failed) · attempts · created_at · next_at · claimed_until
//               · last_error · delivered_at. A partial index on next_at of
//               pending rows serves the workers; nothing else is indexed
//               (every index is one more write per transition): lists walk
//               newest first. A webhook row's payload is '{}': its body is
//               built when it is delivered, from the event.
//   customers_email  index on customers (email COLLATE NOCASE): an inbound
//               message's sender is looked up by address.
//
// Version 8: a webhook's outbox row covers the events of one transaction
// that it wants (engine/store.h owed_delivery), not one event:
//   outbox      + last_seq (the row delivers event_seq..last_seq; a mail
//               row has last_seq = event_seq) · events (how many deliveries
//               the row stands for: counted by `notify status`).
//   people.lang '' | en | zh: the language of the mail plaint sends them.
//
// Version 10 keys the search by ticket and adds the CJK index:
//   search_text  key (ticket << 32 + slot; engine::store::index_text: slot
//               0 is the opening text, else the event's version) · body.
//               One row per indexed text in the order written (a rowid
//               table with no index: appends only); read by the
//               searches for the texts the indexes have not taken in.
//   search      FTS5 trigram, contentless (no columnsize): rowid = key, so
//               matches come newest ticket first and a ticket's texts are
//               one rowid range.
//   search_cjk  FTS5, contentless, detail none, unicode61 over the CJK
//               characters and bigrams of the same text, rowid = key;
//               texts without CJK are left out. Two-character Chinese
//               words are found here. (Replaced by search_pair in 13.)
//
// Version 11 replaces tickets_closed by an index that carries every column
// the KPIs read (PLAINT_FIGURES_COLUMNS):
//   tickets_kpi_closed  every ticket by closing time (open ones first:
//               NULL), then opening time, then the rest: a report reads its
//               period's open tickets, those closed in it and, for any but
//               the earliest periods, those spanning it, each from one
//               index range in order, without a lookup into the table. The
//               earliest periods read their few spanning tickets through
//               tickets_opened. One wide index, not two: every ticket
//               update rewrites its entry.
//
// Version 12 adds outbox_pending_channel (channel, next_at, id) over the
// pending rows: a worker without SMTP claims webhooks only, and with
// outbox_pending alone it walked every pending mail row due before them
// (2.2 million on the 1M desk, on every round, inside the writer).
//
// Version 13 replaces search_cjk by the pair index, which holds the same
// CJK terms and every pair of neighbouring word characters of every text,
// so a search of two Latin letters ("ok", "TV") is found through an index
// too (storage/pairs.h):
//   search_pair FTS5, contentless, detail none, unicode61 (diacritics kept)
//               over storage/pairs.h's terms of the text, rowid = key;
//               texts with no such term are left out.
//   search_mark one row: indexed_to, the rowid of the last search_text
//               row that both full-text indexes hold. The texts after it
//               wait for a commit to hand them over in a batch
//               (sqlite_store::set_search_batch); searches read them from
//               search_text meanwhile.
// Rows of search_text are never deleted: a text's rowid must come after
// search_mark.indexed_to to be seen.
//
// Version 14 rebuilds the pair index with every character and every pair of
// neighbouring characters, whatever they are, so every search of one or two
// characters ("a", "#9", "x ") is found through it too (storage/pairs.h):
//   search_pair FTS5, contentless, detail none, tokenizer ascii over
//               storage/pairs.h's terms, rowid = key.
// (Its migration indexed every text up to search_mark.indexed_to, 93 s on
// the 1M desk, until version 15 dropped the index again: see below.)
//
// Version 15 moves the full-text indexes out of the desk into a file of
// their own beside it, "<desk>-search" (storage/sqlite_search.h), so that
// indexing never holds the desk's write lock: search, search_pair and
// search_mark are dropped here, and settings gains `search_index`, the
// random id that the search file names as its desk's. The desk keeps
// search_text; sqlite_store::migrate then takes every text into the search
// file (a few minutes on the 1M desk). An upgrade cut off after this step
// loses nothing: searches read the texts not yet taken in from
// search_text, and the next take-in goes on from where the file stopped.
//
// Since this build always goes on to version 15, which drops the desk's
// full-text indexes, the earlier steps no longer fill them: version 10
// makes `search` empty (it took every text into the trigram index) and
// version 14 makes `search_pair` empty (the 93 s above), and version 13
// sets the mark to 0, which is then true. A desk of schema 9 to 13 thus
// upgrades without indexing anything twice. An upgrade cut off between
// those steps and version 15 is finished by the next `plaint init` of this
// build or a newer one. Opened by an older build instead, a desk left at
// 13 or 14 is indexed by that build from its mark; one left at 10 to 12
// (before the mark existed) would search an empty index.
//
// Version 16 changes nothing here: it gives PostgreSQL the pair index
// (storage/pg_schema.cpp), and the two stores count their schemas alike.
//
// PRAGMA application_id marks the file as plaint's; PRAGMA user_version is
// the schema version.
#include "storage/sqlite_schema.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "engine/audit.h"
#include "engine/customers.h"
#include "storage/sqlite_queries.h"

// The column order read_customer expects (sqlite_queries.cpp).
#define PLAINT_SCHEMA_CUSTOMER_COLUMNS "id, name, tier, email, phone, attributes, created_at, updated_at"

namespace plaint::storage {

namespace {

constexpr int plaint_application_id = 0x706c6e74;  // "plnt"; 1886154356 in step 1

struct migration_step {
  int version;
  const char* sql;  // ends by setting PRAGMA user_version to `version`
  // Runs after `sql`, in its transaction (nullptr: none): for what SQL
  // alone cannot write, such as hash-chained rows.
  engine::Status (*then)(const connection& db) = nullptr;
};

engine::Status log_existing_customers(const connection& db);

const migration_step steps[] = {
    {1, R"sql(
PRAGMA application_id = 1886154356;

CREATE TABLE customers (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  tier       TEXT NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'gold', 'platinum')),
  email      TEXT NOT NULL DEFAULT '',
  phone      TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tickets (
  id                     INTEGER PRIMARY KEY,
  workflow               TEXT NOT NULL,
  customer               TEXT NOT NULL REFERENCES customers (id),
  tier                   TEXT NOT NULL CHECK (tier IN ('standard', 'gold', 'platinum')),
  channel                TEXT NOT NULL
                         CHECK (channel IN ('phone', 'email', 'web', 'chat', 'in_person', 'social', 'proactive')),
  category               TEXT NOT NULL CHECK (category IN ('product_quality', 'service_attitude', 'delivery',
                                                           'billing', 'technical', 'other')),
  priority               TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
  subject                TEXT NOT NULL,
  description            TEXT NOT NULL DEFAULT '',
  state                  TEXT NOT NULL,
  owner                  TEXT NOT NULL DEFAULT '',
  level                  INTEGER NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 3),
  version                INTEGER NOT NULL CHECK (version >= 0),
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  resolution_started_at  INTEGER NOT NULL DEFAULT 0,
  first_response_at      INTEGER,
  first_response_warn_at INTEGER,
  first_response_due     INTEGER,
  resolution_warn_at     INTEGER,
  resolution_due         INTEGER,
  paused_at              INTEGER,
  paused_seconds         INTEGER NOT NULL DEFAULT 0,
  resolved_at            INTEGER,
  follow_up_due          INTEGER,
  closed_at              INTEGER,
  fired                  INTEGER NOT NULL DEFAULT 0,
  resolution_code        TEXT NOT NULL DEFAULT '',
  root_cause             TEXT NOT NULL DEFAULT '',
  csat                   INTEGER CHECK (csat BETWEEN 1 AND 5),
  reopen_count           INTEGER NOT NULL DEFAULT 0,
  handoff_count          INTEGER NOT NULL DEFAULT 0,
  tags                   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags))
);
CREATE INDEX tickets_state    ON tickets (state);
CREATE INDEX tickets_owner    ON tickets (owner);
CREATE INDEX tickets_customer ON tickets (customer);
CREATE INDEX tickets_level    ON tickets (level);

CREATE TABLE events (
  seq        INTEGER PRIMARY KEY,
  ticket     INTEGER NOT NULL REFERENCES tickets (id),
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  event      TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  version    INTEGER NOT NULL,
  payload    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX events_ticket ON events (ticket, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE timers (
  id       INTEGER PRIMARY KEY,
  ticket   INTEGER NOT NULL REFERENCES tickets (id),
  kind     TEXT NOT NULL,
  due_at   INTEGER NOT NULL,
  status   TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
  fired_at INTEGER
);
CREATE UNIQUE INDEX timers_one_pending ON timers (ticket, kind) WHERE status = 'pending';
CREATE INDEX timers_due ON timers (due_at) WHERE status = 'pending';
CREATE INDEX timers_ticket ON timers (ticket, id);

CREATE VIRTUAL TABLE search USING fts5 (ticket UNINDEXED, body, tokenize = 'trigram');

CREATE TABLE idempotency (
  key         TEXT PRIMARY KEY NOT NULL,
  scope       TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  ticket      INTEGER NOT NULL REFERENCES tickets (id),
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

PRAGMA user_version = 1;
)sql"},
    {2, R"sql(
CREATE TABLE notifications (
  id        INTEGER PRIMARY KEY,
  ticket    INTEGER NOT NULL REFERENCES tickets (id),
  event_seq INTEGER NOT NULL REFERENCES events (seq),
  at        INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  kind      TEXT NOT NULL,
  message   TEXT NOT NULL
);
CREATE INDEX notifications_ticket ON notifications (ticket, id);
CREATE INDEX tickets_created ON tickets (created_at, id) WHERE state <> 'closed';

PRAGMA user_version = 2;
)sql"},
    {3, R"sql(
CREATE TABLE tokens (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  salt       TEXT NOT NULL,
  hash       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_name ON tokens (name);

ALTER TABLE idempotency ADD COLUMN response TEXT NOT NULL DEFAULT '';

PRAGMA user_version = 3;
)sql"},
    {4, R"sql(
-- A ticket's history as a chain instead of an index: the ticket row names
-- its newest event, each event the ticket's previous one. Every transition
-- rewrites its ticket row anyway; the (ticket, seq) index cost one more page
-- write per distinct ticket in every commit.
ALTER TABLE tickets ADD COLUMN last_event INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN ticket_prev INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER events_no_update;
UPDATE events SET ticket_prev = coalesce(
  (SELECT max(p.seq) FROM events p WHERE p.ticket = events.ticket AND p.seq < events.seq), 0);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
UPDATE tickets SET last_event = coalesce((SELECT max(seq) FROM events WHERE ticket = tickets.id), 0);
DROP INDEX events_ticket;
-- FTS5 merges 64 x (levels) leaf pages in one go every 64 leaves written;
-- with 1000-byte leaves instead of 4050 each burst is a quarter of the
-- work, which halves the p99 of a busy server (queries read as fast).
INSERT INTO search (search, rank) VALUES ('pgsz', 1000);

PRAGMA user_version = 4;
)sql"},
    {5, R"sql(
CREATE TABLE customer_changes (
  seq       INTEGER PRIMARY KEY,
  customer  TEXT NOT NULL REFERENCES customers (id),
  at        INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  changes   TEXT NOT NULL CHECK (json_valid(changes)),
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX customer_changes_customer ON customer_changes (customer, seq);
CREATE TRIGGER customer_changes_no_update BEFORE UPDATE ON customer_changes
BEGIN SELECT RAISE(ABORT, 'the customer log is append-only'); END;
CREATE TRIGGER customer_changes_no_delete BEFORE DELETE ON customer_changes
BEGIN SELECT RAISE(ABORT, 'the customer log is append-only'); END;

CREATE INDEX idempotency_created ON idempotency (created_at);

PRAGMA user_version = 5;
)sql",
     log_existing_customers},
    {6, R"sql(
CREATE TABLE people (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  email         TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  team          TEXT NOT NULL DEFAULT '' CHECK (team IN ('', 'L1', 'L2', 'L3')),
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  password_hash TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
  id         TEXT PRIMARY KEY NOT NULL,
  person     TEXT NOT NULL REFERENCES people (id),
  csrf       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_person ON sessions (person);
CREATE INDEX sessions_expires ON sessions (expires_at);

PRAGMA user_version = 6;
)sql",
     nullptr},
    {7, R"sql(
CREATE TABLE mail_links (
  message_id TEXT PRIMARY KEY NOT NULL,
  ticket     INTEGER NOT NULL REFERENCES tickets (id),
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  event_seq  INTEGER NOT NULL,
  at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE attachments (
  id           INTEGER PRIMARY KEY,
  ticket       INTEGER NOT NULL REFERENCES tickets (id),
  event_seq    INTEGER NOT NULL,
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL,
  data         BLOB NOT NULL,
  at           INTEGER NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket, id);

CREATE TABLE webhooks (
  id         INTEGER PRIMARY KEY,
  url        TEXT NOT NULL,
  events     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(events)),
  secret     TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  removed_at INTEGER
);

CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY,
  channel       TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  ticket        INTEGER NOT NULL,
  event_seq     INTEGER NOT NULL,
  target        TEXT NOT NULL,
  kind          TEXT NOT NULL,
  payload       TEXT NOT NULL,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  next_at       INTEGER NOT NULL,
  claimed_until INTEGER,
  last_error    TEXT NOT NULL DEFAULT '',
  delivered_at  INTEGER
);
CREATE INDEX outbox_pending ON outbox (next_at, id) WHERE state = 'pending';

CREATE INDEX customers_email ON customers (email COLLATE NOCASE);

ALTER TABLE people ADD COLUMN lang TEXT NOT NULL DEFAULT '' CHECK (lang IN ('', 'en', 'zh'));

PRAGMA user_version = 7;
)sql",
     nullptr},
    {8, R"sql(
ALTER TABLE outbox ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN events INTEGER NOT NULL DEFAULT 1 CHECK (events >= 0);
UPDATE outbox SET last_seq = event_seq;

PRAGMA user_version = 8;
)sql",
     nullptr},
    {9, R"sql(
CREATE INDEX tickets_closed ON tickets (closed_at, created_at) WHERE closed_at IS NOT NULL;
CREATE INDEX tickets_opened ON tickets (created_at, closed_at);

PRAGMA user_version = 9;
)sql",
     nullptr},
    {10, R"sql(
ALTER TABLE search RENAME TO search_v9;
CREATE TABLE search_text (key INTEGER NOT NULL, body TEXT NOT NULL);
INSERT INTO search_text (key, body)
  SELECT ticket * 4294967296 + row_number() OVER (PARTITION BY ticket ORDER BY rowid) - 1, body
  FROM search_v9 ORDER BY rowid;
DROP TABLE search_v9;
CREATE VIRTUAL TABLE search USING fts5 (body, content = '', columnsize = 0, tokenize = 'trigram');
INSERT INTO search (search, rank) VALUES ('pgsz', 1000);
CREATE VIRTUAL TABLE search_cjk USING fts5 (
  body, content = '', columnsize = 0, detail = 'none', tokenize = 'unicode61');

PRAGMA user_version = 10;
)sql",
     nullptr},  // search and search_cjk stay empty: version 15 drops them (see above)
    {11, R"sql(
DROP INDEX tickets_closed;
CREATE INDEX tickets_kpi_closed ON tickets (
  closed_at, created_at, first_response_at, first_response_due, resolution_due, paused_at, resolved_at,
  level, handoff_count, reopen_count, csat, customer, tier, category, owner, root_cause);

PRAGMA user_version = 11;
)sql",
     nullptr},
    {12, R"sql(
CREATE INDEX outbox_pending_channel ON outbox (channel, next_at, id) WHERE state = 'pending';

PRAGMA user_version = 12;
)sql",
     nullptr},
    {13, R"sql(
DROP TABLE search_cjk;
CREATE VIRTUAL TABLE search_pair USING fts5 (
  body, content = '', columnsize = 0, detail = 'none', tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE search_mark (
  one        INTEGER PRIMARY KEY CHECK (one = 1),
  indexed_to INTEGER NOT NULL
);
INSERT INTO search_mark (one, indexed_to) VALUES (1, 0);

PRAGMA user_version = 13;
)sql",
     nullptr},
    {14, R"sql(
DROP TABLE search_pair;
CREATE VIRTUAL TABLE search_pair USING fts5 (
  body, content = '', columnsize = 0, detail = 'none', tokenize = 'ascii');

PRAGMA user_version = 14;
)sql",
     nullptr},
    {15, R"sql(
DROP TABLE search;
DROP TABLE search_pair;
DROP TABLE search_mark;
INSERT INTO settings (key, value) VALUES ('search_index', lower(hex(randomblob(16))));

PRAGMA user_version = 15;
)sql",
     nullptr},  // sqlite_store::migrate then builds the search file from search_text
    {16, R"sql(
PRAGMA user_version = 16;
)sql",
     nullptr},
};

static_assert(sizeof(steps) / sizeof(steps[0]) == current_schema,
              "one migration step per schema version");

// A file with tables but no plaint schema version is somebody else's.
engine::Status check_foreign(const connection& db) {
  auto app = query_int(db, "PRAGMA application_id", "cannot read the application id");
  PLAINT_TRY(app);
  auto tables = query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                           "cannot list the tables");
  PLAINT_TRY(tables);
  if ((*app != 0 && *app != plaint_application_id) || (*app == 0 && *tables > 0))
    return engine::Error{engine::errc::invalid,
                         fmt::format("database {} is not a plaint database; refusing to initialise it", db.path())};
  return {};
}

engine::Status apply_step(const connection& db, const migration_step& step) {
  const std::string what = fmt::format("cannot migrate {} to schema {}", db.path(), step.version);
  rollback_on_exit guard(db);
  PLAINT_TRY(db.exec("BEGIN IMMEDIATE", what));
  // Re-read inside the write lock: another process may have just migrated.
  auto version = read_schema_version(db);
  PLAINT_TRY(version);
  if (*version == 0) PLAINT_TRY(check_foreign(db));
  if (*version < step.version) {
    PLAINT_TRY(db.exec(step.sql, what));
    if (step.then) PLAINT_TRY(step.then(db));
  }
  return db.exec("COMMIT", what);
}

// Version 5: one creating change per customer already in the file, chained
// in id order, so that `audit verify` can hold every customer to its log.
engine::Status log_existing_customers(const connection& db) {
  auto customers = statement::prepare(db, "SELECT " PLAINT_SCHEMA_CUSTOMER_COLUMNS " FROM customers ORDER BY id");
  PLAINT_TRY(customers);
  auto insert = statement::prepare(db, "INSERT INTO customer_changes (seq, customer, at, actor, changes, prev_hash, hash)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  PLAINT_TRY(insert);
  std::string prev = engine::genesis_hash, json_buf;
  for (std::int64_t seq = 1;; ++seq) {
    const int rc = customers->step();
    if (rc == sqlite_done) return {};
    if (rc != sqlite_row) return db.error(rc, "cannot read the customers to log them");
    auto c = read_customer(*customers);
    PLAINT_TRY(c);
    engine::customer_change change{seq, c->id, c->updated_at, "schema upgrade", engine::customer_diff(nullptr, *c),
                                   prev, {}};
    change.hash = engine::customer_change_hash(prev, change);
    bind_customer_change(*insert, change, json_buf);
    if (const int irc = insert->step(); irc != sqlite_done)
      return db.error(irc, fmt::format("cannot log customer '{}'", c->id));
    insert->reset();
    prev = change.hash;
  }
}

}  // namespace

engine::Result<int> read_schema_version(const connection& db) {
  auto v = query_int(db, "PRAGMA user_version", fmt::format("cannot read the schema version of {}", db.path()));
  PLAINT_TRY(v);
  return static_cast<int>(*v);
}

engine::Status migrate_schema(const connection& db) {
  auto version = read_schema_version(db);
  PLAINT_TRY(version);
  if (*version > current_schema)
    return engine::Error{engine::errc::invalid,
                         fmt::format("database {} has schema {}, newer than this build's schema {}; use a newer plaint",
                                     db.path(), *version, current_schema)};
  for (const migration_step& step : steps)
    if (step.version > *version) PLAINT_TRY(apply_step(db, step));
  return {};
}

}  // namespace plaint::storage
