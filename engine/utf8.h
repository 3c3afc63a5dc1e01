// UTF-8 validation for every piece of text that enters the engine.
#pragma once

#include <cstddef>
#include <string_view>

namespace plaint::engine {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF)
// and contains no NUL byte.
bool valid_utf8(std::string_view s);

// Number of code points in well-formed UTF-8.
std::size_t utf8_length(std::string_view s);

}  // namespace plaint::engine
