// The web desk's modules joined into one file: what the bundle keeps, and
// the module syntax it refuses rather than ship a page that would not load.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "server/web_assets.h"
#include "server/web_bundle.h"

using plaint::server::bundle_modules;

namespace {

plaint::server::module_source files(std::map<std::string, std::string, std::less<>> m) {
  return [m = std::move(m)](std::string_view name) -> std::optional<std::string> {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::string refusal(std::string_view entry, const plaint::server::module_source& read) {
  auto r = bundle_modules(entry, read);
  REQUIRE(!r);
  return r.error().message;
}

}  // namespace

TEST_CASE("a bundle runs each module once, after what it imports, and hands on only its exports") {
  auto read = files({
      {"app.js", "import {twice, base as b} from './util.js';\nimport * as page from './page.js';\n"
                 "export const answer = twice(b);\nconst later = () => import('./late.js');\n"},
      {"util.js", "import {base} from './values.js';\nexport function twice(x) {\n  return 2 * x;\n}\n"
                  "export {base};\n"},
      {"values.js", "export const base = 21;\n"},
      {"page.js", "import {twice} from './util.js';\nexport async function render() {}\n"},
      {"late.js", "export class late_page {}\n"},
  });
  // util.js re-exports: refused, with the module and line.
  CHECK(refusal("app.js", read) ==
        "web module util.js line 5: only export function, export async function, export const and export class are "
        "supported");

  auto fixed = files({
      {"app.js", "import {twice, base as b} from './util.js';\nimport * as page from './page.js';\n"
                 "export const answer = twice(b);\nconst later = () => import('./late.js');\n"},
      {"util.js", "import {base} from './values.js';\nexport function twice(x) {\n  return 2 * x;\n}\n"},
      {"values.js", "export const base = 21;\n"},
      {"page.js", "import {twice} from './util.js';\nexport async function render() {}\n"},
      {"late.js", "export class late_page {}\n"},
  });
  auto made = bundle_modules("app.js", fixed);
  REQUIRE_MESSAGE(made, made.error().message);
  const std::string& js = *made;
  // Dependencies first, each once; the lazily loaded page after the entry.
  const auto at = [&](const std::string& name) { return js.find("// ---- " + name + "\n"); };
  REQUIRE(at("values.js") != std::string::npos);
  CHECK(at("values.js") < at("util.js"));
  CHECK(at("util.js") < at("page.js"));
  CHECK(at("page.js") < at("app.js"));
  CHECK(at("app.js") < at("late.js"));
  CHECK(js.find("// ---- util.js", at("util.js") + 1) == std::string::npos);
  CHECK(js.find("const {twice, base: b} = __plaint_modules['util.js'];") != std::string::npos);
  CHECK(js.find("const page = __plaint_modules['page.js'];") != std::string::npos);
  CHECK(js.find("Promise.resolve().then(() => __plaint_modules['late.js'])") != std::string::npos);
  CHECK(js.find("return {twice};") != std::string::npos);
  CHECK(js.find("return {render};") != std::string::npos);
  CHECK(js.find("\nexport ") == std::string::npos);
  CHECK(js.find("\nimport ") == std::string::npos);
}

TEST_CASE("a bundle refuses what it cannot join, naming the module") {
  CHECK(refusal("a.js", files({{"a.js", "import {b} from './b.js';\n"}, {"b.js", "import {a} from './a.js';\n"}})) ==
        "web modules import each other in a circle at a.js");
  CHECK(refusal("a.js", files({{"a.js", "import {b} from './gone.js';\n"}})) ==
        "web module a.js imports gone.js, which does not exist");
  CHECK(refusal("nothing.js", files({})) == "there is no web module nothing.js");
  CHECK(refusal("a.js", files({{"a.js", "export default function f() {}\n"}})) ==
        "web module a.js line 1: only export function, export async function, export const and export class are "
        "supported");
  CHECK(refusal("a.js", files({{"a.js", "export let n = 1;\n"}})).find("line 1") != std::string::npos);
  CHECK(refusal("a.js", files({{"a.js", "\nimport x from './b.js';\n"}, {"b.js", ""}})) ==
        "web module a.js line 2: only import {…} from './x.js' and import * as x from './x.js' are supported");
  CHECK(refusal("a.js", files({{"a.js", "import {b} from 'https://cdn.example/b.js';\n"}})).find("only import") !=
        std::string::npos);
  CHECK(refusal("a.js", files({{"a.js", "import {b-c} from './b.js';\n"}, {"b.js", ""}})).find("plain names") !=
        std::string::npos);
}

TEST_CASE("the desk's own pages bundle: every built-in entry joins without a refusal") {
  auto read = [](std::string_view name) -> std::optional<std::string> {
    for (const auto& f : plaint::server::builtin_web_files())
      if (f.name == name) return std::string(f.text);
    return std::nullopt;
  };
  for (const char* entry : {"app.js", "signin.js"}) {
    CAPTURE(entry);
    auto made = bundle_modules(entry, read);
    REQUIRE_MESSAGE(made, made.error().message);
    CHECK(made->find("\nexport ") == std::string::npos);
    CHECK(made->find("\nimport ") == std::string::npos);
  }
  // Every module of the desk is in the desk's bundle.
  auto desk = bundle_modules("app.js", read);
  REQUIRE(desk);
  for (const auto& f : plaint::server::builtin_web_files()) {
    const std::string name(f.name);
    if (name.size() < 3 || name.substr(name.size() - 3) != ".js" || name == "signin.js") continue;
    CAPTURE(name);
    CHECK(desk->find("// ---- " + name + "\n") != std::string::npos);
  }
}
