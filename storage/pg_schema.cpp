#include "storage/pg_schema.h"

#include <fmt/format.h>

#include "storage/pairs.h"

namespace plaint::storage::pg {

namespace {

using engine::errc;
using engine::Error;

// The key of the advisory lock migrations hold ('plnt').
constexpr std::int64_t migration_lock = 0x706c6e74;

struct migration_step {
  int version;
  const char* sql;
  engine::Status (*then)(connection&) = nullptr;  // after `sql`, in the same transaction
};

engine::Status index_search_pairs(connection& c);

// Version 8, whole: the SQLite schema of versions 1 to 8 as it stands; then
// one step per version, as SQLite has them.
constexpr migration_step steps[] = {
    {8, R"sql(
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION plaint_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the % is append-only', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  tier       TEXT NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'gold', 'platinum')),
  email      TEXT NOT NULL DEFAULT '',
  phone      TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}' CHECK ((attributes::jsonb) IS NOT NULL),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (lower(email));

CREATE TABLE tickets (
  id                     BIGSERIAL PRIMARY KEY,
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
  version                BIGINT NOT NULL CHECK (version >= 0),
  created_at             BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL,
  resolution_started_at  BIGINT NOT NULL DEFAULT 0,
  first_response_at      BIGINT,
  first_response_warn_at BIGINT,
  first_response_due     BIGINT,
  resolution_warn_at     BIGINT,
  resolution_due         BIGINT,
  paused_at              BIGINT,
  paused_seconds         BIGINT NOT NULL DEFAULT 0,
  resolved_at            BIGINT,
  follow_up_due          BIGINT,
  closed_at              BIGINT,
  fired                  BIGINT NOT NULL DEFAULT 0,
  resolution_code        TEXT NOT NULL DEFAULT '',
  root_cause             TEXT NOT NULL DEFAULT '',
  csat                   INTEGER CHECK (csat BETWEEN 1 AND 5),
  reopen_count           INTEGER NOT NULL DEFAULT 0,
  handoff_count          INTEGER NOT NULL DEFAULT 0,
  tags                   TEXT NOT NULL DEFAULT '[]' CHECK ((tags::jsonb) IS NOT NULL),
  last_event             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tickets_state    ON tickets (state);
CREATE INDEX tickets_owner    ON tickets (owner);
CREATE INDEX tickets_customer ON tickets (customer);
CREATE INDEX tickets_level    ON tickets (level);
CREATE INDEX tickets_created  ON tickets (created_at, id) WHERE state <> 'closed';

CREATE TABLE events (
  seq         BIGINT PRIMARY KEY,
  ticket      BIGINT NOT NULL REFERENCES tickets (id),
  at          BIGINT NOT NULL,
  actor       TEXT NOT NULL,
  event       TEXT NOT NULL,
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  version     BIGINT NOT NULL,
  payload     TEXT NOT NULL DEFAULT '{}' CHECK ((payload::jsonb) IS NOT NULL),
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  ticket_prev BIGINT NOT NULL DEFAULT 0
);
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION plaint_append_only('audit log');

CREATE TABLE timers (
  id       BIGSERIAL PRIMARY KEY,
  ticket   BIGINT NOT NULL REFERENCES tickets (id),
  kind     TEXT NOT NULL,
  due_at   BIGINT NOT NULL,
  status   TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
  fired_at BIGINT
);
CREATE UNIQUE INDEX timers_one_pending ON timers (ticket, kind) WHERE status = 'pending';
CREATE INDEX timers_due ON timers (due_at, id) WHERE status = 'pending';
CREATE INDEX timers_ticket ON timers (ticket, id);

-- Full-text search: every indexed text of a ticket, found by substring
-- through a trigram index (queries of one or two characters read the
-- texts without it).
CREATE TABLE search (
  id     BIGSERIAL PRIMARY KEY,
  ticket BIGINT NOT NULL REFERENCES tickets (id),
  body   TEXT NOT NULL
);
CREATE INDEX search_body ON search USING gin (body gin_trgm_ops);
CREATE INDEX search_ticket ON search (ticket);

CREATE TABLE idempotency (
  key         TEXT PRIMARY KEY,
  scope       TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  ticket      BIGINT NOT NULL REFERENCES tickets (id),
  created_at  BIGINT NOT NULL,
  response    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE notifications (
  id        BIGSERIAL PRIMARY KEY,
  ticket    BIGINT NOT NULL REFERENCES tickets (id),
  event_seq BIGINT NOT NULL REFERENCES events (seq),
  at        BIGINT NOT NULL,
  recipient TEXT NOT NULL,
  kind      TEXT NOT NULL,
  message   TEXT NOT NULL
);
CREATE INDEX notifications_ticket ON notifications (ticket, id);

CREATE TABLE tokens (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  salt       TEXT NOT NULL,
  hash       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX tokens_name ON tokens (name);

CREATE TABLE customer_changes (
  seq       BIGINT PRIMARY KEY,
  customer  TEXT NOT NULL REFERENCES customers (id),
  at        BIGINT NOT NULL,
  actor     TEXT NOT NULL,
  changes   TEXT NOT NULL CHECK ((changes::jsonb) IS NOT NULL),
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX customer_changes_customer ON customer_changes (customer, seq);
CREATE TRIGGER customer_changes_append_only BEFORE UPDATE OR DELETE ON customer_changes
  FOR EACH ROW EXECUTE FUNCTION plaint_append_only('customer log');

CREATE TABLE people (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  email         TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  team          TEXT NOT NULL DEFAULT '' CHECK (team IN ('', 'L1', 'L2', 'L3')),
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  password_hash TEXT NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  lang          TEXT NOT NULL DEFAULT '' CHECK (lang IN ('', 'en', 'zh'))
);

CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,
  person     TEXT NOT NULL REFERENCES people (id),
  csrf       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions (person);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE mail_links (
  message_id TEXT PRIMARY KEY,
  ticket     BIGINT NOT NULL REFERENCES tickets (id),
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  event_seq  BIGINT NOT NULL,
  at         BIGINT NOT NULL
);

CREATE TABLE attachments (
  id           BIGSERIAL PRIMARY KEY,
  ticket       BIGINT NOT NULL REFERENCES tickets (id),
  event_seq    BIGINT NOT NULL,
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         BIGINT NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL,
  data         BYTEA NOT NULL,
  at           BIGINT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket, id);

CREATE TABLE webhooks (
  id         BIGSERIAL PRIMARY KEY,
  url        TEXT NOT NULL,
  events     TEXT NOT NULL DEFAULT '[]' CHECK ((events::jsonb) IS NOT NULL),
  secret     TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  removed_at BIGINT
);

CREATE TABLE outbox (
  id            BIGSERIAL PRIMARY KEY,
  channel       TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  ticket        BIGINT NOT NULL,
  event_seq     BIGINT NOT NULL,
  target        TEXT NOT NULL,
  kind          TEXT NOT NULL,
  payload       TEXT NOT NULL,
  state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT NOT NULL,
  next_at       BIGINT NOT NULL,
  claimed_until BIGINT,
  last_error    TEXT NOT NULL DEFAULT '',
  delivered_at  BIGINT,
  last_seq      BIGINT NOT NULL DEFAULT 0,
  events        INTEGER NOT NULL DEFAULT 1 CHECK (events >= 0)
);
CREATE INDEX outbox_pending ON outbox (next_at, id) WHERE state = 'pending';
)sql"},
    {9, R"sql(
CREATE INDEX tickets_closed ON tickets (closed_at, id) WHERE closed_at IS NOT NULL;
)sql"},
    // Schema 10 lays SQLite's search rows out by ticket and adds its bigram
    // index for CJK words; PostgreSQL's search (pg_trgm) stays as it is.
    {10, R"sql(
SELECT 1;
)sql"},
    // Schema 11 gives SQLite's reports indexes that carry every column
    // they read; PostgreSQL's tickets_created and tickets_closed serve them.
    {11, R"sql(
SELECT 1;
)sql"},
    // Schema 12: one channel's pending rows by their own index (a worker
    // without SMTP claims webhooks only).
    {12, R"sql(
CREATE INDEX outbox_pending_channel ON outbox (channel, next_at, id) WHERE state = 'pending';
)sql"},
    // Schema 13 replaces SQLite's CJK index by its pair index (two Latin
    // letters found through an index too); PostgreSQL's search is unchanged.
    {13, R"sql(
SELECT 1;
)sql"},
    // Schema 14 rebuilds SQLite's pair index with every character and pair
    // (a search of one or two characters of any kind through an index);
    // PostgreSQL's search is unchanged.
    {14, R"sql(
SELECT 1;
)sql"},
    // Schema 15 moves SQLite's full-text indexes into a file beside the
    // desk; PostgreSQL's search is unchanged.
    {15, R"sql(
SELECT 1;
)sql"},
    // Schema 16 gives PostgreSQL the pair index SQLite has had since 14:
    // every character and neighbouring pair of each text (storage/pairs.h)
    // in a GIN-indexed array, so that a search of one or two characters
    // (a two-character Chinese word) no longer reads every text. The
    // column is filled, then indexed, then loses its default: every
    // insert names its pairs. Its statistics keep the 10,000 most common
    // terms (10 × the default), so that the planner tells a rare pair,
    // found through the index, from a frequent one, found by walking the
    // newest tickets; at the default it took rare pairs for frequent ones
    // and read every text (2 s on a 200,000-ticket desk). And the reports
    // get SQLite's tickets_opened: the closed tickets that span a period
    // early in the history are the few created before its end, which
    // tickets_closed alone finds only among all closed since its start.
    {16, R"sql(
ALTER TABLE search ADD COLUMN pairs TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE search ALTER COLUMN pairs SET STATISTICS 1000;
CREATE INDEX tickets_opened ON tickets (created_at, closed_at);
)sql",
     index_search_pairs},
};

static_assert(sizeof(steps) / sizeof(steps[0]) >= 1 && steps[sizeof(steps) / sizeof(steps[0]) - 1].version ==
                                                           current_schema,
              "the PostgreSQL migrations end at the current schema");

// Version 16: the pairs of every text already written, a batch of rows per
// statement, in id order.
engine::Status index_search_pairs(connection& c) {
  constexpr int batch = 2000;
  for (std::int64_t after = 0;;) {
    auto rows = c.run("pairs_read", "SELECT id, body FROM search WHERE id > $1 ORDER BY id LIMIT $2",
                      params().add(after).add(std::int64_t{batch}), "read the search texts to index their pairs");
    PLAINT_TRY(rows);
    if (rows->rows() == 0) break;
    std::string ids = "{", arrays = "{";
    for (int i = 0; i < rows->rows(); ++i) {
      if (i > 0) ids += ',', arrays += ',';
      ids += rows->text(i, 0);
      // An element of the outer array, quoted: its '"' escaped, and it has no '\\' (pair_terms_array).
      arrays += '"';
      for (char ch : pair_terms_array(rows->text(i, 1))) {
        if (ch == '"') arrays += '\\';
        arrays += ch;
      }
      arrays += '"';
    }
    ids += '}', arrays += '}';
    PLAINT_TRY(c.run("pairs_write",
                     "UPDATE search SET pairs = u.pairs::text[] FROM unnest($1::bigint[], $2::text[]) AS u (id, pairs)"
                     " WHERE search.id = u.id",
                     params().add(ids).add(arrays), "index the pairs of the search texts"));
    after = rows->integer(rows->rows() - 1, 0);
    if (rows->rows() < batch) break;
  }
  PLAINT_TRY(c.exec("CREATE INDEX search_pairs ON search USING gin (pairs)", "index the pairs of the search texts"));
  PLAINT_TRY(c.exec("ALTER TABLE search ALTER COLUMN pairs DROP DEFAULT", "index the pairs of the search texts"));
  PLAINT_TRY(c.exec("ANALYZE search", "count the pairs of the search texts"));
  return {};
}

}  // namespace

engine::Result<int> read_schema_version(connection& c) {
  auto found = c.exec(
      "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'plaint_schema'),"
      " (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())",
      "read the schema version");
  PLAINT_TRY(found);
  if (found->integer(0, 0) == 0) {
    if (found->integer(0, 1) > 0)
      return Error{errc::internal, fmt::format("database {} holds tables that are not plaint's; use an empty database",
                                               c.describe())};
    return 0;
  }
  auto v = c.exec("SELECT version FROM plaint_schema", "read the schema version");
  PLAINT_TRY(v);
  return v->rows() == 0 ? 0 : static_cast<int>(v->integer(0, 0));
}

engine::Status migrate_schema(connection& c) {
  auto before = read_schema_version(c);
  PLAINT_TRY(before);
  if (*before > current_schema)
    return Error{errc::internal, fmt::format("database {} is at schema {}, newer than this plaint (schema {}); "
                                             "upgrade plaint",
                                             c.describe(), *before, current_schema)};
  if (*before == current_schema) return {};
  for (const migration_step& step : steps) {
    PLAINT_TRY(c.exec("BEGIN", "begin a migration"));
    auto body = [&]() -> engine::Status {
      PLAINT_TRY(c.exec(fmt::format("SELECT pg_advisory_xact_lock({})", migration_lock), "wait for other migrations"));
      // And the writers' lock: a node of an older build finishes the write
      // it is in, and its next one reads the new version and stops.
      PLAINT_TRY(c.exec(fmt::format("SELECT pg_advisory_xact_lock({})", events_lock), "wait for the writers"));
      PLAINT_TRY(c.exec("CREATE TABLE IF NOT EXISTS plaint_schema (version INTEGER NOT NULL)", "record the schema"));
      // Read again under the lock: another node may have migrated meanwhile.
      auto v = c.exec("SELECT version FROM plaint_schema", "read the schema version");
      PLAINT_TRY(v);
      const int now = v->rows() == 0 ? 0 : static_cast<int>(v->integer(0, 0));
      if (now >= step.version) return {};
      PLAINT_TRY(c.exec(step.sql, fmt::format("migrate {} to schema {}", c.describe(), step.version)));
      if (step.then) PLAINT_TRY(step.then(c));
      PLAINT_TRY(c.exec(fmt::format("DELETE FROM plaint_schema; INSERT INTO plaint_schema VALUES ({})", step.version),
                        "record the schema"));
      return {};
    }();
    if (!body) {
      (void)c.exec("ROLLBACK", "roll back a migration");
      return body;
    }
    PLAINT_TRY(c.exec("COMMIT", "commit a migration"));
  }
  return {};
}

}  // namespace plaint::storage::pg
