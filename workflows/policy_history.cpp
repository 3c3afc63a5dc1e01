#include "workflows/policy_history.h"

#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "workflows/policy.h"

namespace plaint::workflows {

using engine::errc;
using engine::json;
using engine::make_error;

namespace {

constexpr const char* history_key = "policy_history";

// The stored history; a desk whose policy was stored before the history
// was kept reads as that one policy, in force since the first event.
engine::Result<json> read_history(engine::store& s) {
  auto stored = s.get_setting(history_key);
  PLAINT_TRY(stored);
  if (*stored) {
    json h = json::parse(**stored, nullptr, false);
    if (!h.is_array()) return make_error(errc::internal, "the stored policy history is not a JSON array");
    return h;
  }
  auto text = s.get_setting("policy");
  PLAINT_TRY(text);
  auto name = s.get_setting("policy_name");
  PLAINT_TRY(name);
  json h = json::array();
  if (*text)
    h.push_back({{"version", 1}, {"name", name->value_or("policy")}, {"since_seq", 0}, {"at", nullptr},
                 {"actor", ""}, {"text", **text}});
  return h;
}

// Parsed policies by source text: a history is parsed once per process.
engine::Result<std::shared_ptr<const engine::sla_policy>> parsed(const std::string& text, const std::string& name,
                                                                 const engine::workflow_registry& workflows) {
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<const engine::sla_policy>> cache;
  const auto key = std::make_pair(text, name);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto p = parse_policy(text, name, workflows);
  if (!p)
    return make_error(errc::internal, fmt::format("a policy of the history no longer parses: {}", p.error().message));
  auto shared = std::make_shared<const engine::sla_policy>(std::move(*p));
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 64) cache.clear();
  cache.emplace(key, shared);
  return shared;
}

}  // namespace

engine::Status record_policy(engine::store& s, engine::store_transaction& tx, std::string_view text,
                             std::string_view name, std::string_view actor, engine::timestamp at) {
  // next_event_seq takes the chain's lock where there is one, so the
  // history read below sees every policy stored before this one.
  auto next = tx.next_event_seq();
  PLAINT_TRY(next);
  auto history = read_history(s);
  PLAINT_TRY(history);
  const int version = history->empty() ? 1 : history->back().value("version", 0) + 1;
  history->push_back({{"version", version},
                      {"name", std::string(name)},
                      {"since_seq", *next - 1},
                      {"at", engine::format_iso(at)},
                      {"actor", std::string(actor)},
                      {"text", std::string(text)}});
  PLAINT_TRY(tx.put_setting("policy", text));
  PLAINT_TRY(tx.put_setting("policy_name", name));
  return tx.put_setting(history_key, history->dump());
}

engine::Result<engine::policy_timeline> load_policy_timeline(engine::store& s,
                                                             const engine::workflow_registry& workflows) {
  auto history = read_history(s);
  PLAINT_TRY(history);
  std::vector<engine::policy_version> versions;
  for (const json& v : *history) {
    if (!v.is_object() || !v.contains("text") || !v["text"].is_string() || !v.contains("since_seq") ||
        !v["since_seq"].is_number_integer())
      return make_error(errc::internal, "the stored policy history has a malformed entry");
    engine::policy_version pv;
    pv.version = v.value("version", 0);
    pv.name = v.value("name", std::string("policy"));
    pv.since_seq = v["since_seq"].get<std::int64_t>();
    if (v.contains("at") && v["at"].is_string()) pv.at = engine::parse_iso(v["at"].get<std::string>()).value_or(0);
    pv.actor = v.value("actor", std::string());
    auto p = parsed(v["text"].get<std::string>(), pv.name, workflows);
    PLAINT_TRY(p);
    pv.policy = std::move(*p);
    // A later version stored at the same head replaces the earlier one:
    // no event was applied under it.
    if (!versions.empty() && versions.back().since_seq == pv.since_seq) versions.pop_back();
    versions.push_back(std::move(pv));
  }
  return engine::policy_timeline(std::move(versions), default_policy());
}

}  // namespace plaint::workflows
