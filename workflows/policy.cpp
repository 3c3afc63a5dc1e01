#include "workflows/policy.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "engine/model.h"
#include "engine/time.h"
#include "workflows/policy_text.h"
#include "workflows/registry.h"
#include "workflows/toml_guard.h"

namespace plaint::workflows {
namespace {

using engine::Error;
using engine::Result;
using engine::Status;
using key_list = std::vector<std::string_view>;

// Far beyond any real target, and small enough that calendar arithmetic
// on it cannot overflow.
constexpr std::int64_t max_duration = std::int64_t{3650} * 86400;
const key_list weekdays = {"sunday",   "monday", "tuesday", "wednesday",
                           "thursday", "friday", "saturday"};  // business_calendar's order
const key_list recipients = {"owner", "team_lead", "supervisor"};
const std::pair<std::string_view, std::int64_t engine::sla_targets::*> target_fields[] = {
    {"first_response", &engine::sla_targets::first_response},
    {"resolution", &engine::sla_targets::resolution},
    {"follow_up", &engine::sla_targets::follow_up}};
const std::pair<std::string_view, engine::escalation_step engine::escalation_ladder::*> ladder_steps[] = {
    {"warning", &engine::escalation_ladder::warning},
    {"first_response_breach", &engine::escalation_ladder::first_response_breach},
    {"resolution_breach", &engine::escalation_ladder::resolution_breach},
    {"second_breach", &engine::escalation_ladder::second_breach}};

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string or_list(const key_list& keys) {
  std::string out;
  for (std::size_t i = 0; i < keys.size(); ++i)
    out += fmt::format("{}{}", i == 0 ? "" : i + 1 == keys.size() ? " or " : ", ", keys[i]);
  return out;
}

std::string_view kind_of(const toml::node& n) {  // in toml::node_type's order
  constexpr std::string_view kinds[] = {"nothing",   "a table", "an array", "a string", "an integer",
                                        "a float",   "a boolean", "a date", "a time",  "a date-time"};
  return kinds[static_cast<std::size_t>(n.type())];
}

// Whole units in the order d, h, m, s ("1h30m"). -1 if malformed; values
// past max_duration saturate just above it.
std::int64_t parse_duration(std::string_view s) {
  constexpr std::string_view units = "dhms";
  constexpr std::int64_t factor[] = {86400, 3600, 60, 1};
  std::int64_t total = 0;
  std::size_t i = 0, next_unit = 0;
  if (s.empty()) return -1;
  while (i < s.size()) {
    std::int64_t n = 0;
    const std::size_t first = i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
      n = std::min(n * 10 + (s[i] - '0'), max_duration + 1);
    const std::size_t u = i < s.size() ? units.find(s[i]) : std::string_view::npos;
    if (i == first || u == std::string_view::npos || u < next_unit) return -1;
    next_unit = u + 1;
    ++i;
    total = std::min(total + n * factor[u], max_duration + 1);
  }
  return total;
}

std::string compact(std::int64_t s) {
  std::string out;
  for (auto [unit, size] : {std::pair{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}})
    if (s >= size) {
      out += fmt::format("{}{}", s / size, unit);
      s %= size;
    }
  return out.empty() ? std::to_string(s) : out;
}

// The longest target `calendar` allows: ten years of its weeks hold at least
// that much working time (holidays aside), so no due time is computed more
// than about ten years ahead — on a weekly calendar of one working minute,
// "3650d" would be due 100,000 years later. 24x7: max_duration.
std::int64_t longest_target(const engine::business_calendar& calendar) {
  constexpr std::int64_t days = 3652;  // ten years
  return std::min(max_duration, calendar.weekly_seconds() * days / 7);
}

// "09:00-17:00" as minutes since midnight; nullopt if malformed or empty.
std::optional<std::pair<int, int>> parse_interval(std::string_view s) {
  auto minutes = [](std::string_view hm) -> int {
    for (std::size_t i : {0, 1, 3, 4})
      if (hm[i] < '0' || hm[i] > '9') return -1;
    const int h = (hm[0] - '0') * 10 + (hm[1] - '0'), m = (hm[3] - '0') * 10 + (hm[4] - '0');
    return hm[2] == ':' && m < 60 && h * 60 + m <= 24 * 60 ? h * 60 + m : -1;
  };
  if (s.size() != 11 || s[5] != '-') return std::nullopt;
  const int from = minutes(s.substr(0, 5)), to = minutes(s.substr(6));
  if (from < 0 || to <= from) return std::nullopt;
  return std::pair{from, to};
}

// Reads values off the TOML tree; every refusal names the file and line.
class reader {
 public:
  explicit reader(std::string_view name) : name_(name) {}

  Error fail_at(std::size_t line, std::string_view what) const {
    if (line == 0) return engine::make_error(engine::errc::invalid, fmt::format("{}: {}", name_, what));
    return engine::make_error(engine::errc::invalid, fmt::format("{} line {}: {}", name_, line, what));
  }
  Error fail(const toml::node* at, std::string_view what) const {
    return fail_at(at ? at->source().begin.line : 0, what);
  }
  Error wrong_type(const toml::node& n, std::string_view path, std::string_view expected) const {
    return fail(&n, fmt::format("{} must be {}, not {}", path, expected, kind_of(n)));
  }
  // The root table has no useful line; a missing key is reported at its table.
  Error missing(const toml::table& t, std::string_view path, std::string_view key) const {
    if (path.empty()) return fail(nullptr, fmt::format("the policy is missing {}", key));
    return fail(&t, fmt::format("{} is missing {}", path, key));
  }

  Status only(const toml::table& t, std::string_view path, const key_list& allowed) const {
    for (auto&& [key, value] : t)
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end())
        return fail(&value, fmt::format("{} has unknown key '{}'; expected {}",
                                        path.empty() ? "the policy" : path, key.str(), or_list(allowed)));
    return {};
  }

  Result<const toml::table*> table(const toml::table& parent, std::string_view path,
                                   std::string_view key, bool required) const {
    const toml::node* n = parent.get(key);
    if (!n && required) return missing(parent, path, key);
    if (!n) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return wrong_type(*n, join(path, key), "a table");
    return n->as_table();
  }

  Result<std::string> text(const toml::table& t, std::string_view path, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return missing(t, path, key);
    if (!n->is_string()) return wrong_type(*n, join(path, key), "a string");
    return n->as_string()->get();
  }

  Result<const toml::array*> strings(const toml::node& n, std::string_view path,
                                     std::string_view expected) const {
    const toml::array* a = n.as_array();
    if (!a) return wrong_type(n, path, expected);
    for (const toml::node& e : *a)
      if (!e.is_string()) return wrong_type(e, fmt::format("each of {}", path), "a string");
    return a;
  }

  Status duration(const toml::node& n, std::string_view path, const engine::business_calendar& calendar,
                  std::int64_t& out) const {
    const toml::value<std::int64_t>* i = n.as_integer();
    const toml::value<std::string>* str = n.as_string();
    if (!i && !str) return wrong_type(n, path, "a duration such as \"4h\" or \"90s\"");
    const std::int64_t s = i ? i->get() : parse_duration(str->get());
    const std::string shown = i ? std::to_string(s) : fmt::format("\"{}\"", str->get());
    if (s <= 0)
      return fail(&n, fmt::format("{} {} is not a positive duration such as \"4h\" or \"90s\"", path, shown));
    if (s > max_duration) return fail(&n, fmt::format("{} {} is longer than 3650 days", path, shown));
    if (const std::int64_t longest = longest_target(calendar); s > longest)
      return fail(&n, fmt::format("{} {} needs more than ten years of the calendar's working time ({} a week); "
                                  "the longest target it allows is \"{}\"",
                                  path, shown, compact(calendar.weekly_seconds()), compact(longest)));
    out = s;
    return {};
  }

  Status ratio(const toml::node& n, std::string_view path, double& out) const {
    double x = 0;
    if (auto f = n.as_floating_point()) x = f->get();
    else if (auto i = n.as_integer()) x = static_cast<double>(i->get());
    else return wrong_type(n, path, "a number between 0 and 1 such as 0.8");
    if (!(x > 0 && x < 1))
      return fail(&n, fmt::format("{} {} is not between 0 and 1 (exclusive) such as 0.8", path, x));
    out = x;
    return {};
  }

 private:
  std::string_view name_;
};

Status read_durations(const reader& r, const toml::table& t, const std::string& path, bool required,
                      const engine::business_calendar& calendar, engine::sla_targets& out) {
  for (const auto& [key, member] : target_fields) {
    const toml::node* n = t.get(key);
    if (!n && required) return r.missing(t, path, key);
    if (!n) continue;
    PLAINT_TRY(r.duration(*n, join(path, key), calendar, out.*member));
  }
  return {};
}

// Tiers other than standard start from the priority's targets; `p.calendar`
// is read first, since it bounds them.
Status read_targets(const reader& r, const toml::table& root, double warn, engine::sla_policy& p) {
  auto all = r.table(root, "", "targets", true);
  PLAINT_TRY(all);
  PLAINT_TRY(r.only(**all, "targets", {"P1", "P2", "P3", "P4"}));
  for (std::string_view priority : engine::priorities) {
    auto t = r.table(**all, "targets", priority, true);
    PLAINT_TRY(t);
    const std::string path = join("targets", priority);
    PLAINT_TRY(r.only(**t, path,
                      {"first_response", "resolution", "follow_up", "warning_threshold", "gold", "platinum"}));
    engine::sla_targets standard{0, 0, 0, warn};
    if (const toml::node* n = (*t)->get("warning_threshold"))
      PLAINT_TRY(r.ratio(*n, join(path, "warning_threshold"), standard.warn_ratio));
    PLAINT_TRY(read_durations(r, **t, path, true, p.calendar, standard));
    p.targets[fmt::format("{}/standard", priority)] = standard;
    for (std::string_view tier : {"gold", "platinum"}) {
      auto over = r.table(**t, path, tier, false);
      PLAINT_TRY(over);
      engine::sla_targets targets = standard;
      if (*over) {
        PLAINT_TRY(r.only(**over, join(path, tier), {"first_response", "resolution", "follow_up"}));
        PLAINT_TRY(read_durations(r, **over, join(path, tier), false, p.calendar, targets));
      }
      p.targets[fmt::format("{}/{}", priority, tier)] = targets;
    }
  }
  return {};
}

Result<engine::business_calendar::day_hours> read_day(const reader& r, const toml::node& n,
                                                      const std::string& path) {
  auto list = r.strings(n, path, "a list of intervals such as [\"09:00-17:00\"]");
  PLAINT_TRY(list);
  engine::business_calendar::day_hours day;
  for (const toml::node& e : **list) {
    const std::string& s = e.as_string()->get();
    auto iv = parse_interval(s);
    if (!iv) return r.fail(&e, fmt::format("{} \"{}\" is not an interval such as \"09:00-17:00\"", path, s));
    for (const auto& [from, to] : day)
      if (iv->first < to && from < iv->second)
        return r.fail(&e, fmt::format("{} \"{}\" overlaps \"{:02}:{:02}-{:02}:{:02}\"", path, s, from / 60,
                                      from % 60, to / 60, to % 60));
    day.push_back(*iv);
  }
  return day;
}

Result<engine::business_calendar> read_weekly(const reader& r, const toml::table& c, const std::string& zone) {
  auto hours = r.table(c, "calendar", "hours", true);
  PLAINT_TRY(hours);
  PLAINT_TRY(r.only(**hours, "calendar.hours", weekdays));
  std::array<engine::business_calendar::day_hours, 7> week;
  bool any = false;
  for (std::size_t d = 0; d < week.size(); ++d) {
    const toml::node* n = (*hours)->get(weekdays[d]);
    if (!n) continue;
    auto day = read_day(r, *n, join("calendar.hours", weekdays[d]));
    PLAINT_TRY(day);
    week[d] = std::move(*day);
    any = any || !week[d].empty();
  }
  if (!any) return r.fail(*hours, "calendar.hours has no working time on any day");
  std::vector<std::string> holidays;
  std::map<std::string, std::string> names;
  if (const toml::node* n = c.get("holidays")) {
    constexpr std::string_view expected = "a list of dates such as [\"2026-12-25\"]";
    if (!n->is_array()) return r.wrong_type(*n, "calendar.holidays", expected);
    for (const toml::node& e : *n->as_array()) {
      // "2026-12-25", or { date = "2026-12-25", name = "Christmas Day" }.
      const toml::node* date = &e;
      std::string name;
      if (const toml::table* t = e.as_table()) {
        PLAINT_TRY(r.only(*t, "each of calendar.holidays", {"date", "name"}));
        auto d = r.text(*t, "calendar.holidays", "date");
        PLAINT_TRY(d);
        auto nm = r.text(*t, "calendar.holidays", "name");
        PLAINT_TRY(nm);
        date = t->get("date");
        name = *nm;
      }
      if (!date->is_string())
        return r.wrong_type(e, "each of calendar.holidays",
                            "a quoted date such as \"2026-12-25\" or { date = \"2026-12-25\", name = \"Christmas Day\" }");
      const std::string& day = date->as_string()->get();
      if (day.size() != 10 || !engine::parse_iso(day))
        return r.fail(date, fmt::format("calendar.holidays \"{}\" is not a date such as \"2026-12-25\"", day));
      holidays.push_back(day);
      if (!name.empty()) names[day] = name;
    }
  }
  auto cal = engine::business_calendar::weekly(zone, std::move(week), holidays, names);
  if (!cal) return r.fail(&c, fmt::format("the calendar is refused: {}", cal.error().message));
  return cal;
}

Result<engine::business_calendar> read_calendar(const reader& r, const toml::table& root) {
  auto cal = r.table(root, "", "calendar", true);
  PLAINT_TRY(cal);
  const toml::table& c = **cal;
  PLAINT_TRY(r.only(c, "calendar", {"time_zone", "mode", "hours", "holidays"}));
  auto zone = r.text(c, "calendar", "time_zone");
  PLAINT_TRY(zone);
  auto always = engine::business_calendar::always(*zone);
  if (!always) return r.fail(c.get("time_zone"), fmt::format("time zone '{}' is unknown", *zone));
  auto mode = r.text(c, "calendar", "mode");
  PLAINT_TRY(mode);
  if (*mode == "weekly") return read_weekly(r, c, *zone);
  if (*mode != "24x7")
    return r.fail(c.get("mode"), fmt::format("calendar.mode \"{}\" is neither \"24x7\" nor \"weekly\"", *mode));
  for (std::string_view key : {"hours", "holidays"})
    if (const toml::node* n = c.get(key))
      return r.fail(n, fmt::format("calendar.{} needs mode = \"weekly\", not \"24x7\"", key));
  return always;
}

Result<std::vector<std::string>> read_pause_states(const reader& r, const toml::node& n,
                                                   const engine::workflow_registry& workflows) {
  auto list = r.strings(n, "pause_states", "a list of state names");
  PLAINT_TRY(list);
  std::vector<std::string> out;
  for (const toml::node& e : **list) {
    const std::string& state = e.as_string()->get();
    bool known = false;
    for (const engine::workflow* wf : workflows.all()) {
      const auto& states = wf->states();
      if (std::find(states.begin(), states.end(), state) == states.end()) continue;
      known = true;
      const engine::clock_mode mode = wf->clock_of(state);
      if (mode == engine::clock_mode::resolved || mode == engine::clock_mode::closed)
        return r.fail(&e, fmt::format("pause_states '{}' is a {} state of workflow {}, not an open state", state,
                                      mode == engine::clock_mode::closed ? "closed" : "resolved", wf->name()));
    }
    if (!known) return r.fail(&e, fmt::format("pause_states '{}' is not a state of any workflow", state));
    if (std::find(out.begin(), out.end(), state) != out.end())
      return r.fail(&e, fmt::format("pause_states lists '{}' twice", state));
    out.push_back(state);
  }
  return out;
}

Status read_step(const reader& r, const toml::table& t, const std::string& path, engine::escalation_step& step) {
  PLAINT_TRY(r.only(t, path, {"raise_level", "raise_priority", "notify"}));
  for (auto [key, flag] : {std::pair{"raise_level", &step.raise_level}, {"raise_priority", &step.raise_priority}}) {
    const toml::node* n = t.get(key);
    if (n && !n->is_boolean()) return r.wrong_type(*n, join(path, key), "true or false");
    if (n) *flag = n->as_boolean()->get();
  }
  const toml::node* n = t.get("notify");
  if (!n) return {};
  auto list = r.strings(*n, join(path, "notify"), "a list such as [\"owner\", \"team_lead\"]");
  PLAINT_TRY(list);
  step.notify.clear();
  for (const toml::node& e : **list) {
    const std::string& who = e.as_string()->get();
    if (std::find(recipients.begin(), recipients.end(), who) == recipients.end())
      return r.fail(&e, fmt::format("{}.notify '{}' is not {}", path, who, or_list(recipients)));
    if (std::find(step.notify.begin(), step.notify.end(), who) != step.notify.end())
      return r.fail(&e, fmt::format("{}.notify lists '{}' twice", path, who));
    step.notify.push_back(who);
  }
  return {};
}

Status read_ladder(const reader& r, const toml::table& root, engine::escalation_ladder& ladder) {
  auto t = r.table(root, "", "ladder", false);
  PLAINT_TRY(t);
  if (!*t) return {};
  PLAINT_TRY(r.only(**t, "ladder", {"warning", "first_response_breach", "resolution_breach", "second_breach"}));
  for (const auto& [key, step] : ladder_steps) {
    auto st = r.table(**t, "ladder", key, false);
    PLAINT_TRY(st);
    if (*st) PLAINT_TRY(read_step(r, **st, join("ladder", key), ladder.*step));
  }
  return {};
}

// toml++ prefixes "Error while parsing <what>: "; the rest says what is wrong.
std::string syntax_problem(std::string_view description) {
  const std::size_t colon = description.find(": ");
  if (description.rfind("Error while parsing", 0) == 0 && colon != std::string_view::npos)
    description.remove_prefix(colon + 2);
  std::string out(description);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::string quoted(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += fmt::format("{}\"{}\"", out.empty() ? "" : ", ", s);
  return "[" + out + "]";
}

}  // namespace

engine::Result<engine::sla_policy> parse_policy(std::string_view text, std::string_view source_name,
                                                const engine::workflow_registry& workflows) {
  const reader r(source_name);
  if (auto refused = guard_toml_text(text)) return r.fail_at(refused->line, refused->what);
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return r.fail_at(e.source().begin.line, fmt::format("invalid TOML: {}", syntax_problem(e.description())));
  }
  PLAINT_TRY(r.only(root, "",
                    {"warning_threshold", "reopen_window_days", "pause_states", "calendar", "targets", "ladder",
                     "notifications"}));
  engine::sla_policy p;
  double warn = 0.8;
  if (const toml::node* n = root.get("warning_threshold")) PLAINT_TRY(r.ratio(*n, "warning_threshold", warn));
  if (const toml::node* n = root.get("reopen_window_days")) {
    auto days = n->as_integer();
    if (!days) return r.wrong_type(*n, "reopen_window_days", "a whole number of days");
    if (days->get() < 1 || days->get() > 3650)
      return r.fail(n, fmt::format("reopen_window_days {} is not a number of days from 1 to 3650", days->get()));
    p.reopen_window_days = static_cast<int>(days->get());
  }
  if (const toml::node* n = root.get("pause_states")) {
    auto states = read_pause_states(r, *n, workflows);
    PLAINT_TRY(states);
    p.pause_states = std::move(*states);
  }
  auto calendar = read_calendar(r, root);
  PLAINT_TRY(calendar);
  p.calendar = std::move(*calendar);
  PLAINT_TRY(read_targets(r, root, warn, p));
  PLAINT_TRY(read_ladder(r, root, p.ladder));
  if (const toml::node* n = root.get("notifications")) {
    const toml::table* t = n->as_table();
    if (!t) return r.wrong_type(*n, "notifications", "a table");
    PLAINT_TRY(r.only(*t, "notifications", {"working_hours_only"}));
    if (const toml::node* w = t->get("working_hours_only")) {
      if (!w->is_boolean()) return r.wrong_type(*w, "notifications.working_hours_only", "true or false");
      p.notify_in_working_hours = w->as_boolean()->get();
    }
  }
  p.source = std::string(text);
  p.source_name = std::string(source_name);
  return p;
}

const std::string& default_policy_text() {
  static const std::string text(generated::default_policy_toml);
  return text;
}

const engine::sla_policy& default_policy() {
  static const engine::sla_policy policy = [] {
    auto p = parse_policy(default_policy_text(), "built-in policy.toml", builtin_workflows());
    if (!p) throw std::logic_error(p.error().message);
    return std::move(p).value();
  }();
  return policy;
}

std::string policy_text(const engine::sla_policy& p) {
  if (!p.source.empty()) return p.source;
  const double warn = p.targets_for("P1", "standard").warn_ratio;
  std::string out = fmt::format(
      "# plaint SLA policy (built in)\nwarning_threshold = {}\nreopen_window_days = {}\npause_states = {}\n\n"
      "[calendar]\ntime_zone = \"{}\"\n",
      warn, p.reopen_window_days, quoted(p.pause_states), p.calendar.zone_name());
  out += p.calendar.is_24x7() ? "mode = \"24x7\"\n" : "# a weekly calendar; its hours are not available as text\n";
  for (std::string_view priority : engine::priorities)
    for (std::string_view tier : engine::tiers) {
      const engine::sla_targets& t = p.targets_for(priority, tier);
      const bool standard = tier == "standard";
      out += standard ? fmt::format("\n[targets.{}]\n", priority) : fmt::format("\n[targets.{}.{}]\n", priority, tier);
      for (const auto& [key, member] : target_fields) out += fmt::format("{} = \"{}\"\n", key, compact(t.*member));
      if (standard && t.warn_ratio != warn) out += fmt::format("warning_threshold = {}\n", t.warn_ratio);
    }
  for (const auto& [key, member] : ladder_steps) {
    const engine::escalation_step& step = p.ladder.*member;
    out += fmt::format("\n[ladder.{}]\nraise_level = {}\nraise_priority = {}\nnotify = {}\n", key, step.raise_level,
                       step.raise_priority, quoted(step.notify));
  }
  return out;
}

}  // namespace plaint::workflows
