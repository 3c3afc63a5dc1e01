// Chinese, Japanese and Korean text has no spaces between its words, so the
// word index cannot split it, and the trigram index cannot find a word of
// two characters (退款, 包裹). A second full-text index holds each CJK
// character alone and each pair of neighbours in a run:
//
//   "包裹丢失, refund 退款" -> "包 包裹 裹 裹丢 丢 丢失 失 退 退款 款"
//
// A query of one or two CJK characters is then one token ("款", "包裹"),
// which the index walks newest ticket first like any other.
#pragma once

#include <string>
#include <string_view>

namespace plaint::storage {

// A Han ideograph, kana or Hangul syllable.
bool is_cjk(char32_t code_point);

// The unigram and bigram terms of valid UTF-8 text, space-separated; ""
// when the text has no CJK character.
std::string cjk_terms(std::string_view utf8);

// Whether valid, non-empty UTF-8 text is CJK characters only.
bool all_cjk(std::string_view utf8);

}  // namespace plaint::storage
