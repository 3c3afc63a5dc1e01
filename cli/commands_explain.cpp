// `plaint sla explain ID` and `plaint policy whatif FILE` (SPEC §12): the
// SLA replay (engine/replay.h) read out for a supervisor.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/explain.h"
#include "engine/whatif.h"
#include "storage/open_store.h"
#include "workflows/policy.h"
#include "workflows/policy_history.h"
#include "workflows/registry.h"

namespace plaint::cli {

using engine::json;
using engine::Status;

namespace {

std::string text_of(const json& j, const char* fallback = "-") {
  return j.is_string() ? j.get<std::string>() : j.is_null() ? std::string(fallback) : j.dump();
}

std::string seconds(const json& j) { return j.is_number() ? engine::format_duration(j.get<std::int64_t>()) : "-"; }

std::string event_ref(const json& e) {
  if (!e.is_object()) return "";
  return fmt::format("{} #{} by {}", text_of(e["event"]), e["seq"].get<std::int64_t>(), printable(text_of(e["actor"])));
}

std::string policy_ref(const json& p) {
  if (!p.is_object()) return "-";
  return fmt::format("'{}' v{}", printable(text_of(p["name"])), p["version"].get<int>());
}

const char* kind_label(const std::string& kind) {
  if (kind == "counted") return "counted";
  if (kind == "off_hours") return "off hours";
  if (kind == "weekend") return "weekend";
  if (kind == "holiday") return "holiday";
  return "paused";
}

void print_segment(const json& clock, const json& s) {
  std::string what = kind_label(s["kind"].get<std::string>());
  if (s.contains("holiday") && !s["holiday"].get<std::string>().empty())
    what += " (" + printable(s["holiday"].get<std::string>()) + ")";
  if (s["kind"] == "paused") {
    const json& pause = clock["pauses"][s["pause"].get<std::size_t>() - 1];
    what += fmt::format(" in {} ({}; {} of working time)", printable(text_of(s["state"])), event_ref(pause["paused_by"]),
                        seconds(s["working_seconds"]));
  }
  std::cout << fmt::format("    {} → {}  {:<10} {}{}\n", text_of(s["from"]), text_of(s["to"]),
                           seconds(s["counted_seconds"]), what, s.value("after_now", false) ? "  (ahead)" : "");
}

void print_fired(const char* what, const json& f) {
  if (!f.is_object()) return;
  std::string notified;
  for (const auto& n : f["notified"]) notified += (notified.empty() ? "" : ", ") + printable(n.get<std::string>());
  std::cout << fmt::format("  {} fired{} at {} (due {}): rung {}, level {}{}\n", what,
                           f["seq"].is_null() ? "" : fmt::format(" as event #{}", f["seq"].get<std::int64_t>()),
                           text_of(f["fired_at"]), text_of(f["due"]), text_of(f["rung"]), f["level"].get<int>(),
                           notified.empty() ? "" : "; notified " + notified);
}

void print_clock(const json& c) {
  const std::string clock = c["clock"].get<std::string>();
  const std::string name = clock == "first_response" ? "first response"
                           : clock == "resolution"   ? fmt::format("resolution (cycle {})", c["cycle"].get<int>())
                                                     : fmt::format("follow-up (cycle {})", c["cycle"].get<int>());
  std::cout << fmt::format("\n{}: {}", name, text_of(c["status"]));
  if (!c["stopped_at"].is_null())
    std::cout << fmt::format(" — stopped {} ({})", text_of(c["stopped_at"]), event_ref(c["stopped_by"]));
  std::cout << fmt::format("\n  target {} from row {} of policy {}\n", seconds(c["target_seconds"]),
                           text_of(c["row"]), policy_ref(c["policy"]));
  std::cout << fmt::format("  started {} ({})\n", text_of(c["started_at"]), event_ref(c["started_by"]));
  if (!c["due_at"].is_null())
    std::cout << fmt::format("  due {} = {}{}\n", text_of(c["due_at"]), text_of(c["reached"]),
                             c.value("adds_up", true) ? "" : "  [does not add up on this calendar]");
  if (c.contains("warning_at") && !c["warning_at"].is_null())
    std::cout << fmt::format("  warning at {} ({:.0f}% of the target)\n", text_of(c["warning_at"]),
                             c["warning_threshold"].get<double>() * 100);
  const auto& segs = c["segments"];
  const std::size_t n = segs.size();
  std::cout << fmt::format("  working time used: {}\n", seconds(c["elapsed_seconds"]));
  if (n <= 12) {
    for (const auto& s : segs) print_segment(c, s);
  } else {
    for (std::size_t i = 0; i < 5; ++i) print_segment(c, segs[i]);
    std::cout << fmt::format("    … {} more segments …\n", n - 10);
    for (std::size_t i = n - 5; i < n; ++i) print_segment(c, segs[i]);
  }
  std::string totals;
  for (const auto& [kind, secs] : c["totals"].items())
    totals += fmt::format("{}{} {}", totals.empty() ? "" : " · ", kind_label(kind), seconds(secs));
  if (!totals.empty()) std::cout << "  totals: " << totals << '\n';
  for (const auto& r : c["recomputes"]) {
    if (r["cause"] == "opened" || r["cause"] == "resolved") continue;
    std::cout << fmt::format("  recomputed at {} by {} #{}: {}; due {} → {} (row {}, policy {}){}\n",
                             text_of(r["at"]), text_of(r["event"]), text_of(r["seq"]), printable(text_of(r["cause"])),
                             text_of(r["due_before"]), text_of(r["due_after"]), text_of(r["row"]),
                             policy_ref(r["policy"]), r.value("after_stop", false) ? " (after the clock stopped)" : "");
  }
  if (c.contains("warning")) print_fired("warning", c["warning"]);
  if (c.contains("breach")) print_fired("breach", c["breach"]);
  if (c.contains("fired")) print_fired("follow-up call", c["fired"]);
}

Status cmd_sla_explain(app& a, engine::ticket_id id) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto t = (*s)->get_ticket(id);
  PLAINT_TRY(t);
  auto events = (*s)->ticket_events(id);
  PLAINT_TRY(events);
  auto policies = workflows::load_policy_timeline(**s, workflows::builtin_workflows());
  PLAINT_TRY(policies);
  const json x = engine::explain_sla(*t, *events, *policies, workflows::builtin_workflows(), *now);
  if (a.json()) {
    print_json(x);
    return {};
  }
  std::cout << fmt::format("ticket {} · {} · {} · {} · level {} · policy in force {} · as of {}\n", id,
                           text_of(x["priority"]), text_of(x["tier"]), printable(text_of(x["state"])),
                           x["level"].get<int>(), policy_ref(x["policy"]), text_of(x["now"]));
  for (const auto& c : x["clocks"]) print_clock(c);
  const auto& check = x["check"];
  if (check["matches"].get<bool>()) {
    std::cout << "\ncheck: the replay of the history gives exactly the stored due times and breach flags\n";
  } else {
    std::cout << "\ncheck: the replay does NOT match the stored ticket";
    if (check.contains("error")) std::cout << ": " << printable(check["error"].get<std::string>());
    std::cout << '\n';
    for (const auto& d : check["differences"]) std::cout << "  " << printable(d.get<std::string>()) << '\n';
  }
  return {};
}

struct whatif_options {
  std::string file, from, to, by;
  std::size_t examples = 20;
};

std::string rate(const json& j) { return j.is_null() ? "-" : fmt::format("{:.1f}%", j.get<double>() * 100); }
std::string points(const json& j) { return j.is_null() ? "-" : fmt::format("{:+.1f} pt", j.get<double>() * 100); }
std::string delta(const json& j) {
  const auto v = j.get<std::int64_t>();
  return v == 0 ? "0" : fmt::format("{:+}", v);
}

void print_figures(const json& side) {
  const json& a = side["in_force"];
  const json& b = side["proposed"];
  const json& c = side["change"];
  const std::string row = "  {:<28} {:>12} {:>12} {:>10}\n";
  std::cout << fmt::format(fmt::runtime(row), "", "in force", "proposed", "change");
  auto line = [&](const char* label, const json::json_pointer& p) {
    std::cout << fmt::format(fmt::runtime(row), label, a[p].get<std::int64_t>(), b[p].get<std::int64_t>(),
                             delta(c[p]));
  };
  std::cout << fmt::format(fmt::runtime(row), "tickets active", a["tickets"].get<std::int64_t>(),
                           b["tickets"].get<std::int64_t>(), "");
  line("resolutions", json::json_pointer("/resolved"));
  std::cout << fmt::format(fmt::runtime(row), "on time", rate(a["on_time_rate"]), rate(b["on_time_rate"]),
                           points(c["on_time_rate"]));
  line("first-response warnings", json::json_pointer("/warnings/first_response"));
  line("first-response breaches", json::json_pointer("/breaches/first_response"));
  line("resolution warnings", json::json_pointer("/warnings/resolution"));
  line("resolution breaches", json::json_pointer("/breaches/resolution"));
  line("tickets reaching level 2", json::json_pointer("/escalations/2"));
  line("tickets reaching level 3", json::json_pointer("/escalations/3"));
  line("follow-up calls due", json::json_pointer("/follow_up_calls"));
  line("notifications", json::json_pointer("/notifications"));
  line("actions refused", json::json_pointer("/refused_actions"));
}

Status cmd_policy_whatif(app& a, const whatif_options& o) {
  auto text = read_text("", o.file);
  PLAINT_TRY(text);
  auto parsed = workflows::parse_policy(*text, o.file, workflows::builtin_workflows());
  PLAINT_TRY(parsed);
  auto period = period_of(a, o.from, o.to);
  PLAINT_TRY(period);
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto policies = workflows::load_policy_timeline(**s, workflows::builtin_workflows());
  PLAINT_TRY(policies);
  engine::policy_version proposed;
  proposed.name = o.file;
  proposed.policy = std::make_shared<const engine::sla_policy>(std::move(*parsed));
  engine::whatif_query q;
  q.from = period->first;
  q.to = period->second;
  q.by = o.by;
  q.now = *now;
  q.examples = o.examples;
  // A second connection reads and replays beside the first (engine/whatif.h).
  const std::string db = a.opts().db;
  const auto busy = a.busy_timeout();
  auto r = engine::what_if(**s, *policies, proposed, workflows::builtin_workflows(), q,
                           [db, busy] { return storage::open_store(db, busy); });
  PLAINT_TRY(r);
  if (a.json()) {
    print_json(*r);
    return {};
  }
  const json& x = *r;
  std::cout << fmt::format("what-if: {} proposed, against policy '{}' v{} in force\n", printable(o.file),
                           printable(text_of(x["in_force"]["name"])), x["in_force"]["version"].get<int>())
            << fmt::format("period {} to {}; {} tickets active\n", text_of(x["from"]), text_of(x["to"]),
                           x["tickets"].get<std::int64_t>())
            << x["note"].get<std::string>() << "\n\n";
  print_figures(x["overall"]);
  for (const auto& g : x["groups"]) {
    std::cout << fmt::format("\n{} {}\n", text_of(x["by"]), printable(text_of(g["key"])));
    print_figures(g);
  }
  const auto& changed = x["changed"];
  std::cout << fmt::format("\ntickets whose outcome changes: {}", changed["count"].get<std::int64_t>());
  if (changed["count"].get<std::int64_t>() > static_cast<std::int64_t>(changed["tickets"].size()))
    std::cout << fmt::format(" (the first {} by id)", changed["tickets"].size());
  std::cout << '\n';
  for (const auto& t : changed["tickets"])
    std::cout << fmt::format("  #{:<7} {} {:<8} {}: {}\n", t["ticket"].get<std::int64_t>(), text_of(t["priority"]),
                             text_of(t["tier"]), clip(t["subject"].get<std::string>(), 40),
                             printable(t["summary"].get<std::string>()));
  for (const auto& n : x["not_replayed"])
    std::cout << fmt::format("  not replayed: ticket {}: {}\n", n["ticket"].get<std::int64_t>(),
                             printable(n["error"].get<std::string>()));
  return {};
}

}  // namespace

void add_explain_commands(CLI::App& cli, CLI::App& policy, handler& run) {
  {
    auto* sla = cli.add_subcommand("sla", "the SLA clocks explained");
    sla->require_subcommand(1);
    auto id = std::make_shared<engine::ticket_id>(0);
    auto* sub = sla->add_subcommand("explain", "why a ticket is due when it is due: targets, segments, recomputes, timers");
    sub->add_option("id", *id, "ticket id")->required();
    sub->callback([id, &run] { run = [id](app& a) { return cmd_sla_explain(a, *id); }; });
  }
  {
    auto o = std::make_shared<whatif_options>();
    auto* sub = policy.add_subcommand("whatif", "a period's SLA figures under a proposed policy beside the one in force");
    sub->add_option("file", o->file, "proposed policy file (TOML)")->required();
    sub->add_option("--from", o->from, "start of the period, ISO 8601 (default: --to minus 30 days)");
    sub->add_option("--to", o->to, "end of the period, ISO 8601, exclusive (default: now)");
    sub->add_option("--by", o->by, "group by tier|category|priority|channel|owner|team|workflow")
        ->check(CLI::IsMember({"tier", "category", "priority", "channel", "owner", "team", "workflow"}));
    sub->add_option("--examples", o->examples, "list at most this many changed tickets (default 20)")
        ->check(CLI::Range(0, 1000));
    sub->callback([o, &run] { run = [o](app& a) { return cmd_policy_whatif(a, *o); }; });
  }
}

}  // namespace plaint::cli
