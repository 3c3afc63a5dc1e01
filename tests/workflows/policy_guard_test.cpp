// Policy text that must never reach toml++ 3.3.0 (workflows/toml_guard.h),
// and targets too long for their calendar: each is a clean refusal that
// names the file and the line. Inputs found by fuzzing are kept in
// tests/fuzz/regressions/.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "workflows/policy.h"
#include "workflows/registry.h"
#include "workflows/toml_guard.h"

using namespace plaint;

namespace {

std::string regression(const std::string& name) {
  std::ifstream in(std::string(PLAINT_SOURCE_DIR) + "/tests/fuzz/regressions/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

engine::Result<engine::sla_policy> parse(const std::string& text, const std::string& name = "policy.toml") {
  return workflows::parse_policy(text, name, workflows::builtin_workflows());
}

std::string refusal(const std::string& text, const std::string& name = "policy.toml") {
  auto p = parse(text, name);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == engine::errc::invalid);
  return p.error().message;
}

const std::string non_ascii = "a non-ASCII character outside a comment; policy keys and values are ASCII";
const std::string header = "a table header must start with a key, such as [calendar]";

// A valid weekly policy whose calendar works `hours` on Mondays, with a
// P1 resolution target of `resolution`.
std::string weekly(const std::string& hours, const std::string& resolution) {
  std::string text = "[calendar]\ntime_zone = \"UTC\"\nmode = \"weekly\"\n[calendar.hours]\nmonday = [\"" + hours +
                     "\"]\n";                                                    // lines 1-5
  text += "[targets.P1]\nfirst_response = \"1m\"\nresolution = \"" + resolution +  // lines 6-8
          "\"\nfollow_up = \"1m\"\n";                                             // line 9
  for (const char* p : {"P2", "P3", "P4"})
    text += std::string("[targets.") + p + "]\nfirst_response = \"1m\"\nresolution = \"1m\"\nfollow_up = \"1m\"\n";
  return text;
}

}  // namespace

TEST_CASE("the fuzzed TOML texts that reach undefined behaviour in toml++ are refused before it sees them") {
  CHECK(refusal(regression("toml-unreachable-u0496.toml"), "u0496.toml") == "u0496.toml line 1: " + non_ascii);
  CHECK(refusal(regression("toml-table-backslash.toml"), "backslash.toml") == "backslash.toml line 1: " + header);
}

TEST_CASE("non-ASCII text is refused outside comments, naming the line") {
  // Each of these reaches TOML_UNREACHABLE in toml++ 3.3.0 (U+0496 is not
  // whitespace, but its whitespace test is undefined for it).
  for (const std::string text : {"a = 1\xD2\x96", "[a]\xD2\x96", "a = [\xD2\x96]", "a.\xD2\x96 = 1", "a = \"x\" \xD2\x96",
                                 "a = true\xD2\x96", "a = 1.5\xD2\x96", "a = \"\"\"\\\xD2\x96\"\"\""}) {
    CAPTURE(text);
    CHECK(refusal("# fine: \xD2\x96\n\n" + text) == "policy.toml line 3: " + non_ascii);
  }
  // After a line-ending backslash, toml++ skips whitespace with the same test.
  CHECK(refusal("a = \"\"\"x\\\n  \xD2\x96\"\"\"") == "policy.toml line 2: " + non_ascii);
  // Valid TOML, but no policy key or value is anything but ASCII.
  CHECK(refusal("[calendar]\ntime_zone = \"\xE5\x8C\x97\xE4\xBA\xAC\"") == "policy.toml line 2: " + non_ascii);
  CHECK(refusal("'\xD2\x96' = 1") == "policy.toml line 1: " + non_ascii);
}

TEST_CASE("comments may be in any language and a byte-order mark is skipped") {
  const std::string text = "\xEF\xBB\xBF# \xE6\x9C\x8D\xE5\x8A\xA1\xE6\x97\xB6\xE9\x97\xB4 \xD2\x96\n" +
                           weekly("09:00-17:00", "8h") + "# \xE5\xAE\x8C\n";
  auto p = parse(text);
  INFO((p.ok() ? std::string() : p.error().message));
  CHECK(p.ok());
  // A '#' inside a string starts no comment.
  CHECK(refusal("a = \"# not a comment \xD2\x96\"") == "policy.toml line 1: " + non_ascii);
  CHECK(refusal("a = '''\n# still the string \xD2\x96\n'''") == "policy.toml line 2: " + non_ascii);
}

TEST_CASE("a table header must start with a key") {
  for (const std::string text : {"[\\a]", "[ =]", "[[ [a]]]", "[\n", "[[\t#]]", "[.a]", "[]"}) {
    CAPTURE(text);
    CHECK(refusal("\n" + text) == "policy.toml line 2: " + header);
  }
  // Arrays that continue on the next line are values, not headers.
  auto p = parse("pause_states = [\n  \"awaiting_customer\",\n]\n" + weekly("09:00-17:00", "8h"));
  INFO((p.ok() ? std::string() : p.error().message));
  CHECK(p.ok());
}

TEST_CASE("unquoted values are true, false or decimal numbers, an array is not closed by a brace") {
  const std::string value = "a value must be a quoted string, a number such as 14 or 0.8, or true or false";
  // Found by fuzzing: toml++ typed these by a guess and then asserted it.
  CHECK(refusal(regression("toml-date-time-guess.toml")) == "policy.toml line 2: " + value);
  CHECK(refusal(regression("toml-array-brace.toml")) ==
        "policy.toml line 1: a '}' inside an array, where a value or ']' belongs");
  for (const std::string& text : std::vector<std::string>{"a = 1979-05-27", "a = 07:32:00", "a = 0x1F", "a = 0o7", "a = 0b1", "a = inf",
                                 "a = nan", "a = 1e3", "a = 1_000", "a = 1.", "a = .5", "a = tru", "a = [1, x]",
                                 "a = {b = 1, c = d}", "[a] b", "a = " + std::string(33, '1')}) {
    CAPTURE(text);
    CHECK(refusal("\n" + text) == "policy.toml line 2: " + value);
  }
  for (const std::string text : {"a = 14", "a = -3", "a = +0.8", "a=true", "a = [false, 1, \"x\", [2]]",
                                 "a = {b = 1, c = {d = 'x'}, e = [1]}", "a = [{b = 1}, {c = 2}]", "\"a.b\" = 1.5 # c"}) {
    CAPTURE(text);
    CHECK_FALSE(workflows::guard_toml_text(text).has_value());
  }
  CHECK(refusal("a = [1, 2}") == "policy.toml line 1: a '}' inside an array, where a value or ']' belongs");
}

TEST_CASE("the guard reads quotes at the end of a multi-line string as toml++ does") {
  // Found by fuzzing: seven quotes are an opening delimiter, one quote of
  // text and a closing delimiter, so the '}' after them is in the array.
  CHECK(refusal(regression("toml-multiline-quotes.toml")) ==
        "policy.toml line 1: a '}' inside an array, where a value or ']' belongs");
  // Three to five quotes end the string (the first zero to two are text).
  for (const std::string& quotes : std::vector<std::string>{"\"\"\"", "\"\"\"\"", "\"\"\"\"\""}) {
    CAPTURE(quotes);
    CHECK_FALSE(workflows::guard_toml_text("a = \"\"\"x" + quotes + " # \xD2\x96\nb = 1").has_value());
    const std::string literal(quotes.size(), '\'');
    CHECK_FALSE(workflows::guard_toml_text("a = '''x" + literal + " # \xD2\x96\nb = 1").has_value());
  }
  // One or two quotes, or an escaped one, are text: the string goes on.
  CHECK(refusal("a = \"\"\"x\"\" # \xD2\x96\n\"\"\"") == "policy.toml line 1: " + non_ascii);
  CHECK(refusal("a = '''x'' # \xD2\x96\n'''") == "policy.toml line 1: " + non_ascii);
  CHECK(refusal("a = \"\"\"x\\\"\"\" # \xD2\x96\n\"\"\"") == "policy.toml line 1: " + non_ascii);
}

TEST_CASE("keys of many dotted parts, oversized and malformed text are refused") {
  const std::string deep = "a.b.c.d.e.f.g.h.i";
  const std::string parts = "a key of more than 8 dotted parts; policy keys have at most 3";
  CHECK(refusal("[" + deep + "]") == "policy.toml line 1: " + parts);
  CHECK(refusal("\n" + deep + " = 1") == "policy.toml line 2: " + parts);
  CHECK(refusal("[\"" + deep + "\"]\n").find("unknown key") != std::string::npos);  // one quoted part
  // Eight parts pass the guard (a float's dot is no key part) and reach toml++.
  CHECK(refusal("a = 1.5\n[a.b.c.d.e.f.g.h]") ==
        "policy.toml line 2: invalid TOML: cannot redefine existing floating-point 'a.b.c.d.e.f.g.h' as table");
  // Tens of thousands of parts overflowed toml++'s stack (update_region_ends).
  std::string huge = "[a";
  for (int i = 0; i < 30000; ++i) huge += ".a";
  CHECK(refusal(huge + "]") == "policy.toml line 1: " + parts);
  CHECK(refusal(std::string(workflows::max_policy_bytes + 1, '#')) ==
        "policy.toml: the text is 65537 bytes long; a policy may be at most 65536 bytes");
  CHECK(refusal("# ok\n# \xC3\x28 broken\n") ==
        "policy.toml line 2: the text is not valid UTF-8 (or holds a NUL byte)");
  CHECK(refusal(std::string("a = 1\n\nb = \"\0\"", 14)) ==
        "policy.toml line 3: the text is not valid UTF-8 (or holds a NUL byte)");
}

TEST_CASE("a target longer than ten years of its calendar's working weeks is refused") {
  // One working minute a week: "3650d" would be due in year 102759.
  CHECK(refusal(regression("policy-due-year-102759.toml"), "far.toml") ==
        "far.toml line 12: targets.P1.resolution \"3650d\" needs more than ten years of the calendar's working "
        "time (1m a week); the longest target it allows is \"8h41m42s\"");
  CHECK(parse(weekly("09:00-09:01", "8h41m42s")).ok());
  CHECK(refusal(weekly("09:00-09:01", "8h41m43s")) ==
        "policy.toml line 8: targets.P1.resolution \"8h41m43s\" needs more than ten years of the calendar's "
        "working time (1m a week); the longest target it allows is \"8h41m42s\"");
  // One 24-hour day a week: ten years hold about 522 such days.
  CHECK(parse(weekly("00:00-24:00", "521d")).ok());
  CHECK(refusal(weekly("00:00-24:00", "522d")) ==
        "policy.toml line 8: targets.P1.resolution \"522d\" needs more than ten years of the calendar's "
        "working time (1d a week); the longest target it allows is \"521d17h8m34s\"");
}
