#include "server/web_bundle.h"

#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>
#include <vector>

namespace plaint::server {

namespace {

using engine::errc;
using engine::make_error;

// One module, read and taken apart.
struct module_parts {
  std::vector<std::string> deps;          // static imports, in order
  std::vector<std::string> lazy;          // import('./x.js')
  std::vector<std::string> import_lines;  // const … = __plaint_modules['x.js'];
  std::vector<std::string> exports;
  std::string body;
};

const std::string module_name = R"(([A-Za-z0-9_][A-Za-z0-9_.-]*\.js))";

std::string table_entry(const std::string& name) { return "__plaint_modules['" + name + "']"; }

// `a, b as c` → `a, b: c`; empty when a name is not an identifier.
std::optional<std::string> destructure(const std::string& list) {
  static const std::regex one(R"(^\s*([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$)");
  std::string out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(start, comma - start);
    start = comma + 1;
    if (item.find_first_not_of(" \t\r\n") == std::string::npos) {
      if (comma == list.size()) break;  // a trailing comma
      return std::nullopt;
    }
    std::smatch m;
    if (!std::regex_match(item, m, one)) return std::nullopt;
    if (!out.empty()) out += ", ";
    out += m[1].str();
    if (m[2].matched) out += ": " + m[2].str();
  }
  if (out.empty()) return std::nullopt;
  return out;
}

engine::Result<module_parts> take_apart(const std::string& name, const std::string& text) {
  static const std::regex named("^import\\s*\\{([^}]*)\\}\\s*from\\s*'\\./" + module_name + "'\\s*;?\\s*$");
  static const std::regex star("^import\\s*\\*\\s*as\\s+([A-Za-z_$][\\w$]*)\\s+from\\s*'\\./" + module_name +
                               "'\\s*;?\\s*$");
  static const std::regex exported(R"(^export\s+((?:async\s+)?function\*?|const|class)\s+([A-Za-z_$][\w$]*))");
  static const std::regex lazy_import("import\\(\\s*'\\./" + module_name + "'\\s*\\)");
  module_parts parts;
  std::size_t at = 0;
  int line_no = 0;
  auto refuse = [&](std::string_view what) {
    return make_error(errc::invalid, fmt::format("web module {} line {}: {}", name, line_no, what));
  };
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.rfind("import", 0) == 0 && line.rfind("import(", 0) != 0) {
      // An import may run over several lines until its `from '…'`.
      while (line.find(" from ") == std::string::npos && at < text.size()) {
        end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        line += " " + text.substr(at, end - at);
        at = end + 1;
        ++line_no;
      }
      std::smatch m;
      if (std::regex_match(line, m, named)) {
        auto fields = destructure(m[1].str());
        if (!fields) return refuse("an import must list plain names, as in import {a, b as c} from './x.js'");
        parts.import_lines.push_back(fmt::format("const {{{}}} = {};", *fields, table_entry(m[2].str())));
        parts.deps.push_back(m[2].str());
      } else if (std::regex_match(line, m, star)) {
        parts.import_lines.push_back(fmt::format("const {} = {};", m[1].str(), table_entry(m[2].str())));
        parts.deps.push_back(m[2].str());
      } else {
        return refuse("only import {…} from './x.js' and import * as x from './x.js' are supported");
      }
      parts.body += '\n';  // keeps the lines where they were, for reading errors
      continue;
    }
    if (line.rfind("export", 0) == 0) {
      std::smatch m;
      if (!std::regex_search(line, m, exported))
        return refuse("only export function, export async function, export const and export class are supported");
      parts.exports.push_back(m[2].str());
      line.erase(0, std::string_view("export").size());
      line.erase(0, line.find_first_not_of(" \t"));
    }
    // A page loaded when visited: here it is in the bundle already.
    std::string replaced;
    auto begin = std::sregex_iterator(line.begin(), line.end(), lazy_import);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      replaced += line.substr(last, static_cast<std::size_t>(it->position()) - last);
      replaced += "Promise.resolve().then(() => " + table_entry((*it)[1].str()) + ")";
      parts.lazy.push_back((*it)[1].str());
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    replaced += line.substr(last);
    parts.body += replaced;
    parts.body += '\n';
  }
  return parts;
}

class bundler {
 public:
  explicit bundler(const module_source& read) : read_(read) {}

  engine::Status add(const std::string& name, const std::string& from) {
    if (done_.count(name)) return {};
    if (visiting_.count(name))
      return make_error(errc::invalid, fmt::format("web modules import each other in a circle at {}", name));
    auto text = read_(name);
    if (!text)
      return make_error(errc::not_found, from.empty() ? fmt::format("there is no web module {}", name)
                                                      : fmt::format("web module {} imports {}, which does not exist",
                                                                    from, name));
    auto parts = take_apart(name, *text);
    PLAINT_TRY(parts);
    visiting_.insert(name);
    for (const auto& dep : parts->deps) PLAINT_TRY(add(dep, name));
    visiting_.erase(name);
    done_.insert(name);
    out_ += fmt::format("\n// ---- {}\n{} = Object.freeze((() => {{\n", name, table_entry(name));
    for (const auto& l : parts->import_lines) out_ += l + "\n";
    out_ += parts->body;
    out_ += "return {";
    for (std::size_t i = 0; i < parts->exports.size(); ++i) out_ += (i ? ", " : "") + parts->exports[i];
    out_ += "};\n})());\n";
    for (const auto& l : parts->lazy) lazy_.emplace_back(l, name);
    return {};
  }

  engine::Status add_lazy() {
    // Pages imported when visited run after everything imported statically.
    for (std::size_t i = 0; i < lazy_.size(); ++i) {
      const auto [name, from] = lazy_[i];
      PLAINT_TRY(add(name, from));
    }
    return {};
  }

  std::string take() { return std::move(out_); }

 private:
  const module_source& read_;
  std::set<std::string> done_;
  std::set<std::string> visiting_;
  std::vector<std::pair<std::string, std::string>> lazy_;
  std::string out_;
};

}  // namespace

engine::Result<std::string> bundle_modules(std::string_view entry, const module_source& read) {
  bundler b(read);
  PLAINT_TRY(b.add(std::string(entry), ""));
  PLAINT_TRY(b.add_lazy());
  return fmt::format("// The web desk's modules from {} on, in one file (see server/web_bundle.h).\n"
                     "const __plaint_modules = {{}};\n{}",
                     entry, b.take());
}

}  // namespace plaint::server
