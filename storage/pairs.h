// A word of one or two characters has no trigram, so the trigram index
// cannot find it, and Chinese, Japanese and Korean text has no spaces, so a
// word index cannot split it. A second full-text index holds, for each
// text, every pair of neighbouring word characters and each CJK character
// alone:
//
//   "包裹丢失, OK 退款" -> "包 包裹 裹 裹丢 丢 丢失 失 OK 退 退款 款"
//
// A query of one CJK character or two word characters ("款", "包裹", "ok",
// "TV", "退a") is then one token, which the index (unicode61, case folded,
// diacritics kept) walks newest ticket first like any other. Word characters
// are the ones that tokenizer keeps together: ASCII letters and digits, the
// Latin letters of Latin-1 and Latin Extended-A/B, Cyrillic letters, and CJK.
#pragma once

#include <string>
#include <string_view>

namespace plaint::storage {

// A Han ideograph, kana or Hangul syllable.
bool is_cjk(char32_t code_point);

// A character the pair index keeps (see above).
bool is_word_char(char32_t code_point);

// The pair index's terms of valid UTF-8 text, space-separated; "" when the
// text has no CJK character and no two word characters side by side.
std::string pair_terms(std::string_view utf8);

// Whether valid UTF-8 search text is one term of the pair index: one CJK
// character, or two word characters.
bool is_pair_term(std::string_view utf8);

// Valid UTF-8 text with its letters folded to lower case as the full-text
// indexes fold them, for Latin (ASCII, Latin-1, Latin Extended-A, Latin
// Extended Additional), Greek and Cyrillic; other characters are kept. A
// search matches the texts still waiting for the indexes with it.
std::string fold_case(std::string_view utf8);

}  // namespace plaint::storage
