// Moving a whole database out and in: JSON Lines (lossless, re-importable)
// and CSV (tickets, for spreadsheets).
//
// JSON Lines: one object per line, each with "type": "customer" | "ticket" |
// "event" | "timer" | "customer_change", written in that order (events and
// customer changes in seq order; a file without customer
// changes, from an older plaint, is imported with one creating change per
// customer). Import takes such a file into an empty database in one
// transaction, re-checks the audit chain and the customer log as it reads,
// and writes nothing if any line is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace plaint::engine {

// Full-fidelity records (every stored field) of a ticket.
json ticket_record(const ticket& t);
Result<ticket> ticket_from_record(const json& j);
Result<customer> customer_from_record(const json& j);
Result<event_record> event_from_record(const json& j);
Result<timer> timer_from_record(const json& j);

struct transfer_counts {
  std::int64_t customers = 0;
  std::int64_t tickets = 0;
  std::int64_t events = 0;
  std::int64_t timers = 0;
  std::int64_t customer_changes = 0;  // the customer log (engine/customers.h)
};

// One CSV field as RFC 4180 has it: quoted when it holds a comma, a quote
// or a line break, with quotes doubled.
std::string csv_cell(std::string_view s);

Result<transfer_counts> export_jsonl(store& s, std::ostream& out);
Result<transfer_counts> export_csv(store& s, std::ostream& out, timestamp now);

// Returns `conflict` if the database already holds data; `invalid` naming
// the line for text that is not UTF-8 or JSON, JSON nested deeper than
// max_json_depth, a missing field or one of the wrong type or range, an
// unknown workflow or state, a customer, ticket or timer the file does not
// hold or holds twice, a broken chain; and `invalid` for a file that would
// not pass `audit verify` once imported (a ticket whose events are missing,
// say). Nothing is written then: the checks of verify_audit run inside the
// import's one transaction, before its commit.
// `progress` (may be empty) hears the number of lines read, every 10,000;
// `also` (may be empty) writes more in the import's transaction, after the
// checks and before the commit, so that it commits with the records or not
// at all (plaint migrate: engine/migrate.h).
Result<transfer_counts> import_jsonl(store& s, const workflow_registry& workflows, std::istream& in,
                                     const std::function<void(std::int64_t)>& progress = {},
                                     const std::function<Status(store_transaction&)>& also = {});

}  // namespace plaint::engine
