// The domain model of SPEC §2: customers, tickets, audit events and timers.
//
// Enumerated attributes (tier, channel, category, priority, timer kind) are
// kept as their SPEC strings — the same text the CLI, the API and the database
// use — and validated at the edge with the `is_*` predicates below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/time.h"

namespace plaint::engine {

using json = nlohmann::json;
using ticket_id = std::int64_t;

inline constexpr std::string_view tiers[] = {"standard", "gold", "platinum"};
inline constexpr std::string_view channels[] = {"phone", "email",     "web",      "chat",
                                                "in_person", "social", "proactive"};
inline constexpr std::string_view categories[] = {"product_quality", "service_attitude", "delivery",
                                                  "billing",         "technical",        "other"};
inline constexpr std::string_view priorities[] = {"P1", "P2", "P3", "P4"};
inline constexpr std::string_view timer_kinds[] = {"first_response_warn", "first_response",
                                                   "resolution_warn", "resolution", "follow_up"};
inline constexpr std::string_view reject_reasons[] = {"duplicate", "not_a_complaint", "spam"};

bool is_tier(std::string_view s);
bool is_channel(std::string_view s);
bool is_category(std::string_view s);
bool is_priority(std::string_view s);
bool is_reject_reason(std::string_view s);
// "a, b, c" — for messages that list the accepted values.
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");
template <std::size_t N>
std::string join(const std::string_view (&items)[N], std::string_view sep = ", ") {
  return join(std::vector<std::string>(std::begin(items), std::end(items)), sep);
}

// Size limits on text, in bytes; larger input is refused, never truncated.
inline constexpr std::size_t max_subject_bytes = 1000;
inline constexpr std::size_t max_text_bytes = 64 * 1024;  // description, note
inline constexpr std::size_t max_id_bytes = 200;          // customer id, owner, actor

struct customer {
  std::string id;
  std::string name;
  std::string tier = "standard";
  std::string email;
  std::string phone;
  json attributes = json::object();
  timestamp created_at = 0;
  timestamp updated_at = 0;
};

// Bits of `ticket::fired`: which SLA timers of the current cycle have fired.
enum timer_bit : unsigned {
  fired_first_response_warn = 1u << 0,
  fired_first_response = 1u << 1,
  fired_resolution_warn = 1u << 2,
  fired_resolution = 1u << 3,
  fired_follow_up = 1u << 4,
};
unsigned timer_bit_of(std::string_view kind);

struct ticket {
  ticket_id id = 0;
  std::string workflow = "complaint";
  std::string customer;
  std::string tier = "standard";  // the customer's value tier when the ticket was logged
  std::string channel = "web";
  std::string category = "other";
  std::string priority = "P3";
  std::string subject;
  std::string description;
  std::string state;
  std::string owner;  // empty until someone takes it
  int level = 1;      // escalation level 1..3
  std::int64_t version = 0;
  timestamp created_at = 0;
  timestamp updated_at = 0;

  // SLA clocks. Dues are absolute instants; a paused clock keeps its due and
  // moves it forward by the paused span on resume.
  timestamp resolution_started_at = 0;  // logged, or last reopened
  std::optional<timestamp> first_response_at;
  std::optional<timestamp> first_response_warn_at;
  std::optional<timestamp> first_response_due;
  std::optional<timestamp> resolution_warn_at;
  std::optional<timestamp> resolution_due;
  std::optional<timestamp> paused_at;
  std::int64_t paused_seconds = 0;
  std::optional<timestamp> resolved_at;
  std::optional<timestamp> follow_up_due;
  std::optional<timestamp> closed_at;
  unsigned fired = 0;  // timer_bit set

  std::string resolution_code;
  std::string root_cause;
  std::optional<int> csat;
  int reopen_count = 0;
  int handoff_count = 0;
  std::vector<std::string> tags;

  // The seq of the ticket's newest audit event (0 before the first): the
  // head of its history, which is walked through event_record::ticket_prev.
  // Kept by storage and the executor; not part of the ticket's JSON.
  std::int64_t last_event = 0;
};

struct sla_status {
  bool paused = false;
  bool first_response_breached = false;
  bool resolution_breached = false;
  bool breached() const { return first_response_breached || resolution_breached; }
};
// Any struct with the SLA instants of a ticket (ticket, ticket_figures).
// A clock met is late only if met after its due instant; a clock still
// running is breached from the due instant on (when its timer fires).
template <class Instants>
sla_status sla_of(const Instants& t, timestamp now) {
  sla_status s;
  s.paused = t.paused_at.has_value();
  if (t.first_response_due) {
    s.first_response_breached = t.first_response_at ? *t.first_response_at > *t.first_response_due
                                                    : t.closed_at.value_or(now) >= *t.first_response_due;
  }
  if (t.resolution_due) {
    // A paused clock is judged as of the moment it paused; a ticket closed
    // without resolution (rejected) as of its closing.
    s.resolution_breached = t.resolved_at ? *t.resolved_at > *t.resolution_due
                                          : t.paused_at.value_or(t.closed_at.value_or(now)) >= *t.resolution_due;
  }
  return s;
}

// One row of the append-only audit log. `from_state` is empty for `open`.
struct event_record {
  std::int64_t seq = 0;
  ticket_id ticket = 0;
  timestamp at = 0;
  std::string actor;
  std::string event;
  std::string from_state;
  std::string to_state;
  std::int64_t version = 0;  // the ticket's version after this event
  json payload = json::object();
  std::string prev_hash;
  std::string hash;
  // The seq of the same ticket's previous event (0 for its first): the
  // ticket's own history, linked newest to oldest. Not in the hashed
  // content; `verify_audit` checks every link against the log's order.
  std::int64_t ticket_prev = 0;
};

struct timer {
  std::int64_t id = 0;
  ticket_id ticket = 0;
  std::string kind;
  timestamp due_at = 0;
  std::string status = "pending";  // pending | fired | cancelled
  std::optional<timestamp> fired_at;
};

// One entry of the customer log (engine/customers.h): who changed which of
// a customer's fields, from what to what. Append-only and hash-chained like
// the events, in its own sequence (customers are not tickets).
struct customer_change {
  std::int64_t seq = 0;
  std::string customer;
  timestamp at = 0;
  std::string actor;
  // {"tier": {"from": "platinum", "to": "gold"}, ...}: only the fields that
  // moved; when the customer was created every field, each "from" null.
  json changes = json::object();
  std::string prev_hash;
  std::string hash;
};

// Who was told what, recorded with the event that caused it.
struct notification {
  std::int64_t id = 0;
  ticket_id ticket = 0;
  std::int64_t event_seq = 0;
  timestamp at = 0;
  std::string recipient;  // "owner:ann", "team_lead", "supervisor"
  std::string kind;       // "sla_warning", "sla_breach"
  std::string message;
};

// SPEC JSON shapes. `ticket_json` includes the `sla` object as of `now`.
json to_json(const customer& c);
json to_json(const ticket& t, timestamp now);
// The same document as `to_json(t, now).dump()`, written directly: the
// answer of every HTTP transition, so it skips building the tree.
std::string ticket_json_text(const ticket& t, timestamp now);
// Appends `s` as a JSON string, byte for byte as json(s).dump() writes it
// (with invalid UTF-8 replaced): printable ASCII without a quote or a
// backslash directly, anything else through nlohmann. The audit hashes
// depend on every byte.
void append_json_string(std::string& out, std::string_view s);
json to_json(const event_record& e);
json to_json(const timer& t);
json to_json(const notification& n);
json to_json(const customer_change& c);

}  // namespace plaint::engine
