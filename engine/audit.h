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
  bool ok = true;
  std::int64_t broken_at_seq = 0;  // first bad event, 0 if ok or not event-specific
  std::string message;             // why it is broken, one sentence
};

// Walks the whole log: chain links, hashes, gap-free seq, and that every
// ticket's version and state agree with its last event.
Result<audit_report> verify_audit(store& s);

}  // namespace plaint::engine
