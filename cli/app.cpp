#include "cli/app.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "storage/open_store.h"
#include "workflows/policy.h"
#include "workflows/policy_history.h"
#include "workflows/registry.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;

engine::Status app::make_clock() {
  if (clock_) return {};
  if (opts_.now_text.empty()) {
    clock_ = std::make_unique<engine::system_clock>();
    return {};
  }
  auto t = engine::parse_iso(opts_.now_text);
  if (!t)
    return make_error(errc::invalid, fmt::format("--now '{}' is not an ISO 8601 time such as 2026-11-23T08:00:00Z",
                                                 opts_.now_text));
  clock_ = std::make_unique<engine::fixed_clock>(*t);
  return {};
}

engine::Result<engine::timestamp> app::now() {
  PLAINT_TRY(make_clock());
  return clock_->now();
}

engine::Result<engine::store*> app::store(bool create) {
  if (store_) return store_.get();
  if (!create) PLAINT_TRY(storage::require_existing(opts_.db));
  auto s = storage::open_store(opts_.db, busy_timeout());
  PLAINT_TRY(s);
  store_ = std::move(*s);
  return store_.get();
}

engine::Result<engine::executor*> app::executor() {
  if (executor_) return executor_.get();
  PLAINT_TRY(make_clock());
  auto s = store();
  PLAINT_TRY(s);
  // The policy in force lives in the database, so every process agrees on it.
  auto stored = load_stored_policy(**s);
  PLAINT_TRY(stored);
  executor_ = std::make_unique<engine::executor>(**s, workflows::builtin_workflows(), *clock_,
                                                 std::move(stored->policy));
  return executor_.get();
}

engine::Result<stored_policy> load_stored_policy(engine::store& s) {
  auto text = s.get_setting("policy");
  PLAINT_TRY(text);
  if (!*text) return stored_policy{"", workflows::default_policy()};
  auto name = s.get_setting("policy_name");
  PLAINT_TRY(name);
  auto parsed = workflows::parse_policy(**text, name->value_or("policy"), workflows::builtin_workflows());
  if (!parsed)
    return make_error(errc::internal,
                      fmt::format("the policy stored in the database no longer parses: {}; put one in force with "
                                  "plaint policy load FILE",
                                  parsed.error().message));
  return stored_policy{std::move(**text), std::move(*parsed)};
}

engine::Result<std::int64_t> app::apply_policy(const std::string& text, const std::string& name) {
  auto parsed = workflows::parse_policy(text, name, workflows::builtin_workflows());
  PLAINT_TRY(parsed);
  auto s = store();
  PLAINT_TRY(s);
  // The stored policy is being replaced, so it need not parse any more (a
  // build with stricter checks, a time zone gone from the system).
  if (!executor_) {
    PLAINT_TRY(make_clock());
    executor_ = std::make_unique<engine::executor>(**s, workflows::builtin_workflows(), *clock_, *parsed);
  }
  auto ex = executor();
  PLAINT_TRY(ex);
  {
    auto tx = (*s)->begin();
    PLAINT_TRY(tx);
    PLAINT_TRY(workflows::record_policy(**s, **tx, text, name, opts_.actor, clock_->now()));
    PLAINT_TRY((*tx)->commit());
  }
  return (*ex)->apply_policy(std::move(*parsed), opts_.actor);
}

engine::Result<std::string> read_text(const std::string& inline_value, const std::string& file) {
  if (file.empty()) return inline_value;
  if (!inline_value.empty())
    return make_error(errc::invalid, "give the text inline or as a file, not both");
  std::ostringstream buf;
  if (file == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error(errc::invalid, fmt::format("file '{}' cannot be read", file));
    buf << in.rdbuf();
  }
  std::string text = buf.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace plaint::cli
