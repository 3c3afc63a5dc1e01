// libFuzzer harness: the SLA policy parser (workflows/policy.cpp), with
// toml++ compiled in and its assertions on (PLAINT_FUZZ), behind the guard
// of workflows/toml_guard.h.
//
// Properties: any text is either a policy or one refusal naming the file;
// toml++ never reaches undefined behaviour (UBSan, its assertions); a
// parsed policy's longest target, laid on its calendar from a start in
// 2026, is due within the instants plaint can store.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/time.h"
#include "workflows/policy.h"
#include "workflows/registry.h"

using namespace plaint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = workflows::parse_policy(text, "fuzz.toml", workflows::builtin_workflows());
  if (!p) {
    if (p.error().code != engine::errc::invalid || p.error().message.rfind("fuzz.toml", 0) != 0) std::abort();
    return 0;
  }
  (void)workflows::policy_text(*p);
  std::int64_t longest = 0;
  for (const auto& [key, t] : p->targets) longest = std::max({longest, t.first_response, t.resolution, t.follow_up});
  const engine::timestamp start = 1795420800;  // 2026-11-23T08:00:00Z
  const engine::timestamp due = p->add(start, longest);
  if (due < start || !engine::in_instant_range(due)) std::abort();
  return 0;
}
