#include "engine/customers.h"

#include <fmt/format.h>

#include "engine/audit.h"
#include "engine/executor.h"

namespace plaint::engine {

namespace {

constexpr const char* customer_fields[] = {"name", "tier", "email", "phone", "attributes"};

bool is_customer_field(std::string_view f) {
  for (const char* known : customer_fields)
    if (f == known) return true;
  return false;
}

json fields_of(const customer& c) {
  return json{{"name", c.name}, {"tier", c.tier}, {"email", c.email}, {"phone", c.phone}, {"attributes", c.attributes}};
}

// Bounded recursion: stops one level past `limit`.
bool deeper_than(const json& j, int limit) {
  if (!j.is_structured()) return false;
  if (limit == 0) return true;
  for (const auto& v : j)
    if (deeper_than(v, limit - 1)) return true;
  return false;
}

// A value for a message: strings quoted, attributes not spelled out.
std::string shown(const json& v) {
  if (v.is_null()) return "nothing";
  if (v.is_string()) return fmt::format("'{}'", v.get<std::string>());
  return v.is_object() ? "other attributes" : "a value of the wrong type";
}

// Applies one change's "to" values to `state` (a customer's fields so far,
// null before its first change); the reason it cannot, or "".
std::string replay(json& state, const json& changes) {
  if (!changes.is_object() || changes.empty()) return "changes nothing";
  for (const auto& [field, change] : changes.items()) {
    if (!is_customer_field(field)) return fmt::format("changes unknown field '{}'", field);
    if (!change.is_object() || change.size() != 2 || !change.contains("from") || !change.contains("to"))
      return fmt::format("records a change of {} without exactly its from and to", field);
    const json& to = change["to"];
    const bool well_typed = field == "attributes" ? to.is_object()
                            : field == "tier"     ? to.is_string() && is_tier(to.get<std::string>())
                                                  : to.is_string();
    if (!well_typed) return fmt::format("sets {} to {}", field, shown(to));
    const json current = state.is_object() && state.contains(field) ? state[field] : json(nullptr);
    if (change["from"] != current)
      return fmt::format("changes {} from {}, but it was {}", field, shown(change["from"]), shown(current));
  }
  if (!state.is_object()) state = json::object();
  for (const auto& [field, change] : changes.items()) state[field] = change["to"];
  return {};
}

// The first field where `row` differs from `replayed`, or "".
std::string differs(const customer& row, const json& replayed) {
  const json fields = fields_of(row);
  for (const char* f : customer_fields) {
    const json logged = replayed.contains(f) ? replayed[f] : json(nullptr);
    if (logged != fields[f])
      return fmt::format("customer '{}' has {} {}, but its log says {}", row.id, f, shown(fields[f]), shown(logged));
  }
  return {};
}

Result<customer_change> change_from_record(const json& j) {
  customer_change c;
  auto str = [&](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  std::string at;
  auto seq = j.find("seq");
  auto changes = j.find("changes");
  if (seq == j.end() || !seq->is_number_integer() || !str("customer", c.customer) || !str("at", at) ||
      !str("actor", c.actor) || !str("prev_hash", c.prev_hash) || !str("hash", c.hash) || changes == j.end())
    return make_error(errc::invalid, "a customer change needs seq, customer, at, actor, changes, prev_hash and hash");
  auto when = parse_iso(at);
  if (!when) return make_error(errc::invalid, fmt::format("customer change at '{}' is not an ISO 8601 time", at));
  c.seq = seq->get<std::int64_t>();
  c.at = *when;
  c.changes = *changes;
  return c;
}

}  // namespace

customer_update customer_update::whole(const customer& c, std::string actor) {
  customer_update u;
  u.id = c.id;
  u.name = c.name;
  u.tier = c.tier;
  u.email = c.email;
  u.phone = c.phone;
  u.attributes = c.attributes;
  u.actor = std::move(actor);
  return u;
}

Status check_customer_update(const customer_update& u) {
  PLAINT_TRY(check_required("customer id", u.id, max_id_bytes));
  if (u.name) PLAINT_TRY(check_required("customer name", *u.name, max_subject_bytes));
  if (u.tier && !is_tier(*u.tier))
    return make_error(errc::invalid, fmt::format("tier '{}' is not one of: {}", *u.tier, join(tiers)));
  if (u.email) PLAINT_TRY(check_text("email", *u.email, max_subject_bytes));
  if (u.phone) PLAINT_TRY(check_text("phone", *u.phone, max_subject_bytes));
  PLAINT_TRY(check_required("actor", u.actor, max_id_bytes));
  if (u.attributes) {
    if (!u.attributes->is_object()) return make_error(errc::invalid, "customer attributes must be a JSON object");
    if (deeper_than(*u.attributes, max_attribute_depth))
      return make_error(errc::invalid,
                        fmt::format("customer attributes are nested deeper than {} levels", max_attribute_depth));
  }
  return {};
}

Result<customer_result> put_customer_in(store_transaction& tx, const customer_update& u, timestamp now) {
  auto existing = tx.find_customer(u.id);
  PLAINT_TRY(existing);
  const customer* before = *existing ? &**existing : nullptr;
  if (!before && !u.name)
    return make_error(errc::invalid, fmt::format("customer '{}' does not exist yet; a name is needed to add it", u.id));
  customer next = before ? *before : customer{};
  next.id = u.id;
  if (u.name) next.name = *u.name;
  if (u.tier) next.tier = *u.tier;
  if (u.email) next.email = *u.email;
  if (u.phone) next.phone = *u.phone;
  if (u.attributes) next.attributes.merge_patch(*u.attributes);

  const std::string old_tier = before ? before->tier : "standard";
  if (!u.may_set_tier && next.tier != old_tier)
    return make_error(errc::forbidden,
                      before ? fmt::format("changing the tier of customer '{}' from {} to {} needs a supervisor",
                                           u.id, old_tier, next.tier)
                             : fmt::format("adding customer '{}' with tier {} needs a supervisor", u.id, next.tier));
  if (const auto size = next.attributes.dump().size(); size > max_text_bytes)
    return make_error(errc::invalid, fmt::format("customer '{}' attributes would be {} bytes long; the limit is {} bytes",
                                                 u.id, size, max_text_bytes));

  json diff = customer_diff(before, next);
  if (diff.empty()) return customer_result{std::move(next), false, std::nullopt};
  next.created_at = before ? before->created_at : now;
  next.updated_at = now;
  PLAINT_TRY(tx.put_customer(next));
  auto change = tx.append_customer_change({0, u.id, now, u.actor, std::move(diff), {}, {}});
  PLAINT_TRY(change);
  return customer_result{std::move(next), before == nullptr, std::move(*change)};
}

json customer_diff(const customer* before, const customer& after) {
  const json old = before ? fields_of(*before) : json::object();
  const json now = fields_of(after);
  json out = json::object();
  for (const char* f : customer_fields) {
    const json from = before ? old[f] : json(nullptr);
    if (from != now[f]) out[f] = {{"from", from}, {"to", now[f]}};
  }
  return out;
}

std::string canonical_customer_change(const customer_change& c) {
  return json{{"seq", c.seq}, {"customer", c.customer}, {"at", format_iso(c.at)}, {"actor", c.actor},
              {"changes", c.changes}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string customer_change_hash(std::string_view prev_hash, const customer_change& c) {
  std::string buf(prev_hash);
  buf.push_back('\n');
  buf += canonical_customer_change(c);
  return sha256_hex(buf);
}

Status verify_customer_log(store& s, audit_report& r) {
  std::string prev = genesis_hash;
  std::map<std::string, json> replayed;
  auto fail = [&r](std::string why) {
    r.ok = false;
    r.message = std::move(why);
    return false;
  };
  PLAINT_TRY(s.scan_customer_changes([&](const customer_change& c) {
    ++r.customer_changes;
    if (c.seq != r.customer_changes)
      return fail(fmt::format("the customer log jumps from change {} to change {}, so changes were removed or reordered",
                              r.customer_changes - 1, c.seq));
    if (c.prev_hash != prev)
      return fail(fmt::format("customer change {} does not link to the hash of change {}", c.seq, c.seq - 1));
    if (customer_change_hash(prev, c) != c.hash)
      return fail(fmt::format("customer change {} was altered: its content no longer matches its hash", c.seq));
    if (auto why = replay(replayed[c.customer], c.changes); !why.empty())
      return fail(fmt::format("customer change {} {}", c.seq, why));
    prev = c.hash;
    return true;
  }));
  if (!r.ok) return {};
  PLAINT_TRY(s.scan_customers([&](const customer& c) {
    ++r.customers;
    auto it = replayed.find(c.id);
    if (it == replayed.end())
      return fail(fmt::format("customer '{}' has no recorded changes: its row was written around the customer log", c.id));
    if (auto why = differs(c, it->second); !why.empty()) return fail(why);
    return true;
  }));
  if (r.ok && static_cast<std::size_t>(r.customers) < replayed.size())
    fail("the customer log names a customer that no longer exists");
  return {};
}

Result<std::int64_t> export_customer_log(store& s, std::ostream& out) {
  std::int64_t n = 0;
  PLAINT_TRY(s.scan_customer_changes([&](const customer_change& c) {
    json j = to_json(c);
    j["type"] = "customer_change";
    out << j.dump() << '\n';
    return ++n, true;
  }));
  return n;
}

namespace {
bool has_type(const json& line, std::string_view type) {
  if (!line.is_object()) return false;
  auto it = line.find("type");
  return it != line.end() && it->is_string() && it->get_ref<const std::string&>() == type;
}
}  // namespace

void customer_log_import::observe(const json& line) {
  if (!has_type(line, "customer")) return;
  if (auto id = line.find("id"); id != line.end() && id->is_string()) customers_.insert(id->get<std::string>());
}

bool customer_log_import::claims(const json& line) const {
  return has_type(line, "customer_change");
}

Status customer_log_import::add(store_transaction& tx, const json& line) {
  auto c = change_from_record(line);
  PLAINT_TRY(c);
  if (count_ == 0) prev_hash_ = genesis_hash;
  ++count_;
  if (!customers_.count(c->customer))
    return make_error(errc::invalid, fmt::format("customer change {} names customer '{}', who is not in the file before it",
                                                 c->seq, c->customer));
  if (c->seq != count_ || c->prev_hash != prev_hash_ || customer_change_hash(prev_hash_, *c) != c->hash)
    return make_error(errc::invalid, fmt::format("customer change {} breaks the customer log's chain", c->seq));
  if (auto why = replay(replayed_[c->customer], c->changes); !why.empty())
    return make_error(errc::invalid, fmt::format("customer change {} {}", c->seq, why));
  prev_hash_ = c->hash;
  return tx.insert_customer_change_verbatim(*c);
}

Status customer_log_import::finish(store_transaction& tx) {
  for (const auto& id : customers_) {
    auto row = tx.find_customer(id);
    PLAINT_TRY(row);
    if (!*row) continue;  // refused earlier
    if (count_ == 0) {
      PLAINT_TRY(tx.append_customer_change({0, id, (*row)->updated_at, "import", customer_diff(nullptr, **row), {}, {}}));
      continue;
    }
    auto it = replayed_.find(id);
    if (it == replayed_.end())
      return make_error(errc::invalid, fmt::format("customer '{}' has no changes in the file's customer log", id));
    if (auto why = differs(**row, it->second); !why.empty()) return make_error(errc::invalid, why);
  }
  return {};
}

}  // namespace plaint::engine
