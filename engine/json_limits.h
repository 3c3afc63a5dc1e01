// Limits on JSON that enters plaint from outside (API bodies, customer
// attributes, import lines). nlohmann::json copies, compares and dumps
// values recursively, so a deeply nested value could exhaust the stack long
// before any size limit; the depth is checked on the text, without
// recursion, before the text is parsed.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/result.h"

namespace plaint::engine {

// Arrays and objects nested deeper than this are refused. Real documents
// (a ticket, a customer's attributes) are 3–4 levels deep.
inline constexpr int max_json_depth = 64;

// Returns `invalid` ("... is nested deeper than 64 levels") when the JSON
// text `text` opens more than `max_depth` arrays/objects at once; `what`
// names it ("the request body", "line 7"). Strings (with escapes) are
// skipped, so brackets inside them do not count. Says nothing about whether
// the text is otherwise valid JSON: parse it afterwards.
Status check_json_depth(std::string_view what, std::string_view text, int max_depth = max_json_depth);

}  // namespace plaint::engine
