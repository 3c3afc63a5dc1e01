#include "engine/workflow.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace plaint::engine {

std::vector<std::string> workflow::accepted(std::string_view state) const {
  std::vector<std::string> out;
  for (const auto& row : table()) {
    const bool from_here = std::find(row.from.begin(), row.from.end(), state) != row.from.end();
    if (from_here && std::find(out.begin(), out.end(), row.event) == out.end()) out.push_back(row.event);
  }
  return out;
}

const workflow* workflow_registry::find(std::string_view name) const {
  for (const workflow* w : items_)
    if (w->name() == name) return w;
  return nullptr;
}

std::vector<std::string> workflow_registry::names() const {
  std::vector<std::string> out;
  for (const workflow* w : items_) out.emplace_back(w->name());
  return out;
}

namespace {

std::string render_text(const workflow& w) {
  std::vector<std::array<std::string, 6>> rows{{"from", "event", "to", "guard", "action", "fields"}};
  for (const auto& r : w.table())
    rows.push_back({join(r.from), r.event, r.to, r.guard, r.action, r.fields.empty() ? "-" : r.fields});
  std::array<std::size_t, 6> width{};
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out = fmt::format("workflow {} (initial state: {})\n", w.name(), w.initial_state());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += fmt::format("{:<{}}", r[i], i + 1 == r.size() ? 0 : width[i] + 2);
    out += line + "\n";
  }
  out += "states: " + join(w.states()) + "\n";
  out += "fields: a trailing ! marks a required field\n";
  return out;
}

std::string render_mermaid(const workflow& w) {
  std::string out = "stateDiagram-v2\n";
  out += fmt::format("    [*] --> {}\n", w.initial_state());
  for (const auto& r : w.table())
    for (const auto& from : r.from)
      out += fmt::format("    {} --> {} : {}\n", from, r.to == "same" ? from : r.to, r.event);
  return out;
}

std::string render_dot(const workflow& w) {
  std::string out = fmt::format("digraph {} {{\n    rankdir=LR;\n    node [shape=box, style=rounded];\n", w.name());
  out += fmt::format("    start [shape=point];\n    start -> {};\n", w.initial_state());
  for (const auto& r : w.table())
    for (const auto& from : r.from)
      out += fmt::format("    {} -> {} [label=\"{}\"];\n", from, r.to == "same" ? from : r.to, r.event);
  out += "}\n";
  return out;
}

}  // namespace

std::string render_table(const workflow& w, std::string_view format) {
  if (format == "mermaid") return render_mermaid(w);
  if (format == "dot") return render_dot(w);
  return render_text(w);
}

}  // namespace plaint::engine
