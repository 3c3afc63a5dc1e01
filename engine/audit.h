// The audit chain: every event's hash covers the previous event's hash and
// the event's canonical form, so any altered, removed, inserted or reordered
// row breaks the chain from that point on.
//
//   hash(e) = hex(SHA-256(prev_hash || "\n" || canonical(e)))
//   canonical(e) = compact JSON, keys sorted, of
//                  {seq, ticket, at, actor, event, from, to, version, payload}
//   prev_hash of the first event = 64 × "0"
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/model.h"
#include "engine/result.h"

namespace plaint::engine {

class store;

inline const std::string genesis_hash(64, '0');

std::string sha256_hex(std::string_view data);
std::string canonical_event(const event_record& e);
std::string audit_hash(std::string_view prev_hash, const event_record& e);

struct audit_report {
  std::int64_t events = 0;
  std::int64_t tickets = 0;
  std::int64_t customer_changes = 0;  // the customer log (engine/customers.h)
  std::int64_t customers = 0;
  bool ok = true;
  std::int64_t broken_at_seq = 0;  // first bad event, 0 if ok or not event-specific
  std::string message;             // why it is broken, one sentence
};

// The event checks of verify_audit, fed the events in seq order and then
// the tickets, so that import runs them on what it writes before it commits.
class audit_checker {
 public:
  // False (and report() says why) once the log is broken: seq not the next
  // one, a wrong prev_hash or hash, a version that does not follow the
  // ticket's previous event, or a ticket_prev that is not that event.
  bool add_event(const event_record& e);
  // After every event: false unless the ticket's version, newest event
  // (last_event) and state are those of its last event in the log.
  bool check_ticket(const ticket& t);
  // The ticket's newest event so far (0 = none): the ticket_prev its next
  // event must carry.
  std::int64_t last_seq(ticket_id id) const;
  // Counts events and tickets; ok = false and the message once broken.
  const audit_report& report() const { return r_; }

 private:
  struct ticket_tail {
    std::int64_t last_version = 0;
    std::int64_t last_seq = 0;
    std::string last_state;
  };
  bool fail(std::int64_t seq, std::string message);

  audit_report r_;
  std::string prev_ = genesis_hash;
  std::map<ticket_id, ticket_tail> tails_;
};

// The head of the event chain: the newest event's seq, hash and time (seq
// 0 with the genesis hash for an empty log). Published elsewhere as an
// anchor, "SEQ:HASH", it lets a later copy of the database prove that it
// still holds exactly that history: every hash covers all before it.
struct chain_head {
  std::int64_t seq = 0;
  std::string hash = genesis_hash;
  timestamp at = 0;
};
Result<chain_head> audit_head(store& s);
// "SEQ:HASH" (64 lowercase hex digits); `invalid` with one sentence otherwise.
Result<chain_head> parse_anchor(std::string_view text);
std::string format_anchor(const chain_head& head);
// OK when the log holds event `anchor.seq` with exactly `anchor.hash`
// (seq 0: the genesis hash); `internal` naming what differs otherwise.
// With verify_audit passing, the history up to the anchor is the one it
// was taken of.
Status check_anchor(store& s, const chain_head& anchor);

// Walks the whole log: chain links, hashes, gap-free seq, and that every
// ticket's version and state agree with its last event; then the customer
// log (verify_customer_log).
Result<audit_report> verify_audit(store& s);

}  // namespace plaint::engine
