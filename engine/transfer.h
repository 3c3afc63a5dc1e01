// Moving a whole database out and in: JSON Lines (lossless, re-importable)
// and CSV (tickets, for spreadsheets).
//
// JSON Lines: one object per line, each with "type": "customer" | "ticket" |
// "event" | "timer", written in that order (events in seq order). Import
// takes such a file into an empty database in one transaction, re-checks the
// audit chain as it reads, and writes nothing if any line is wrong.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"

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
};

Result<transfer_counts> export_jsonl(store& s, std::ostream& out);
Result<transfer_counts> export_csv(store& s, std::ostream& out, timestamp now);

// Returns `conflict` if the database already holds data; `invalid` naming
// the line for malformed JSON, wrong types, bad text or a broken chain.
Result<transfer_counts> import_jsonl(store& s, std::istream& in);

}  // namespace plaint::engine
