#include "engine/audit.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "engine/customers.h"
#include "engine/store.h"

namespace plaint::engine {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the provider up again
  // on every digest, which cost as much as the hash on the request path.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md || EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable in this OpenSSL build");
  static const char hex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  return out;
}

std::string canonical_event(const event_record& e) {
  // Compact JSON with the keys in sorted order, written directly (this runs
  // once per transition); equal to json{...}.dump() of the same members.
  std::string out;
  out.reserve(256);
  out += "{\"actor\":";
  append_json_string(out, e.actor);
  out += ",\"at\":\"";
  out += format_iso(e.at);
  out += "\",\"event\":";
  append_json_string(out, e.event);
  out += ",\"from\":";
  if (e.from_state.empty())
    out += "null";
  else
    append_json_string(out, e.from_state);
  out += ",\"payload\":";
  out += e.payload.dump(-1, ' ', false, json::error_handler_t::replace);
  out += fmt::format(",\"seq\":{},\"ticket\":{},\"to\":", e.seq, e.ticket);
  append_json_string(out, e.to_state);
  out += fmt::format(",\"version\":{}}}", e.version);
  return out;
}

std::string audit_hash(std::string_view prev_hash, const event_record& e) {
  std::string buf;
  buf.reserve(prev_hash.size() + 256);
  buf.append(prev_hash);
  buf.push_back('\n');
  buf.append(canonical_event(e));
  return sha256_hex(buf);
}

bool audit_checker::fail(std::int64_t seq, std::string message) {
  r_.ok = false;
  r_.broken_at_seq = seq;
  r_.message = std::move(message);
  return false;
}

std::int64_t audit_checker::last_seq(ticket_id id) const {
  auto it = tails_.find(id);
  return it == tails_.end() ? 0 : it->second.last_seq;
}

bool audit_checker::add_event(const event_record& e) {
  if (!r_.ok) return false;
  ++r_.events;
  if (e.seq != r_.events)
    return fail(e.seq, fmt::format("the audit log jumps from event {} to event {}, so events were removed or reordered",
                                   r_.events - 1, e.seq));
  if (e.prev_hash != prev_)
    return fail(e.seq, fmt::format("event {} does not link to the hash of event {}", e.seq, e.seq - 1));
  if (audit_hash(prev_, e) != e.hash)
    return fail(e.seq, fmt::format("event {} was altered: its content no longer matches its hash", e.seq));
  auto& tail = tails_[e.ticket];
  if (e.version != tail.last_version + 1)
    return fail(e.seq, fmt::format("event {} gives ticket {} version {} after version {}", e.seq, e.ticket, e.version,
                                   tail.last_version));
  if (e.ticket_prev != tail.last_seq)
    return fail(e.seq, fmt::format("event {} links to event {} as ticket {}'s previous one, but that is event {}",
                                   e.seq, e.ticket_prev, e.ticket, tail.last_seq));
  tail.last_version = e.version;
  tail.last_seq = e.seq;
  tail.last_state = e.to_state;
  prev_ = e.hash;
  return true;
}

bool audit_checker::check_ticket(const ticket& t) {
  if (!r_.ok) return false;
  ++r_.tickets;
  auto it = tails_.find(t.id);
  const std::int64_t logged = it == tails_.end() ? 0 : it->second.last_version;
  if (it == tails_.end() || logged != t.version)
    return fail(0, fmt::format("ticket {} is at version {} but the audit log holds {} of its events", t.id, t.version,
                               logged));
  if (t.last_event != it->second.last_seq)
    return fail(0, fmt::format("ticket {} names event {} as its newest, but that is event {}", t.id, t.last_event,
                               it->second.last_seq));
  if (it->second.last_state != t.state)
    return fail(0, fmt::format("ticket {} is in {} but its last audited event left it in {}", t.id, t.state,
                               it->second.last_state));
  return true;
}

Result<audit_report> verify_audit(store& s) {
  audit_checker check;
  PLAINT_TRY(s.scan_events(0, [&](const event_record& e) { return check.add_event(e); }));
  if (check.report().ok) PLAINT_TRY(s.scan_tickets([&](const ticket& t) { return check.check_ticket(t); }));
  audit_report r = check.report();
  if (!r.ok) return r;
  PLAINT_TRY(verify_customer_log(s, r));
  if (r.ok)
    r.message = fmt::format("audit chain intact: {} events over {} tickets, {} customer changes over {} customers",
                            r.events, r.tickets, r.customer_changes, r.customers);
  return r;
}

namespace {

// The event with this seq, if the log has it.
Result<std::optional<event_record>> event_at(store& s, std::int64_t seq) {
  std::optional<event_record> found;
  PLAINT_TRY(s.scan_events(seq - 1, [&](const event_record& e) {
    if (e.seq == seq) found = e;
    return false;
  }));
  return found;
}

}  // namespace

Result<chain_head> audit_head(store& s) {
  auto last = s.last_event_seq();
  PLAINT_TRY(last);
  chain_head head;
  if (*last == 0) return head;
  auto e = event_at(s, *last);
  PLAINT_TRY(e);
  if (!*e) return make_error(errc::internal, fmt::format("the audit log's newest event {} cannot be read", *last));
  head.seq = (*e)->seq;
  head.hash = (*e)->hash;
  head.at = (*e)->at;
  return head;
}

Result<chain_head> parse_anchor(std::string_view text) {
  auto refuse = [&] {
    return make_error(errc::invalid,
                      fmt::format("an anchor is SEQ:HASH as printed by plaint audit anchor (a number, a colon and 64 "
                                  "lowercase hex digits), not '{}'",
                                  text.substr(0, 100)));
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 18) return refuse();
  chain_head a;
  a.seq = 0;
  for (const char c : text.substr(0, colon)) {
    if (c < '0' || c > '9') return refuse();
    a.seq = a.seq * 10 + (c - '0');
  }
  const std::string_view hash = text.substr(colon + 1);
  if (hash.size() != 64) return refuse();
  for (const char c : hash)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return refuse();
  a.hash = std::string(hash);
  return a;
}

std::string format_anchor(const chain_head& head) { return fmt::format("{}:{}", head.seq, head.hash); }

Status check_anchor(store& s, const chain_head& anchor) {
  if (anchor.seq == 0) {
    if (anchor.hash == genesis_hash) return {};
    return make_error(errc::internal, "the anchor's hash at seq 0 is not the genesis hash (64 zeros)");
  }
  auto e = event_at(s, anchor.seq);
  PLAINT_TRY(e);
  if (!*e)
    return make_error(errc::internal, fmt::format("the audit log does not reach the anchor: it has no event {}",
                                                  anchor.seq));
  if ((*e)->hash != anchor.hash)
    return make_error(errc::internal,
                      fmt::format("the history differs from the anchor: event {} has hash {}, the anchor says {}",
                                  anchor.seq, (*e)->hash, anchor.hash));
  return {};
}

}  // namespace plaint::engine
