#include "storage/pairs.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/utf8.h"

namespace plaint::storage {

namespace {

// Upper case to lower case in the blocks where the two alternate.
char32_t alternating(char32_t c, bool upper_is_even) { return ((c % 2 == 0) == upper_is_even) ? c + 1 : c; }

char32_t fold(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x137 && c != 0x130) return alternating(c, true);
  if (c >= 0x139 && c <= 0x148) return alternating(c, false);
  if (c >= 0x14A && c <= 0x177) return alternating(c, true);
  if (c >= 0x179 && c <= 0x17E) return alternating(c, false);
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x4FF))
    return alternating(c, true);
  if (c == 0x4C0) return 0x4CF;
  if (c >= 0x4C1 && c <= 0x4CE) return alternating(c, false);
  if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) return alternating(c, true);
  return c;
}

// A term's key: a character alone is its code point; a pair sets bit 42
// above the two code points (21 bits each).
constexpr std::uint64_t pair_bit = std::uint64_t{1} << 42;
constexpr int cp_bits = 21;

void append_char(std::string& out, char32_t c) {
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');  // folded: no upper case
  if (alnum || c >= 0x80) {
    engine::utf8_append(out, c);
  } else {
    constexpr char hex[] = "0123456789abcdef";
    out.push_back('q');
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
  }
}

void append_term(std::string& out, std::uint64_t key) {
  if (key & pair_bit) {
    append_char(out, char32_t((key >> cp_bits) & ((1u << cp_bits) - 1)));
    append_char(out, char32_t(key & ((1u << cp_bits) - 1)));
  } else {
    append_char(out, char32_t(key));
  }
}

}  // namespace

std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t at = i;
    const char32_t cp = engine::utf8_next(s, i);
    if (const char32_t folded = fold(cp); folded != cp)
      engine::utf8_append(out, folded);
    else
      out.append(s.substr(at, i - at));
  }
  return out;
}

namespace {

// The sorted, distinct keys of every character and neighbouring pair of `s`.
std::vector<std::uint64_t> pair_keys(std::string_view s) {
  std::vector<std::uint64_t> keys;
  keys.reserve(2 * s.size());
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::uint64_t cp = fold(engine::utf8_next(s, i));
    if (!keys.empty()) keys.push_back(pair_bit | previous << cp_bits | cp);
    keys.push_back(cp);
    previous = cp;
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// The terms of `s` written between `open` and `close`, `between` apart.
std::string joined_terms(std::string_view s, std::string_view open, std::string_view between,
                         std::string_view close) {
  const auto keys = pair_keys(s);
  std::string out(open);
  out.reserve(open.size() + (3 + between.size()) * keys.size() + close.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k > 0) out.append(between);
    append_term(out, keys[k]);
  }
  out.append(close);
  return out;
}

}  // namespace

search_kind search_kind_of(std::string_view text) {
  if (text.empty()) return search_kind::none;
  return engine::utf8_length(text) >= 3 ? search_kind::trigram : search_kind::pair;
}

std::string pair_terms(std::string_view s) { return joined_terms(s, "", " ", ""); }

// A term holds letters, digits, "q" with hex digits and non-ASCII UTF-8,
// whose bytes are never '"' or '\\': quoting each element needs no escapes.
std::string pair_terms_array(std::string_view s) {
  return s.empty() ? std::string("{}") : joined_terms(s, "{\"", "\",\"", "\"}");
}

std::string pair_term(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) append_char(out, fold(engine::utf8_next(s, i)));
  return out;
}

}  // namespace plaint::storage
