// Chinese, Japanese and Korean text has no spaces between its words, so the
// word index cannot split it, and the trigram index cannot find a word of
// two characters (退款, 包裹). A second full-text index holds each run of
// CJK characters as its bigrams, plus the run's last character alone:
//
//   "包裹丢失, refund 退款" -> "包裹 裹丢 丢失 失 退款 款"
//
// A two-character query is then one token ("包裹"), and a one-character
// query a prefix ("包"*): every occurrence of a character starts a bigram or
// ends its run.
#pragma once

#include <string>
#include <string_view>

namespace plaint::storage {

// A Han ideograph, kana or Hangul syllable.
bool is_cjk(char32_t code_point);

// The bigram terms of valid UTF-8 text, space-separated; "" when the text
// has no CJK character.
std::string cjk_terms(std::string_view utf8);

// Whether valid, non-empty UTF-8 text is CJK characters only.
bool all_cjk(std::string_view utf8);

}  // namespace plaint::storage
