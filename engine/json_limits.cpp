#include "engine/json_limits.h"

#include <fmt/format.h>

namespace plaint::engine {

Status check_json_depth(std::string_view what, std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth)
          return make_error(errc::invalid,
                            fmt::format("{} is nested deeper than {} levels", what, max_depth));
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return {};
}

}  // namespace plaint::engine
