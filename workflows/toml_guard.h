// A guard in front of toml++: policy text that Debian's toml++ 3.3.0 would
// meet with undefined behaviour, instead of a parse error, never reaches it.
//
// What toml++ 3.3.0 does wrong (found by fuzzing; upstream
// marzer/tomlplusplus#190 and #242):
//  - is_non_ascii_horizontal_whitespace() reaches TOML_UNREACHABLE for the
//    code points U+00A1–U+0499, U+2E5E–U+3257 and U+FCC6–U+FEFE (but the
//    whitespace among them). The parser asks it wherever whitespace may
//    follow — after a key, a value or a bracket, after a backslash in a
//    basic string, after a line-ending backslash — so one "Җ" there is UB.
//  - parse_table_header() assumes that the first character after "[" or
//    "[[" (and spaces) starts a key: "[\a]" breaks an assertion, which is
//    an assumption, so UB, when assertions are off.
//  - parse_array() passes a '}' where a value belongs to parse_value(),
//    which assumes that no value terminator starts a value ("e=[[}").
//  - An unquoted value is typed by a guess from its characters and handed
//    to a parser that assumes the guess: "1979-05-27Tx" asserts that a
//    digit follows the T.
//  - update_region_ends() recurses once per level of (non-inline) tables,
//    so a header or key of tens of thousands of dotted parts overflows the
//    stack.
//
// The guard is stricter than TOML only where a policy loses nothing. Every
// policy key and value is ASCII, so non-ASCII text is refused outside
// comments (which may be in any language); a table header must start with a
// key; no '}' closes an array; an unquoted value is true, false or a
// decimal number (no dates, times, hex, inf or nan); a key outside values has at most `max_key_parts` parts; the text is
// valid UTF-8 without NUL bytes and at most `max_policy_bytes` long. A UTF-8
// byte-order mark at the start is allowed, as toml++ skips it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace plaint::workflows {

inline constexpr std::size_t max_policy_bytes = 64 * 1024;  // the shipped policy is ~4 KiB
inline constexpr int max_key_parts = 8;                     // policy keys have at most 3

struct toml_refusal {
  std::size_t line = 0;  // 1-based; 0 when it concerns the whole text
  std::string what;      // one sentence, without the file and line
};

// nullopt when toml++ may parse `text`; otherwise the first problem.
std::optional<toml_refusal> guard_toml_text(std::string_view text);

}  // namespace plaint::workflows
