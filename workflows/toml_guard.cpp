#include "workflows/toml_guard.h"

#include <fmt/format.h>

#include "engine/utf8.h"

namespace plaint::workflows {
namespace {

// Where the scanner is. Strings end at their delimiter; single-line ones
// and comments also at the end of the line (toml++ refuses an unterminated
// string there, so what follows is never parsed).
enum class lexeme { code, comment, basic, literal, ml_basic, ml_literal };

bool key_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '"' || c == '\'';
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::optional<toml_refusal> check_utf8(std::string_view text) {
  if (engine::valid_utf8(text)) return std::nullopt;
  std::size_t line = 1;
  for (std::size_t start = 0; start <= text.size(); ++line) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (!engine::valid_utf8(text.substr(start, end - start)))
      return toml_refusal{line, "the text is not valid UTF-8 (or holds a NUL byte)"};
    start = end + 1;
  }
  return toml_refusal{0, "the text is not valid UTF-8"};
}

// One pass over the text, tracking strings, comments, the nesting of value
// brackets and the key being read outside values (a header, or the key of
// a key = value line). toml++ stops at the first syntax error, so only
// the prefix it accepts needs to agree with this scanner; past a point
// where they could disagree, toml++ has already thrown.
class scanner {
 public:
  explicit scanner(std::string_view text) : s_(text) {}

  std::optional<toml_refusal> run() {
    std::size_t i = s_.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    for (; i < s_.size(); ++i) {
      const char c = s_[i];
      if (c == '\n') {
        new_line();
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80 && state_ != lexeme::comment)
        return refuse("a non-ASCII character outside a comment; policy keys and values are ASCII");
      if (state_ != lexeme::code) line_start_ = false;
      switch (state_) {
        case lexeme::comment: break;
        case lexeme::basic:
          if (c == '\\' && i + 1 < s_.size() && s_[i + 1] != '\n')
            ++i;  // the escaped character cannot end the string
          else if (c == '"')
            state_ = lexeme::code;
          break;
        case lexeme::literal:
          if (c == '\'') state_ = lexeme::code;
          break;
        case lexeme::ml_basic:
          if (c == '\\' && i + 1 < s_.size() && s_[i + 1] != '\n')
            ++i;
          else if (c == '"')
            quotes(i, c);
          break;
        case lexeme::ml_literal:
          if (c == '\'') quotes(i, c);
          break;
        case lexeme::code:
          if (auto refusal = code(i)) return refusal;
          break;
      }
    }
    return std::nullopt;
  }

 private:
  toml_refusal refuse(std::string what) const { return toml_refusal{line_, std::move(what)}; }

  void new_line() {
    ++line_;
    line_start_ = true;
    in_key_ = in_header_ = false;
    if (state_ != lexeme::ml_basic && state_ != lexeme::ml_literal) state_ = lexeme::code;
  }

  // A run of quotes inside a multi-line string, as toml++ reads it: one or
  // two are text; three to five end the string, the first zero to two of
  // them text; a sixth is past the string.
  void quotes(std::size_t& i, char quote) {
    std::size_t run = 1;
    while (run < 5 && i + run < s_.size() && s_[i + run] == quote) ++run;
    i += run - 1;
    if (run >= 3) state_ = lexeme::code;
  }

  void start_string(std::size_t& i, char quote) {
    const bool multi = s_.compare(i, 3, std::string(3, quote)) == 0;
    if (multi) i += 2;
    state_ = quote == '"' ? (multi ? lexeme::ml_basic : lexeme::basic) : (multi ? lexeme::ml_literal : lexeme::literal);
  }

  std::optional<toml_refusal> code(std::size_t& i) {
    const char c = s_[i];
    if (blank(c)) return std::nullopt;
    const bool statement = line_start_ && open_.empty() && !in_header_;
    line_start_ = false;
    if (statement && c == '[') return header(i);
    if (statement && c != '#') {
      in_key_ = true;  // the key of a key = value line
      parts_ = 1;
    }
    const bool in_table = !open_.empty() && open_.back() == '{';
    switch (c) {
      case '#': state_ = lexeme::comment; break;
      case '"':
      case '\'': start_string(i, c); break;
      case '[': open_.push_back(c); break;
      case '{':
        open_.push_back(c);
        inline_key_ = true;
        break;
      case ']':
        if (in_header_)
          in_header_ = in_key_ = false;
        else if (!open_.empty())
          open_.pop_back();
        break;
      case '}':
        // parse_array() hands a '}' to parse_value(), which assumes a value
        // starts there.
        if (!open_.empty() && open_.back() == '[') return refuse("a '}' inside an array, where a value or ']' belongs");
        if (!open_.empty()) open_.pop_back();
        break;
      case ',':
        if (in_table) inline_key_ = true;
        break;
      case '=':
        if (in_table) inline_key_ = false;
        if (!in_header_) in_key_ = false;
        break;
      case '.':
        if (in_key_ && ++parts_ > max_key_parts)
          return refuse(fmt::format("a key of more than {} dotted parts; policy keys have at most 3", max_key_parts));
        if (!in_key_ && !(in_table && inline_key_)) return bare_value(i);
        break;
      default:
        if (!in_key_ && !(in_table && inline_key_)) return bare_value(i);
        break;
    }
    return std::nullopt;
  }

  // An unquoted value: toml++ guesses its type from its characters and
  // hands it to a typed parser that assumes the guess (a date "1979-05-27T"
  // followed by no time asserts a digit). A policy's values are strings,
  // numbers and booleans, so only these pass: true, false, and decimal
  // numbers of at most 32 characters such as 14, -3 or 0.8.
  std::optional<toml_refusal> bare_value(std::size_t& i) {
    std::size_t end = i;
    while (end < s_.size() && static_cast<unsigned char>(s_[end]) < 0x80 && !blank(s_[end]) && s_[end] != '\n' &&
           s_[end] != ',' && s_[end] != ']' && s_[end] != '}' && s_[end] != '#')
      ++end;
    const std::string_view token = s_.substr(i, end - i);
    i = end - 1;
    if (token == "true" || token == "false") return std::nullopt;
    std::size_t k = token.size() > 0 && (token[0] == '+' || token[0] == '-') ? 1 : 0;
    const auto digits = [&] {
      const std::size_t from = k;
      while (k < token.size() && token[k] >= '0' && token[k] <= '9') ++k;
      return k > from;
    };
    bool number = token.size() <= 32 && digits();
    if (number && k < token.size() && token[k] == '.') {
      ++k;
      number = digits();
    }
    if (number && k == token.size()) return std::nullopt;
    return refuse("a value must be a quoted string, a number such as 14 or 0.8, or true or false");
  }

  // "[" or "[[" at the start of a statement: toml++ takes the next
  // character (after spaces) as the start of a key without checking.
  std::optional<toml_refusal> header(std::size_t& i) {
    std::size_t j = i + 1;
    if (j < s_.size() && s_[j] == '[') ++j;
    while (j < s_.size() && (s_[j] == ' ' || s_[j] == '\t')) ++j;
    if (j >= s_.size() || !key_start(s_[j]))
      return refuse("a table header must start with a key, such as [calendar]");
    in_header_ = in_key_ = true;
    parts_ = 1;
    i = j - 1;  // the key is scanned as code from here
    return std::nullopt;
  }

  std::string_view s_;
  lexeme state_ = lexeme::code;
  std::size_t line_ = 1;
  bool line_start_ = true;  // nothing but blanks on this line so far
  std::string open_;        // the open brackets and braces of values, innermost last
  bool in_key_ = false;     // reading a key outside values
  bool in_header_ = false;  // ... of a table header
  bool inline_key_ = false;  // in the innermost inline table, before its '='
  int parts_ = 1;
};

}  // namespace

std::optional<toml_refusal> guard_toml_text(std::string_view text) {
  if (text.size() > max_policy_bytes)
    return toml_refusal{0, fmt::format("the text is {} bytes long; a policy may be at most {} bytes", text.size(),
                                       max_policy_bytes)};
  if (auto bad = check_utf8(text)) return bad;
  return scanner(text).run();
}

}  // namespace plaint::workflows
