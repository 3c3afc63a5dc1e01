// Customers: changes merged field by field, and the customer log that says
// who changed what, when.
//
// A customer changes only through a `customer_update`: the fields it carries
// are written, the others kept (the attributes are merged as an RFC 7386
// merge patch: a key set to null is removed). A write that changes something
// appends one `customer_change` to the customer log in the same transaction;
// one that changes nothing writes nothing.
//
// THE CUSTOMER LOG
//
// The audit chain of the events needs a ticket for every entry, so customers
// have a chain of their own, built the same way:
//
//   hash(c) = hex(SHA-256(prev_hash || "\n" || canonical(c)))
//   canonical(c) = compact JSON, keys sorted, of {seq, customer, at, actor, changes}
//   prev_hash of the first change = 64 × "0"
//
// `changes` holds {"field": {"from", "to"}} for each of name, tier, email,
// phone and attributes that moved; a customer's first change creates it
// (every field, each "from" null). Replaying a customer's changes in seq
// order gives its current row, which is what `verify_customer_log` checks,
// so an edited customer row is caught as well as an edited log entry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"

namespace plaint::engine {

struct audit_report;

// Customer attributes are flat data: nested deeper than this, or longer than
// max_text_bytes as JSON, they are refused.
inline constexpr int max_attribute_depth = 16;

struct customer_update {
  std::string id;
  std::optional<std::string> name;  // required to create; never empty
  std::optional<std::string> tier;
  std::optional<std::string> email;  // "" clears it
  std::optional<std::string> phone;  // "" clears it
  std::optional<json> attributes;    // an object, merged into the stored ones
  std::string actor;
  // False: refuse to create a customer with another tier than standard or to
  // change a tier (over HTTP: an agent's request; a tier moves SLA targets
  // and the at-risk ordering).
  bool may_set_tier = true;

  // Every field of `c` (its attributes merged), by `actor`.
  static customer_update whole(const customer& c, std::string actor);
};

struct customer_result {
  customer saved;
  bool created = false;
  std::optional<customer_change> change;  // nullopt: nothing changed, nothing was written
};

// Checks the update's text, tier and attributes; reads nothing.
Status check_customer_update(const customer_update& u);

// Applies `u` (already checked) in `tx` as of `now`, deciding on the
// customer as it is in this transaction. Returns `invalid` for a new
// customer without a name, `forbidden` for a tier `u` may not set; nothing
// is written then, nor when nothing would change.
Result<customer_result> put_customer_in(store_transaction& tx, const customer_update& u, timestamp now);

// {"field": {"from", "to"}} for each field that differs between `before`
// (nullptr: a new customer) and `after`; empty when none does.
json customer_diff(const customer* before, const customer& after);

std::string canonical_customer_change(const customer_change& c);
std::string customer_change_hash(std::string_view prev_hash, const customer_change& c);

// Checks the customer log: gap-free seq, links, hashes, each change's "from"
// against the changes before it, and every customer row against its
// replayed log (a customer without one is a break). Fills the report's
// customer counts; on a break sets ok = false and the message.
Status verify_customer_log(store& s, audit_report& r);

// Writes each change as one JSON line of type "customer_change", in seq order.
Result<std::int64_t> export_customer_log(store& s, std::ostream& out);

// Import's side of the customer log. `observe` every line; lines it
// `claims` go to `add` instead of the other importers; `finish` before
// commit. A file without any change (an export of an older plaint) gets one
// creating change per customer, by actor "import"; a file with changes must
// hold a log for every customer that replays to its row.
class customer_log_import {
 public:
  void observe(const json& line);
  bool claims(const json& line) const;
  Status add(store_transaction& tx, const json& line);
  Status finish(store_transaction& tx);
  std::int64_t count() const { return count_; }

 private:
  std::int64_t count_ = 0;
  std::string prev_hash_;
  std::set<std::string> customers_;        // ids of the file's customer lines
  std::map<std::string, json> replayed_;  // customer → its fields as its log leaves them
};

}  // namespace plaint::engine
