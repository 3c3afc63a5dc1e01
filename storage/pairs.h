// A query of one or two characters has no trigram, so the trigram index
// cannot find it. A second full-text index, the pair index, holds for each
// text every character and every pair of neighbouring characters, folded to
// lower case (fold_case), each once (characters, then pairs, by code
// point):
//
//   "OK 退款" -> "q20 k o 款 退 q20退 kq20 ok 退款"
//
// A query of one or two characters ("款", "包裹", "ok", "a", "#9", "x ",
// "，款") is then one term, which the index walks newest ticket first like
// any other. The index's tokenizer is FTS5's `ascii`: every byte of a
// non-ASCII character is part of a word, so each term reaches the index as
// written here. ASCII letters and digits are written as themselves, other
// non-ASCII characters as their UTF-8, and the other ASCII characters
// (spaces, punctuation, controls), which that tokenizer would split on, as
// "q" and two hex digits: "#" is "q23". No two characters or pairs have the
// same term.
#pragma once

#include <string>
#include <string_view>

namespace plaint::storage {

// How a search text is looked up: 3+ characters by the trigram index
// (FTS5's on SQLite, pg_trgm's on PostgreSQL), one or two ("款", "包裹",
// "ok", "a", "#9") by the pair index.
enum class search_kind { none, trigram, pair };
search_kind search_kind_of(std::string_view text);

// The pair index's terms of valid UTF-8 text, space-separated; "" for "".
std::string pair_terms(std::string_view utf8);

// The pair index's term for valid UTF-8 search text of one or two
// characters.
std::string pair_term(std::string_view utf8);

// The same terms as a PostgreSQL array literal, each element quoted:
// "{}" for "" (PostgreSQL's search.pairs column, schema 16).
std::string pair_terms_array(std::string_view utf8);

// Valid UTF-8 text with its letters folded to lower case as the full-text
// indexes fold them, for Latin (ASCII, Latin-1, Latin Extended-A, Latin
// Extended Additional), Greek and Cyrillic; other characters are kept. A
// search matches the texts still waiting for the indexes with it.
std::string fold_case(std::string_view utf8);

}  // namespace plaint::storage
