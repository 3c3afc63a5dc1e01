#include "storage/pairs.h"

#include <cstddef>

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

bool is_cjk(char32_t c) {
  return (c >= 0x3041 && c <= 0x3096) || (c >= 0x309D && c <= 0x309F)  // hiragana
         || (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FF)  // katakana, not its middle dot
         || (c >= 0x3400 && c <= 0x4DBF)    // extension A
         || (c >= 0x4E00 && c <= 0x9FFF)    // unified ideographs
         || (c >= 0xAC00 && c <= 0xD7AF)    // Hangul syllables
         || (c >= 0xF900 && c <= 0xFAFF)    // compatibility ideographs
         || (c >= 0x20000 && c <= 0x3134F);  // extensions B to G
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7)  // Latin-1 letters, Latin Extended-A/B
         || (c >= 0x400 && c <= 0x481) || (c >= 0x48A && c <= 0x4FF)  // Cyrillic letters
         || is_cjk(c);
}

std::string pair_terms(std::string_view s) {
  std::string out;
  std::string_view previous;  // the word character just before, if any
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t at = i;
    const char32_t cp = engine::utf8_next(s, i);
    const std::string_view here = s.substr(at, i - at);
    if (!is_word_char(cp)) {
      previous = {};
      continue;
    }
    if (!previous.empty()) out.append(previous).append(here).push_back(' ');
    if (is_cjk(cp)) out.append(here).push_back(' ');
    previous = here;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

bool is_pair_term(std::string_view s) {
  char32_t first = 0;
  int count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const char32_t cp = engine::utf8_next(s, i);
    if (!is_word_char(cp) || count == 2) return false;
    if (count == 0) first = cp;
  }
  return count == 2 || (count == 1 && is_cjk(first));
}

}  // namespace plaint::storage
