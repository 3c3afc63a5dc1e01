// UTF-8 validation for every piece of text that enters the engine.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plaint::engine {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF)
// and contains no NUL byte.
bool valid_utf8(std::string_view s);

// Number of code points in well-formed UTF-8.
std::size_t utf8_length(std::string_view s);

// The code point at s[i] of well-formed UTF-8, advancing i past it. A
// sequence cut short by the end of `s` reads what is there, never beyond.
char32_t utf8_next(std::string_view s, std::size_t& i);

// Appends code point `cp` (≤ U+10FFFF, not a surrogate) as UTF-8.
void utf8_append(std::string& out, char32_t cp);

}  // namespace plaint::engine
